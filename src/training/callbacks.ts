/**
 * The training lifecycle shared by every loop in glyphlab. A callback overrides the hooks it
 * needs; the loop calls them through a {@link CallbackList} and checks `stopTraining` after every
 * batch and epoch. Training knows nothing of SQLite: the experiment store implements this
 * interface to record runs.
 */

/** Scalar logs of a batch or an epoch, e.g. `{ loss: 0.3, val_accuracy: 0.97, lr: 0.001 }`. */
export type Logs = Record<string, number>;

/** What a run is, sent once at the start. */
export interface TrainBeginEvent {
  /** Family and name of the model, e.g. `'crnn'`. */
  model: string;
  /** Every hyper-parameter of the run; recorded in full. */
  config: Record<string, unknown>;
  /** Trainable and total parameter counts. */
  parameterCount?: number;
  /** Compute backend and threads (from `initBackend`). */
  backend?: { name: string; threads: number };
  /** Fingerprint of the data split used, when the data came from a split manifest. */
  dataFingerprint?: string;
  /** Epochs planned. */
  epochs: number;
  /** Batches per epoch, when known. */
  stepsPerEpoch?: number;
  /** Where this run's files (checkpoints, final model) go. */
  runDir?: string;
}

/** Why and how a run ended, sent once at the end. */
export interface TrainEndEvent {
  status: 'finished' | 'failed' | 'interrupted';
  /** The error for `'failed'`. */
  error?: unknown;
  /** Final metrics on held-out data, e.g. `{ test_accuracy: 0.995, test_cer: 0.001 }`. */
  testMetrics?: Logs;
  /** Files the run produced, e.g. the final model and the best checkpoint. */
  artifacts?: { path: string; kind: string }[];
  /**
   * Why training ended before its planned epochs, in a sentence (`early stopping: val_accuracy did
   * not improve for 8 epochs (best 0.9731 at epoch 42)`, a time budget, an interrupt, a diverging
   * loss); absent when it ran them all.
   */
  stopReason?: string;
}

/** Base class with no-op hooks; override the ones you need. */
export class Callback {
  /**
   * Set by a callback to ask the loop to stop after the current batch; the loop then evaluates
   * and logs that (possibly shorter) epoch and ends as finished.
   */
  stopTraining = false;

  /** Why this callback set `stopTraining`, in a sentence for the run's record (e.g. `the time budget of 10 minutes ran out`). */
  stopReason: string | undefined = undefined;

  async onTrainBegin(_event: TrainBeginEvent): Promise<void> {}
  async onEpochBegin(_epoch: number): Promise<void> {}
  /** `step` counts batches from 0 across epochs. */
  async onBatchEnd(_step: number, _logs: Logs): Promise<void> {}
  async onEpochEnd(_epoch: number, _logs: Logs): Promise<void> {}
  /** Artifacts written during training, e.g. a new best checkpoint. */
  async onArtifact(_artifact: { path: string; kind: string }): Promise<void> {}
  async onTrainEnd(_event: TrainEndEvent): Promise<void> {}
}

/** Forwards every hook to each callback in order, and reports whether any asked to stop. */
export class CallbackList extends Callback {
  constructor(readonly callbacks: Callback[] = []) {
    super();
  }

  /** True when any callback has set `stopTraining`. */
  get shouldStop(): boolean {
    return this.stopTraining || this.callbacks.some((c) => c.stopTraining);
  }

  /** The `stopReason` of the first callback that set `stopTraining`, when it gave one. */
  get requestedStopReason(): string | undefined {
    if (this.stopTraining) return this.stopReason;
    const stopping = this.callbacks.find((c) => c.stopTraining);
    return stopping instanceof CallbackList ? stopping.requestedStopReason : stopping?.stopReason;
  }

  override async onTrainBegin(event: TrainBeginEvent): Promise<void> {
    for (const c of this.callbacks) await c.onTrainBegin(event);
  }
  override async onEpochBegin(epoch: number): Promise<void> {
    for (const c of this.callbacks) await c.onEpochBegin(epoch);
  }
  override async onBatchEnd(step: number, logs: Logs): Promise<void> {
    for (const c of this.callbacks) await c.onBatchEnd(step, logs);
  }
  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    for (const c of this.callbacks) await c.onEpochEnd(epoch, logs);
  }
  override async onArtifact(artifact: { path: string; kind: string }): Promise<void> {
    for (const c of this.callbacks) await c.onArtifact(artifact);
  }
  override async onTrainEnd(event: TrainEndEvent): Promise<void> {
    for (const c of this.callbacks) await c.onTrainEnd(event);
  }
}

/**
 * Stops training after the batch during which `minutes` of training ran out (a run that must
 * fit a time budget, like `npm start`); the loop still evaluates and logs that last, shorter
 * epoch. Its clock is the run's: it starts at the first train-begin event (a run trained in
 * phases has one budget) from the time `spentMs` an earlier session of the run already trained.
 */
export class TimeBudget extends Callback {
  private started: number | undefined;

  /**
   * @param minutes the budget; Infinity for a clock that never stops the run.
   * @param options.spentMs training time the run spent before this process (a resume). Defaults to 0.
   */
  constructor(
    readonly minutes: number,
    private readonly options: { spentMs?: number } = {},
  ) {
    super();
  }

  /** Training time of the run so far, in milliseconds, earlier sessions included. */
  elapsedMs(): number {
    return (this.options.spentMs ?? 0) + (this.started === undefined ? 0 : Date.now() - this.started);
  }

  /** Whether the budget ran out. */
  get spent(): boolean {
    return this.elapsedMs() >= this.minutes * 60_000;
  }

  override async onTrainBegin(): Promise<void> {
    this.started ??= Date.now();
  }

  override async onBatchEnd(): Promise<void> {
    if (!this.spent || this.stopTraining) return;
    this.stopTraining = true;
    this.stopReason = `time budget: the ${this.minutes} minutes of training ran out`;
  }
}

/**
 * Keeps the epoch logs and calls `listener` with the whole history after every epoch: the hook
 * for live learning curves in notebooks.
 */
export class HistoryCallback extends Callback {
  readonly history: Logs[] = [];

  constructor(private readonly listener: (history: readonly Logs[], epoch: number) => void | Promise<void>) {
    super();
  }

  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    this.history.push(logs);
    await this.listener(this.history, epoch);
  }
}
