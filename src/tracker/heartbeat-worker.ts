/**
 * The heartbeat thread (started by `heartbeat.ts`): refreshes `heartbeat_at` of the runs this
 * process records, on its own timers and through its own connection (a SQLite connection per
 * file, a PostgreSQL connection per server store), so that a long synchronous training step on
 * the main thread cannot starve it, and a store locked by another process delays only this
 * thread's write.
 */
import Database from 'better-sqlite3';
import { parentPort } from 'node:worker_threads';
import type { Client } from 'pg';
import { applyPostgresEnv, isPostgresUrl } from '../util/store-target';
import { connectPostgres } from './postgres-client';

/** What the main thread tells the heartbeat thread. `file` names the store in messages; `target` is what to connect to (a URL may hold a password). */
export type HeartbeatCommand =
  | { type: 'add'; file: string; target: string; runId: string; intervalMs: number; busyTimeoutMs: number; env: Record<string, string> }
  | { type: 'remove'; file: string; runId: string };

/** What the heartbeat thread tells the main thread: a store it could not open (its runs get no heartbeat from here). */
export interface HeartbeatReport {
  type: 'failed';
  file: string;
  message: string;
}

/** Only a running run beats: a run the main thread has just finished, or marked crashed on its way out, must not be brought back by a beat already under way. */
const TOUCH_SQL = "UPDATE runs SET heartbeat_at = @now WHERE id = @runId AND status = 'running'";

interface Connection {
  /** Refreshes one run's heartbeat; a failure (a store busy past the timeout) is one missed beat. */
  touch(runId: string): void;
  close(): void;
  timers: Map<string, NodeJS.Timeout>;
}

const connections = new Map<string, Connection>();

function report(file: string, error: unknown): void {
  const message: HeartbeatReport = { type: 'failed', file, message: error instanceof Error ? error.message : String(error) };
  parentPort!.postMessage(message);
}

function openSqlite(target: string, busyTimeoutMs: number): Connection {
  const db = new Database(target, { fileMustExist: true, timeout: busyTimeoutMs });
  const touch = db.prepare(TOUCH_SQL);
  return {
    touch: (runId) => {
      try {
        touch.run({ now: Date.now(), runId });
      } catch {
        // A store busy past the timeout misses one beat; the next one, or the run's next write, refreshes it.
      }
    },
    close: () => db.close(),
    timers: new Map(),
  };
}

function openPostgres(file: string, target: string, busyTimeoutMs: number): Connection {
  let client: Client | undefined;
  let closed = false;
  const inFlight = new Set<string>();
  void connectPostgres(target, { applicationName: 'glyphlab heartbeat' })
    .then(async (connected) => {
      connected.on('error', () => undefined);
      await connected.query(`SET lock_timeout = ${Math.max(0, Math.round(busyTimeoutMs))}`);
      if (closed) await connected.end();
      else client = connected;
    })
    .catch((error: unknown) => {
      // The message names the store as the main thread shows it, never with the URL's password.
      report(file, error instanceof Error ? new Error(error.message.split(target).join(file)) : error);
    });
  return {
    touch: (runId) => {
      if (!client || inFlight.has(runId)) return;
      inFlight.add(runId);
      client
        .query("UPDATE runs SET heartbeat_at = $1 WHERE id = $2 AND status = 'running'", [Date.now(), runId])
        .catch(() => undefined)
        .finally(() => inFlight.delete(runId));
    },
    close: () => {
      closed = true;
      void client?.end().catch(() => undefined);
    },
    timers: new Map(),
  };
}

function open(file: string, target: string, busyTimeoutMs: number): Connection | undefined {
  let connection = connections.get(file);
  if (connection) return connection;
  try {
    connection = isPostgresUrl(target) ? openPostgres(file, target, busyTimeoutMs) : openSqlite(target, busyTimeoutMs);
    connections.set(file, connection);
    return connection;
  } catch (error) {
    report(file, error);
    return undefined;
  }
}

function add(command: Extract<HeartbeatCommand, { type: 'add' }>): void {
  // The main thread's PG* variables (PGPASSWORD...) now: this thread's environment is a copy from its start.
  applyPostgresEnv(command.env);
  const connection = open(command.file, command.target, command.busyTimeoutMs);
  if (!connection || connection.timers.has(command.runId)) return;
  const timer = setInterval(() => connection.touch(command.runId), command.intervalMs);
  connection.timers.set(command.runId, timer);
}

function remove(command: Extract<HeartbeatCommand, { type: 'remove' }>): void {
  const connection = connections.get(command.file);
  const timer = connection?.timers.get(command.runId);
  if (!connection || !timer) return;
  clearInterval(timer);
  connection.timers.delete(command.runId);
  if (connection.timers.size === 0) {
    connection.close();
    connections.delete(command.file);
  }
}

parentPort!.on('message', (command: HeartbeatCommand) => {
  if (command.type === 'add') add(command);
  else remove(command);
});
