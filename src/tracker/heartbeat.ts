/**
 * Heartbeats of the runs this process records. They come from one worker thread
 * (`heartbeat-worker.ts`) with its own connection: a timer on the main thread fired only between
 * training steps, so a long synchronous step left gaps as long as the reader's stale threshold,
 * and a healthy run could be taken for a dead one. The thread is unref'd (it never keeps the
 * process alive), stops beating for a run when that run ends, and ends itself shortly after the
 * last run stops, or with the process. On PostgreSQL the thread keeps a connection of its own per
 * store, as it keeps a SQLite connection per file.
 */
import type { Worker } from 'node:worker_threads';
import { startScriptWorker } from '../util/script-worker';
import { postgresEnv } from '../util/store-target';
import type { HeartbeatCommand, HeartbeatReport } from './heartbeat-worker';

/**
 * What heartbeats need of a store: a `TrackerStore`, described here rather than imported, since
 * `store.ts` imports this module to stop a store's heartbeats when it closes.
 */
export interface BeatingStore {
  /** Where the store is, for messages (no password). */
  readonly file: string;
  /** Where the store is as opened (a URL with its password): what the thread connects to. */
  connectionTarget(): string;
  readonly heartbeatMs: number;
  readonly busyTimeoutMs: number;
  /** The runs whose heartbeat the store keeps. */
  readonly heartbeats: Set<string>;
  readonly db: { readonly open: boolean };
  warn(message: string): void;
  statement(sql: string): { run(params: Record<string, unknown>): unknown };
}

/**
 * How long the thread outlives the last run it beats for: a process that records runs one after
 * another (a sweep, a bench) keeps one thread instead of starting one per run.
 */
const IDLE_THREAD_MS = 1000;

/** Runs beating now, as `file\u0000runId`, with the store that started each. */
const beating = new Map<string, BeatingStore>();
let thread: Worker | undefined;
let idleTimer: NodeJS.Timeout | undefined;
/** Main-thread timers of the runs whose thread failed (see {@link onThreadFailed}). */
const fallbackTimers = new Map<string, NodeJS.Timeout>();

const keyOf = (store: BeatingStore, runId: string): string => `${store.file}\u0000${runId}`;

/**
 * Refreshes run `runId`'s heartbeat every `store.heartbeatMs` until {@link stopHeartbeat} (or
 * `closeStore`) is called for it.
 */
export function startHeartbeat(store: BeatingStore, runId: string): void {
  const key = keyOf(store, runId);
  if (beating.has(key)) return;
  beating.set(key, store);
  store.heartbeats.add(runId);
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = undefined;
  // A beat waits for another writer's lock at most one interval: the next beat is due then anyway.
  send({ type: 'add', file: store.file, target: store.connectionTarget(), runId, intervalMs: store.heartbeatMs, busyTimeoutMs: Math.min(store.heartbeatMs, store.busyTimeoutMs), env: postgresEnv() }, store);
}

/** Stops refreshing run `runId`'s heartbeat. Safe to call for a run that has none. */
export function stopHeartbeat(store: BeatingStore, runId: string): void {
  const key = keyOf(store, runId);
  store.heartbeats.delete(runId);
  if (beating.get(key) !== store) return;
  beating.delete(key);
  const fallback = fallbackTimers.get(key);
  if (fallback) clearInterval(fallback);
  fallbackTimers.delete(key);
  thread?.postMessage({ type: 'remove', file: store.file, runId } satisfies HeartbeatCommand);
  if (beating.size === 0 && thread) {
    idleTimer = setTimeout(endThread, IDLE_THREAD_MS);
    idleTimer.unref();
  }
}

/** How many runs this process keeps a heartbeat for, and whether the heartbeat thread exists. For tests. */
export function heartbeatState(): { runs: number; thread: boolean } {
  return { runs: beating.size, thread: thread !== undefined };
}

function send(command: HeartbeatCommand, store: BeatingStore): void {
  if (!thread) {
    try {
      thread = startScriptWorker(__dirname, 'heartbeat-worker', __filename);
    } catch (error) {
      onThreadFailed(store, error);
      return;
    }
    thread.on('message', (report: HeartbeatReport) => {
      const owner = [...beating.values()].find((s) => s.file === report.file);
      owner?.warn(`the heartbeat thread cannot open ${report.file} (${report.message}); its runs' heartbeat comes from their writes only`);
    });
    thread.on('error', (error) => onThreadFailed(store, error));
    // After the listeners: adding a 'message' listener refs the thread's port again.
    thread.unref();
  }
  thread.postMessage(command);
}

function endThread(): void {
  idleTimer = undefined;
  if (beating.size > 0 || !thread) return;
  const ending = thread;
  thread = undefined;
  void ending.terminate();
}

/**
 * A thread that cannot start or dies (an environment without worker threads): the runs beat from
 * main-thread timers, as before there was a thread, which a long step can delay.
 */
function onThreadFailed(store: BeatingStore, error: unknown): void {
  thread = undefined;
  store.warn(`the heartbeat thread failed (${error instanceof Error ? error.message : String(error)}); heartbeats come from the main thread, which a long training step can delay`);
  for (const [key, owner] of beating) {
    if (fallbackTimers.has(key)) continue;
    const runId = key.split('\u0000')[1]!;
    const timer = setInterval(() => {
      try {
        if (owner.db.open) owner.statement("UPDATE runs SET heartbeat_at = @now WHERE id = @runId AND status = 'running'").run({ now: Date.now(), runId });
      } catch {
        // A missed beat is harmless; the next one, or the run's next write, refreshes it.
      }
    }, owner.heartbeatMs);
    timer.unref();
    fallbackTimers.set(key, timer);
  }
}
