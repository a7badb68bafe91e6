/**
 * The one interface every experiment store speaks, whatever database holds it: a SQLite file
 * (`sqlite-driver.ts`, better-sqlite3) or a PostgreSQL server (`postgres-driver.ts`, node-postgres
 * behind a worker thread). Calls are synchronous, as the store's API has always been (training
 * callbacks, notebooks and every command call it so). SQL is written once, in SQLite's spelling
 * with named `@name` parameters; a driver translates what its database spells otherwise
 * (`dialect.ts`). Errors are thrown as the driver's own (`sqliteCode`/`PostgresError`), and
 * `toTrackerError` (sqlite-errors.ts) turns either into a message naming the store.
 */

/** Which database a store is on. */
export type DriverKind = 'sqlite' | 'postgres';

/** Parameters of a statement: named (`@name` in the SQL) or positional (`?`). */
export type SqlParams = Record<string, unknown> | readonly unknown[];

/** What a write statement changed. */
export interface RunResult {
  changes: number;
}

/** A statement bound to its SQL, for code and tests that run one statement several times. */
export interface DriverStatement {
  run(...params: unknown[]): RunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

/** An open connection to a store's database. Create through `openStore`. */
export interface StoreDriver {
  readonly kind: DriverKind;
  /** Whether the connection is open (false after {@link close}). */
  readonly open: boolean;
  /** Whether a transaction is open on this connection. */
  readonly inTransaction: boolean;
  /** Runs a statement that returns no rows. */
  run(sql: string, params?: SqlParams): RunResult;
  /** Runs one statement once per parameter set, as one call (the bulk path of metric points). */
  runMany(sql: string, rows: readonly SqlParams[]): void;
  /** Every row as an object. */
  all<T>(sql: string, params?: SqlParams): T[];
  /** The first row as an object, or undefined. */
  get<T>(sql: string, params?: SqlParams): T | undefined;
  /** Every row as an array of its columns (no per-row object). */
  raw(sql: string, params?: SqlParams): unknown[][];
  /** The first column of every row, as one array. */
  column(sql: string, params?: SqlParams): unknown[];
  /** Runs several statements with no parameters (a migration's DDL). */
  exec(script: string): void;
  /** `sql` bound to this connection (positional or named parameters), e.g. for tests. */
  prepare(sql: string): DriverStatement;
  /**
   * Runs `fn` in a transaction: `write` takes the write lock first (SQLite's `BEGIN IMMEDIATE`),
   * `read` sees one snapshot for every statement. Nested calls become savepoints.
   */
  transaction<T>(fn: () => T, mode: 'write' | 'read'): T;
  /** The store's schema version (0 for an empty database). */
  schemaVersion(): number;
  /** Records the schema version (inside the migration's transaction). */
  setSchemaVersion(version: number): void;
  /** The store's table names (of the database's current schema on a server), sorted. */
  tableNames(): string[];
  /** How long a write waits for another connection's lock before failing. */
  setBusyTimeout(ms: number): void;
  /**
   * A number that changes when another connection may have committed: exact on SQLite
   * (`PRAGMA data_version`); on PostgreSQL it follows the server's transaction snapshot, so it also
   * moves for commits elsewhere on the server (a reader reads again for nothing, never misses one).
   */
  dataVersion(): number;
  /**
   * What a sanity check of the store finds wrong (empty when sound): SQLite's `PRAGMA quick_check`
   * of `table` or of the whole file; on PostgreSQL, which keeps its own pages sound, that the
   * store's tables are there and readable.
   */
  check(table?: string): string[];
  /** Closes the connection. Safe to call twice. */
  close(): void;
}
