/**
 * Live updates of `glyphlab ui`: the server watches the store and tells every open page, by
 * server-sent events, which runs changed. The watch is cheap when nothing happens: each tick reads
 * only the store's data version (see `storeDataVersion`), and only when another process committed
 * (a training writing its points, a heartbeat) are the runs listed again and compared with the
 * last listing; pages then fetch only what they show.
 */
import type { ServerResponse } from 'node:http';
import { type RunRecord, listRuns } from '../tracker/query';
import { type TrackerStore, storeDataVersion } from '../tracker/store';

/** What changed in the store since the last event. */
export interface StoreChange {
  /** Runs whose row changed: new, deleted, a new status, heartbeat or metric value. */
  runs: string[];
  /** Runs that recorded new metric points: their curves grew. */
  points: string[];
}

/** Options of {@link watchStore}. */
export interface WatchStoreOptions {
  /** How often the data version is read. Defaults to 1000 ms. */
  pollMs?: number;
  /** Called with each change. */
  onChange: (change: StoreChange) => void;
  /**
   * Called when reading the store fails: once for each new failure, not at every tick while it
   * lasts (it is tried again at each tick). Defaults to ignoring it.
   */
  onError?: (error: unknown) => void;
}

/** A running watch of the store; {@link StoreWatch.stop} ends it. */
export interface StoreWatch {
  stop(): void;
  /** How many times the runs were listed: only after the data version moved. */
  readonly listings: number;
}

/** What identifies a run's state: a change in `row` redraws its row, a change in `points` its curves. */
interface RunState {
  row: string;
  points: string;
}

function runState(run: RunRecord): RunState {
  const points = Object.keys(run.metrics)
    .sort()
    .map((key) => `${key}:${run.metrics[key]?.count}`)
    .join(',');
  return { row: `${run.status}|${run.heartbeatAt}|${run.endedAt}|${run.name}|${run.note}|${run.tags.join(' ')}|${points}`, points };
}

function snapshot(store: TrackerStore): Map<string, RunState> {
  return new Map(listRuns(store).map((run) => [run.id, runState(run)]));
}

/** The runs that differ between two snapshots. */
export function diffSnapshots(before: ReadonlyMap<string, RunState>, after: ReadonlyMap<string, RunState>): StoreChange {
  const runs: string[] = [];
  const points: string[] = [];
  for (const [id, state] of after) {
    const old = before.get(id);
    if (old?.row !== state.row) runs.push(id);
    if (old?.points !== state.points) points.push(id);
  }
  for (const id of before.keys()) if (!after.has(id)) runs.push(id);
  return { runs, points };
}

/**
 * Watches `store` every `pollMs` and calls `onChange` with the runs that changed. Each tick costs
 * one `PRAGMA data_version` when no other process wrote.
 *
 * @example
 * const watch = watchStore(store, { onChange: (change) => hub.broadcast('change', change) });
 * ... watch.stop();
 */
export function watchStore(store: TrackerStore, options: WatchStoreOptions): StoreWatch {
  const pollMs = options.pollMs ?? 1000;
  let version = storeDataVersion(store);
  let listings = 1;
  let last = snapshot(store);
  let failure: string | undefined;
  const tick = (): void => {
    try {
      const now = storeDataVersion(store);
      failure = undefined;
      if (now === version) return;
      listings++;
      const next = snapshot(store);
      // Only once the runs were read: a failed listing is tried again at the next tick.
      version = now;
      const change = diffSnapshots(last, next);
      last = next;
      if (change.runs.length > 0 || change.points.length > 0) options.onChange(change);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message !== failure) options.onError?.(error);
      failure = message;
    }
  };
  const timer = setInterval(tick, pollMs);
  // A watch alone keeps no process alive: the server does.
  timer.unref();
  return {
    stop: () => clearInterval(timer),
    get listings() {
      return listings;
    },
  };
}

/** Options of {@link EventHub}. */
export interface EventHubOptions {
  /** How often an idle stream gets a comment line, so that proxies keep it open. Defaults to 15000 ms. */
  keepAliveMs?: number;
  /** Called when the first page connects. */
  onFirst?: () => void;
  /** Called when the last page disconnects. */
  onLast?: () => void;
}

/** The pages listening to server-sent events, and what is sent to them. */
export class EventHub {
  private readonly clients = new Set<ServerResponse>();
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(private readonly options: EventHubOptions = {}) {}

  /** How many pages are listening. */
  get size(): number {
    return this.clients.size;
  }

  /** Turns `response` into an event stream and keeps it until the page goes. */
  add(response: ServerResponse): void {
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    // The browser retries a lost stream after this many ms (a restarted server, a busy machine).
    response.write('retry: 2000\n\n');
    this.clients.add(response);
    response.on('close', () => this.remove(response));
    if (this.clients.size === 1) {
      this.options.onFirst?.();
      this.keepAlive = setInterval(() => this.comment('keep-alive'), this.options.keepAliveMs ?? 15_000);
      this.keepAlive.unref();
    }
  }

  private remove(response: ServerResponse): void {
    if (!this.clients.delete(response)) return;
    if (this.clients.size === 0) {
      clearInterval(this.keepAlive);
      this.options.onLast?.();
    }
  }

  /** Sends event `name` with `data` (as JSON) to every page. */
  broadcast(name: string, data: unknown): void {
    const text = `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const client of this.clients) client.write(text);
  }

  private comment(text: string): void {
    for (const client of this.clients) client.write(`: ${text}\n\n`);
  }

  /** Ends every stream. */
  close(): void {
    for (const client of [...this.clients]) {
      client.end();
      this.remove(client);
    }
  }
}
