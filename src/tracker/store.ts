/**
 * The experiment store's connection: one SQLite file (WAL mode, busy timeout, foreign keys),
 * opened and closed here, with the statement cache and the helpers every read and write goes
 * through. This folder is the only code in glyphlab that imports better-sqlite3. Statements are
 * prepared once (named parameters) and cached per store; multi-row writes run in one
 * transaction; every SQLite error becomes a {@link TrackerError} naming the file, with the SQL
 * and parameters. The writes that record a run are in `record.ts`, the reads in `query.ts`.
 */
import Database from 'better-sqlite3';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { GlyphlabError, TrackerError } from '../errors';
import { databasePath } from '../util/paths';
import { assertGlyphlabStore, assertKnownVersion, migrate, readSchemaVersion } from './migrations';
import { stopHeartbeat } from './heartbeat';
import { damagedStoreMessage, sqliteCode, toTrackerError } from './sqlite-errors';

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /**
   * Open without writing anything: no file or folder created, no migrations, no crash marking
   * (runs whose process is gone still read as crashed). For commands that only read. Defaults to false.
   */
  readonly?: boolean;
  /** How long a write waits for another process's lock before failing. Defaults to 10000 ms. */
  busyTimeoutMs?: number;
  /** A running run whose heartbeat is older than this counts as crashed. Defaults to 30000 ms. */
  staleAfterMs?: number;
  /**
   * How often a recording process refreshes its runs' heartbeat (from a thread of its own, which
   * a long training step cannot delay). Keep it well under the readers' `staleAfterMs`: a beat
   * may miss once while another process holds the write lock. Defaults to 5000 ms.
   */
  heartbeatMs?: number;
  /**
   * Where warnings go: damaged runs left out of a listing, a damaged store, a store locked while
   * a training records. Defaults to standard error, one line each, prefixed `glyphlab: warning:`.
   */
  onWarning?: (message: string) => void;
}

/** An open experiment database. Create with {@link openStore}; release with {@link closeStore}. */
export class TrackerStore {
  /** The runs whose heartbeat this store keeps (see `heartbeat.ts`). */
  readonly heartbeats = new Set<string>();
  /** Next default step of each run, for `logMetrics` calls that give none. */
  readonly nextStep = new Map<string, number>();
  /** Runs this process started or resumed on this connection and has not finished yet. */
  readonly recording = new Set<string>();
  /** Whether `PRAGMA quick_check` found this file sound before its first write (see {@link assertWritable}). */
  checkedBeforeWrite = false;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    /** Absolute path of the database file. */
    readonly file: string,
    /** The better-sqlite3 connection; internal to `src/tracker/`. */
    readonly db: Database.Database,
    readonly readonly: boolean,
    readonly staleAfterMs: number,
    readonly heartbeatMs: number,
    /** How long a write waits for another process's lock before failing. */
    readonly busyTimeoutMs: number = 10_000,
    /** Where warnings go (see {@link OpenStoreOptions.onWarning}). */
    readonly warn: (message: string) => void = warnOnStderr,
  ) {}

  /** The statement for `sql`, prepared on first use. */
  statement(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      try {
        stmt = this.db.prepare(sql);
      } catch (error) {
        throw toTrackerError(error, this.file, sql);
      }
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  /** Closes the database and stops this process's heartbeat timers. */
  close(): void {
    closeStore(this);
  }
}

/**
 * Opens (creating when needed) the experiment database, sets WAL mode and migrates the schema.
 * With `readonly`, nothing is created, migrated or written: a missing path is an error naming it,
 * and a read-only file or folder can be read. Read-only, locked, corrupt and newer-schema files,
 * and SQLite files that are not glyphlab stores, get a TrackerError that names the file and says
 * what to do, and are left untouched; no file is ever reset.
 *
 * @example
 * const store = openStore();             // experiments/glyphlab.db, or GLYPHLAB_DB
 * const runs = listRuns(store, { where: 'metrics.val_accuracy > 0.99' });
 */
export function openStore(file: string = databasePath(), options: OpenStoreOptions = {}): TrackerStore {
  const path = resolve(file);
  const readonly = options.readonly ?? false;
  const busyTimeoutMs = options.busyTimeoutMs ?? 10_000;
  const staleAfterMs = options.staleAfterMs ?? 30_000;
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  if (!readonly) {
    if (existsSync(path)) {
      if (statSync(path).isDirectory()) throw new TrackerError(`experiment database ${path} is a folder; give the path of a file`);
      try {
        accessSync(path, constants.W_OK);
        // root passes access(); a file with no write bit at all was still write-protected on purpose.
        if ((statSync(path).mode & 0o222) === 0) throw new Error('the file has no write permission bits');
      } catch (error) {
        throw new TrackerError(
          `experiment database ${path} is read-only; make it writable (chmod u+w ${path}) to record runs, ` +
            'or open it with { readonly: true } to only read',
          { cause: error },
        );
      }
    } else {
      mkdirSync(dirname(path), { recursive: true });
    }
  } else if (!existsSync(path)) {
    throw new TrackerError(`experiment database ${path} does not exist; record a run first or check GLYPHLAB_DB / --db`);
  } else if (statSync(path).isDirectory()) {
    throw new TrackerError(`experiment database ${path} is a folder; give the path of a file`);
  }
  let db: Database.Database;
  try {
    db = readonly ? openReadOnly(path, busyTimeoutMs) : new Database(path, { timeout: busyTimeoutMs });
  } catch (error) {
    throw toTrackerError(error, path);
  }
  let step = 'PRAGMA user_version';
  try {
    // Reading the version and tables first also detects a file that is not a database, or not a
    // glyphlab store, before anything is written.
    assertKnownVersion(readSchemaVersion(db), path);
    step = 'SELECT name FROM sqlite_master';
    assertGlyphlabStore(db, path, readonly);
    if (!readonly) {
      step = 'PRAGMA journal_mode = WAL';
      setWalMode(db, busyTimeoutMs);
      step = 'PRAGMA synchronous = NORMAL';
      // NORMAL is safe in WAL mode: a killed process loses nothing committed, only a power cut can.
      db.pragma('synchronous = NORMAL');
    }
    step = 'PRAGMA foreign_keys = ON';
    db.pragma('foreign_keys = ON');
    if (!readonly) migrate(db, path);
  } catch (error) {
    db.close();
    throw toTrackerError(error, path, step);
  }
  const store = new TrackerStore(path, db, readonly, staleAfterMs, heartbeatMs, busyTimeoutMs, options.onWarning ?? warnOnStderr);
  if (readonly) warnIfDamaged(store);
  return store;
}

/** The default warning sink: one line on standard error, control characters escaped (run ids and errors are anyone's text). */
function warnOnStderr(message: string): void {
  const printable = message.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
  process.stderr.write(`glyphlab: warning: ${printable}\n`);
}

/**
 * The tables every listing reads. Checking them took about 10 ms for 10,000 runs, however many
 * metric points they have; a whole-file `quick_check` grows with the file (60-110 ms for the 30 MB
 * of 10,000 runs with 9 points each, 0.5 s for 190 MB, on a shared 2-core machine), too slow for
 * every read. The whole file is checked before the first write instead (see {@link assertWritable}).
 */
const TABLES_CHECKED_ON_READ = ['runs', 'experiments', 'tags'] as const;

/**
 * Warns when a table a listing reads is damaged (a corrupt b-tree page): reads go on and show
 * what can be read, but the user should learn it now, not from a later write that is refused.
 */
function warnIfDamaged(store: TrackerStore): void {
  for (const table of TABLES_CHECKED_ON_READ) {
    const problems = quickCheck(store, table);
    if (problems.length > 0) {
      store.warn(`${damagedStoreMessage(store.file, quickCheckFinding(problems), readSchemaVersion(store.db))}; what can still be read is shown, and writes to it are refused`);
      return;
    }
  }
}

/** The first problems of a quick check, for a message. */
function quickCheckFinding(problems: readonly string[]): string {
  // SQLite reports many problems as one row of lines, under a '*** in database main ***' line.
  const lines = problems.flatMap((problem) => problem.split('\n')).filter((line) => line.trim() !== '' && !/^\*\*\* in database/.test(line));
  return `PRAGMA quick_check: ${lines.slice(0, 2).join('; ')}${lines.length > 2 ? `; ... (${lines.length} problems)` : ''}`;
}

/** The problems `PRAGMA quick_check` reports for `table` (the whole file when omitted); empty when sound. */
export function quickCheck(store: TrackerStore, table?: string): string[] {
  const sql = table === undefined ? 'PRAGMA quick_check' : `PRAGMA quick_check(${table})`;
  let rows: { quick_check: string }[];
  try {
    rows = store.db.prepare(sql).all() as { quick_check: string }[];
  } catch (error) {
    // A page too damaged to walk fails the check itself.
    if (sqliteCode(error)?.startsWith('SQLITE_CORRUPT')) return [(error as Error).message];
    throw toTrackerError(error, store.file, sql);
  }
  const problems = rows.map((row) => row.quick_check);
  return problems.length === 1 && problems[0] === 'ok' ? [] : problems;
}

/**
 * Opens `path` without writing to it or beside it. SQLite reads a WAL-mode file only through its
 * `-shm` file, which it cannot create in a folder it may not write: then, when no `-wal` file
 * holds changes (a store whose last writer closed cleanly), the main file is the whole database,
 * and a copy of it is read in memory instead.
 */
function openReadOnly(path: string, busyTimeoutMs: number): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs });
    db.pragma('user_version');
    return db;
  } catch (error) {
    db?.close();
    const code = sqliteCode(error) ?? '';
    if (!code.startsWith('SQLITE_READONLY') && !code.startsWith('SQLITE_CANTOPEN')) throw error;
    const wal = `${path}-wal`;
    if (existsSync(wal) && statSync(wal).size > 0) {
      throw new TrackerError(
        `cannot read experiment database ${path}: its folder is read-only, and ${wal} holds changes that SQLite can only read with a ` +
          `${path}-shm file it cannot create there; copy the folder somewhere writable, or let its writer finish`,
        { cause: error },
      );
    }
    const bytes = readFileSync(path);
    // Bytes 18 and 19 say WAL (2); an in-memory copy must say rollback journal (1) to be read.
    if (bytes.length >= 100 && bytes[18] === 2 && bytes[19] === 2) bytes.fill(1, 18, 20);
    return new Database(bytes, { readonly: true });
  }
}

/** Switching to WAL needs an exclusive lock, which SQLite does not wait for: retry until the busy timeout. */
function setWalMode(db: Database.Database, busyTimeoutMs: number): void {
  const deadline = Date.now() + busyTimeoutMs;
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if (!sqliteCode(error)?.startsWith('SQLITE_BUSY') || Date.now() > deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}

/** Stops this store's heartbeats and closes the database. Safe to call twice. */
export function closeStore(store: TrackerStore): void {
  for (const runId of [...store.heartbeats]) stopHeartbeat(store, runId);
  if (store.db.open) store.db.close();
}

/**
 * A number that changes whenever another connection commits to the store (SQLite's `PRAGMA
 * data_version`; this connection's own writes leave it as it is). Reading it costs no table read,
 * so a viewer can poll it often and read the runs again only when it moved.
 *
 * @example
 * const seen = storeDataVersion(store); ... if (storeDataVersion(store) !== seen) listRuns(store);
 */
export function storeDataVersion(store: TrackerStore): number {
  try {
    return store.statement('PRAGMA data_version').pluck().get() as number;
  } catch (error) {
    throw toTrackerError(error, store.file, 'PRAGMA data_version');
  }
}

/** Runs `sql` with named `params`; errors become TrackerErrors naming the file. */
export function execute(store: TrackerStore, sql: string, params: Record<string, unknown> = {}): Database.RunResult {
  try {
    return store.statement(sql).run(params);
  } catch (error) {
    throw toTrackerError(error, store.file, sql, params);
  }
}

/** All rows of `sql` with named `params`. */
export function selectAll<T>(store: TrackerStore, sql: string, params: Record<string, unknown> = {}): T[] {
  try {
    return store.statement(sql).all(params) as T[];
  } catch (error) {
    throw toTrackerError(error, store.file, sql, params);
  }
}

/** All rows of `sql` as arrays (no per-row objects: several times faster for large reads). Use SQL only read this way. */
export function selectRaw(store: TrackerStore, sql: string, params: Record<string, unknown> = {}): unknown[][] {
  try {
    return store.statement(sql).raw(true).all(params) as unknown[][];
  } catch (error) {
    throw toTrackerError(error, store.file, sql, params);
  }
}

/** The first row of `sql` with named `params`, or undefined. */
export function selectOne<T>(store: TrackerStore, sql: string, params: Record<string, unknown> = {}): T | undefined {
  try {
    return store.statement(sql).get(params) as T | undefined;
  } catch (error) {
    throw toTrackerError(error, store.file, sql, params);
  }
}

/** Runs `fn` in one write transaction (`BEGIN IMMEDIATE`, so a busy database waits rather than deadlocks). */
export function inTransaction<T>(store: TrackerStore, fn: () => T): T {
  assertWritable(store);
  try {
    return store.db.transaction(fn).immediate();
  } catch (error) {
    // Errors of statements inside are TrackerErrors already, and glyphlab's own errors thrown by
    // `fn` (a refused delete) pass as they are; anything else came from BEGIN or COMMIT.
    if (error instanceof GlyphlabError) throw error;
    throw toTrackerError(error, store.file, 'BEGIN IMMEDIATE ... COMMIT');
  }
}

/**
 * Throws a TrackerError when `store` was opened read-only, or is damaged: before its first write,
 * a store checks the whole file with `PRAGMA quick_check` (about 3 ms per MB, once per
 * connection), since a write into a corrupt b-tree page can spread the damage to what is intact.
 */
export function assertWritable(store: TrackerStore): void {
  if (store.readonly) {
    throw new TrackerError(`experiment database ${store.file} was opened read-only; open it without { readonly: true } to record`);
  }
  if (store.checkedBeforeWrite) return;
  const problems = quickCheck(store);
  if (problems.length > 0) throw new TrackerError(`${damagedStoreMessage(store.file, quickCheckFinding(problems), readSchemaVersion(store.db))}; nothing was written to it`);
  store.checkedBeforeWrite = true;
}

/**
 * Runs `fn` with the store's busy timeout set to `busyTimeoutMs`, then restores it: a training's
 * metric writes wait only briefly for another process's lock and keep their data for a later try
 * (see `callback.ts`), while other writes wait the full timeout.
 */
export function withBusyTimeout<T>(store: TrackerStore, busyTimeoutMs: number, fn: () => T): T {
  store.db.pragma(`busy_timeout = ${Math.max(0, Math.round(busyTimeoutMs))}`);
  try {
    return fn();
  } finally {
    if (store.db.open) store.db.pragma(`busy_timeout = ${store.busyTimeoutMs}`);
  }
}
