/**
 * The thread that owns a store's PostgreSQL connection (started by `postgres-driver.ts`). The
 * main thread posts one request at a time on a MessagePort and sleeps on a shared flag
 * (`Atomics.wait`); this thread runs the request on its pg Client, posts the answer, and wakes it.
 * Errors come back as data: the main thread turns them into TrackerErrors.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import type { Client } from 'pg';
import { connectPostgres } from './postgres-client';

/** What the main thread asks. */
export type PostgresRequest =
  | { op: 'connect'; url: string; readonly: boolean; lockTimeoutMs: number; connectTimeoutMs: number }
  | { op: 'query'; text: string; values: unknown[]; rowMode: 'object' | 'array' }
  | { op: 'many'; text: string; rows: unknown[][] }
  | { op: 'script'; text: string }
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

const flag = new Int32Array((workerData as { flag: SharedArrayBuffer }).flag);
let client: Client | undefined;
const names = new Map<string, string>();

function statementName(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMED_STATEMENTS) {
    name = `glyphlab_${names.size}`;
    names.set(text, name);
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

async function handle(request: PostgresRequest): Promise<PostgresReply> {
  if (request.op === 'connect') {
    client = await connectPostgres(request.url, { connectTimeoutMs: request.connectTimeoutMs });
    // A lost connection (server restart) fails the next request instead of the whole process.
    client.on('error', () => undefined);
    await client.query(`SET lock_timeout = ${Math.max(0, Math.round(request.lockTimeoutMs))}`);
    if (request.readonly) await client.query('SET default_transaction_read_only = on');
    return { ok: true, rows: [], rowCount: 0 };
  }
  if (request.op === 'close') {
    const ending = client;
    client = undefined;
    await ending?.end();
    return { ok: true, rows: [], rowCount: 0 };
  }
  if (!client) throw Object.assign(new Error('the connection is closed'), { code: 'GLYPHLAB_CLOSED' });
  if (request.op === 'script') {
    await client.query(request.text);
    return { ok: true, rows: [], rowCount: 0 };
  }
  if (request.op === 'many') {
    const name = statementName(request.text);
    for (const values of request.rows) await client.query({ name, text: request.text, values });
    return { ok: true, rows: [], rowCount: request.rows.length };
  }
  const query = { name: statementName(request.text), text: request.text, values: request.values };
  const result = request.rowMode === 'array' ? await client.query({ ...query, rowMode: 'array' }) : await client.query(query);
  return { ok: true, rows: result.rows as unknown[], rowCount: result.rowCount ?? 0 };
}

function answer(port: MessagePort, reply: PostgresReply): void {
  port.postMessage(reply);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

parentPort!.once('message', ({ port }: { port: MessagePort }) => {
  port.on('message', (request: PostgresRequest) => {
    handle(request).then(
      (reply) => answer(port, reply),
      (error: unknown) => answer(port, { ok: false, error: errorData(error) }),
    );
  });
});
