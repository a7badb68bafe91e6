/**
 * Reading the experiment store: runs as plain objects, filtered and sorted in SQL. Every read
 * first marks runs whose process is gone as crashed (see `markCrashedRuns`).
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { ConfigError, TrackerError } from '../errors';
import type { ArtifactRow, MetricMode, MetricRow, MetricSummaryRow, ParamRow, ParamType, RunRow, RunStatus } from './schema';
import { readSchemaVersion } from './migrations';
import { type TrackerStore, inReadTransaction, selectAll, selectColumn, selectOne, selectRaw } from './store';
import { assertRunExists, findCrashedRuns, markCrashedRuns } from './record';
import { resolveRunRef, resolveRunRefs } from './run-ref';
import { assertRecordedFilterKeys, isAcceptedKey, unknownKeyMessage } from './keys';
import { type OrderBy, type RunFilter, RUN_FIELD_NAMES, SORT_KEY_FORMS, compileFilter, compileOrderBy, filterKeys, parseOrderBy, parseWhere, sortTarget } from './where';
import { jsonSafe } from '../util/json';

/** A param value as recorded (JSON params come back parsed). */
export type ParamValue = string | number | boolean | null | unknown[] | Record<string, unknown>;

/** Last and best value of one metric of a run. NaN and Infinity come back as such. */
export interface MetricSummary {
  last: number;
  lastStep: number;
  /** NaN when every value was NaN. */
  best: number;
  bestStep: number | null;
  mode: MetricMode;
  count: number;
}

/** One run as the query API returns it. Times are ISO strings. */
export interface RunRecord {
  id: string;
  experiment: string;
  name: string | null;
  status: RunStatus;
  startedAt: string;
  endedAt: string | null;
  heartbeatAt: string;
  /** Seconds from start to end (or to the last heartbeat while running). */
  durationS: number;
  pid: number | null;
  host: string | null;
  gitCommit: string | null;
  gitDirty: boolean | null;
  backend: string | null;
  threads: number | null;
  source: string | null;
  error: string | null;
  note: string | null;
  dataFingerprint: string | null;
  params: Record<string, ParamValue>;
  metrics: Record<string, MetricSummary>;
  tags: string[];
}

/** A file recorded with a run. */
export interface ArtifactRecord {
  /** Absolute: resolved against the database's folder (see {@link resolveArtifactPath}). */
  path: string;
  kind: string;
  bytes: number | null;
  sha256: string | null;
  createdAt: string;
}

/** A run with its full config and artifacts. */
export interface RunDetail extends RunRecord {
  config: Record<string, unknown> | null;
  artifacts: ArtifactRecord[];
}

/** Options of {@link listRuns}. */
export interface ListRunsOptions {
  /** Only runs of this experiment. Defaults to all experiments. */
  experiment?: string;
  /**
   * A filter object or an expression (see `where.ts`), e.g. `'metrics.val_accuracy > 0.99'`. A
   * metric or param key that no run of the store has recorded is a ConfigError naming it and the
   * keys it may have meant (a store without runs accepts any). Defaults to none.
   */
  where?: RunFilter | string;
  /** Sort keys, or a spec like `'-val_accuracy,started_at'`. Defaults to newest first. */
  orderBy?: OrderBy[] | string;
  /** At most this many runs. Defaults to all. */
  limit?: number;
  /** Attach params, metric summaries and tags. Defaults to true. */
  details?: boolean;
}

/**
 * The run columns a listing reads, in the order {@link toRecord} takes them, then the params and
 * metrics JSON.
 * Rows are read as arrays: for 10,000 runs, per-row objects cost more than the query.
 */
const RUN_COLUMNS =
  'r.id, e.name, r.name, r.status, r.started_at, r.ended_at, r.heartbeat_at, r.pid, r.host, r.git_commit, r.git_dirty, ' +
  'r.backend, r.threads, r.source, r.error, r.note, r.data_fingerprint';
const RUN_FROM = 'FROM runs r JOIN experiments e ON e.id = r.experiment_id';

type RunTuple = [
  id: string,
  experiment: string,
  name: string | null,
  status: RunStatus,
  startedAt: number,
  endedAt: number | null,
  heartbeatAt: number,
  pid: number | null,
  host: string | null,
  gitCommit: string | null,
  gitDirty: number | null,
  backend: string | null,
  threads: number | null,
  source: string | null,
  error: string | null,
  note: string | null,
  dataFingerprint: string | null,
  paramsJson: string | null,
  metricsJson: string | null,
];

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** SQLite stores NaN as NULL; the store writes only numbers, so NULL reads back as NaN. */
const metricValue = (value: number | null): number => (value === null ? NaN : value);

export function decodeParam(row: Pick<ParamRow, 'type' | 'value_text' | 'value_num' | 'value_bool'>): ParamValue {
  switch (row.type as ParamType) {
    case 'number':
      return row.value_num ?? (row.value_text !== null ? Number(row.value_text) : NaN);
    case 'boolean':
      return row.value_bool === 1;
    case 'string':
      return row.value_text ?? '';
    case 'json':
      try {
        return JSON.parse(row.value_text ?? 'null') as ParamValue;
      } catch {
        return row.value_text;
      }
    default:
      return null;
  }
}

/** Columns of {@link RunTuple} that must hold a time in milliseconds (`ended_at` may be NULL). */
const TIME_COLUMNS: readonly [index: number, name: string, nullable: boolean][] = [
  [4, 'started_at', false],
  [5, 'ended_at', true],
  [6, 'heartbeat_at', true],
];

/**
 * What is wrong with a run row that cannot be shown (a time that is not a number, as a tool
 * writing the file by hand can leave), as `NAME holds VALUE, ...`; undefined for a sound row.
 * Such a row is left out of a listing, with a warning, rather than failing the listing of every run.
 */
function damagedColumn(row: RunTuple): string | undefined {
  for (const [index, name, nullable] of TIME_COLUMNS) {
    const value = row[index];
    if (value === null && nullable) continue;
    // 8.64e15 ms is the furthest time a Date holds; toISOString throws beyond it.
    if (typeof value !== 'number' || !(Math.abs(value) <= 8.64e15)) {
      return `${name} holds ${JSON.stringify(value) ?? String(value)}, not a time in milliseconds since 1970`;
    }
  }
  if (typeof row[0] !== 'string') return `id holds ${JSON.stringify(row[0]) ?? String(row[0])}, not a run id`;
  return undefined;
}

function toRecord(row: RunTuple): RunRecord {
  const [id, experiment, name, status, startedAt, endedAt, heartbeatAt, pid, host, gitCommit, gitDirty, backend, threads, source, error, note, dataFingerprint] = row;
  const ended = iso(endedAt);
  return {
    id,
    experiment,
    name,
    status,
    startedAt: iso(startedAt)!,
    endedAt: ended,
    // A finished run's heartbeat is its end time: reuse the string (dates are a fair part of listing 10,000 runs).
    heartbeatAt: heartbeatAt === endedAt ? ended! : iso(heartbeatAt)!,
    durationS: ((endedAt ?? heartbeatAt) - startedAt) / 1000,
    pid,
    host,
    gitCommit,
    gitDirty: gitDirty === null ? null : gitDirty === 1,
    backend,
    threads,
    source,
    error,
    note,
    dataFingerprint,
    params: {},
    metrics: {},
    tags: [],
  };
}

/** Whether the file has `runs.params_json` and `metrics_json` (schema 2); a file opened read-only is not migrated. */
function hasJsonColumns(store: TrackerStore): boolean {
  return readSchemaVersion(store.db) >= 2;
}

/**
 * Runs of `SELECT <run columns> FROM runs r JOIN experiments e ... <tail>` as records, with params,
 * metric summaries and tags when `details` is set.
 */
function selectRuns(store: TrackerStore, tail: string, params: Record<string, unknown>, details: boolean): RunRecord[] {
  const jsonColumns = details && hasJsonColumns(store) ? 'r.params_json, r.metrics_json' : 'NULL, NULL';
  const rows: RunTuple[] = [];
  const records: RunRecord[] = [];
  for (const row of selectRaw(store, `SELECT ${RUN_COLUMNS}, ${jsonColumns} ${RUN_FROM}\n${tail}`, params) as RunTuple[]) {
    const damage = damagedColumn(row);
    if (damage) {
      store.warn(`run ${String(row[0])} is left out: its column ${damage}; fix the column, or delete the run (glyphlab runs delete ${String(row[0])})`);
      continue;
    }
    rows.push(row);
    records.push(toRecord(row));
  }
  if (store.readonly) showCrashedRuns(store, records);
  if (details) attachDetails(store, records, rows);
  return records;
}

/**
 * A read-only store cannot mark the runs whose process is gone (see `markCrashedRuns`): show
 * them as crashed, as a writable store would have recorded them. (A `status` filter still sees
 * what the file holds.)
 */
function showCrashedRuns(store: TrackerStore, records: RunRecord[]): void {
  if (!records.some((r) => r.status === 'running')) return;
  const crashed = new Map(findCrashedRuns(store).map((c) => [c.id, c.reason]));
  for (const record of records) {
    const reason = crashed.get(record.id);
    if (reason === undefined) continue;
    record.status = 'crashed';
    record.endedAt = record.heartbeatAt;
    record.error ??= reason;
  }
}

/**
 * Fills params, metric summaries and tags of `records`. Params and summaries come from each run's
 * JSON columns (one JSON.parse each instead of ~8 param and ~3 summary rows per run: reading rows
 * was most of the time of a 10,000-run listing); runs without them (a NaN param, a table changed
 * by other means, a schema-1 file opened read-only) read the tables. Tags: one query.
 */
function attachDetails(store: TrackerStore, records: RunRecord[], rows: readonly RunTuple[]): void {
  if (records.length === 0) return;
  const byId = new Map(records.map((r) => [r.id, r]));
  const paramsFromTable: string[] = [];
  const metricsFromTable: string[] = [];
  records.forEach((record, i) => {
    const row = rows[i];
    const paramsJson = row?.[17] ?? null;
    const metricsJson = row?.[18] ?? null;
    // The JSON columns only repeat the params and metric_summary tables: a damaged one is read from its table.
    const params = paramsJson === null ? undefined : parseCachedJson(store, record.id, 'params_json', paramsJson, parseParamsJson);
    if (params === undefined) paramsFromTable.push(record.id);
    else record.params = params;
    const metrics = metricsJson === null ? undefined : parseCachedJson(store, record.id, 'metrics_json', metricsJson, parseMetricsJson);
    if (metrics === undefined) metricsFromTable.push(record.id);
    else record.metrics = metrics;
  });
  if (paramsFromTable.length > 0) {
    const paramRows = selectRaw(store, 'SELECT run_id, key, type, value_text, value_num, value_bool FROM params WHERE run_id IN (SELECT value FROM json_each(@ids))', {
      ids: JSON.stringify(paramsFromTable),
    });
    for (const [runId, key, type, value_text, value_num, value_bool] of paramRows as [string, string, ParamType, string | null, number | null, number | null][]) {
      const record = byId.get(runId);
      if (record) record.params[key] = decodeParam({ type, value_text, value_num, value_bool });
    }
  }
  if (metricsFromTable.length > 0) {
    const summaryRows = selectRaw(store, 'SELECT run_id, key, last, last_step, best, best_step, mode, count FROM metric_summary WHERE run_id IN (SELECT value FROM json_each(@ids))', {
      ids: JSON.stringify(metricsFromTable),
    });
    for (const [runId, key, last, lastStep, best, bestStep, mode, count] of summaryRows as [string, string, number | null, number, number | null, number | null, MetricMode, number][]) {
      const record = byId.get(runId);
      if (record) record.metrics[key] = { last: metricValue(last), lastStep, best: metricValue(best), bestStep, mode, count };
    }
  }
  const ids = JSON.stringify(records.map((r) => r.id));
  for (const [runId, tag] of selectRaw(store, 'SELECT run_id, tag FROM tags WHERE run_id IN (SELECT value FROM json_each(@ids)) ORDER BY tag', { ids }) as [string, string][]) {
    byId.get(runId)?.tags.push(tag);
  }
}

/**
 * `parse(json)` of run `runId`'s cached JSON `column`, or undefined, with a warning naming the run
 * and the column, when it is damaged (the caller then reads the table it repeats).
 */
function parseCachedJson<T>(store: TrackerStore, runId: string, column: string, json: string, parse: (json: string) => T): T | undefined {
  try {
    return parse(json);
  } catch (error) {
    store.warn(`run ${runId}: its column ${column} is damaged (${error instanceof Error ? error.message : String(error)}); read from the table it repeats instead`);
    return undefined;
  }
}

/** Params from `runs.params_json`: a JSON object, or a TypeError. */
function parseParamsJson(json: string): Record<string, ParamValue> {
  const params = JSON.parse(json) as unknown;
  if (params === null || typeof params !== 'object' || Array.isArray(params)) throw new TypeError(`expected a JSON object, found ${json.slice(0, 40)}`);
  return params as Record<string, ParamValue>;
}

/** Summaries from `runs.metrics_json`, where null stands for NaN as NULL does in the table. */
function parseMetricsJson(json: string): Record<string, MetricSummary> {
  const metrics = JSON.parse(json) as Record<string, Omit<MetricSummary, 'last' | 'best'> & { last: number | null; best: number | null }>;
  if (metrics === null || typeof metrics !== 'object' || Array.isArray(metrics)) throw new TypeError(`expected a JSON object, found ${json.slice(0, 40)}`);
  for (const key in metrics) {
    const summary = metrics[key];
    if (summary === null || typeof summary !== 'object') throw new TypeError(`the summary of ${JSON.stringify(key)} is ${JSON.stringify(summary)}, not an object`);
    if (summary.last === null) summary.last = NaN;
    if (summary.best === null) summary.best = NaN;
  }
  return metrics as Record<string, MetricSummary>;
}

/**
 * Throws a ConfigError for a sort key that names a metric or param no run in the store has (a
 * misspelt metric would otherwise sort nothing, silently), saying what is accepted and which
 * recorded keys it may have meant. A store without runs takes any plain name: there is nothing
 * to sort, and a script may list before its first run.
 */
function assertKnownSortKeys(store: TrackerStore, orderBy: readonly OrderBy[]): void {
  for (const order of orderBy) {
    const target = sortTarget(order);
    if (target.kind === 'run' || isAcceptedKey(store, target.kind, target.key)) continue;
    const extra = RUN_FIELD_NAMES.map((name) => ({ name, key: name }));
    throw new ConfigError(
      `bad sort key ${JSON.stringify(order.field.replace(/^metrics\./, ''))}: ${unknownKeyMessage(store, [target], { extra })} ${SORT_KEY_FORMS}`,
    );
  }
}

/**
 * Runs matching `options`, filtered and sorted in SQL.
 *
 * @example
 * listRuns(store, { experiment: 'equations', where: 'params.model = "crnn" or tags contains "keep"', orderBy: '-val_accuracy', limit: 10 });
 */
export function listRuns(store: TrackerStore, options: ListRunsOptions = {}): RunRecord[] {
  markCrashedRuns(store);
  const params: Record<string, unknown> = {};
  const conditions: string[] = [];
  if (options.experiment !== undefined) {
    params.experiment = options.experiment;
    conditions.push('e.name = @experiment');
  }
  if (options.where !== undefined && !(typeof options.where === 'string' && options.where.trim() === '')) {
    const filter = typeof options.where === 'string' ? parseWhere(options.where) : options.where;
    conditions.push(compileFilter(filter, params).sql);
    // A misspelt key would match no run and answer "no runs match"; a key some run has is known.
    assertRecordedFilterKeys(store, filterKeys(filter));
  }
  const orderBy = typeof options.orderBy === 'string' ? parseOrderBy(options.orderBy) : options.orderBy ?? [];
  assertKnownSortKeys(store, orderBy);
  const { joins, orderSql } = compileOrderBy(orderBy, params);
  if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 0)) {
    throw new ConfigError(`limit ${options.limit} is not valid: expected a whole number >= 0`);
  }
  if (options.limit !== undefined) params.limit = options.limit;
  const tail = [
    joins,
    conditions.length ? `WHERE ${conditions.join(' AND ')}` : '',
    `ORDER BY ${orderSql ? `${orderSql}, ` : ''}r.started_at DESC, r.id DESC`,
    options.limit !== undefined ? 'LIMIT @limit' : '',
  ]
    .filter(Boolean)
    .join('\n');
  return selectRuns(store, tail, params, options.details !== false);
}

/**
 * The absolute path of an artifact as stored: a relative path (glyphlab records files inside the
 * database's folder so) is resolved against that folder. An absolute path recorded before, inside
 * the run's folder `.../runs/<runId>/`, reads as the same file beside this database when that
 * exists: a copied experiments folder uses its own files, not those where it was recorded.
 */
export function resolveArtifactPath(store: TrackerStore, path: string, runId: string): string {
  const base = store.baseDir;
  if (!isAbsolute(path)) return resolve(base, path);
  const marker = `${sep}runs${sep}${runId}${sep}`;
  const at = path.lastIndexOf(marker);
  if (at >= 0) {
    const beside = join(base, 'runs', runId, path.slice(at + marker.length));
    if (beside !== path && existsSync(beside)) return beside;
  }
  return path;
}

/**
 * Throws for run `runId`, which a listing left out: a ConfigError when there is no such run, a
 * TrackerError naming the damaged column when its row cannot be read.
 */
function throwMissingOrDamaged(store: TrackerStore, runId: string): never {
  assertRunExists(store, runId);
  const row = selectRaw(store, `SELECT ${RUN_COLUMNS}, NULL, NULL ${RUN_FROM} WHERE r.id = @runId`, { runId })[0] as RunTuple | undefined;
  const damage = row ? damagedColumn(row) : `experiment_id names no experiment`;
  throw new TrackerError(`run ${runId} in ${store.file} cannot be read: its column ${damage ?? 'is damaged'}; fix the column, or delete the run (glyphlab runs delete ${runId})`);
}

/**
 * The run `ref` names, with its config and artifacts: its id, or a unique prefix of the id, of
 * its random suffix or of its name (see `resolveRunRef`); a ConfigError when there is none, or
 * several.
 *
 * @example
 * getRun(store, 'c262b8').id; // '20261206-083449-c262b8'
 */
export function getRun(store: TrackerStore, ref: string): RunDetail {
  markCrashedRuns(store);
  const runId = resolveRunRef(store, ref);
  const record = selectRuns(store, 'WHERE r.id = @runId', { runId }, true)[0];
  if (!record) throwMissingOrDamaged(store, runId);
  const artifacts = selectAll<ArtifactRow>(store, 'SELECT * FROM artifacts WHERE run_id = @runId ORDER BY id', { runId }).map((a) => ({
    path: resolveArtifactPath(store, a.path, runId),
    kind: a.kind,
    bytes: a.bytes,
    sha256: a.sha256,
    createdAt: iso(a.created_at)!,
  }));
  const configJson = selectOne<Pick<RunRow, 'config_json'>>(store, 'SELECT config_json FROM runs WHERE id = @runId', { runId })?.config_json ?? null;
  let config: Record<string, unknown> | null = null;
  if (configJson !== null) {
    try {
      config = JSON.parse(configJson) as Record<string, unknown>;
    } catch (error) {
      // The params hold the config flattened; only the nested original is lost.
      store.warn(`run ${runId}: its column config_json is damaged (${error instanceof Error ? error.message : String(error)}); the run is shown without its config (its params hold the same values, flattened)`);
    }
  }
  return { ...record!, config, artifacts };
}

/** One recorded metric value. */
export interface MetricPoint {
  runId: string;
  key: string;
  step: number;
  epoch: number | null;
  value: number;
  wallTime: string;
  context: string | null;
}

/** Every recorded value of `keys` (all keys when omitted) for `runIds`, by run, key and step. */
export function getMetricHistory(store: TrackerStore, runIds: string | readonly string[], keys?: readonly string[]): MetricPoint[] {
  const ids = JSON.stringify(typeof runIds === 'string' ? [runIds] : runIds);
  const rows = keys
    ? selectAll<MetricRow>(
        store,
        `SELECT * FROM metrics WHERE run_id IN (SELECT value FROM json_each(@ids)) AND key IN (SELECT value FROM json_each(@keys))
         ORDER BY run_id, key, step, rowid`,
        { ids, keys: JSON.stringify(keys) },
      )
    : selectAll<MetricRow>(store, 'SELECT * FROM metrics WHERE run_id IN (SELECT value FROM json_each(@ids)) ORDER BY run_id, key, step, rowid', { ids });
  return rows.map((m) => ({ runId: m.run_id, key: m.key, step: m.step, epoch: m.epoch, value: metricValue(m.value), wallTime: iso(m.wall_time)!, context: contextName(m.context) }));
}

/** The recorded points of one key of one run as parallel arrays, ordered by step: what a curve is drawn from. */
export interface MetricSeries {
  runId: string;
  key: string;
  steps: number[];
  /** The epoch of each point; null where none was recorded. */
  epochs: (number | null)[];
  /** NaN where the value was not a number when recorded (a diverged loss). */
  values: number[];
  /** When each point was recorded, in milliseconds since 1970 (UTC). */
  wallTimes: number[];
  /** The context of each point (`batch`, `train`, `val`, `test`, or null). */
  contexts: (string | null)[];
}

/** Options of {@link getMetricSeries}. */
export interface MetricSeriesOptions {
  /** Only points after this step: what a curve drawn up to it lacks. Defaults to every point. */
  afterStep?: number;
}

/**
 * The points of `keys` (every key each run recorded when omitted) of `runIds`, run by run in
 * the order given and key by key, as parallel arrays: the lean read behind curves, which hold
 * 100,000s of points per run. Each column is read on its own as a plain array (better-sqlite3's
 * `pluck`, one indexed query per run, key and column, all in one read transaction so a training
 * that writes meanwhile cannot make them differ), with no object, row array or Date per point:
 * about 3x faster than rows of arrays and 5x faster than {@link getMetricHistory}. A key a run
 * did not record gives no series.
 *
 * @example
 * const [loss] = getMetricSeries(store, [runId], ['batch_loss'], { afterStep: 1200 });
 */
export function getMetricSeries(store: TrackerStore, runIds: readonly string[], keys?: readonly string[], options: MetricSeriesOptions = {}): MetricSeries[] {
  const after = options.afterStep ?? -Infinity;
  // Steps are integers: an integer bound means the same, and PostgreSQL's BIGINT takes no infinity.
  const afterStep = Number.isFinite(after) ? Math.floor(after) : after > 0 ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  const read = (): MetricSeries[] => {
    const series: MetricSeries[] = [];
    for (const runId of runIds) {
      const runKeys = keys ?? (selectColumn(store, 'SELECT key FROM metric_summary WHERE run_id = @runId ORDER BY key', { runId }) as string[]);
      for (const key of runKeys) {
        const params = { runId, key, afterStep };
        const column = (name: string): unknown[] => selectColumn(store, `SELECT ${name} FROM metrics WHERE run_id = @runId AND key = @key AND step > @afterStep ORDER BY step, rowid`, params);
        const steps = column('step') as number[];
        if (steps.length === 0) continue;
        // Almost always one context per key (the key implies it); then no text is read per point.
        const contextsUsed = (selectColumn(store, 'SELECT DISTINCT context FROM metrics WHERE run_id = @runId AND key = @key AND step > @afterStep', params) as (string | null)[]).map(contextName);
        const contexts = contextsUsed.length === 1 ? new Array<string | null>(steps.length).fill(contextsUsed[0]!) : (column('context') as (string | null)[]).map(contextName);
        const values = column('value') as (number | null)[];
        for (let i = 0; i < values.length; i++) if (values[i] === null) values[i] = NaN;
        series.push({ runId, key, steps, epochs: column('epoch') as (number | null)[], values: values as number[], wallTimes: column('wall_time') as number[], contexts });
      }
    }
    return series;
  };
  return inReadTransaction(store, read);
}

/**
 * The last per-step point of each epoch of each run (the highest `step` among its points of the
 * `batch` context or a `batch_*` key), by run id then epoch: where an epoch ended in steps, also one a time budget cut short,
 * without reading every point. Runs without per-step points are absent.
 */
export function lastStepOfEpochs(store: TrackerStore, runIds: readonly string[]): Map<string, Map<number, number>> {
  const rows = selectAll<{ run_id: string; epoch: number; last_step: number }>(
    store,
    `SELECT run_id, epoch, MAX(step) AS last_step FROM metrics
     WHERE run_id IN (SELECT value FROM json_each(@ids)) AND (context = 'batch' OR substr(key, 1, 6) = 'batch_') AND epoch IS NOT NULL
     GROUP BY run_id, epoch`,
    { ids: JSON.stringify(runIds) },
  );
  const byRun = new Map<string, Map<number, number>>();
  for (const row of rows) {
    let epochs = byRun.get(row.run_id);
    if (!epochs) byRun.set(row.run_id, (epochs = new Map()));
    epochs.set(row.epoch, row.last_step);
  }
  return byRun;
}

/** Points recorded before the validation split was called `val` carry the context 'valid'. */
function contextName(context: string | null): string | null {
  return context === 'valid' ? 'val' : context;
}

/** What {@link compareRuns} returns. */
export interface RunComparison {
  runs: RunRecord[];
  /** Params whose values differ between the runs (missing counts as different), by key then run id. */
  paramDiffs: Record<string, Record<string, ParamValue | undefined>>;
  /** Params every run shares with the same value. */
  sameParams: Record<string, ParamValue>;
  /** Each metric key's summary, by key then run id. */
  metrics: Record<string, Record<string, MetricSummary | undefined>>;
}

/**
 * Param differences and a metric table for several runs, in the order given. Each run is named
 * as `getRun` takes it (an id, a unique prefix, the id's suffix or a name); the result is keyed
 * by full ids.
 */
export function compareRuns(store: TrackerStore, refs: readonly string[]): RunComparison {
  if (refs.length === 0) throw new ConfigError('compareRuns needs at least one run id');
  markCrashedRuns(store);
  const runIds = resolveRunRefs(store, refs);
  const found = listRuns(store, { where: { field: 'id', op: 'in', value: [...runIds] } });
  const runs = runIds.map((id) => {
    const run = found.find((r) => r.id === id);
    if (!run) throwMissingOrDamaged(store, id);
    return run;
  });
  const paramKeys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
  const paramDiffs: RunComparison['paramDiffs'] = {};
  const sameParams: RunComparison['sameParams'] = {};
  for (const key of paramKeys) {
    const values = runs.map((r) => r.params[key]);
    const encoded = values.map((v) => (v === undefined ? '\u0000missing' : JSON.stringify(v)));
    if (encoded.every((e) => e === encoded[0])) sameParams[key] = values[0] as ParamValue;
    else paramDiffs[key] = Object.fromEntries(runs.map((r, i) => [r.id, values[i]]));
  }
  const metricKeys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort();
  const metrics: RunComparison['metrics'] = {};
  for (const key of metricKeys) metrics[key] = Object.fromEntries(runs.map((r) => [r.id, r.metrics[key]]));
  return { runs, paramDiffs, sameParams, metrics };
}

/** Options of {@link bestRun}. */
export interface BestRunOptions {
  /** Metric key, e.g. `'val_accuracy'`. */
  metric: string;
  /** Whether larger or smaller is better. Defaults to the mode recorded with the metric. */
  mode?: MetricMode;
  /** Only runs of this experiment. Defaults to all. */
  experiment?: string;
  /** Only runs matching this filter. Defaults to none. */
  where?: RunFilter | string;
}

/** The run with the best value of `metric` (each run's best), or undefined when no run has it. */
export function bestRun(store: TrackerStore, options: BestRunOptions): RunRecord | undefined {
  const row = selectOne<{ mode: MetricMode }>(store, 'SELECT mode FROM metric_summary WHERE key = @key LIMIT 1', { key: options.metric });
  if (!row) return undefined;
  const mode = options.mode ?? row.mode;
  const hasMetric: RunFilter = { field: `metrics.${options.metric}.best`, op: '>=', value: -Infinity };
  const userFilter = typeof options.where === 'string' ? (options.where.trim() === '' ? undefined : parseWhere(options.where)) : options.where;
  const runs = listRuns(store, {
    experiment: options.experiment,
    where: userFilter ? { and: [hasMetric, userFilter] } : hasMetric,
    orderBy: [{ field: `metrics.${options.metric}.best`, direction: mode === 'max' ? 'desc' : 'asc' }],
    limit: 1,
  });
  return runs[0];
}

/** Options of {@link exportRuns}. */
export interface ExportRunsOptions extends ListRunsOptions {
  /** Defaults to `'json'`. */
  format?: 'csv' | 'json';
  /** Include every metric point in JSON exports. Defaults to false. */
  history?: boolean;
  /** CSV: write text cells as recorded, even those a spreadsheet would run as formulas (see {@link CsvOptions}). Defaults to false. */
  raw?: boolean;
}

/** The replacer the store's JSON uses (NaN and the infinities kept as strings): `jsonSafe` of util/json.ts. */
export const jsonReplacer = jsonSafe;

/**
 * Runs as a flat table: one row per run with `params.*` and `metrics.*` (last value) and
 * `metrics.*.best` columns. The shape of CSV exports and DataFrames.
 */
export function runsToRows(runs: readonly RunRecord[]): Record<string, string | number | boolean | null>[] {
  const paramKeys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
  const metricKeys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort();
  return runs.map((r) => {
    const row: Record<string, string | number | boolean | null> = {
      id: r.id,
      experiment: r.experiment,
      name: r.name,
      status: r.status,
      started_at: r.startedAt,
      ended_at: r.endedAt,
      duration_s: r.durationS,
      tags: r.tags.join(' '),
      note: r.note,
    };
    for (const key of paramKeys) {
      const v = r.params[key];
      row[`params.${key}`] = v === undefined || v === null ? null : typeof v === 'object' ? JSON.stringify(v) : v;
    }
    for (const key of metricKeys) {
      row[`metrics.${key}`] = r.metrics[key]?.last ?? null;
      row[`metrics.${key}.best`] = r.metrics[key]?.best ?? null;
    }
    return row;
  });
}

/** Options of {@link rowsToCsv}. */
export interface CsvOptions {
  /**
   * Write text cells exactly as recorded. Otherwise a text cell that a spreadsheet would run as a
   * formula (one starting with `=`, `+`, `-`, `@`, their full-width forms `＝` `＋` `－` `＠`, which
   * some spreadsheets read as the same, `|` (DDE), a tab or a carriage return: a run name, note,
   * tag or param is anyone's text) gets a leading `'`, which spreadsheets show as text. Numbers
   * are never changed. Defaults to false.
   */
  raw?: boolean;
}

/**
 * Text a spreadsheet would take for a formula: OWASP's list (= + - @ tab, carriage return), the
 * full-width = + - @ (U+FF1D, U+FF0B, U+FF0D, U+FF20) that spreadsheets in East Asian locales
 * convert, and | (a DDE call in older spreadsheets).
 */
const FORMULA_START = /^[=+\-@\t\r\uff1d\uff0b\uff0d\uff20|]/;

function csvCell(value: string | number | boolean | null, raw: boolean): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && !raw && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Rows as CSV text with a header line; NaN and Infinity written as `NaN`, `Infinity`. Text
 * cells that would run as spreadsheet formulas are neutralised unless `raw` (see {@link CsvOptions}).
 */
export function rowsToCsv(rows: readonly Record<string, string | number | boolean | null>[], options: CsvOptions = {}): string {
  const raw = options.raw ?? false;
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const lines = [columns.map((c) => csvCell(c, raw)).join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvCell(row[c] ?? null, raw)).join(','));
  return `${lines.join('\n')}\n`;
}

/** Runs matching `options` as CSV or JSON text. */
export function exportRuns(store: TrackerStore, options: ExportRunsOptions = {}): string {
  const runs = listRuns(store, options);
  if ((options.format ?? 'json') === 'csv') return rowsToCsv(runsToRows(runs), { raw: options.raw });
  const payload = options.history
    ? runs.map((r) => ({ ...r, history: getMetricHistory(store, r.id) }))
    : runs;
  return `${JSON.stringify(payload, jsonSafe, 2)}\n`;
}
