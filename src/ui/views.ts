/**
 * What the pages of `glyphlab ui` show, as plain JSON-able values read through the tracker's
 * query API: the table of runs (chosen columns, filtered by the `--where` language, sorted by
 * the `--sort` language) and one run's page.
 */
import { ConfigError } from '../errors';
import { type ParamValue, type RunDetail, type RunRecord, getRun, listRuns } from '../tracker/query';
import { STOP_REASON_PARAM } from '../tracker/record';
import type { TrackerStore } from '../tracker/store';
import { parseOrderBy } from '../tracker/where';
import { runLabel } from '../dashboard/run-lookup';
import { differingParams } from '../dashboard/params';

/** A table cell: a number, text, a flag, or null where the run has no such value. */
export type CellValue = string | number | boolean | null;

/** Options of {@link runsTable}. */
export interface RunsTableOptions {
  /** A `--where` expression. Defaults to none (every run). */
  where?: string;
  /** A `--sort` spec, e.g. `-val_accuracy,started_at`. Defaults to newest first. */
  sort?: string;
  /** Columns, each a run field (`name`, `status`, `duration` ...), `metrics.KEY[.best]`, `params.KEY` or a bare metric name. Defaults to {@link defaultColumns}. */
  columns?: readonly string[];
  /** Most runs listed. Defaults to 1000. */
  limit?: number;
}

/** One row of the table. */
export interface RunsTableRow {
  id: string;
  /** The run as legends name it: its name (or model) and the id's last six characters. */
  label: string;
  name: string | null;
  status: string;
  /** Values of the table's columns, in its order. */
  cells: CellValue[];
}

/** The table of runs. */
export interface RunsTable {
  /** The columns shown, each as a sort key names it (`metrics.val_accuracy`, `params.model`, `status`). */
  columns: string[];
  rows: RunsTableRow[];
  /** Whether more runs match than `limit`. */
  truncated: boolean;
  /** Every metric key and param key of the runs listed, for choosing columns and charts. */
  metricKeys: string[];
  paramKeys: string[];
  /** The params the listed runs differ in, numeric first (`differingParams`): what a params chart is for. */
  differingParams: string[];
  /** Columns no listed run has a value for (a misspelt key, or one the filter left out), in words. */
  warnings: string[];
}

/** The run columns a table may show, with how each reads from a run. */
const RUN_CELLS: Record<string, (run: RunRecord) => CellValue> = {
  name: (r) => r.name,
  id: (r) => r.id,
  status: (r) => r.status,
  experiment: (r) => r.experiment,
  started_at: (r) => r.startedAt,
  ended_at: (r) => r.endedAt,
  heartbeat_at: (r) => r.heartbeatAt,
  duration: (r) => r.durationS,
  tags: (r) => r.tags.join(' '),
  note: (r) => r.note,
  host: (r) => r.host,
  pid: (r) => r.pid,
  backend: (r) => r.backend,
  git_commit: (r) => r.gitCommit,
  threads: (r) => r.threads,
  source: (r) => r.source,
  error: (r) => r.error,
  data_fingerprint: (r) => r.dataFingerprint,
};

/** The metrics the table shows by default, when some run has them (as `runs ls` chooses). */
const DEFAULT_METRICS = ['test_accuracy', 'val_accuracy', 'val_cer', 'val_loss', 'loss'];

/**
 * The columns shown when none are chosen (each row starts with the run's label anyway): status,
 * start, duration, the model and the usual metrics that some run has.
 */
export function defaultColumns(runs: readonly RunRecord[]): string[] {
  const metrics = new Set(runs.flatMap((r) => Object.keys(r.metrics)));
  const hasModel = runs.some((r) => r.params.model !== undefined);
  return ['status', 'started_at', 'duration', ...(hasModel ? ['params.model'] : []), ...DEFAULT_METRICS.filter((key) => metrics.has(key)).map((key) => `metrics.${key}`)];
}

/** A column name in its one spelling: a bare metric name becomes `metrics.NAME`, `metrics.K.last` becomes `metrics.K`. */
export function normalizeColumn(column: string): string {
  const trimmed = column.trim();
  if (trimmed === '' || /^[-+]|:(asc|desc)$/i.test(trimmed)) {
    throw new ConfigError(`column ${JSON.stringify(column)} is not valid: expected a run field (${Object.keys(RUN_CELLS).join(', ')}), metrics.KEY, metrics.KEY.best, params.KEY or a metric name`);
  }
  const field = parseOrderBy(trimmed)[0]?.field ?? trimmed;
  return field.replace(/^(metrics\..+)\.last$/, '$1');
}

function paramCell(value: ParamValue | undefined): CellValue {
  if (value === undefined || value === null) return null;
  // Tested type by type: TypeScript 5.0 (tslab's) does not narrow `typeof value === 'object'` here.
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return JSON.stringify(value);
}

/** How a column reads from a run, or a ConfigError naming the column and what is accepted. */
function cellReader(column: string): (run: RunRecord) => CellValue {
  const run = RUN_CELLS[column];
  if (run) return run;
  if (column.startsWith('params.')) {
    const key = column.slice('params.'.length);
    return (r) => paramCell(r.params[key]);
  }
  if (column.startsWith('metrics.')) {
    const best = /^metrics\.(.+)\.best$/.exec(column);
    const key = best ? (best[1] as string) : column.slice('metrics.'.length);
    return (r) => {
      const summary = r.metrics[key];
      return summary === undefined ? null : best ? summary.best : summary.last;
    };
  }
  throw new ConfigError(`column ${JSON.stringify(column)} is not valid: expected a run field (${Object.keys(RUN_CELLS).join(', ')}), metrics.KEY, metrics.KEY.best or params.KEY`);
}

/**
 * The table of the runs matching `options.where`, sorted by `options.sort`, with the chosen
 * columns. A bad expression, sort key or column is a ConfigError (a `WhereSyntaxError` with a caret
 * under the bad token for the filter), whose message the page shows as it is.
 *
 * @example
 * runsTable(store, { where: 'params.model = "crnn"', sort: '-val_accuracy', columns: ['name', 'val_accuracy', 'params.lr'] });
 */
export function runsTable(store: TrackerStore, options: RunsTableOptions = {}): RunsTable {
  const limit = options.limit ?? 1000;
  const runs = listRuns(store, { where: options.where, orderBy: options.sort?.trim() ? options.sort : undefined, limit: limit + 1 });
  const truncated = runs.length > limit;
  if (truncated) runs.length = limit;
  const columns = [...new Set(options.columns && options.columns.length > 0 ? options.columns.map(normalizeColumn) : defaultColumns(runs))];
  const readers = columns.map(cellReader);
  const rows = runs.map((run) => ({ id: run.id, label: runLabel(run), name: run.name, status: run.status, cells: readers.map((read) => read(run)) }));
  const warnings = columns
    .filter((column, i) => runs.length > 0 && (column.startsWith('metrics.') || column.startsWith('params.')) && rows.every((row) => row.cells[i] === null))
    .map((column) => `no run listed has ${column.startsWith('params.') ? 'the param' : 'the metric'} ${JSON.stringify(column.replace(/^(params|metrics)\./, '').replace(/\.best$/, ''))} (column ${column})`);
  return {
    columns,
    rows,
    truncated,
    metricKeys: [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort(),
    paramKeys: [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort(),
    differingParams: differingParams(runs),
    warnings,
  };
}

/** One run's page: everything recorded about it but its points and files' contents. */
export interface RunPage {
  /** The run as legends name it. */
  label: string;
  run: Omit<RunDetail, 'artifacts' | 'config'>;
  /** The run's files, by kind and name (their paths stay on the server). */
  artifacts: { kind: string; name: string; bytes: number | null }[];
  /** Why the run ended before its last epoch, or failed, as recorded; null when it ran to the end or says nothing. */
  stopReason: string | null;
}

/** What a run's page shows; a ConfigError for an unknown run id. */
export function runPage(store: TrackerStore, runId: string): RunPage {
  const { artifacts, config: _config, ...run } = getRun(store, runId);
  return {
    label: runLabel(run),
    run,
    artifacts: artifacts.map((a) => ({ kind: a.kind, name: a.path.split(/[\\/]/).pop() ?? a.path, bytes: a.bytes })),
    stopReason: stopReason(run),
  };
}

/** The recorded reason a run stopped early or failed: the stop reason training records (a param), else its error. */
function stopReason(run: RunRecord): string | null {
  const recorded = run.params[STOP_REASON_PARAM];
  if (typeof recorded === 'string' && recorded !== '') return recorded;
  return run.error;
}
