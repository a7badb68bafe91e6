/**
 * The experiment store's tables: row types as the drivers return them, and the DDL of each
 * schema version (SQLite's spelling; `dialect.ts` translates it for PostgreSQL). Times are
 * integer milliseconds since the epoch (cheap to compare for crash detection and date filters);
 * the query API turns them into ISO strings.
 */
import type { DriverKind } from './driver';
import { metricsJsonSqlFor, paramsJsonSqlFor } from './dialect';

/** Every status a run can have. `crashed` is set by a later reader, never by the run itself. */
export const RUN_STATUSES = ['running', 'finished', 'failed', 'interrupted', 'crashed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** The type a parameter value was recorded with. */
export type ParamType = 'string' | 'number' | 'boolean' | 'null' | 'json';

/** Whether a larger or a smaller value of a metric is better. */
export type MetricMode = 'max' | 'min';

export interface ExperimentRow {
  id: number;
  name: string;
  created_at: number;
}

export interface RunRow {
  id: string;
  experiment_id: number;
  name: string | null;
  status: RunStatus;
  started_at: number;
  ended_at: number | null;
  heartbeat_at: number;
  pid: number | null;
  host: string | null;
  git_commit: string | null;
  git_dirty: number | null;
  backend: string | null;
  threads: number | null;
  source: string | null;
  error: string | null;
  note: string | null;
  config_json: string | null;
  data_fingerprint: string | null;
  /**
   * The run's params (flattened, typed) as one JSON object, rebuilt from the params table by the
   * store's writes. NULL when a param is NaN, which JSON cannot hold, or when params changed by
   * other means (triggers clear it): then read the params table. Absent in files at schema 1.
   */
  params_json?: string | null;
  /**
   * The run's metric summaries as one JSON object, `{"key": {"last", "lastStep", "best", "bestStep",
   * "mode", "count"}}` (null for NaN), rebuilt by the store's metric writes; NULL when summaries
   * changed by other means (triggers clear it): then read the metric_summary table. Absent at schema 1.
   */
  metrics_json?: string | null;
  /**
   * The recording process's start in clock ticks after boot (`/proc/PID/stat` field 22), its boot
   * id and pid namespace: with `pid` and `host`, who recorded the run (see `process-identity.ts`).
   * NULL where `/proc` could not tell; absent in files before schema 3.
   */
  pid_start_ticks?: number | null;
  boot_id?: string | null;
  pid_namespace?: string | null;
}

export interface ParamRow {
  run_id: string;
  key: string;
  type: ParamType;
  value_text: string | null;
  value_num: number | null;
  value_bool: number | null;
}

/**
 * One metric point. SQLite stores a NaN REAL as NULL, so `value IS NULL` means NaN (values are
 * always numbers on the way in); Infinity and -Infinity are stored as REALs and come back as such.
 */
export interface MetricRow {
  run_id: string;
  key: string;
  step: number;
  epoch: number | null;
  value: number | null;
  wall_time: number;
  context: string | null;
}

/** Last and best value of one metric of one run, kept up to date on every write for fast sorting. */
export interface MetricSummaryRow {
  run_id: string;
  key: string;
  /** NULL means the last value was NaN. */
  last: number | null;
  last_step: number;
  /** NULL when every value so far was NaN. */
  best: number | null;
  best_step: number | null;
  mode: MetricMode;
  count: number;
}

export interface TagRow {
  run_id: string;
  tag: string;
}

export interface ArtifactRow {
  id: number;
  run_id: string;
  path: string;
  kind: string;
  bytes: number | null;
  sha256: string | null;
  created_at: number;
}

/**
 * The JSON text of run `runIdSql`'s params, built from the params table: `{"key": value, ...}` in key
 * order, or NULL when a param is NaN. Numbers go through `quote()`, which prints doubles exactly
 * (the JSON functions round to 15 digits) and Infinity as `9.0e+999`, which JSON.parse reads as
 * Infinity; json params are embedded as the text they were stored as. Decodes to what
 * `decodeParam` gives for each row.
 */
export function paramsJsonSql(runIdSql: string, kind: DriverKind = 'sqlite'): string {
  if (kind !== 'sqlite') return paramsJsonSqlFor(kind, runIdSql, paramsJsonSql);
  return `(SELECT CASE WHEN max(p.type = 'number' AND p.value_num IS NULL) THEN NULL ELSE
      '{' || coalesce(group_concat(json_quote(p.key) || ':' || CASE p.type
        WHEN 'number' THEN quote(p.value_num)
        WHEN 'string' THEN json_quote(p.value_text)
        WHEN 'boolean' THEN CASE p.value_bool WHEN 1 THEN 'true' ELSE 'false' END
        WHEN 'json' THEN CASE WHEN json_valid(p.value_text) THEN p.value_text ELSE json_quote(p.value_text) END
        ELSE 'null' END, ',' ORDER BY p.key), '') || '}' END
    FROM params p WHERE p.run_id = ${runIdSql})`;
}

/**
 * The JSON text of run `runIdSql`'s metric summaries, `{"key": {"last": ..., ...}}` in key order
 * (`{}` when none), numbers printed exactly by `quote()`; a NaN (NULL) value is written as null.
 */
export function metricsJsonSql(runIdSql: string, kind: DriverKind = 'sqlite'): string {
  if (kind !== 'sqlite') return metricsJsonSqlFor(kind, runIdSql, metricsJsonSql);
  // quote(NULL) is the text NULL, hence the CASE.
  const num = (column: string): string => `CASE WHEN s.${column} IS NULL THEN 'null' ELSE quote(s.${column}) END`;
  return `(SELECT '{' || coalesce(group_concat(json_quote(s.key) || ':{"last":' || ${num('last')} || ',"lastStep":' || s.last_step ||
      ',"best":' || ${num('best')} || ',"bestStep":' || ${num('best_step')} || ',"mode":' || json_quote(s.mode) ||
      ',"count":' || s.count || '}', ',' ORDER BY s.key), '') || '}'
    FROM metric_summary s WHERE s.run_id = ${runIdSql})`;
}

/** Triggers that clear `runs.<column>` on any change to `table`, for schema version 2. */
function clearOnChangeTriggers(table: string, column: string): string {
  const clear = (ids: string): string => `UPDATE runs SET ${column} = NULL WHERE id IN (${ids}) AND ${column} IS NOT NULL;`;
  return `
      CREATE TRIGGER ${column}_insert AFTER INSERT ON ${table} BEGIN ${clear('NEW.run_id')} END;
      CREATE TRIGGER ${column}_update AFTER UPDATE ON ${table} BEGIN ${clear('NEW.run_id, OLD.run_id')} END;
      CREATE TRIGGER ${column}_delete AFTER DELETE ON ${table} BEGIN ${clear('OLD.run_id')} END;`;
}

/** Schema versions in order; `migrations.ts` applies those newer than the file's `user_version`. */
export const SCHEMA_MIGRATIONS: readonly { version: number; description: string; sql: string }[] = [
  {
    version: 1,
    description: 'experiments, runs, params, metrics, metric summaries, tags, artifacts',
    sql: `
      CREATE TABLE experiments (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
        name TEXT,
        status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'interrupted', 'crashed')),
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        heartbeat_at INTEGER NOT NULL,
        pid INTEGER,
        host TEXT,
        git_commit TEXT,
        git_dirty INTEGER,
        backend TEXT,
        threads INTEGER,
        source TEXT,
        error TEXT,
        note TEXT,
        config_json TEXT,
        data_fingerprint TEXT
      );
      CREATE INDEX runs_experiment_started ON runs(experiment_id, started_at);
      CREATE INDEX runs_status ON runs(status);
      CREATE TABLE params (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        type TEXT NOT NULL CHECK (type IN ('string', 'number', 'boolean', 'null', 'json')),
        value_text TEXT,
        value_num REAL,
        value_bool INTEGER,
        PRIMARY KEY (run_id, key)
      ) WITHOUT ROWID;
      CREATE INDEX params_key_num ON params(key, value_num);
      CREATE INDEX params_key_text ON params(key, value_text);
      CREATE TABLE metrics (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        step INTEGER NOT NULL,
        epoch INTEGER,
        value REAL,
        wall_time INTEGER NOT NULL,
        context TEXT
      );
      CREATE INDEX metrics_run_key_step ON metrics(run_id, key, step);
      CREATE TABLE metric_summary (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        last REAL,
        last_step INTEGER NOT NULL,
        best REAL,
        best_step INTEGER,
        mode TEXT NOT NULL CHECK (mode IN ('max', 'min')),
        count INTEGER NOT NULL,
        PRIMARY KEY (run_id, key)
      ) WITHOUT ROWID;
      CREATE INDEX metric_summary_key_last ON metric_summary(key, last);
      CREATE INDEX metric_summary_key_best ON metric_summary(key, best);
      CREATE TABLE tags (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        tag TEXT NOT NULL,
        PRIMARY KEY (run_id, tag)
      ) WITHOUT ROWID;
      CREATE INDEX tags_tag ON tags(tag);
      CREATE TABLE artifacts (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        kind TEXT NOT NULL,
        bytes INTEGER,
        sha256 TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX artifacts_run ON artifacts(run_id);
    `,
  },
  {
    version: 2,
    description: 'runs.params_json and runs.metrics_json: params and metric summaries as JSON on the run, so that listing runs reads one row per run',
    // The store's writes rebuild these columns once per call (see store.ts). The triggers only clear
    // them, cheaply, on any other change (another tool, or an older glyphlab's process that opened
    // the file before this migration ran): a NULL column is read from its table instead, so the
    // listing stays right whoever wrote.
    sql: `
      ALTER TABLE runs ADD COLUMN params_json TEXT;
      ALTER TABLE runs ADD COLUMN metrics_json TEXT;
      UPDATE runs SET params_json = ${paramsJsonSql('runs.id')}, metrics_json = ${metricsJsonSql('runs.id')};
      ${clearOnChangeTriggers('params', 'params_json')}
      ${clearOnChangeTriggers('metric_summary', 'metrics_json')}
    `,
  },
  {
    version: 3,
    description: "runs.pid_start_ticks, boot_id and pid_namespace: the recording process told apart from a later one with the same pid",
    // Runs recorded before have NULLs: their process is judged by its pid alone, as before.
    sql: `
      ALTER TABLE runs ADD COLUMN pid_start_ticks INTEGER;
      ALTER TABLE runs ADD COLUMN boot_id TEXT;
      ALTER TABLE runs ADD COLUMN pid_namespace TEXT;
    `,
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = SCHEMA_MIGRATIONS[SCHEMA_MIGRATIONS.length - 1]?.version ?? 0;
