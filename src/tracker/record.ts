/**
 * The writes that record a run in the experiment store: start (or resume) it, its params
 * (flattened and typed), metric points with their running summaries, artifacts, tags and notes,
 * the end, and the crash marking that every reader does first. Each write is one transaction
 * and refreshes the run's heartbeat, so a reader can tell a killed process's run from a live one.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import { ConfigError, TrackerError } from '../errors';
import { metricMode } from '../metrics/mode';
import { sha256File } from '../util/hash';
import { startHeartbeat, stopHeartbeat } from './heartbeat';
import { readSchemaVersion } from './migrations';
import { type ProcessCheck, checkRecordedProcess, currentProcessIdentity } from './process-identity';
import { type MetricMode, type ParamType, type RunStatus, metricsJsonSql, paramsJsonSql } from './schema';
import { resolveRunRef } from './run-ref';
import { type TrackerStore, assertWritable, execute, executeMany, inTransaction, selectAll, selectOne } from './store';
import { jsonSafe } from '../util/json';
import { redactUrlsIn } from '../util/store-target';

/** Options of {@link startRun}. */
export interface StartRunOptions {
  /** Experiment name; created when new. Defaults to `'default'`. */
  experiment?: string;
  /** A human name for the run. Defaults to none. */
  name?: string;
  /** The full configuration: stored as JSON and flattened into typed params (`optimizer.lr`). Defaults to none. */
  config?: Record<string, unknown>;
  /** Extra params besides the config. Defaults to none. */
  params?: Record<string, unknown>;
  /** Compute backend name, e.g. `'wasm'`. Defaults to none. */
  backend?: string;
  /** Backend threads. Defaults to none. */
  threads?: number;
  /** What started the run: a CLI command or a notebook path. Defaults to this process's script and arguments. */
  source?: string;
  /** Fingerprint of the data split. Defaults to none. */
  dataFingerprint?: string;
  /** Tags to attach at once. Defaults to none. */
  tags?: string[];
  /** Git state: read from `git` in the current folder (true), none (false), or given. Defaults to true. */
  git?: boolean | { commit: string | null; dirty: boolean | null };
  /** Refresh the heartbeat from a thread of its own while the run is recorded (see `heartbeat.ts`). Defaults to true. */
  heartbeat?: boolean;
}

/** A new run id: UTC time plus random hex, e.g. `20261122-063012-4fa2c1`; sorts by start time. */
export function newRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

function readGitState(): { commit: string | null; dirty: boolean | null } {
  try {
    const options = { encoding: 'utf8' as const, stdio: ['ignore', 'pipe', 'ignore'] as ['ignore', 'pipe', 'ignore'], timeout: 2000 };
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], options).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], options);
    return { commit, dirty: status.trim() !== '' };
  } catch {
    // Not a git checkout, or git missing: the run is still worth recording.
    return { commit: null, dirty: null };
  }
}

function defaultSource(): string {
  const script = process.argv[1] ? basename(process.argv[1]) : 'node';
  return [script, ...process.argv.slice(2)].join(' ');
}

/** The id of experiment `name`, created when new. */
export function ensureExperiment(store: TrackerStore, name: string): number {
  execute(store, 'INSERT INTO experiments (name, created_at) VALUES (@name, @now) ON CONFLICT(name) DO NOTHING', {
    name,
    now: Date.now(),
  });
  const row = selectOne<{ id: number }>(store, 'SELECT id FROM experiments WHERE name = @name', { name });
  if (!row) throw new TrackerError(`experiment ${JSON.stringify(name)} vanished while being created in ${store.file}`);
  return row.id;
}

/**
 * Starts recording a run and returns its id. The run records who records it (pid, process start
 * time, boot, pid namespace, host: see `process-identity.ts`), and its heartbeat is refreshed
 * every `heartbeatMs` from a thread that never keeps the process alive, and on every write, so
 * that a reader can tell a killed process's run from a live one.
 *
 * @example
 * const runId = startRun(store, { experiment: 'equations', config: { model: 'crnn', lr: 5e-4 } });
 * logMetrics(store, runId, { loss: 0.8, val_accuracy: 0.91 }, { step: 0, epoch: 0 });
 * finishRun(store, runId, 'finished');
 */
export function startRun(store: TrackerStore, options: StartRunOptions = {}): string {
  assertWritable(store);
  const experiment = options.experiment ?? 'default';
  if (experiment.trim() === '') throw new ConfigError('experiment name is empty; give a name such as "equations"');
  const git = options.git === false ? { commit: null, dirty: null } : options.git === undefined || options.git === true ? readGitState() : options.git;
  let runId = newRunId();
  const now = Date.now();
  const identity = currentProcessIdentity();
  inTransaction(store, () => {
    const experimentId = ensureExperiment(store, experiment);
    // Ids are the second plus 24 random bits: runs started by the thousand in one second (a bench, a
    // sweep, two processes) do collide now and then, so a taken id is drawn again rather than failing.
    for (let attempt = 1; ; attempt++) {
      const inserted = execute(
        store,
        `INSERT INTO runs (id, experiment_id, name, status, started_at, heartbeat_at, pid, host, pid_start_ticks, boot_id, pid_namespace,
                           git_commit, git_dirty, backend, threads, source, config_json, data_fingerprint, metrics_json)
         VALUES (@id, @experimentId, @name, 'running', @now, @now, @pid, @host, @startTicks, @bootId, @pidNamespace,
                 @gitCommit, @gitDirty, @backend, @threads, @source, @configJson, @dataFingerprint, '{}')
         ON CONFLICT(id) DO NOTHING`,
        {
          id: runId,
          experimentId,
          name: options.name ?? null,
          now,
          pid: identity.pid,
          host: identity.host,
          startTicks: identity.startTicks,
          bootId: identity.bootId,
          pidNamespace: identity.pidNamespace,
          gitCommit: git.commit,
          gitDirty: git.dirty === null ? null : git.dirty ? 1 : 0,
          backend: options.backend ?? null,
          threads: options.threads ?? null,
          // A command line or config may name the store by a URL with its password: never recorded.
          source: redactUrlsIn(options.source ?? defaultSource()),
          configJson: options.config ? redactUrlsIn(JSON.stringify(options.config, jsonSafe)) : null,
          dataFingerprint: options.dataFingerprint ?? null,
        },
      );
      if (inserted.changes === 1) break;
      if (attempt === 20) throw new TrackerError(`no free run id after 20 tries in ${store.file}; is the clock stuck?`);
      runId = newRunId();
    }
    writeParams(store, runId, { ...(options.config ?? {}), ...(options.params ?? {}) });
    refreshParamsJson(store, runId);
    for (const tag of options.tags ?? []) writeTag(store, runId, tag);
  });
  store.recording.add(runId);
  if (options.heartbeat !== false) startHeartbeat(store, runId);
  return runId;
}

/** Statuses a run can be resumed from. */
export const RESUMABLE_STATUSES: readonly RunStatus[] = ['interrupted', 'failed', 'crashed'];

/**
 * Marks an interrupted, failed or crashed run as running again in this process (its metrics
 * continue where they stopped), with a fresh heartbeat. Any other status is a ConfigError.
 */
export function resumeRun(store: TrackerStore, runId: string, options: { heartbeat?: boolean } = {}): void {
  markCrashedRuns(store);
  const row = selectOne<{ status: RunStatus }>(store, 'SELECT status FROM runs WHERE id = @runId', { runId });
  if (!row) throw new ConfigError(`no run ${JSON.stringify(runId)} in ${store.file}; list runs with \`glyphlab runs ls\``);
  if (!RESUMABLE_STATUSES.includes(row.status)) {
    throw new ConfigError(`run ${runId} is ${row.status}; only ${RESUMABLE_STATUSES.join(', ')} runs can be resumed`);
  }
  const now = Date.now();
  const identity = currentProcessIdentity();
  assertWritable(store);
  execute(
    store,
    `UPDATE runs SET status = 'running', ended_at = NULL, error = NULL, heartbeat_at = @now, pid = @pid, host = @host,
            pid_start_ticks = @startTicks, boot_id = @bootId, pid_namespace = @pidNamespace
     WHERE id = @runId`,
    { now, pid: identity.pid, host: identity.host, startTicks: identity.startTicks, bootId: identity.bootId, pidNamespace: identity.pidNamespace, runId },
  );
  // Why it stopped last time no longer holds: the run goes on.
  deleteParams(store, runId, [STOP_REASON_PARAM]);
  store.recording.add(runId);
  if (options.heartbeat !== false) startHeartbeat(store, runId);
}


/** Refreshes the heartbeat; a run a reader marked crashed while this process was busy comes back to life. */
function touchRun(store: TrackerStore, runId: string, now: number): void {
  const result = execute(
    store,
    `UPDATE runs SET heartbeat_at = @now,
            ended_at = CASE WHEN status = 'crashed' THEN NULL ELSE ended_at END,
            error = CASE WHEN status = 'crashed' THEN NULL ELSE error END,
            status = CASE WHEN status = 'crashed' THEN 'running' ELSE status END
     WHERE id = @runId`,
    { now, runId },
  );
  if (result.changes === 0) throw missingRunError(store, runId);
}

/**
 * The error for a write to run `runId` that found no row: a run this process is recording was
 * deleted under it (by another process or tool), or the id was never started here.
 */
function missingRunError(store: TrackerStore, runId: string): TrackerError {
  if (store.recording.has(runId)) {
    return new TrackerError(
      `run ${runId} is no longer in ${store.file}: it was deleted while this process was recording it ` +
        '(by another process or tool); nothing more can be recorded for it, and what it already wrote to its run folder stays on disk',
    );
  }
  return new TrackerError(`no run ${JSON.stringify(runId)} in ${store.file}; start it with startRun() first`);
}

/** A typed param value as stored. */
export interface EncodedParam {
  type: ParamType;
  value_text: string | null;
  value_num: number | null;
  value_bool: number | null;
}

/** Encodes a param value into its typed columns. */
export function encodeParam(value: unknown): EncodedParam {
  if (value === null || value === undefined) return { type: 'null', value_text: null, value_num: null, value_bool: null };
  if (typeof value === 'number') return { type: 'number', value_text: Number.isFinite(value) ? null : String(value), value_num: Number.isNaN(value) ? null : value, value_bool: null };
  if (typeof value === 'bigint') return { type: 'number', value_text: null, value_num: Number(value), value_bool: null };
  if (typeof value === 'boolean') return { type: 'boolean', value_text: null, value_num: value ? 1 : 0, value_bool: value ? 1 : 0 };
  if (typeof value === 'string') return { type: 'string', value_text: value, value_num: null, value_bool: null };
  return { type: 'json', value_text: JSON.stringify(value, jsonSafe) ?? String(value), value_num: null, value_bool: null };
}

/** Flattens nested plain objects into dot keys (`{ optimizer: { lr: 1 } }` -> `optimizer.lr`); arrays stay whole. */
export function flattenParams(params: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype) {
      Object.assign(flat, flattenParams(value as Record<string, unknown>, name));
    } else if (typeof value !== 'function' && typeof value !== 'symbol') {
      flat[name] = value;
    }
  }
  return flat;
}

/** `encoded` with the password of any PostgreSQL URL in its text shown as `***` (see `redactUrlsIn`). */
function redactEncoded(encoded: EncodedParam): EncodedParam {
  return encoded.value_text === null ? encoded : { ...encoded, value_text: redactUrlsIn(encoded.value_text) };
}

function writeParams(store: TrackerStore, runId: string, params: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(flattenParams(params))) {
    execute(
      store,
      `INSERT INTO params (run_id, key, type, value_text, value_num, value_bool)
       VALUES (@runId, @key, @type, @value_text, @value_num, @value_bool)
       ON CONFLICT(run_id, key) DO UPDATE SET type = excluded.type, value_text = excluded.value_text,
         value_num = excluded.value_num, value_bool = excluded.value_bool`,
      { runId, key, ...redactEncoded(encodeParam(value)) },
    );
  }
}

/**
 * Rebuilds the run's `params_json` from its params rows, once per write call: the params
 * triggers only clear it (see schema version 2), since rebuilding per row would cost O(keys²).
 */
function refreshParamsJson(store: TrackerStore, runId: string): void {
  execute(store, `UPDATE runs SET params_json = ${paramsJsonSql('@runId', store.db.kind)} WHERE id = @runId`, { runId });
}

/** Rebuilds the run's `metrics_json` from its summary rows, once per metric write call (as params). */
function refreshMetricsJson(store: TrackerStore, runId: string): void {
  execute(store, `UPDATE runs SET metrics_json = ${metricsJsonSql('@runId', store.db.kind)} WHERE id = @runId`, { runId });
}

/** Records (or overwrites) params of a run, flattening nested objects into dot keys. */
export function logParams(store: TrackerStore, runId: string, params: Record<string, unknown>): void {
  inTransaction(store, () => {
    touchRun(store, runId, Date.now());
    writeParams(store, runId, params);
    refreshParamsJson(store, runId);
  });
}

/** One metric value to record. */
export interface MetricPointInput {
  key: string;
  value: number;
  step: number;
  epoch?: number | null;
  /** e.g. `'train'`, `'val'`, `'test'`, `'batch'`. Defaults to {@link metricContext} of the key. */
  context?: string | null;
  /** Milliseconds since the epoch. Defaults to now. */
  wallTime?: number;
}

/** Options of {@link logMetrics}. */
export interface LogMetricsOptions {
  /** Step of these values. Defaults to one more than this run's last default step in this process (from 0). */
  step?: number;
  /** Epoch of these values. Defaults to none. */
  epoch?: number;
  /** Context of every value. Defaults to {@link metricContext} of each key. */
  context?: string;
  /** Whether larger or smaller is better, by key. Defaults to `metricMode` (src/metrics/mode.ts). */
  modes?: Record<string, MetricMode>;
}

/** Whether larger or smaller is better, guessed from the key (the training loop uses the same rule). */
export { metricMode as guessMetricMode } from '../metrics/mode';

/** The context a metric key implies: `val_*` val, `test_*` test, `batch_*` batch, else train. */
export function metricContext(key: string): string {
  if (/^val(id)?_/.test(key)) return 'val';
  if (/^test_/.test(key)) return 'test';
  if (/^batch_/.test(key)) return 'batch';
  return 'train';
}

/**
 * Records metric values of one step in one transaction, updating each key's summary.
 *
 * @example
 * logMetrics(store, runId, { loss: 0.42, val_accuracy: 0.97, lr: 1e-3 }, { step: 3, epoch: 3 });
 */
export function logMetrics(store: TrackerStore, runId: string, values: Record<string, number>, options: LogMetricsOptions = {}): void {
  const step = options.step ?? store.nextStep.get(runId) ?? 0;
  store.nextStep.set(runId, step + 1);
  const wallTime = Date.now();
  const points = Object.entries(values).map(([key, value]) => ({ key, value, step, epoch: options.epoch ?? null, context: options.context, wallTime }));
  logMetricPoints(store, runId, points, options.modes);
}

/**
 * Throws a ConfigError naming the first point of run `runId` that cannot be recorded (an empty
 * key, a value that is not a number, a step that is not an integer), before anything is written.
 */
export function checkMetricPoints(runId: string, points: readonly MetricPointInput[]): void {
  for (const point of points) checkPoint(point, runId);
}

function checkPoint(point: MetricPointInput, runId: string): void {
  if (typeof point.key !== 'string' || point.key === '') throw new ConfigError(`metric of run ${runId} has an empty key; give a name such as "loss"`);
  if (typeof point.value !== 'number') {
    throw new ConfigError(`metric ${JSON.stringify(point.key)} of run ${runId} is ${JSON.stringify(point.value)}; expected a number (NaN and Infinity are fine)`);
  }
  if (!Number.isInteger(point.step)) throw new ConfigError(`metric ${JSON.stringify(point.key)} of run ${runId} has step ${point.step}; expected an integer`);
}

/**
 * Records many metric points in one transaction: the bulk path behind {@link logMetrics} and
 * the callback's batch buffer. Summaries are merged per key in JS first, so each key costs one
 * upsert per call however many points it has.
 */
export function logMetricPoints(store: TrackerStore, runId: string, points: readonly MetricPointInput[], modes: Record<string, MetricMode> = {}): void {
  if (points.length === 0) return;
  checkMetricPoints(runId, points);
  const summaries = new Map<string, { last: number; lastStep: number; best: number | null; bestStep: number | null; mode: MetricMode; count: number }>();
  for (const point of points) {
    let s = summaries.get(point.key);
    if (!s) {
      s = { last: point.value, lastStep: point.step, best: null, bestStep: null, mode: modes[point.key] ?? metricMode(point.key), count: 0 };
      summaries.set(point.key, s);
    }
    s.last = point.value;
    s.lastStep = point.step;
    s.count++;
    if (!Number.isNaN(point.value) && (s.best === null || (s.mode === 'max' ? point.value > s.best : point.value < s.best))) {
      s.best = point.value;
      s.bestStep = point.step;
    }
  }
  const now = Date.now();
  const insertSql = `INSERT INTO metrics (run_id, key, step, epoch, value, wall_time, context)
                     VALUES (@runId, @key, @step, @epoch, @value, @wallTime, @context)`;
  const rows = points.map((point) => ({
    runId,
    key: point.key,
    step: point.step,
    epoch: point.epoch ?? null,
    value: Number.isNaN(point.value) ? null : point.value,
    wallTime: point.wallTime ?? now,
    context: point.context ?? metricContext(point.key),
  }));
  inTransaction(store, () => {
    touchRun(store, runId, now);
    // One call for every point: one thread hop on PostgreSQL, one prepared statement on SQLite.
    executeMany(store, insertSql, rows);
    // Every key's summary in one call (one trip to PostgreSQL's connection thread).
    // The existing row is qualified (s.): PostgreSQL takes a bare column there as ambiguous.
    executeMany(
      store,
      `INSERT INTO metric_summary AS s (run_id, key, last, last_step, best, best_step, mode, count)
         VALUES (@runId, @key, @last, @lastStep, @best, @bestStep, @mode, @count)
         ON CONFLICT(run_id, key) DO UPDATE SET
           last = excluded.last, last_step = excluded.last_step, count = s.count + excluded.count,
           best_step = CASE WHEN excluded.best IS NOT NULL AND (s.best IS NULL OR (s.mode = 'max' AND excluded.best > s.best)
                                 OR (s.mode = 'min' AND excluded.best < s.best)) THEN excluded.best_step ELSE s.best_step END,
           best = CASE WHEN excluded.best IS NOT NULL AND (s.best IS NULL OR (s.mode = 'max' AND excluded.best > s.best)
                            OR (s.mode = 'min' AND excluded.best < s.best)) THEN excluded.best ELSE s.best END`,
      [...summaries].map(([key, s]) => ({ runId, key, last: Number.isNaN(s.last) ? null : s.last, lastStep: s.lastStep, best: s.best, bestStep: s.bestStep, mode: s.mode, count: s.count })),
    );
    refreshMetricsJson(store, runId);
  });
}

/** The param that holds why a run stopped before its planned end (see {@link FinishRunOptions.stopReason}). */
export const STOP_REASON_PARAM = 'stop.reason';

/**
 * Removes the params `keys` of a run (those it has), for a value that no longer holds when a run
 * goes on: why it stopped, why a resource it lacked was missing. Keys it does not have are ignored.
 */
export function deleteParams(store: TrackerStore, runId: string, keys: readonly string[]): void {
  let removed = 0;
  for (const key of keys) removed += execute(store, 'DELETE FROM params WHERE run_id = @runId AND key = @key', { runId, key }).changes;
  if (removed > 0) refreshParamsJson(store, runId);
}

/** Options of {@link finishRun}. */
export interface FinishRunOptions {
  /** The error of a failed run; its message is stored. Defaults to none. */
  error?: unknown;
  /**
   * Why the run stopped before its planned end, in a sentence (early stopping, a time budget, an
   * interrupt, a diverging loss): recorded as the param {@link STOP_REASON_PARAM}, so that
   * `runs show` shows it and `--where 'params.stop.reason != null'` finds such runs. Defaults to
   * none (the run ran its course).
   */
  stopReason?: string;
}

/** Ends a run with a terminal status and stops its heartbeat. */
export function finishRun(
  store: TrackerStore,
  runId: string,
  status: Exclude<RunStatus, 'running' | 'crashed'> = 'finished',
  options: FinishRunOptions = {},
): void {
  const error = options.error === undefined ? null : options.error instanceof Error ? options.error.message : String(options.error);
  const now = Date.now();
  // Written before the heartbeat stops: a write that fails (a store locked past the timeout)
  // leaves the run running and beating, for the caller to try again.
  const end = (): { changes: number } => execute(store, 'UPDATE runs SET status = @status, ended_at = @now, heartbeat_at = @now, error = @error WHERE id = @runId', { status, now, error, runId });
  const { stopReason } = options;
  const result =
    stopReason === undefined
      ? end()
      : inTransaction(store, () => {
          const ended = end();
          if (ended.changes > 0) {
            writeParams(store, runId, { [STOP_REASON_PARAM]: stopReason });
            refreshParamsJson(store, runId);
          }
          return ended;
        });
  stopHeartbeat(store, runId);
  store.nextStep.delete(runId);
  const missing = result.changes === 0 ? missingRunError(store, runId) : undefined;
  store.recording.delete(runId);
  if (missing) throw missing;
}

/** An artifact to attach to a run. */
export interface ArtifactInput {
  path: string;
  /** e.g. `'model'`, `'checkpoint'`, `'report'`. */
  kind: string;
  /** Size in bytes. Defaults to the file's size when it exists. */
  bytes?: number;
  /** Hex SHA-256. Defaults to the file's hash when it exists. */
  sha256?: string;
  /** When the file was produced, in milliseconds since the epoch. Defaults to now. */
  createdAt?: number;
}

/**
 * How an artifact path is stored: relative to the store's folder (with `/`; see
 * `TrackerStore.baseDir`) when the file is inside it, as a run's folder `runs/<id>/` is, so that a copied or moved experiments folder
 * finds its files where it lands; absolute otherwise. `getRun` resolves it back. For a team's
 * store on PostgreSQL the folder is the shared experiments folder, which each machine names by
 * its own mount (GLYPHLAB_EXPERIMENTS_DIR): no machine's path is recorded (see `runsDirFor`).
 */
export function storedArtifactPath(store: TrackerStore, path: string): string {
  const absolute = resolve(path);
  const inside = relative(store.baseDir, absolute);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return absolute;
  return inside.split(sep).join('/');
}

/**
 * Attaches a file to a run, hashing it (streamed) when it exists. Directories get no hash. The
 * same path and kind attached again (a checkpoint rewritten every epoch) replaces the earlier
 * entry, whose size and hash no longer describe the file.
 */
export async function addArtifact(store: TrackerStore, runId: string, artifact: ArtifactInput): Promise<void> {
  recordArtifact(store, runId, await measureArtifact(artifact));
}

/**
 * `artifact` with its size and hash as the file is now (those given are kept; a directory or a
 * missing path gets none) and its time: what {@link recordArtifact} records, however much later.
 */
export async function measureArtifact(artifact: ArtifactInput): Promise<ArtifactInput> {
  let bytes = artifact.bytes;
  let sha256 = artifact.sha256;
  if (existsSync(artifact.path)) {
    const stats = statSync(artifact.path);
    if (stats.isFile()) {
      bytes ??= stats.size;
      sha256 ??= await sha256File(artifact.path);
    }
  }
  return { ...artifact, bytes, sha256, createdAt: artifact.createdAt ?? Date.now() };
}

/** Attaches `artifact` to a run as given (see {@link measureArtifact}), in one transaction, replacing an entry of the same path and kind. */
export function recordArtifact(store: TrackerStore, runId: string, artifact: ArtifactInput): void {
  inTransaction(store, () => {
    touchRun(store, runId, Date.now());
    const path = storedArtifactPath(store, artifact.path);
    execute(store, 'DELETE FROM artifacts WHERE run_id = @runId AND path = @path AND kind = @kind', { runId, path, kind: artifact.kind });
    execute(
      store,
      'INSERT INTO artifacts (run_id, path, kind, bytes, sha256, created_at) VALUES (@runId, @path, @kind, @bytes, @sha256, @createdAt)',
      { runId, path, kind: artifact.kind, bytes: artifact.bytes ?? null, sha256: artifact.sha256 ?? null, createdAt: artifact.createdAt ?? Date.now() },
    );
  });
}

function writeTag(store: TrackerStore, runId: string, tag: string): void {
  if (tag.trim() === '') throw new ConfigError(`tag of run ${runId} is empty; give a word such as "baseline"`);
  execute(store, 'INSERT INTO tags (run_id, tag) VALUES (@runId, @tag) ON CONFLICT DO NOTHING', { runId, tag });
}

/** Throws a ConfigError naming the run when it does not exist. */
export function assertRunExists(store: TrackerStore, runId: string): void {
  if (!selectOne(store, 'SELECT 1 AS found FROM runs WHERE id = @runId', { runId })) {
    throw new ConfigError(`no run ${JSON.stringify(runId)} in ${store.file}; list runs with \`glyphlab runs ls\``);
  }
}

/** Adds a tag to the run `ref` names (its id, or a unique prefix, id suffix or name: see `resolveRunRef`); returns its id. */
export function tagRun(store: TrackerStore, ref: string, tag: string): string {
  const runId = resolveRunRef(store, ref);
  inTransaction(store, () => writeTag(store, runId, tag));
  return runId;
}

/** Removes a tag from the run `ref` names (as {@link tagRun}); returns whether it had it. */
export function untagRun(store: TrackerStore, ref: string, tag: string): boolean {
  const runId = resolveRunRef(store, ref);
  assertWritable(store);
  return execute(store, 'DELETE FROM tags WHERE run_id = @runId AND tag = @tag', { runId, tag }).changes > 0;
}

/** Sets the note of the run `ref` names (as {@link tagRun}), replacing any earlier one; returns its id. */
export function noteRun(store: TrackerStore, ref: string, note: string): string {
  const runId = resolveRunRef(store, ref);
  assertWritable(store);
  execute(store, 'UPDATE runs SET note = @note WHERE id = @runId', { note, runId });
  return runId;
}

/** Options of {@link deleteRun}. */
export interface DeleteRunOptions {
  /**
   * Also delete a run still recorded as running whose heartbeat is older than the store's
   * `staleAfterMs` although a process with its pid exists on this machine, when that process
   * cannot be told apart from the recorder (a run recorded before process start times were, or a
   * system without `/proc`): its pid may have been reused. Never a run whose heartbeat is fresh,
   * nor one whose very process is alive (same pid and start time), even stopped. Defaults to false.
   */
  force?: boolean;
}

/** Whole seconds from `then` to `now`, for messages. */
function secondsAgo(now: number, then: number): string {
  return `${Math.max(0, Math.round((now - then) / 1000))} s`;
}

/** A run's status, heartbeat and the identity of the process that records it. */
interface RunProcessRow {
  id: string;
  status: RunStatus;
  heartbeat_at: number;
  pid: number | null;
  host: string | null;
  pid_start_ticks: number | null;
  boot_id: string | null;
  pid_namespace: string | null;
}

/** The columns of {@link RunProcessRow}; a file before schema 3 (read-only, so not migrated) has no identity columns. */
function runProcessColumns(store: TrackerStore): string {
  const identity = readSchemaVersion(store.db) >= 3 ? 'pid_start_ticks, boot_id, pid_namespace' : 'NULL AS pid_start_ticks, NULL AS boot_id, NULL AS pid_namespace';
  return `id, status, heartbeat_at, pid, host, ${identity}`;
}

function checkRunProcess(row: RunProcessRow): ProcessCheck {
  return checkRecordedProcess({ pid: row.pid, host: row.host, startTicks: row.pid_start_ticks, bootId: row.boot_id, pidNamespace: row.pid_namespace });
}

/**
 * Deletes the run `ref` names (its id, or a unique prefix, id suffix or name: see
 * `resolveRunRef`) and everything recorded for it (files on disk are left alone); returns its id. A run that
 * another process (or another connection) is still recording is refused: its training would
 * fail at its next write and lose what it records. A run whose process ended is marked crashed
 * first (see {@link markCrashedRuns}) and can go; so can a run this store itself is recording.
 *
 * @example
 * deleteRun(store, '20261122-063012-4fa2c1');
 */
export function deleteRun(store: TrackerStore, ref: string, options: DeleteRunOptions = {}): string {
  markCrashedRuns(store);
  const runId = resolveRunRef(store, ref);
  inTransaction(store, () => {
    const row = selectOne<RunProcessRow>(store, `SELECT ${runProcessColumns(store)} FROM runs WHERE id = @runId`, { runId });
    if (!row) throw new ConfigError(`no run ${JSON.stringify(runId)} in ${store.file}; list runs with \`glyphlab runs ls\``);
    if (row.status === 'running' && !store.recording.has(runId)) refuseRunningRun(store, row, options.force ?? false);
    execute(store, 'DELETE FROM runs WHERE id = @runId', { runId });
  });
  // A run this very store was recording is over: its heartbeat stops.
  stopHeartbeat(store, runId);
  store.nextStep.delete(runId);
  store.recording.delete(runId);
  return runId;
}

/**
 * Throws the ConfigError that refuses deleting running run `row`, unless `force` is given and
 * its process may be gone: a stale heartbeat and a process that cannot be told from a later one
 * with the same pid. A run whose very process lives is never deleted: a stopped process (SIGSTOP,
 * Ctrl-Z) beats no more, yet its training goes on when it is continued.
 */
function refuseRunningRun(store: TrackerStore, row: RunProcessRow, force: boolean): void {
  const now = Date.now();
  const ago = secondsAgo(now, row.heartbeat_at);
  const who = `process ${row.pid ?? '?'} on ${row.host ?? '?'}`;
  const stale = now - row.heartbeat_at > store.staleAfterMs;
  const check = checkRunProcess(row);
  const elsewhere = row.host !== null && row.host !== currentProcessIdentity().host ? ` on ${row.host}` : '';
  const stop = `stop its training first (Ctrl-C, or kill ${row.pid ?? 'its process'}${elsewhere}); once it has ended it can be deleted`;
  const stopped = check.state === 'alive' && check.stopped ? `; process ${row.pid} is stopped (SIGSTOP or Ctrl-Z): \`kill -CONT ${row.pid}\` lets its training go on` : '';
  if (!force) {
    throw new ConfigError(
      `run ${row.id} is running (${who}, heartbeat ${ago} ago): deleting it would make that training fail and lose what it records; ${stop}${stopped}` +
        (stale && check.state === 'unverified' ? `. Its heartbeat is stale: if ${who} is not that training any more, --force (force: true) deletes the run` : ''),
    );
  }
  if (!stale) {
    throw new ConfigError(
      `run ${row.id} is alive: ${who} refreshed its heartbeat ${ago} ago; --force deletes a running run only when its heartbeat ` +
        `is older than ${Math.round(store.staleAfterMs / 1000)} s and its process is not found alive; ${stop}`,
    );
  }
  if (check.state === 'alive') {
    throw new ConfigError(
      `run ${row.id} is alive: ${who} is the process that records it (same pid and start time)${check.stopped ? ', stopped' : ''}, though its heartbeat is ${ago} old; ` +
        `--force never deletes a run whose process is alive; ${stop}${stopped}`,
    );
  }
}

/** A running run whose process is gone, and why that is known. */
export interface CrashedRun {
  id: string;
  reason: string;
}

/**
 * The running runs whose process is gone: on this host, boot and pid namespace, no process with
 * the recorded pid, or one that started at another time than the recorder (its pid was reused);
 * elsewhere, a heartbeat older than `staleAfterMs`. A local process that is the recorder keeps
 * its run running even when its heartbeat is stale (a stopped process beats no more), and so
 * does one that cannot be told from it (see {@link ProcessCheck}). Writes nothing, so a
 * read-only store can show what {@link markCrashedRuns} would record.
 */
export function findCrashedRuns(store: TrackerStore, now: number = Date.now()): CrashedRun[] {
  const running = selectAll<RunProcessRow>(store, `SELECT ${runProcessColumns(store)} FROM runs WHERE status = 'running'`);
  const crashed: CrashedRun[] = [];
  for (const run of running) {
    if (store.heartbeats.has(run.id)) continue;
    const check = checkRunProcess(run);
    if (check.state === 'dead') crashed.push({ id: run.id, reason: check.reason });
    else if (check.state === 'elsewhere' && now - run.heartbeat_at > store.staleAfterMs) {
      const seconds = Math.round((now - run.heartbeat_at) / 1000);
      crashed.push({ id: run.id, reason: `no heartbeat for ${seconds} s (process ${run.pid ?? '?'} on ${check.where})` });
    }
  }
  return crashed;
}

/**
 * Marks as crashed every running run whose process is gone (see {@link findCrashedRuns}). Every
 * read of the query API calls this first; a read-only store is not written (the query API shows
 * those runs as crashed all the same). Returns the ids marked.
 */
export function markCrashedRuns(store: TrackerStore, now: number = Date.now()): string[] {
  if (store.readonly) return [];
  const crashed = findCrashedRuns(store, now);
  if (crashed.length === 0) return [];
  inTransaction(store, () => {
    for (const { id, reason } of crashed) {
      execute(
        store,
        "UPDATE runs SET status = 'crashed', ended_at = heartbeat_at, error = COALESCE(error, @reason) WHERE id = @id AND status = 'running'",
        { id, reason },
      );
    }
  });
  return crashed.map((c) => c.id);
}

/**
 * Replaces a run's config (a resume that changed its spec: more epochs, other replicas) and
 * records `params` besides it, the config's flattened params included, in one transaction.
 */
export function updateRunConfig(store: TrackerStore, runId: string, config: Record<string, unknown>, params: Record<string, unknown> = {}): void {
  assertWritable(store);
  inTransaction(store, () => {
    const result = execute(store, 'UPDATE runs SET config_json = @configJson WHERE id = @runId', { configJson: redactUrlsIn(JSON.stringify(config, jsonSafe)), runId });
    if (result.changes === 0) throw missingRunError(store, runId);
    touchRun(store, runId, Date.now());
    writeParams(store, runId, { ...config, ...params });
    refreshParamsJson(store, runId);
  });
}

/** A run's status as stored (`running` even when its process is gone: see `findCrashedRuns`). */
export function runStatus(store: TrackerStore, runId: string): RunStatus {
  const row = selectOne<{ status: RunStatus }>(store, 'SELECT status FROM runs WHERE id = @runId', { runId });
  if (!row) throw missingRunError(store, runId);
  return row.status;
}
