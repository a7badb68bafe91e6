/**
 * The heartbeat thread (started by `heartbeat.ts`): refreshes `heartbeat_at` of the runs this
 * process records, on its own timers and through its own connection, so that a long synchronous
 * training step on the main thread cannot starve it, and a store locked by another process
 * delays only this thread's write.
 */
import Database from 'better-sqlite3';
import { parentPort } from 'node:worker_threads';

/** What the main thread tells the heartbeat thread. */
export type HeartbeatCommand =
  | { type: 'add'; file: string; runId: string; intervalMs: number; busyTimeoutMs: number }
  | { type: 'remove'; file: string; runId: string };

/** What the heartbeat thread tells the main thread: a store it could not open (its runs get no heartbeat from here). */
export interface HeartbeatReport {
  type: 'failed';
  file: string;
  message: string;
}

interface Connection {
  db: Database.Database;
  touch: Database.Statement;
  timers: Map<string, NodeJS.Timeout>;
}

const connections = new Map<string, Connection>();

function open(file: string, busyTimeoutMs: number): Connection | undefined {
  let connection = connections.get(file);
  if (connection) return connection;
  try {
    const db = new Database(file, { fileMustExist: true, timeout: busyTimeoutMs });
    // Only a running run beats: a run the main thread has just finished, or marked crashed on its
    // way out, must not be brought back by a beat already under way.
    const touch = db.prepare("UPDATE runs SET heartbeat_at = @now WHERE id = @runId AND status = 'running'");
    connection = { db, touch, timers: new Map() };
    connections.set(file, connection);
    return connection;
  } catch (error) {
    const report: HeartbeatReport = { type: 'failed', file, message: error instanceof Error ? error.message : String(error) };
    parentPort!.postMessage(report);
    return undefined;
  }
}

function add(command: Extract<HeartbeatCommand, { type: 'add' }>): void {
  const connection = open(command.file, command.busyTimeoutMs);
  if (!connection || connection.timers.has(command.runId)) return;
  const timer = setInterval(() => {
    try {
      connection.touch.run({ now: Date.now(), runId: command.runId });
    } catch {
      // A store busy past the timeout misses one beat; the next one, or the run's next write, refreshes it.
    }
  }, command.intervalMs);
  connection.timers.set(command.runId, timer);
}

function remove(command: Extract<HeartbeatCommand, { type: 'remove' }>): void {
  const connection = connections.get(command.file);
  const timer = connection?.timers.get(command.runId);
  if (!connection || !timer) return;
  clearInterval(timer);
  connection.timers.delete(command.runId);
  if (connection.timers.size === 0) {
    connection.db.close();
    connections.delete(command.file);
  }
}

parentPort!.on('message', (command: HeartbeatCommand) => {
  if (command.type === 'add') add(command);
  else remove(command);
});
