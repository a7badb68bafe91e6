/**
 * The experiment store's connection: a SQLite file (`sqlite-driver.ts`) or a PostgreSQL database
 * (`postgres-driver.ts`), opened and closed here behind one synchronous interface, with the
 * helpers every read and write goes through. Statements are prepared once (named parameters)
 * and cached per connection; multi-row writes run in one transaction; every driver error
 * becomes a {@link TrackerError} naming the store (a URL's password shown as `***`), with the SQL
 * and parameters. The writes that record a run are in `record.ts`, the reads in `query.ts`.
 */
import { dirname, resolve } from 'node:path';
import { GlyphlabError, TrackerError } from '../errors';
import { databasePath, experimentsDir } from '../util/paths';
import { isPostgresUrl, redactUrl } from '../util/store-target';
import type { DriverStatement, RunResult, StoreDriver } from './driver';
import { assertGlyphlabStore, assertKnownVersion, migrate, readSchemaVersion } from './migrations';
import { stopHeartbeat } from './heartbeat';
import { openPostgresDriver } from './postgres-driver';
import { openSqliteDriver } from './sqlite-driver';
import { damagedStoreMessage, toTrackerError } from './sqlite-errors';

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /**
   * Open without writing anything: no file or folder created, no migrations, no crash marking
   * (runs whose process is gone still read as crashed). For commands that only read; on
   * PostgreSQL a role that may only SELECT is enough. Defaults to false.
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

/** An open experiment store. Create with {@link openStore}; release with {@link closeStore}. */
export class TrackerStore {
  /** The runs whose heartbeat this store keeps (see `heartbeat.ts`). */
  readonly heartbeats = new Set<string>();
  /** Next default step of each run, for `logMetrics` calls that give none. */
  readonly nextStep = new Map<string, number>();
  /** Runs this process started or resumed on this connection and has not finished yet. */
  readonly recording = new Set<string>();
  /** Whether the store's sanity check (SQLite's `PRAGMA quick_check`) passed before its first write (see {@link assertWritable}). */
  checkedBeforeWrite = false;
  /** Where the store is, password included: never shown (see {@link connectionTarget}). */
  readonly #target: string;

  constructor(
    /**
     * Where the store is, for messages: the absolute path of a SQLite file, or a PostgreSQL URL
     * with its password shown as `***`.
     */
    readonly file: string,
    /** The connection; internal to `src/tracker/`. */
    readonly db: StoreDriver,
    readonly readonly: boolean,
    readonly staleAfterMs: number,
    readonly heartbeatMs: number,
    /** How long a write waits for another process's lock before failing. */
    readonly busyTimeoutMs: number = 10_000,
    /** Where warnings go (see {@link OpenStoreOptions.onWarning}). */
    readonly warn: (message: string) => void = warnOnStderr,
    /** Where the store is, as it was opened (a URL with its password); defaults to `file`. */
    target: string = file,
  ) {
    this.#target = target;
  }

  /**
   * The folder that artifact paths recorded inside it are stored relative to: the SQLite file's
   * folder, or for a store on a server, the experiments folder (`GLYPHLAB_EXPERIMENTS_DIR`).
   */
  get baseDir(): string {
    return this.db.kind === 'postgres' ? experimentsDir() : dirname(this.file);
  }

  /** Where the store is as opened, password included: for opening another connection to it (the heartbeat thread), never for a message. */
  connectionTarget(): string {
    return this.#target;
  }

  /** The statement for `sql` on this store's connection, e.g. for tests (`store.statement(sql).run(...)`). */
  statement(sql: string): DriverStatement {
    return this.db.prepare(sql);
  }

  /** Closes the store and stops this process's heartbeat timers. */
  close(): void {
    closeStore(this);
  }
}

/**
 * Opens (creating when needed) the experiment store and migrates its schema: a SQLite file (WAL
 * mode), or a PostgreSQL database named by a `postgres://` or `postgresql://` URL (its password,
 * else `PGPASSWORD`, else `~/.pgpass`; `sslmode` as psql reads it). With `readonly`, nothing is
 * created, migrated or written: a missing file is an error naming it, and a read-only file, or a
 * database role that may only SELECT, can be read. Read-only, locked, corrupt and newer-schema
 * stores, and databases that are not glyphlab stores, get a TrackerError that names the store and
 * says what to do, and are left untouched; no store is ever reset.
 *
 * @example
 * const store = openStore();             // experiments/glyphlab.db, or GLYPHLAB_DB
 * const team = openStore('postgres://ana@db.lab/glyphlab', { readonly: true });
 * const runs = listRuns(store, { where: 'metrics.val_accuracy > 0.99' });
 */
export function openStore(file: string = databasePath(), options: OpenStoreOptions = {}): TrackerStore {
  const readonly = options.readonly ?? false;
  const busyTimeoutMs = options.busyTimeoutMs ?? 10_000;
  const staleAfterMs = options.staleAfterMs ?? 30_000;
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  const postgres = isPostgresUrl(file);
  const target = postgres ? file.trim() : resolve(file);
  const shown = postgres ? redactUrl(target) : target;
  const beforeWrites = (driver: StoreDriver): void => {
    assertKnownVersion(readSchemaVersion(driver), shown);
    assertGlyphlabStore(driver, shown, readonly);
  };
  let db: StoreDriver;
  try {
    db = postgres ? openPostgresDriver(target, { readonly, busyTimeoutMs, beforeWrites }) : openSqliteDriver(target, { readonly, busyTimeoutMs, beforeWrites });
  } catch (error) {
    throw toTrackerError(error, shown);
  }
  if (!readonly) {
    try {
      migrate(db, shown);
    } catch (error) {
      db.close();
      throw error;
    }
  }
  const store = new TrackerStore(shown, db, readonly, staleAfterMs, heartbeatMs, busyTimeoutMs, options.onWarning ?? warnOnStderr, target);
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
      store.warn(`${damagedMessage(store, problems)}; what can still be read is shown, and writes to it are refused`);
      return;
    }
  }
}

/** What a store whose check found `problems` is told, with how to recover it. */
function damagedMessage(store: TrackerStore, problems: readonly string[]): string {
  if (store.db.kind === 'postgres') {
    return `experiment store ${store.file} failed its check (${problems.slice(0, 2).join('; ')}); restore the store's tables from a backup (pg_dump), or check the role's rights on them`;
  }
  // SQLite reports many problems as one row of lines, under a '*** in database main ***' line.
  const lines = problems.flatMap((problem) => problem.split('\n')).filter((line) => line.trim() !== '' && !/^\*\*\* in database/.test(line));
  const finding = `PRAGMA quick_check: ${lines.slice(0, 2).join('; ')}${lines.length > 2 ? `; ... (${lines.length} problems)` : ''}`;
  return damagedStoreMessage(store.file, finding, readSchemaVersion(store.db));
}

/**
 * The problems the store's sanity check finds in `table` (every table when omitted); empty when
 * sound. SQLite: `PRAGMA quick_check`. PostgreSQL keeps its pages sound itself: there, that the
 * store's tables are present and readable.
 */
export function quickCheck(store: TrackerStore, table?: string): string[] {
  try {
    return store.db.check(table);
  } catch (error) {
    throw toTrackerError(error, store.file, table === undefined ? 'PRAGMA quick_check' : `PRAGMA quick_check(${table})`);
  }
}

/** Stops this store's heartbeats and closes the connection. Safe to call twice. */
export function closeStore(store: TrackerStore): void {
  for (const runId of [...store.heartbeats]) stopHeartbeat(store, runId);
  if (store.db.open) store.db.close();
}

/**
 * A number that changes whenever another connection commits to the store (SQLite's `PRAGMA
 * data_version`; this connection's own writes leave it as it is; on PostgreSQL it may also move
 * for commits elsewhere on the server). Reading it costs no table read, so a viewer can poll it
 * often and read the runs again only when it moved.
 *
 * @example
 * const seen = storeDataVersion(store); ... if (storeDataVersion(store) !== seen) listRuns(store);
 */
export function storeDataVersion(store: TrackerStore): number {
  try {
    return store.db.dataVersion();
  } catch (error) {
    throw toTrackerError(error, store.file, 'PRAGMA data_version');
  }
}

/** Runs `sql` with named `params`; errors become TrackerErrors naming the store. */
export function execute(store: TrackerStore, sql: string, params: Record<string, unknown> = {}): RunResult {
  try {
    return store.db.run(sql, params);
  } catch (error) {
    throw toTrackerError(error, store.file, sql, params);
  }
}

/** Runs `sql` once for each of `rows` (named parameters) in one call: the bulk path of metric points. */
export function executeMany(store: TrackerStore, sql: string, rows: readonly Record<string, unknown>[]): void {
  try {
    store.db.runMany(sql, rows);
  } catch (error) {
    throw toTrackerError(error, store.file, sql, rows.length === 1 ? rows[0] : `${rows.length} rows`);
  }
}

/** All rows of `sql` with named `params`. */
export function selectAll<T>(store: TrackerStore, sql: string, params: Record<string, unknown> = {}): T[] {
  try {
    return store.db.all<T>(sql, params);
  } catch (error) {
    throw toTrackerError(error, store.file, sql, params);
  }
}

/** All rows of `sql` as arrays (no per-row objects: several times faster for large reads). */
export function selectRaw(store: TrackerStore, sql: string, params: Record<string, unknown> = {}): unknown[][] {
  try {
    return store.db.raw(sql, params);
  } catch (error) {
    throw toTrackerError(error, store.file, sql, params);
  }
}

/** The one column of every row of `sql`, as a plain array (no row objects). */
export function selectColumn(store: TrackerStore, sql: string, params: Record<string, unknown> = {}): unknown[] {
  try {
    return store.db.column(sql, params);
  } catch (error) {
    throw toTrackerError(error, store.file, sql, params);
  }
}

/** The first row of `sql` with named `params`, or undefined. */
export function selectOne<T>(store: TrackerStore, sql: string, params: Record<string, unknown> = {}): T | undefined {
  try {
    return store.db.get<T>(sql, params);
  } catch (error) {
    throw toTrackerError(error, store.file, sql, params);
  }
}

/**
 * Runs `fn` in one write transaction (SQLite's `BEGIN IMMEDIATE`, so a busy database waits rather
 * than deadlocks; a plain `BEGIN` on PostgreSQL, whose row locks let writers of different runs go
 * on side by side).
 */
export function inTransaction<T>(store: TrackerStore, fn: () => T): T {
  assertWritable(store);
  return runTransaction(store, fn, 'write');
}

/** Runs `fn` in one read transaction: every statement in it sees the same snapshot of the store. */
export function inReadTransaction<T>(store: TrackerStore, fn: () => T): T {
  return runTransaction(store, fn, 'read');
}

function runTransaction<T>(store: TrackerStore, fn: () => T, mode: 'write' | 'read'): T {
  try {
    return store.db.transaction(fn, mode);
  } catch (error) {
    // Errors of statements inside are TrackerErrors already, and glyphlab's own errors thrown by
    // `fn` (a refused delete) pass as they are; anything else came from BEGIN or COMMIT.
    if (error instanceof GlyphlabError) throw error;
    throw toTrackerError(error, store.file, mode === 'write' ? 'BEGIN IMMEDIATE ... COMMIT' : 'BEGIN ... COMMIT');
  }
}

/**
 * Throws a TrackerError when `store` was opened read-only, or is damaged: before its first write,
 * a store runs its sanity check (SQLite: `PRAGMA quick_check` of the whole file, about 3 ms per
 * MB, once per connection), since a write into a corrupt b-tree page can spread the damage to
 * what is intact.
 */
export function assertWritable(store: TrackerStore): void {
  if (store.readonly) {
    throw new TrackerError(`experiment database ${store.file} was opened read-only; open it without { readonly: true } to record`);
  }
  if (store.checkedBeforeWrite) return;
  const problems = quickCheck(store);
  if (problems.length > 0) throw new TrackerError(`${damagedMessage(store, problems)}; nothing was written to it`);
  store.checkedBeforeWrite = true;
}

/**
 * Runs `fn` with the store's busy timeout (PostgreSQL: `lock_timeout`) set to `busyTimeoutMs`,
 * then restores it: a training's metric writes wait only briefly for another process's lock and
 * keep their data for a later try (see `callback.ts`), while other writes wait the full timeout.
 */
export function withBusyTimeout<T>(store: TrackerStore, busyTimeoutMs: number, fn: () => T): T {
  store.db.setBusyTimeout(busyTimeoutMs);
  try {
    return fn();
  } finally {
    if (store.db.open) store.db.setBusyTimeout(store.busyTimeoutMs);
  }
}
