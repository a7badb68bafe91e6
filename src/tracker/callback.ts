/**
 * A training callback that records a run in the experiment store: params at the start, every
 * epoch's logs, batch logs when asked (buffered, one transaction per flush), test metrics,
 * artifacts and the terminal status at the end. Training knows nothing of SQLite; this class
 * implements its callback interface. A store locked by another process never stops the
 * training: the writes wait in memory and are written when the lock clears (`write-backlog.ts`).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { getBackendInfo, nativeKernelsParams, warnWithoutNativeKernels } from '../backend/index';
import { Callback, type Logs, type TrainBeginEvent, type TrainEndEvent } from '../training/callbacks';
import { TrackerError, errorMessage } from '../errors';
import { writeFileAtomic } from '../util/output-file';
import type { MetricMode } from './schema';
import { type TrackerStore, closeStore, openStore } from './store';
import { type MetricPointInput, checkMetricPoints, measureArtifact, resumeRun, startRun } from './record';
import { jsonSafe } from '../util/json';
import { WriteBacklog, whileLocked } from './write-backlog';

/** Options of {@link TrackerCallback}. */
export interface TrackerCallbackOptions {
  /** An open store to record into. Defaults to opening `dbPath` at train begin and closing it at the end. */
  store?: TrackerStore;
  /** Database file when no store is given. Defaults to `databasePath()` (GLYPHLAB_DB or experiments/glyphlab.db). */
  dbPath?: string;
  /** Experiment name. Defaults to `'default'`. */
  experiment?: string;
  /** Run name. Defaults to the model name of the train-begin event. */
  name?: string;
  /** The CLI command or notebook path that trains. Defaults to this process's script and arguments. */
  source?: string;
  /** Tags to attach at the start. Defaults to none. */
  tags?: string[];
  /**
   * Params recorded besides the config of the train-begin event, e.g. a model's architecture as
   * flat keys (`{ 'model.rnn': 'gru' }`: dotted keys are kept as given). Defaults to none.
   */
  params?: Record<string, unknown>;
  /** Record batch logs as `batch_<key>` metrics. Defaults to false. */
  logBatches?: boolean;
  /** Flush buffered batch points when this many are waiting. Defaults to 500. */
  batchFlushSize?: number;
  /** Flush buffered batch points when the last flush is older than this. Defaults to 2000 ms. */
  batchFlushMs?: number;
  /** Whether larger or smaller is better, by metric key. Defaults to a guess from the key (losses and error rates: min). */
  modes?: Record<string, MetricMode>;
  /** Read the git commit and dirty flag. Defaults to true. */
  git?: boolean;
  /**
   * Continue recording this (interrupted, failed or crashed) run instead of starting one: it
   * becomes running again and its metrics continue. Defaults to none (a new run).
   */
  resumeRunId?: string;
  /**
   * Record into this run, already opened in `store` (started with `startRun` or resumed with
   * `resumeRun`) before training: the train-begin event then records nothing new, and the
   * options that describe a new run (`experiment`, `name`, `params`, ...) are not read. Needs
   * `store`. Defaults to none (the run starts at train begin).
   */
  runId?: string;
  /**
   * How long one write waits for another process's write lock. Past it, the writes wait in
   * memory and are tried again after a pause, so a locked store slows training by at most this
   * much per try. Defaults to 250 ms.
   */
  writeWaitMs?: number;
  /**
   * How long the store may stay locked by another process, in a row, before the callback stops
   * waiting for it at the end of training (it never stops the training itself): what could not be
   * written is then saved to `unrecorded-writes.json` in the run's folder (the train-begin
   * event's `runDir`), and a warning says so. Starting a run waits as long. Defaults to 600,000 ms (10 minutes).
   */
  giveUpAfterMs?: number;
  /**
   * Most metric points kept in memory while the store is locked; beyond, the oldest batch points
   * are dropped, and the run's error says how many. Defaults to 200,000.
   */
  maxWaitingPoints?: number;
}

/**
 * Records a training run. Pass it with the loop's other callbacks; read the id from `runId`.
 *
 * It records on the loop's events and, should the process exit before the train-end event, in
 * a synchronous 'exit' hook (the run is marked crashed, buffered points written). It installs no
 * signal handlers: turning Ctrl-C into a clean stop is the edge's business (the CLI or a run
 * function, see `runs/signals.ts`). A process killed by a signal nobody handles runs no 'exit'
 * hook; its run reads as crashed once its heartbeat is stale.
 *
 * @example
 * const tracker = new TrackerCallback({ experiment: 'equations', logBatches: true });
 * await train(model, data, { callbacks: [tracker] });
 * console.log(getRun(store, tracker.runId!).metrics.val_accuracy);
 */
export class TrackerCallback extends Callback {
  /** The id of the run being recorded, set at train begin. */
  runId: string | undefined;
  private store: TrackerStore | undefined;
  private ownsStore = false;
  private buffer: MetricPointInput[] = [];
  private lastFlush = Date.now();
  private lastEpoch: number | undefined;
  /** The writes the store has not taken yet (all of them go through it, in order). */
  private backlog: WriteBacklog | undefined;
  /** The train-begin event's run folder, where writes that could never be recorded are saved. */
  private runDir: string | undefined;
  private readonly onExit = (): void => this.recordAbnormalEnd();

  constructor(readonly options: TrackerCallbackOptions = {}) {
    super();
    if (options.runId !== undefined && options.store === undefined) throw new TrackerError(`TrackerCallback: runId ${options.runId} needs the store it was opened in (the store option)`);
  }

  /** The store being recorded into (after train begin). */
  get trackerStore(): TrackerStore | undefined {
    return this.store;
  }

  override async onTrainBegin(event: TrainBeginEvent): Promise<void> {
    if (this.runId) throw new TrackerError(`this TrackerCallback already records run ${this.runId}; create one callback per run`);
    const store = this.options.store ?? openStore(this.options.dbPath);
    this.store = store;
    this.ownsStore = this.options.store === undefined;
    this.runDir = event.runDir;
    // Nothing has been trained yet: a locked store is waited for (patiently, the event loop free).
    const locked = { waitMs: this.options.writeWaitMs, giveUpAfterMs: this.options.giveUpAfterMs };
    if (this.options.runId !== undefined) {
      this.runId = this.options.runId;
    } else if (this.options.resumeRunId !== undefined) {
      const resumeRunId = this.options.resumeRunId;
      await whileLocked(store, `resume run ${resumeRunId}`, locked, () => resumeRun(store, resumeRunId));
      this.runId = resumeRunId;
    } else {
      if (event.backend !== undefined) warnWithoutNativeKernels(getBackendInfo());
      this.runId = await whileLocked(store, 'start the run', locked, () =>
        startRun(store, {
          experiment: this.options.experiment,
          name: this.options.name ?? event.model,
          config: event.config,
          params: {
            ...this.options.params,
            model: event.model,
            epochs: event.epochs,
            ...(event.parameterCount !== undefined ? { parameter_count: event.parameterCount } : {}),
            ...(event.stepsPerEpoch !== undefined ? { steps_per_epoch: event.stepsPerEpoch } : {}),
            // The loop's backend is initBackend's: whether glyphlab's native kernels computed it.
            ...(event.backend !== undefined ? nativeKernelsParams(getBackendInfo()) : {}),
          },
          backend: event.backend?.name,
          threads: event.backend?.threads,
          dataFingerprint: event.dataFingerprint,
          source: this.options.source,
          tags: this.options.tags,
          git: this.options.git ?? true,
        }),
      );
    }
    this.backlog = new WriteBacklog(store, this.runId, {
      waitMs: this.options.writeWaitMs,
      giveUpAfterMs: this.options.giveUpAfterMs,
      maxPoints: this.options.maxWaitingPoints,
      modes: this.options.modes,
    });
    this.attach();
  }

  private attach(): void {
    process.on('exit', this.onExit);
  }

  override async onBatchEnd(step: number, logs: Logs): Promise<void> {
    if (!this.options.logBatches || !this.runId) return;
    const wallTime = Date.now();
    for (const [key, value] of Object.entries(logs)) {
      this.buffer.push({ key: `batch_${key}`, value, step, epoch: this.lastEpoch === undefined ? 0 : this.lastEpoch + 1, context: 'batch', wallTime });
    }
    if (this.buffer.length >= (this.options.batchFlushSize ?? 500) || wallTime - this.lastFlush >= (this.options.batchFlushMs ?? 2000)) this.flush();
  }

  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    const { runId, backlog } = this.active();
    this.queueBatchPoints();
    this.lastEpoch = epoch;
    const wallTime = Date.now();
    const points = Object.entries(logs).map(([key, value]) => ({ key, value, step: epoch, epoch, wallTime }));
    checkMetricPoints(runId, points);
    backlog.add({ kind: 'points', points });
    backlog.write();
  }

  override async onArtifact(artifact: { path: string; kind: string }): Promise<void> {
    const { backlog } = this.active();
    // Measured now: a checkpoint rewritten before the write goes through is recorded as it was.
    backlog.add({ kind: 'artifact', artifact: await measureArtifact(artifact) });
    backlog.write();
  }

  override async onTrainEnd(event: TrainEndEvent): Promise<void> {
    if (this.runId === undefined) {
      // onTrainBegin failed (e.g. a run that cannot be resumed): nothing was recorded; let its error surface.
      if (this.ownsStore && this.store) closeStore(this.store);
      return;
    }
    const { store, runId, backlog } = this.active();
    try {
      this.queueBatchPoints();
      if (event.testMetrics && Object.keys(event.testMetrics).length > 0) {
        const wallTime = Date.now();
        const points = Object.entries(event.testMetrics).map(([key, value]) => ({ key, value, step: this.lastEpoch ?? 0, epoch: this.lastEpoch, context: 'test', wallTime }));
        checkMetricPoints(runId, points);
        backlog.add({ kind: 'points', points });
      }
      for (const artifact of event.artifacts ?? []) backlog.add({ kind: 'artifact', artifact: await measureArtifact(artifact) });
      const failure = event.error === undefined ? undefined : errorMessage(event.error);
      const reasons = [failure, backlog.lostPoints()].filter((reason): reason is string => reason !== undefined);
      backlog.add({ kind: 'finish', status: event.status, error: reasons.length > 0 ? reasons.join('; ') : null, stopReason: event.stopReason });
      if (!(await backlog.drain())) this.saveUnrecorded(store, runId, backlog);
    } finally {
      this.detach();
    }
  }

  /**
   * Writes buffered batch points (one transaction), unless the store is locked: then they wait
   * with the other writes for the lock to clear. Called at every epoch end and at train end.
   */
  flush(): void {
    if (!this.backlog || !this.store?.db.open) return;
    this.queueBatchPoints();
    this.backlog.write();
  }

  /** Moves the buffered batch points to the backlog, behind what waits there already. */
  private queueBatchPoints(): void {
    if (this.buffer.length === 0 || !this.backlog) return;
    const points = this.buffer;
    this.buffer = [];
    this.lastFlush = Date.now();
    this.backlog.add({ kind: 'points', points });
  }

  private active(): { store: TrackerStore; runId: string; backlog: WriteBacklog } {
    if (!this.store || !this.runId || !this.backlog) throw new TrackerError('TrackerCallback received an event before onTrainBegin; pass it to the training loop from the start');
    return { store: this.store, runId: this.runId, backlog: this.backlog };
  }

  /**
   * The store stayed locked past `giveUpAfterMs`: keep what it never took in the run's folder,
   * and say so. The run stays `running` in the store and reads as crashed once this process ends.
   */
  private saveUnrecorded(store: TrackerStore, runId: string, backlog: WriteBacklog): void {
    const pending = backlog.pending;
    const points = pending.reduce((sum, write) => sum + (write.kind === 'points' ? write.points.length : 0), 0);
    const artifacts = pending.filter((write) => write.kind === 'artifact').length;
    const what = `${points} metric points, ${artifacts} artifacts${pending.some((write) => write.kind === 'finish') ? " and the run's end" : ''}`;
    const reason = `${store.file} stayed locked by another process for ${Math.round(backlog.lockedForMs() / 1000)} s`;
    let kept = 'they are lost (the run had no folder to keep them in)';
    if (this.runDir !== undefined) {
      const file = join(this.runDir, 'unrecorded-writes.json');
      try {
        mkdirSync(this.runDir, { recursive: true });
        writeFileAtomic(file, `${JSON.stringify({ runId, database: store.file, reason, writes: pending }, jsonSafe, 2)}\n`);
        kept = `they are kept in ${file}`;
      } catch (error) {
        kept = `keeping them in ${file} failed too (${errorMessage(error)})`;
      }
    }
    store.warn(`gave up recording run ${runId}: ${reason}; its last ${what} were not recorded, and ${kept}. The run reads as crashed once this process has ended`);
  }

  /** A process ending without onTrainEnd: save what is buffered and mark the run crashed (synchronous: 'exit' allows nothing else). */
  private recordAbnormalEnd(): void {
    const { store, runId, backlog } = this;
    if (!store || !runId || !backlog || !store.db.open) return;
    try {
      this.queueBatchPoints();
      backlog.add({ kind: 'finish', status: 'failed', error: 'the process exited before training ended' });
      // One last try, however recent the last refusal: there is no later one.
      if (backlog.writeNow()) store.db.prepare("UPDATE runs SET status = 'crashed' WHERE id = ?").run(runId);
    } catch {
      // The process is going away; a later reader marks the run crashed from its heartbeat.
    }
    this.detach();
  }

  private detach(): void {
    process.off('exit', this.onExit);
    this.backlog?.dispose();
    if (this.ownsStore && this.store) closeStore(this.store);
  }
}
