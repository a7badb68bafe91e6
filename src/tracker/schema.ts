/**
 * The experiment store's tables: row types as better-sqlite3 returns them, and the DDL of each
 * schema version. Times are integer milliseconds since the epoch (cheap to compare for crash
 * detection and date filters); the query API turns them into ISO strings.
 */

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
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = SCHEMA_MIGRATIONS[SCHEMA_MIGRATIONS.length - 1]?.version ?? 0;
