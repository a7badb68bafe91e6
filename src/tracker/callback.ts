/**
 * A training callback that records a run in the experiment store: params at the start, every
 * epoch's logs, batch logs when asked (buffered, one transaction per flush), test metrics,
 * artifacts and the terminal status at the end. Training knows nothing of SQLite; this class
 * implements its callback interface.
 */
import { Callback, type Logs, type TrainBeginEvent, type TrainEndEvent } from '../training/callbacks';
import { TrackerError } from '../errors';
import type { MetricMode } from './schema';
import { type TrackerStore, closeStore, openStore } from './store';
import { type MetricPointInput, addArtifact, finishRun, logMetricPoints, logMetrics, resumeRun, startRun } from './record';

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
}

/**
 * Records a training run. Pass it with the loop's other callbacks; read the id from `runId`.
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
  private readonly onExit = (): void => this.recordAbnormalEnd('crashed');
  private readonly onSignal = (signal: NodeJS.Signals): void => this.handleSignal(signal);

  constructor(readonly options: TrackerCallbackOptions = {}) {
    super();
  }

  /** The store being recorded into (after train begin). */
  get trackerStore(): TrackerStore | undefined {
    return this.store;
  }

  override async onTrainBegin(event: TrainBeginEvent): Promise<void> {
    if (this.runId) throw new TrackerError(`this TrackerCallback already records run ${this.runId}; create one callback per run`);
    this.store = this.options.store ?? openStore(this.options.dbPath);
    this.ownsStore = this.options.store === undefined;
    if (this.options.resumeRunId !== undefined) {
      resumeRun(this.store, this.options.resumeRunId);
      this.runId = this.options.resumeRunId;
      this.attach();
      return;
    }
    this.runId = startRun(this.store, {
      experiment: this.options.experiment,
      name: this.options.name ?? event.model,
      config: event.config,
      params: {
        ...this.options.params,
        model: event.model,
        epochs: event.epochs,
        ...(event.parameterCount !== undefined ? { parameter_count: event.parameterCount } : {}),
        ...(event.stepsPerEpoch !== undefined ? { steps_per_epoch: event.stepsPerEpoch } : {}),
      },
      backend: event.backend?.name,
      threads: event.backend?.threads,
      dataFingerprint: event.dataFingerprint,
      source: this.options.source,
      tags: this.options.tags,
      git: this.options.git ?? true,
    });
    this.attach();
  }

  private attach(): void {
    process.on('exit', this.onExit);
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
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
    const { store, runId } = this.active();
    this.flush();
    this.lastEpoch = epoch;
    logMetrics(store, runId, logs, { step: epoch, epoch, modes: this.options.modes });
  }

  override async onArtifact(artifact: { path: string; kind: string }): Promise<void> {
    const { store, runId } = this.active();
    await addArtifact(store, runId, artifact);
  }

  override async onTrainEnd(event: TrainEndEvent): Promise<void> {
    if (this.runId === undefined) {
      // onTrainBegin failed (e.g. a run that cannot be resumed): nothing was recorded; let its error surface.
      if (this.ownsStore && this.store) closeStore(this.store);
      return;
    }
    const { store, runId } = this.active();
    try {
      this.flush();
      if (event.testMetrics && Object.keys(event.testMetrics).length > 0) {
        logMetrics(store, runId, event.testMetrics, { step: this.lastEpoch ?? 0, epoch: this.lastEpoch, context: 'test', modes: this.options.modes });
      }
      for (const artifact of event.artifacts ?? []) await addArtifact(store, runId, artifact);
      finishRun(store, runId, event.status, { error: event.error });
    } finally {
      this.detach();
    }
  }

  /** Writes buffered batch points in one transaction. Called at every epoch end, at train end and on signals. */
  flush(): void {
    if (this.buffer.length === 0 || !this.store || !this.runId || !this.store.db.open) return;
    const points = this.buffer;
    this.buffer = [];
    this.lastFlush = Date.now();
    logMetricPoints(this.store, this.runId, points, this.options.modes);
  }

  private active(): { store: TrackerStore; runId: string } {
    if (!this.store || !this.runId) throw new TrackerError('TrackerCallback received an event before onTrainBegin; pass it to the training loop from the start');
    return { store: this.store, runId: this.runId };
  }

  /** A process ending without onTrainEnd: save what is buffered and record how it ended (synchronous: 'exit' allows nothing else). */
  private recordAbnormalEnd(status: 'crashed' | 'interrupted', error?: string): void {
    const { store, runId } = this;
    if (!store || !runId || !store.db.open) return;
    try {
      this.flush();
      if (status === 'interrupted') finishRun(store, runId, 'interrupted', { error });
      else {
        finishRun(store, runId, 'failed', { error: 'the process exited before training ended' });
        store.db.prepare("UPDATE runs SET status = 'crashed' WHERE id = ?").run(runId);
      }
    } catch {
      // The process is going away; a later reader marks the run crashed from its heartbeat.
    }
    this.detach();
  }

  private handleSignal(signal: NodeJS.Signals): void {
    // With other listeners the program handles the signal itself (and will call onTrainEnd);
    // alone, record the interruption and let the signal's default action end the process.
    this.flush();
    if (process.listenerCount(signal) > 1) return;
    this.recordAbnormalEnd('interrupted', `interrupted by ${signal}`);
    process.kill(process.pid, signal);
  }

  private detach(): void {
    process.off('exit', this.onExit);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    if (this.ownsStore && this.store) closeStore(this.store);
  }
}
