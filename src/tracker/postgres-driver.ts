/**
 * The store on a PostgreSQL server, for a team that shares one store.
 *
 * Why a thread: the store's API is synchronous (training callbacks, notebooks and every command
 * call it so, and a SQLite file answers synchronously), while every PostgreSQL client for Node
 * is asynchronous. Rather than two APIs, the connection lives in a worker thread
 * (`postgres-worker.ts`, one per process, a connection per store): this thread posts a request
 * on the store's MessagePort, sleeps on a shared flag with `Atomics.wait`, and takes the answer
 * with `receiveMessageOnPort`. One interface, one test
 * suite, for both databases; a request costs a thread hop (tens of microseconds) besides the
 * server's round trip. Transactions are BEGIN/COMMIT/ROLLBACK on that one connection.
 *
 * Why `pg` (node-postgres): pure JavaScript (no libpq to build), the most used client, and it
 * reads `PGPASSWORD`, `PG*` variables and `sslmode` as libpq does (`postgres-client.ts` adds
 * `~/.pgpass`). `postgres` (porsager) is as capable but has no such compatibility, and a query
 * builder such as Kysely would mean rewriting every statement of the store for no gain: the
 * store's SQL stays written once, and the few spellings that differ are translated (`dialect.ts`).
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, type Worker } from 'node:worker_threads';
import { startScriptWorker } from '../util/script-worker';
import { postgresEnv } from '../util/store-target';
import type { DriverStatement, RunResult, SqlParams, StoreDriver } from './driver';
import { type PostgresSql, bindPostgresParams, multiRowInsert, toPostgresSql } from './dialect';
import { PostgresError } from './postgres-errors';
import type { ConnectionChannel, PostgresReply, PostgresRequest } from './postgres-worker';

/** Options of {@link openPostgresDriver}, resolved by `openStore`. */
export interface PostgresDriverOptions {
  readonly: boolean;
  /** How long a statement waits for another connection's lock (`lock_timeout`). */
  busyTimeoutMs: number;
  /** Fail a connection attempt after this long. Defaults to 10000 ms. */
  connectTimeoutMs?: number;
  /** As for SQLite: throws, before anything is written, for a database that is not a glyphlab store. */
  beforeWrites: (driver: StoreDriver) => void;
}

/** The one-row table that holds the schema version (SQLite keeps it in `PRAGMA user_version`). */
export const SCHEMA_VERSION_TABLE = 'glyphlab_schema';

/** Key of the advisory lock that serialises migrations between processes (any constant will do). */
const MIGRATION_LOCK = 7_305_011;

/** How long the thread may take to start and connect beyond the connect timeout (tsx compiles it on a busy machine). */
const THREAD_START_MARGIN_MS = 60_000;

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** The process's connection thread, started with its first store on a server (it holds every such store's connection). */
let thread: Worker | undefined;
/** Why the connection thread failed, for the message of a request it never answered. */
let threadError: Error | undefined;

/** The connection thread, started on first use: one per process, since starting one costs a few hundred ms. */
function connectionThread(): Worker {
  if (!thread) {
    const started = startScriptWorker(__dirname, 'postgres-worker', __filename);
    started.on('error', (error) => {
      threadError = error;
      if (thread === started) thread = undefined;
    });
    // It never keeps the process alive: a process that forgets closeStore still ends.
    started.unref();
    thread = started;
  }
  return thread;
}

/** A {@link StoreDriver} over a pg connection owned by a worker thread (see the file head). */
export class PostgresDriver implements StoreDriver {
  readonly kind = 'postgres' as const;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly port: MessagePort;
  private readonly translated = new Map<string, PostgresSql>();
  private isOpen = true;
  private depth = 0;
  /** The BEGIN of a transaction that has run no statement yet: it goes with the first one (see `transaction`). */
  private pendingBegin: string | undefined;
  private cachedVersion: number | undefined;
  private snapshot: string | undefined;
  private version = 0;

  constructor(private readonly readonlyConnection: boolean) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const channel: ConnectionChannel = { port: port2, flag: this.flag.buffer as SharedArrayBuffer };
    connectionThread().postMessage(channel, [port2]);
  }

  get open(): boolean {
    return this.isOpen;
  }

  get inTransaction(): boolean {
    return this.depth > 0;
  }

  /** Sends `request` to the connection thread and waits for its answer; a failure is thrown as a PostgresError. */
  call(request: PostgresRequest, timeoutMs = Infinity): { rows: unknown[]; rowCount: number } {
    if (!this.isOpen) throw new PostgresError('the connection is closed', 'GLYPHLAB_CLOSED');
    if (this.pendingBegin !== undefined && request.op !== 'connect' && request.op !== 'close') {
      request = { ...request, begin: this.pendingBegin };
      this.pendingBegin = undefined;
    }
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage(request);
    const deadline = Date.now() + timeoutMs;
    let reply: PostgresReply | undefined;
    for (;;) {
      Atomics.wait(this.flag, 0, 0, Math.min(1000, Math.max(0, deadline - Date.now())));
      const message = receiveMessageOnPort(this.port);
      if (message) {
        reply = message.message as PostgresReply;
        break;
      }
      if (Date.now() >= deadline) {
        throw new PostgresError(`the connection thread did not answer within ${Math.round(timeoutMs / 1000)} s${threadError ? ` (${threadError.message})` : ''}`, 'ETIMEDOUT');
      }
    }
    // `'error' in`, not `!reply.ok`: tslab's compiler options do not narrow on a boolean member.
    if ('error' in reply) throw new PostgresError(reply.error.message, reply.error.code, reply.error.detail, reply.error.hint);
    return reply;
  }

  private sql(sql: string): PostgresSql {
    let translated = this.translated.get(sql);
    if (!translated) {
      translated = toPostgresSql(sql);
      this.translated.set(sql, translated);
    }
    return translated;
  }

  private query(sql: string, params: SqlParams | undefined, rowMode: 'object' | 'array'): { rows: unknown[]; rowCount: number } {
    const translated = this.sql(sql);
    return this.call({ op: 'query', text: translated.text, values: bindPostgresParams(translated, params), rowMode });
  }

  run(sql: string, params?: SqlParams): RunResult {
    return { changes: this.query(sql, params, 'array').rowCount };
  }

  runMany(sql: string, rows: readonly SqlParams[]): void {
    const translated = this.sql(sql);
    // An INSERT of one row becomes INSERTs of a thousand: 100,000 metric points in a hundred round trips.
    const inserts = rows.length > 1 ? multiRowInsert(translated, rows) : undefined;
    if (inserts) for (const insert of inserts) this.call({ op: 'query', text: insert.text, values: insert.values, rowMode: 'array' });
    else this.call({ op: 'many', text: translated.text, rows: rows.map((row) => bindPostgresParams(translated, row)) });
  }

  all<T>(sql: string, params?: SqlParams): T[] {
    return this.query(sql, params, 'object').rows as T[];
  }

  get<T>(sql: string, params?: SqlParams): T | undefined {
    return this.query(sql, params, 'object').rows[0] as T | undefined;
  }

  raw(sql: string, params?: SqlParams): unknown[][] {
    return this.query(sql, params, 'array').rows as unknown[][];
  }

  column(sql: string, params?: SqlParams): unknown[] {
    return (this.query(sql, params, 'array').rows as unknown[][]).map((row) => row[0]);
  }

  exec(script: string): void {
    this.call({ op: 'script', text: script });
  }

  prepare(sql: string): DriverStatement {
    // One plain object is named parameters, as better-sqlite3 takes them; anything else is positional.
    const params = (args: unknown[]): SqlParams =>
      args.length === 1 && args[0] !== null && typeof args[0] === 'object' && !Array.isArray(args[0]) ? (args[0] as Record<string, unknown>) : args;
    return { run: (...args) => this.run(sql, params(args)), get: (...args) => this.get(sql, params(args)), all: (...args) => this.all(sql, params(args)) };
  }

  transaction<T>(fn: () => T, mode: 'write' | 'read'): T {
    const savepoint = this.depth > 0 ? `glyphlab_${this.depth}` : undefined;
    // A read sees one snapshot for all its statements, as a SQLite read transaction does.
    const begin = mode === 'read' ? `BEGIN ISOLATION LEVEL REPEATABLE READ${this.readonlyConnection ? ' READ ONLY' : ''}` : 'BEGIN';
    // A top-level BEGIN waits for the first statement and goes with it; a transaction that ran none sends nothing.
    if (savepoint) this.exec(`SAVEPOINT ${savepoint}`);
    else this.pendingBegin = begin;
    this.depth++;
    let result: T;
    try {
      result = fn();
    } catch (error) {
      this.depth--;
      const begun = savepoint !== undefined || this.pendingBegin === undefined;
      this.pendingBegin = undefined;
      try {
        if (begun) this.exec(savepoint ? `ROLLBACK TO SAVEPOINT ${savepoint}; RELEASE SAVEPOINT ${savepoint}` : 'ROLLBACK');
      } catch {
        // A lost connection rolls back by itself; the first error is the one to report.
      }
      throw error;
    }
    this.depth--;
    if (!savepoint && this.pendingBegin !== undefined) {
      this.pendingBegin = undefined;
      return result;
    }
    try {
      this.exec(savepoint ? `RELEASE SAVEPOINT ${savepoint}` : 'COMMIT');
    } catch (error) {
      if (!savepoint) this.cachedVersion = undefined;
      throw error;
    }
    return result;
  }

  /** Takes the lock that serialises migrations (until the transaction ends) and forgets the cached schema version. */
  lockForMigration(): void {
    this.run(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    this.cachedVersion = undefined;
  }

  schemaVersion(): number {
    if (this.cachedVersion !== undefined) return this.cachedVersion;
    const present = this.get<{ present: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = '${SCHEMA_VERSION_TABLE}') AS present`,
    );
    const version = present?.present ? Number(this.column(`SELECT version FROM ${SCHEMA_VERSION_TABLE}`)[0] ?? 0) : 0;
    // Versions only grow, and the store reads one on nearly every call: keep it once it is a store's.
    if (version > 0 && !this.inTransaction) this.cachedVersion = version;
    return version;
  }

  setSchemaVersion(version: number): void {
    this.exec(`CREATE TABLE IF NOT EXISTS ${SCHEMA_VERSION_TABLE} (version INTEGER NOT NULL); DELETE FROM ${SCHEMA_VERSION_TABLE}; INSERT INTO ${SCHEMA_VERSION_TABLE} VALUES (${Math.trunc(version)})`);
    this.cachedVersion = undefined;
  }

  tableNames(): string[] {
    return this.column(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> '${SCHEMA_VERSION_TABLE}' ORDER BY table_name`,
    ) as string[];
  }

  setBusyTimeout(ms: number): void {
    this.exec(`SET lock_timeout = ${Math.max(0, Math.round(ms))}`);
  }

  dataVersion(): number {
    // The snapshot moves whenever a write transaction starts or ends anywhere on the server.
    const snapshot = String(this.column('SELECT pg_current_snapshot()::text')[0]);
    if (snapshot !== this.snapshot) {
      this.snapshot = snapshot;
      this.version++;
    }
    return this.version;
  }

  check(table?: string): string[] {
    const present = new Set(this.tableNames());
    const problems: string[] = [];
    for (const name of table === undefined ? [...present] : [table]) {
      if (!present.has(name)) {
        problems.push(`table ${name} is missing`);
        continue;
      }
      try {
        this.column(`SELECT 1 FROM ${quoteIdent(name)} LIMIT 1`);
      } catch (error) {
        problems.push(`table ${name} cannot be read: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return problems;
  }

  close(): void {
    if (!this.isOpen) return;
    try {
      this.call({ op: 'close' }, 5000);
    } catch {
      // The server is gone or the thread hangs: ending the thread closes its socket all the same.
    }
    this.isOpen = false;
    this.port.close();
  }
}

/**
 * Connects to the PostgreSQL database of `url` (its password, PGPASSWORD or ~/.pgpass; see
 * `postgres-client.ts`) as a store's connection, read-only for every transaction when asked.
 * Throws a PostgresError (the caller names the store in its message).
 */
export function openPostgresDriver(url: string, options: PostgresDriverOptions): PostgresDriver {
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const driver = new PostgresDriver(options.readonly);
  try {
    driver.call({ op: 'connect', url, readonly: options.readonly, lockTimeoutMs: options.busyTimeoutMs, connectTimeoutMs, env: postgresEnv() }, connectTimeoutMs + THREAD_START_MARGIN_MS);
    options.beforeWrites(driver);
  } catch (error) {
    driver.close();
    throw error;
  }
  return driver;
}
