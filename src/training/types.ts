/**
 * The contract between a training loop and what it trains: a source of batches, a loss, and an
 * evaluation. Sequence (CTC) and classification tasks implement it in their own modules; the
 * loop in `train.ts` knows neither.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Callback, Logs } from './callbacks';

/**
 * One training batch. `x` is the model input (or inputs). Tasks extend it with their targets
 * (labels, texts, tensors). After the step the loop disposes `x` and every other top-level
 * field that holds a tensor or an array of tensors.
 */
export interface TrainBatch {
  x: tf.Tensor | tf.Tensor[];
  /** Samples in the batch. */
  size: number;
}

/** Where training batches come from. */
export interface TrainData<B extends TrainBatch = TrainBatch> {
  /** A fresh pass over the training set for `epoch` (0-based), in that epoch's order. */
  batches(epoch: number): AsyncIterable<B> | Iterable<B>;
  /** Batches per epoch, for progress and the events; undefined when unknown. */
  stepsPerEpoch?: number;
}

/**
 * The loss of one batch, called inside `optimizer.minimize` (so inside a tidy): `output` is what
 * the model returned for `batch.x` in training mode. Returns a scalar.
 */
export type LossFn<B extends TrainBatch = TrainBatch> = (output: tf.Tensor | tf.Tensor[], batch: B) => tf.Scalar;

/**
 * Evaluates the model (in inference mode) and returns prefixed logs, e.g.
 * `{ val_loss, val_accuracy, val_cer }`. Called at every epoch end with the validation set, and
 * at the end with the test set (prefix `test_`).
 */
export type EvaluateFn = (model: tf.LayersModel) => Promise<Logs>;

/** Optimizers the loop can build by name. */
export type OptimizerName = 'adam' | 'sgd' | 'rmsprop';

/** Reduce the learning rate when the monitored value stops improving (Keras ReduceLROnPlateau). */
export interface ReduceLrOptions {
  /** Multiply the rate by this. Defaults to 0.5. */
  factor?: number;
  /** Epochs without improvement before reducing. Defaults to 3. */
  patience?: number;
  /** Never go below this rate. Defaults to 1e-6. */
  minLr?: number;
}

/** Stop when the monitored value stops improving. */
export interface EarlyStoppingOptions {
  /** Epochs without improvement before stopping. Defaults to 8. */
  patience?: number;
  /** Smallest change that counts as an improvement. Defaults to 0. */
  minDelta?: number;
}

/** Where training stands when a batch starts. */
export interface BatchProgress {
  /** Batches trained so far, across epochs. */
  step: number;
  /** The current 0-based epoch. */
  epoch: number;
  /** Milliseconds since training began. */
  elapsedMs: number;
}

/** Computes a batch's gradient of `variables` and its loss (see `TrainOptions.gradients`); the caller disposes the gradients. */
export type GradientFn<B extends TrainBatch = TrainBatch> = (batch: B, variables: tf.Variable[], step: number) => Promise<{ loss: number; grads: tf.NamedTensorMap }>;

/** Options of `train`. */
export interface TrainOptions<B extends TrainBatch = TrainBatch> {
  /** The loss of a batch. */
  loss: LossFn<B>;
  /** Add the layers' regularisation penalties (`model.calculateLosses()`, e.g. L2) to the loss. Defaults to true. */
  regularization?: boolean;
  /** Validation at every epoch end; its logs join the epoch logs. Defaults to none. */
  evaluate?: EvaluateFn;
  /** Final evaluation on held-out data, on the best checkpoint when there is one. Defaults to none. */
  test?: EvaluateFn;
  /**
   * Called once after a finished run (best weights restored, test done) to save final files;
   * the artifacts it returns reach the callbacks with the train-end event. Defaults to none.
   */
  finalize?: (model: tf.LayersModel) => Promise<{ path: string; kind: string }[]>;
  /** Epochs to train (counting from 0, including `initialEpoch`). Defaults to 10. */
  epochs?: number;
  /** First epoch, when resuming. Defaults to 0. */
  initialEpoch?: number;
  /** Optimizer by name. Defaults to 'adam'. */
  optimizer?: OptimizerName;
  /** Initial learning rate. Defaults to 1e-3. */
  learningRate?: number;
  /** Clip the global gradient norm to this value. Defaults to no clipping. */
  clipNorm?: number;
  /** Clip every gradient element to [-clipValue, clipValue]. Defaults to no clipping. */
  clipValue?: number;
  /**
   * Decoupled weight decay (AdamW's, with any optimizer): before each update every trained
   * weight is multiplied by `1 - learningRate * weightDecay`, the learning rate of that step.
   * Defaults to 0 (none).
   */
  weightDecay?: number;
  /** Log key that decides the best checkpoint, early stopping and LR reduction. Defaults to 'val_accuracy' (or 'loss' without `evaluate`). */
  monitor?: string;
  /**
   * Log key that decides between epochs with an equal monitored value (early on, validation
   * accuracy is often 0 for several epochs). Defaults to 'val_loss' ('loss' when monitoring val_loss).
   */
  tieBreak?: string;
  /** Whether the monitored value should go up or down. Defaults to `metricMode(monitor)`: 'min' for losses, error rates and times, 'max' otherwise (the store's rule). */
  mode?: 'max' | 'min';
  /** Early stopping; false to turn off. Defaults to off. */
  earlyStopping?: EarlyStoppingOptions | false;
  /** Learning-rate reduction on plateau; false to turn off. Defaults to off. */
  reduceLrOnPlateau?: ReduceLrOptions | false;
  /**
   * The learning rate of each 0-based epoch, set at the epoch's start (e.g. `stepSchedule(...)
   * .schedule`); cannot be combined with `reduceLrOnPlateau`. Defaults to none (`learningRate` throughout).
   */
  learningRateSchedule?: (epoch: number) => number;
  /**
   * The learning rate of every batch, set before its step (warm-up, cosine decay over a time
   * budget: see `warmupCosine`); cannot be combined with `reduceLrOnPlateau` or
   * `learningRateSchedule`. Defaults to none.
   */
  batchLearningRate?: (progress: BatchProgress) => number;
  /**
   * Computes the summed gradient of a batch in place of the loop's own `tf.variableGrads`: the
   * hook of data-parallel training (`createReplicaGroup(...).gradients`). It must return the
   * gradient of `loss` (plus the penalties, when `regularization`) and that loss. Defaults to
   * computing on this thread.
   */
  gradients?: GradientFn<B>;
  /** Folder for checkpoints (`best/`, `last/` in tfjs format). Defaults to none (nothing saved). */
  runDir?: string;
  /** More metadata to save with every checkpoint (e.g. the training time a run's clock has counted). Defaults to none. */
  checkpointMeta?: () => Record<string, unknown>;
  /** Only these layers train (by name); others are frozen for this call. Defaults to all trainable layers. */
  trainableLayers?: string[];
  /** Callbacks, e.g. a `TrackerCallback`. Defaults to none. */
  callbacks?: Callback[];
  /**
   * Stop cleanly after the current batch when this signal aborts: `last/` is saved and the run
   * ends as interrupted. The loop installs no process signal handler: turning Ctrl-C into this
   * signal is the caller's (see `runs/signals.ts`). Defaults to none.
   */
  signal?: AbortSignal;
  /**
   * Fail the run when its loss diverges: when the smoothed batch loss (an exponential average
   * over about 20 batches, from the first batch's loss) rises above both `factor` times its lowest
   * value and its first value; checked from the tenth batch on.
   * A `DivergenceError` ends the run as failed, naming the losses and the learning rate.
   * Defaults to factor 10; false turns it off.
   */
  divergence?: { factor?: number } | false;
  /** Describes the run for the train-begin event (model name, full config, data fingerprint). */
  describe?: { model: string; config: Record<string, unknown>; dataFingerprint?: string };
  /** Use this optimizer (e.g. restored for a resume, or shared by two phases) instead of building one. Defaults to building `optimizer`. */
  optimizerInstance?: tf.Optimizer;
  /** The best monitored value so far, when resuming. Defaults to none. */
  initialBest?: { epoch: number; value: number };
  /** Put the best epoch's weights back into the model at the end (before `test`). Defaults to true. */
  restoreBest?: boolean;
}

/**
 * How a call of `train` trained, as the train-begin event's config carries it under `training`
 * (and the experiment store records it): the resolved options, `null` where off.
 */
export interface TrainingConfig {
  epochs: number;
  optimizer: OptimizerName;
  learningRate: number;
  clipNorm: number | null;
  clipValue: number | null;
  weightDecay: number | null;
  monitor: string;
  mode: 'max' | 'min';
  earlyStopping: Required<EarlyStoppingOptions> | null;
  reduceLrOnPlateau: Required<ReduceLrOptions> | null;
  /** The rate of every epoch, with a schedule. */
  learningRateSchedule: number[] | null;
  trainableLayers: string[] | 'all';
  initialEpoch: number;
}

/** What `train` returns. */
export interface TrainResult {
  status: 'finished' | 'interrupted';
  /** Logs of every epoch trained by this call. */
  history: Logs[];
  /** The best epoch by the monitored value, and that value. */
  best?: { epoch: number; value: number };
  /** The last epoch trained (0-based); resume with `initialEpoch: lastEpoch + 1`. */
  lastEpoch: number;
  /** Test logs, when `test` was given. */
  testMetrics?: Logs;
  /** Checkpoint folders written (under `runDir`). */
  checkpoints: { best?: string; last?: string };
  /**
   * Why training ended before its planned epochs, in a sentence (early stopping, a callback's
   * stop such as a time budget, an interrupt); absent when it ran them all. The train-end event
   * carries it too, and the experiment store records it as the param `stop.reason`.
   */
  stopReason?: string;
}
