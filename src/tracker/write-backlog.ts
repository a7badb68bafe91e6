/**
 * The writes of a training that a busy store has not taken yet. Another process can hold the
 * store's write lock for minutes (a DB browser, a `sqlite3` shell with an open transaction): a
 * training must neither wait that long at each write nor die of "database is locked". Its writes
 * queue here in order (metric points, artifacts, the run's end); each try waits only briefly for
 * the lock, a failed one is tried again after a growing pause (on a timer, or at the next event),
 * and the queue is written as soon as the lock clears. At the end of training {@link
 * WriteBacklog.drain} waits patiently, and gives up only once the store has stayed locked for
 * `giveUpAfterMs` in a row. Failures other than a lock (a deleted run, a full disk) are thrown
 * as before.
 */
import { errorMessage } from '../errors';
import type { MetricMode, RunStatus } from './schema';
import { isBusyError } from './sqlite-errors';
import { type TrackerStore, withBusyTimeout } from './store';
import { type ArtifactInput, type MetricPointInput, finishRun, logMetricPoints, recordArtifact } from './record';

/** One write waiting in a {@link WriteBacklog}. */
export type BacklogWrite =
  | { kind: 'points'; points: MetricPointInput[] }
  | { kind: 'artifact'; artifact: ArtifactInput }
  | { kind: 'finish'; status: Exclude<RunStatus, 'running' | 'crashed'>; error: string | null; stopReason?: string };

/** Options of {@link WriteBacklog}. */
export interface WriteBacklogOptions {
  /**
   * How long one try waits for another process's write lock before its writes wait for a later
   * try. Other glyphlab writers hold the lock for milliseconds. Defaults to 250 ms.
   */
  waitMs?: number;
  /** The pause after a first failed try; it doubles after each further failure, up to 15 s. Defaults to 1000 ms. */
  retryMs?: number;
  /** How long the store may stay locked, in a row, before the end of training stops waiting for it. Defaults to 600,000 ms (10 minutes). */
  giveUpAfterMs?: number;
  /**
   * Most metric points kept while the store is locked (each costs about 200 bytes); beyond,
   * the oldest batch points are dropped and counted (see {@link WriteBacklog.lostPoints}), never
   * epoch, test or validation points. Defaults to 200,000.
   */
  maxPoints?: number;
  /** Whether larger or smaller is better, by metric key. Defaults to a guess from the key. */
  modes?: Record<string, MetricMode>;
}

/** The longest pause between two tries. */
const MAX_RETRY_MS = 15_000;

/** The writes of run `runId` that `store` has not taken yet, in order. */
export class WriteBacklog {
  private readonly writes: BacklogWrite[] = [];
  private points = 0;
  /** When the store first refused a try of the current run of refusals. */
  private lockedSince: number | undefined;
  private failures = 0;
  private nextTryAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private dropped: { count: number; firstStep: number; lastStep: number } | undefined;
  private readonly waitMs: number;
  private readonly retryMs: number;
  readonly giveUpAfterMs: number;
  private readonly maxPoints: number;

  constructor(
    private readonly store: TrackerStore,
    private readonly runId: string,
    private readonly options: WriteBacklogOptions = {},
  ) {
    this.waitMs = options.waitMs ?? 250;
    this.retryMs = options.retryMs ?? 1000;
    this.giveUpAfterMs = options.giveUpAfterMs ?? 600_000;
    this.maxPoints = options.maxPoints ?? 200_000;
  }

  /** The writes still waiting, oldest first. */
  get pending(): readonly BacklogWrite[] {
    return this.writes;
  }

  /** Milliseconds the store has been refusing writes, in a row; 0 when it is not. */
  lockedForMs(now: number = Date.now()): number {
    return this.lockedSince === undefined ? 0 : now - this.lockedSince;
  }

  /** Queues `write` after the others (points after points join them: one transaction). */
  add(write: BacklogWrite): void {
    const last = this.writes[this.writes.length - 1];
    if (write.kind === 'points' && last?.kind === 'points') last.points.push(...write.points);
    else this.writes.push(write.kind === 'points' ? { kind: 'points', points: [...write.points] } : write);
    if (write.kind === 'points') {
      this.points += write.points.length;
      if (this.points > this.maxPoints) this.dropOldestBatchPoints();
    }
  }

  /**
   * Writes what is queued, unless the store refused a try moments ago (then the writes wait for
   * the retry that is due). Returns whether nothing is left. Waits at most `waitMs` for a lock.
   */
  write(now: number = Date.now()): boolean {
    if (this.writes.length === 0) return true;
    if (now < this.nextTryAt) return false;
    return this.tryWrite(this.waitMs);
  }

  /** Writes what is queued now, even moments after a refusal (the exit hook's last chance). Returns whether nothing is left. */
  writeNow(): boolean {
    return this.tryWrite(this.waitMs);
  }

  /**
   * Writes everything queued, waiting for a locked store until it has been locked for
   * `giveUpAfterMs` in a row; a last try then waits the store's own busy timeout. Returns
   * whether everything was written (false: the writes are still {@link pending}).
   */
  async drain(): Promise<boolean> {
    this.stopTimer();
    let warned = false;
    for (;;) {
      if (this.tryWrite(this.waitMs)) return true;
      const left = this.giveUpAfterMs - this.lockedForMs();
      if (left <= 0) return this.tryWrite(this.store.busyTimeoutMs);
      if (!warned) {
        warned = true;
        this.store.warn(
          `training has ended; waiting up to ${Math.ceil(left / 1000)} s for ${this.store.file} to be unlocked, to record run ${this.runId}'s last writes and its end`,
        );
      }
      this.stopTimer();
      await new Promise((resolve) => setTimeout(resolve, Math.min(this.nextTryAt - Date.now(), left)));
    }
  }

  /** What was dropped to keep memory bounded, for the run's record; undefined when nothing was. */
  lostPoints(): string | undefined {
    if (!this.dropped) return undefined;
    const { count, firstStep, lastStep } = this.dropped;
    return (
      `${count} batch metric points (steps ${firstStep}-${lastStep}) were not recorded: the store was locked by another process ` +
      `for longer than ${this.maxPoints} points could wait`
    );
  }

  /** Stops the retry timer; the writes stay queued. */
  dispose(): void {
    this.stopTimer();
  }

  private tryWrite(waitMs: number): boolean {
    while (this.writes.length > 0) {
      const write = this.writes[0]!;
      try {
        withBusyTimeout(this.store, waitMs, () => this.apply(write));
      } catch (error) {
        if (!isBusyError(error)) throw error;
        this.refused(error);
        return false;
      }
      this.writes.shift();
      if (write.kind === 'points') this.points -= write.points.length;
    }
    if (this.lockedSince !== undefined) {
      this.store.warn(`${this.store.file} took run ${this.runId}'s writes again after ${Math.round(this.lockedForMs() / 1000)} s locked`);
    }
    this.lockedSince = undefined;
    this.failures = 0;
    this.nextTryAt = 0;
    this.stopTimer();
    return true;
  }

  private apply(write: BacklogWrite): void {
    if (write.kind === 'points') logMetricPoints(this.store, this.runId, write.points, this.options.modes);
    else if (write.kind === 'artifact') recordArtifact(this.store, this.runId, write.artifact);
    else finishRun(this.store, this.runId, write.status, { error: write.error ?? undefined, stopReason: write.stopReason });
  }

  /** A try found the store locked: note since when, and plan the next try. */
  private refused(error: unknown): void {
    const now = Date.now();
    if (this.lockedSince === undefined) {
      this.lockedSince = now;
      const cause = (error as { cause?: unknown }).cause;
      const detail = cause instanceof Error ? cause.message : errorMessage(error);
      this.store.warn(
        `${this.store.file} is locked by another process (${detail}; ${findLockHolder(this.store)}); ` +
          `training goes on, and run ${this.runId}'s writes wait in memory until the lock clears (at the end of training, up to ${Math.round(this.giveUpAfterMs / 1000)} s)`,
      );
    }
    const delay = Math.min(this.retryMs * 2 ** this.failures, MAX_RETRY_MS);
    this.failures++;
    this.nextTryAt = now + delay;
    this.stopTimer();
    // Also try without waiting for the next event: an epoch can take minutes.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      try {
        this.tryWrite(this.waitMs);
      } catch {
        // Not a lock: the next event's try meets the same failure and reports it to the training.
      }
    }, delay);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Drops the oldest batch points until a tenth of `maxPoints` is free again (dropping one at a time would cost O(n) per point). */
  private dropOldestBatchPoints(): void {
    const firstDrop = this.dropped === undefined;
    const target = Math.floor(this.maxPoints * 0.9);
    for (const write of this.writes) {
      if (this.points <= target) break;
      if (write.kind !== 'points') continue;
      const kept: MetricPointInput[] = [];
      for (const point of write.points) {
        if (this.points > target && (point.context ?? '') === 'batch') {
          this.points--;
          this.dropped = this.dropped
            ? { count: this.dropped.count + 1, firstStep: Math.min(this.dropped.firstStep, point.step), lastStep: Math.max(this.dropped.lastStep, point.step) }
            : { count: 1, firstStep: point.step, lastStep: point.step };
        } else kept.push(point);
      }
      write.points = kept;
    }
    if (firstDrop && this.dropped) {
      this.store.warn(`run ${this.runId}: ${this.lostPoints()}; the oldest are dropped as more come`);
    }
  }
}

/**
 * `fn()` (one write), tried again while another process holds the store's lock, with growing
 * pauses that leave the event loop free, until it has been locked for `giveUpAfterMs`; then the
 * lock's TrackerError is thrown. For the writes that come before anything is trained (starting
 * or resuming a run), which can wait. `doing` says what waits, e.g. `'start the run'`.
 */
export async function whileLocked<T>(store: TrackerStore, doing: string, options: Pick<WriteBacklogOptions, 'waitMs' | 'giveUpAfterMs'>, fn: () => T): Promise<T> {
  const giveUpAfterMs = options.giveUpAfterMs ?? 600_000;
  const since = Date.now();
  let pause = 1000;
  for (let attempt = 0; ; attempt++) {
    try {
      return withBusyTimeout(store, options.waitMs ?? 250, fn);
    } catch (error) {
      const left = giveUpAfterMs - (Date.now() - since);
      if (!isBusyError(error) || left <= 0) throw error;
      if (attempt === 0) store.warn(`${store.file} is locked by another process (${findLockHolder(store)}); waiting up to ${Math.round(left / 1000)} s to ${doing}`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)));
      pause = Math.min(pause * 2, MAX_RETRY_MS);
    }
  }
}

/** How to find who holds the store's lock: the processes with the file open, or the server's view of its sessions. */
function findLockHolder(store: TrackerStore): string {
  return store.db.kind === 'postgres' ? 'pg_stat_activity on the server shows who holds it' : `find it with \`fuser ${store.file}\``;
}
