/**
 * The thread that owns the PostgreSQL connections of a process's stores (started once by
 * `postgres-driver.ts`): each store sends it a MessagePort and a shared flag, and gets a pg Client
 * of its own behind that port. The main thread posts one request at a time on the port and sleeps
 * on the flag (`Atomics.wait`); this thread runs the request on the port's client, posts the
 * answer, and wakes it. Errors come back as data: the main thread turns them into TrackerErrors.
 */
import { type MessagePort, parentPort } from 'node:worker_threads';
import type { Client } from 'pg';
import { applyPostgresEnv } from '../util/store-target';
import { connectPostgres } from './postgres-client';

/** What the main thread asks. */
export type PostgresRequest =
  | {
      op: 'connect';
      url: string;
      readonly: boolean;
      lockTimeoutMs: number;
      connectTimeoutMs: number;
      /** The main thread's PG* variables now (PGPASSWORD, PGPASSFILE, PGSSLMODE...): this thread's environment is a copy from when it started. */
      env: Record<string, string>;
    }
  | { op: 'query'; text: string; values: unknown[]; rowMode: 'object' | 'array'; begin?: string }
  | { op: 'many'; text: string; rows: unknown[][]; begin?: string }
  | { op: 'script'; text: string; begin?: string }
  | { op: 'close' };

/** A server or connection error, as plain data. */
export interface PostgresErrorData {
  message: string;
  /** SQLSTATE (e.g. `42501`), or a Node error code (e.g. `ECONNREFUSED`). */
  code?: string;
  detail?: string;
  hint?: string;
}

/** What this thread answers. */
export type PostgresReply = { ok: true; rows: unknown[]; rowCount: number } | { ok: false; error: PostgresErrorData };

/** How many statements each connection keeps prepared by name (re-parsed on later calls otherwise). */
const MAX_NAMED_STATEMENTS = 1000;

/** What the main thread sends to open a connection: the port its requests come on, and the flag it sleeps on. */
export interface ConnectionChannel {
  port: MessagePort;
  flag: SharedArrayBuffer;
}

/** One store's connection in this thread. */
interface Connection {
  client?: Client;
  names: Map<string, string>;
}

function statementName(connection: Connection, text: string): string | undefined {
  let name = connection.names.get(text);
  if (name === undefined && connection.names.size < MAX_NAMED_STATEMENTS) {
    name = `glyphlab_${connection.names.size}`;
    connection.names.set(text, name);
  }
  return name;
}

function errorData(error: unknown): PostgresErrorData {
  const e = error as { message?: unknown; code?: unknown; detail?: unknown; hint?: unknown; errors?: unknown[] };
  // A connection refused on every address is an AggregateError with an empty message.
  const inner = Array.isArray(e.errors) && e.errors.length > 0 ? (e.errors[0] as typeof e) : undefined;
  const message = String(e.message || inner?.message || error);
  const code = typeof e.code === 'string' ? e.code : typeof inner?.code === 'string' ? inner.code : undefined;
  return { message, code, detail: typeof e.detail === 'string' ? e.detail : undefined, hint: typeof e.hint === 'string' ? e.hint : undefined };
}

async function handle(connection: Connection, request: PostgresRequest): Promise<PostgresReply> {
  if (request.op === 'connect') {
    applyPostgresEnv(request.env);
    const client = await connectPostgres(request.url, { connectTimeoutMs: request.connectTimeoutMs });
    // A lost connection (server restart) fails the next request instead of the whole process.
    client.on('error', () => undefined);
    connection.client = client;
    await client.query(`SET lock_timeout = ${Math.max(0, Math.round(request.lockTimeoutMs))}`);
    if (request.readonly) await client.query('SET default_transaction_read_only = on');
    return { ok: true, rows: [], rowCount: 0 };
  }
  if (request.op === 'close') {
    const ending = connection.client;
    connection.client = undefined;
    await ending?.end();
    return { ok: true, rows: [], rowCount: 0 };
  }
  const client = connection.client;
  if (!client) throw Object.assign(new Error('the connection is closed'), { code: 'GLYPHLAB_CLOSED' });
  // A transaction's BEGIN comes with its first statement: one trip to this thread fewer.
  if (request.begin) await client.query(request.begin);
  if (request.op === 'script') {
    await client.query(request.text);
    return { ok: true, rows: [], rowCount: 0 };
  }
  if (request.op === 'many') {
    const name = statementName(connection, request.text);
    for (const values of request.rows) await client.query({ name, text: request.text, values });
    return { ok: true, rows: [], rowCount: request.rows.length };
  }
  const query = { name: statementName(connection, request.text), text: request.text, values: request.values };
  const result = request.rowMode === 'array' ? await client.query({ ...query, rowMode: 'array' }) : await client.query(query);
  return { ok: true, rows: result.rows as unknown[], rowCount: result.rowCount ?? 0 };
}

parentPort!.on('message', ({ port, flag }: ConnectionChannel) => {
  const connection: Connection = { names: new Map() };
  const wake = new Int32Array(flag);
  const answer = (reply: PostgresReply): void => {
    port.postMessage(reply);
    Atomics.store(wake, 0, 1);
    Atomics.notify(wake, 0);
  };
  port.on('message', (request: PostgresRequest) => {
    handle(connection, request).then(answer, (error: unknown) => answer({ ok: false, error: errorData(error) }));
  });
  // A store closed without its close request (its thread ended): its client goes too.
  port.on('close', () => void connection.client?.end().catch(() => undefined));
});
