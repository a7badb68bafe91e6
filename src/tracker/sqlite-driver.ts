/**
 * The store on a SQLite file, through better-sqlite3: WAL mode, a busy timeout, foreign keys,
 * statements prepared once and cached, `PRAGMA quick_check` as the sanity check, and read-only
 * opening that writes nothing, not even beside the file. With `postgres-driver.ts`, the only code
 * that talks to a database; this file is the only importer of better-sqlite3 besides the
 * heartbeat thread.
 */
import Database from 'better-sqlite3';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { TrackerError } from '../errors';
import type { DriverStatement, RunResult, SqlParams, StoreDriver } from './driver';
import { sqliteCode, toTrackerError } from './sqlite-errors';

/** Options of {@link openSqliteDriver}, resolved by `openStore`. */
export interface SqliteDriverOptions {
  readonly: boolean;
  busyTimeoutMs: number;
  /**
   * Called once the file is open and before anything is written to it (WAL mode is a write):
   * throws for a file that is not a glyphlab store, which is then left untouched.
   */
  beforeWrites: (driver: StoreDriver) => void;
}

type Mode = 'object' | 'raw' | 'pluck';

const toArgs = (params: SqlParams | undefined): unknown[] => (params === undefined ? [] : Array.isArray(params) ? [...params] : [params]);

/** A {@link StoreDriver} over one better-sqlite3 connection. */
export class SqliteDriver implements StoreDriver {
  readonly kind = 'sqlite' as const;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    /** The better-sqlite3 connection, for SQLite-only code (tests of the file's pragmas). */
    readonly db: Database.Database,
  ) {}

  get open(): boolean {
    return this.db.open;
  }

  get inTransaction(): boolean {
    return this.db.inTransaction;
  }

  private statement(sql: string, mode: Mode): Database.Statement {
    const key = `${mode}\u0000${sql}`;
    let stmt = this.statements.get(key);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      if (mode === 'raw') stmt.raw(true);
      if (mode === 'pluck') stmt.pluck(true);
      this.statements.set(key, stmt);
    }
    return stmt;
  }

  run(sql: string, params?: SqlParams): RunResult {
    return { changes: this.statement(sql, 'object').run(...toArgs(params)).changes };
  }

  runMany(sql: string, rows: readonly SqlParams[]): void {
    const stmt = this.statement(sql, 'object');
    for (const row of rows) stmt.run(...toArgs(row));
  }

  all<T>(sql: string, params?: SqlParams): T[] {
    return this.statement(sql, 'object').all(...toArgs(params)) as T[];
  }

  get<T>(sql: string, params?: SqlParams): T | undefined {
    return this.statement(sql, 'object').get(...toArgs(params)) as T | undefined;
  }

  raw(sql: string, params?: SqlParams): unknown[][] {
    return this.statement(sql, 'raw').all(...toArgs(params)) as unknown[][];
  }

  column(sql: string, params?: SqlParams): unknown[] {
    return this.statement(sql, 'pluck').all(...toArgs(params));
  }

  exec(script: string): void {
    this.db.exec(script);
  }

  prepare(sql: string): DriverStatement {
    const stmt = this.db.prepare(sql);
    return { run: (...params) => ({ changes: stmt.run(...params).changes }), get: (...params) => stmt.get(...params), all: (...params) => stmt.all(...params) };
  }

  transaction<T>(fn: () => T, mode: 'write' | 'read'): T {
    // IMMEDIATE takes the write lock first, so a busy database waits rather than deadlocks.
    const transaction = this.db.transaction(fn);
    return mode === 'write' ? transaction.immediate() : transaction.deferred();
  }

  schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  setSchemaVersion(version: number): void {
    this.db.pragma(`user_version = ${Math.trunc(version)}`);
  }

  tableNames(): string[] {
    return this.column("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name") as string[];
  }

  setBusyTimeout(ms: number): void {
    this.db.pragma(`busy_timeout = ${Math.max(0, Math.round(ms))}`);
  }

  dataVersion(): number {
    return this.statement('PRAGMA data_version', 'pluck').get() as number;
  }

  check(table?: string): string[] {
    const sql = table === undefined ? 'PRAGMA quick_check' : `PRAGMA quick_check(${table})`;
    let problems: string[];
    try {
      problems = this.db.prepare(sql).pluck().all() as string[];
    } catch (error) {
      // A page too damaged to walk fails the check itself.
      if (sqliteCode(error)?.startsWith('SQLITE_CORRUPT')) return [(error as Error).message];
      throw error;
    }
    return problems.length === 1 && problems[0] === 'ok' ? [] : problems;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/**
 * Opens (creating when needed, unless read-only) the SQLite file `path` (absolute) as a store's
 * connection: WAL mode and `synchronous = NORMAL` for writers, foreign keys on. Read-only, locked,
 * corrupt files and folders get a TrackerError naming the file; nothing is ever reset.
 */
export function openSqliteDriver(path: string, options: SqliteDriverOptions): SqliteDriver {
  const { readonly, busyTimeoutMs } = options;
  checkFile(path, readonly);
  let db: Database.Database;
  try {
    db = readonly ? openReadOnly(path, busyTimeoutMs) : new Database(path, { timeout: busyTimeoutMs });
  } catch (error) {
    throw toTrackerError(error, path);
  }
  const driver = new SqliteDriver(db);
  let step = 'PRAGMA user_version';
  try {
    // Reading the version and tables first also detects a file that is not a database, or not a
    // glyphlab store, before anything is written.
    options.beforeWrites(driver);
    if (!readonly) {
      step = 'PRAGMA journal_mode = WAL';
      setWalMode(db, busyTimeoutMs);
      step = 'PRAGMA synchronous = NORMAL';
      // NORMAL is safe in WAL mode: a killed process loses nothing committed, only a power cut can.
      db.pragma('synchronous = NORMAL');
    }
    step = 'PRAGMA foreign_keys = ON';
    db.pragma('foreign_keys = ON');
  } catch (error) {
    db.close();
    throw toTrackerError(error, path, step);
  }
  return driver;
}

/** Throws a TrackerError for a path that cannot be the store as asked: a folder, a read-only file to write, a missing file to read. */
function checkFile(path: string, readonly: boolean): void {
  if (!existsSync(path)) {
    if (readonly) throw new TrackerError(`experiment database ${path} does not exist; record a run first or check GLYPHLAB_DB / --db`);
    mkdirSync(dirname(path), { recursive: true });
    return;
  }
  if (statSync(path).isDirectory()) throw new TrackerError(`experiment database ${path} is a folder; give the path of a file`);
  if (readonly) return;
  try {
    accessSync(path, constants.W_OK);
    // root passes access(); a file with no write bit at all was still write-protected on purpose.
    if ((statSync(path).mode & 0o222) === 0) throw new Error('the file has no write permission bits');
  } catch (error) {
    throw new TrackerError(
      `experiment database ${path} is read-only; make it writable (chmod u+w ${path}) to record runs, ` + 'or open it with { readonly: true } to only read',
      { cause: error },
    );
  }
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
