/**
 * The sweep tables of the experiment store, written in SQL that SQLite and PostgreSQL both run
 * (no AUTOINCREMENT or SERIAL, times as BIGINT milliseconds, JSON as TEXT), through the store's
 * own `execute`/`selectAll`, so that `sweep status|ls|best` read a sweep on either driver:
 *
 * - `sweeps`: one row per sweep: its space, the fixed train options, the trial budget;
 * - `sweep_trials`: one row per trial, unique on (sweep, trial): its params, state, attempts,
 *   the lease of the worker that holds it, and the run that finished it. A trial is finished by
 *   one conditional UPDATE that only the lease holder's attempt can make, so the store never
 *   shows a trial finished twice;
 * - `sweep_attempts`: one row per attempt at a trial, unique on (sweep, trial, attempt): the
 *   run it recorded and how it ended (finished, failed, lost with its worker, duplicate).
 */
import { ConfigError } from '../errors';
import { execute, selectOne, type TrackerStore } from '../tracker/store';

/** The states of a trial: waiting, held by a worker, done, given up after its retries. */
export const TRIAL_STATES = ['pending', 'running', 'finished', 'failed'] as const;
export type TrialState = (typeof TRIAL_STATES)[number];

/** How an attempt at a trial ended; null while it runs. */
export type AttemptOutcome = 'finished' | 'failed' | 'lost' | 'interrupted' | 'duplicate';

const CREATE_TABLES = [
  `CREATE TABLE IF NOT EXISTS sweeps (
    name TEXT PRIMARY KEY,
    space_json TEXT NOT NULL,
    train_json TEXT NOT NULL,
    trials INTEGER NOT NULL,
    trial_minutes DOUBLE PRECISION NOT NULL,
    retries INTEGER NOT NULL,
    seed BIGINT NOT NULL,
    queue TEXT NOT NULL,
    created_at BIGINT NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS sweep_trials (
    sweep TEXT NOT NULL REFERENCES sweeps (name) ON DELETE CASCADE,
    trial INTEGER NOT NULL,
    params_json TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    owner_json TEXT,
    lease_until BIGINT,
    job_id TEXT,
    run_id TEXT,
    val_accuracy DOUBLE PRECISION,
    error TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (sweep, trial)
  )`,
  `CREATE TABLE IF NOT EXISTS sweep_attempts (
    sweep TEXT NOT NULL,
    trial INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    run_id TEXT,
    owner_json TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at BIGINT,
    outcome TEXT,
    note TEXT,
    PRIMARY KEY (sweep, trial, attempt),
    FOREIGN KEY (sweep, trial) REFERENCES sweep_trials (sweep, trial) ON DELETE CASCADE
  )`,
  'CREATE INDEX IF NOT EXISTS sweep_trials_state ON sweep_trials (sweep, state)',
];

/** A `sweeps` row as read. */
export interface SweepRow {
  name: string;
  space_json: string;
  train_json: string;
  trials: number;
  trial_minutes: number;
  retries: number;
  seed: number;
  queue: string;
  created_at: number;
}

/** A `sweep_trials` row as read. */
export interface TrialRow {
  sweep: string;
  trial: number;
  params_json: string;
  state: TrialState;
  /** Attempts begun (the last one's number). */
  attempts: number;
  /** Attempts failed or lost with their worker: the trial fails when they pass the retries. */
  failures: number;
  owner_json: string | null;
  lease_until: number | null;
  job_id: string | null;
  run_id: string | null;
  val_accuracy: number | null;
  error: string | null;
  updated_at: number;
}

/** A `sweep_attempts` row as read. */
export interface AttemptRow {
  sweep: string;
  trial: number;
  attempt: number;
  run_id: string | null;
  owner_json: string;
  started_at: number;
  ended_at: number | null;
  outcome: AttemptOutcome | null;
  note: string | null;
}

/** Creates the sweep tables when the store lacks them (every write path calls this first). */
export function ensureSweepTables(store: TrackerStore): void {
  for (const sql of CREATE_TABLES) execute(store, sql);
}

/** Whether the store has the sweep tables (a store where no sweep was ever created has not). */
export function hasSweepTables(store: TrackerStore): boolean {
  try {
    selectOne(store, 'SELECT name FROM sweeps WHERE 1 = 0');
    return true;
  } catch {
    return false;
  }
}

/**
 * A number column as a JS number: PostgreSQL's driver returns BIGINT as a string (it may not fit
 * a double), and glyphlab's BIGINTs are milliseconds and seeds, which do.
 */
export function numberOf(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

/** A row with its BIGINT and numeric columns made numbers. */
export function trialRowOf(row: TrialRow): TrialRow {
  return {
    ...row,
    trial: numberOf(row.trial),
    attempts: numberOf(row.attempts),
    failures: numberOf(row.failures),
    lease_until: row.lease_until === null ? null : numberOf(row.lease_until),
    val_accuracy: row.val_accuracy === null ? null : numberOf(row.val_accuracy),
    updated_at: numberOf(row.updated_at),
  };
}

/** As {@link trialRowOf}, for `sweeps`. */
export function sweepRowOf(row: SweepRow): SweepRow {
  return { ...row, trials: numberOf(row.trials), trial_minutes: numberOf(row.trial_minutes), retries: numberOf(row.retries), seed: numberOf(row.seed), created_at: numberOf(row.created_at) };
}

/** As {@link trialRowOf}, for `sweep_attempts`. */
export function attemptRowOf(row: AttemptRow): AttemptRow {
  return { ...row, trial: numberOf(row.trial), attempt: numberOf(row.attempt), started_at: numberOf(row.started_at), ended_at: row.ended_at === null ? null : numberOf(row.ended_at) };
}

/** Rows an `execute` changed, on either driver. */
export function changedRows(result: unknown): number {
  return numberOf((result as { changes?: unknown }).changes ?? 0);
}

/** The characters a sweep name may have: it names a tag (`sweep:NAME`), runs and a queue. */
const SWEEP_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Throws a ConfigError unless `name` can name a sweep. */
export function checkSweepName(name: string): void {
  if (!SWEEP_NAME.test(name)) {
    throw new ConfigError(`sweep name ${JSON.stringify(name)} must be 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit (e.g. lr-search)`);
  }
}
