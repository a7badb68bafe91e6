/**
 * The experiment store: opening it (a SQLite file, or a PostgreSQL database for a team), recording runs (params, metrics, artifacts,
 * tags, notes), querying and comparing them, the `--where` filter language, the callback that
 * records a training run, and DataFrames of runs for notebooks.
 *
 * The public names of tracker/, by module; a notebook imports them from
 * `./glyphlab/tracker/index`. The entry points most work starts from are also in src/index.ts.
 */

// store: opening and closing the store (a SQLite file or a postgres:// URL)
export { openStore, closeStore, storeDataVersion, TrackerStore, type OpenStoreOptions } from './store';

// copy: a whole store between SQLite and PostgreSQL, verified by counts and checksums
export { copyStore, storeChecksums, type CopyStoreOptions, type StoreCopy, type CopiedTable } from './copy';

// record: recording runs: params, metrics, artifacts, tags, notes, deletion
export {
  startRun,
  logParams,
  logMetrics,
  logMetricPoints,
  finishRun,
  addArtifact,
  tagRun,
  untagRun,
  noteRun,
  deleteRun,
  markCrashedRuns,
  guessMetricMode,
  STOP_REASON_PARAM,
  type StartRunOptions,
  type LogMetricsOptions,
  type MetricPointInput,
  type FinishRunOptions,
  type ArtifactInput,
} from './record';

// query: listing, reading, comparing and exporting runs
export {
  listRuns,
  getRun,
  getMetricHistory,
  getMetricSeries,
  compareRuns,
  bestRun,
  exportRuns,
  runsToRows,
  rowsToCsv,
  type CsvOptions,
  type RunRecord,
  type RunDetail,
  type MetricSummary,
  type MetricPoint,
  type MetricSeries,
  type MetricSeriesOptions,
  type ParamValue,
  type ArtifactRecord,
  type ListRunsOptions,
  type RunComparison,
  type BestRunOptions,
  type ExportRunsOptions,
} from './query';

// run-ref: naming a run by a short form (a unique prefix of its id, its id's suffix, its name)
export { resolveRunRef, resolveRunRefs, runIdSuffix } from './run-ref';

// columns: the column language of every table of runs (runs ls --columns, glyphlab ui)
export {
  resolveColumn,
  parseColumns,
  defaultColumns,
  normalizeColumn,
  COLUMN_ALIASES,
  RUN_FIELD_COLUMNS,
  type RunColumn,
  type CellValue,
  type ResolveColumnOptions,
  type DefaultColumnsOptions,
} from './columns';

// where: the --where filter language and sort keys
export {
  parseWhere,
  compileFilter,
  filterKeys,
  parseOrderBy,
  WhereSyntaxError,
  FILTER_LIMITS,
  MAX_SORT_KEYS,
  type RunFilter,
  type FilterOp,
  type FilterValue,
  type OrderBy,
} from './where';

// callback: the training callback that records a run
export { TrackerCallback, type TrackerCallbackOptions } from './callback';

// dataframe: runs and metric histories as DataFrames, and their HTML
export { runsToDataFrame, metricHistoryToDataFrame, dataFrameHtml, type DataFrameHtmlOptions } from './dataframe';

// schema: run statuses and the schema version
export { RUN_STATUSES, SCHEMA_VERSION, type RunStatus, type MetricMode } from './schema';
