/**
 * The training loop shared by every model in glyphlab: batches in, gradient steps, an evaluation
 * at every epoch end, the best checkpoint by the monitored value, early stopping, learning-rate
 * reduction on plateau, clean interruption (Ctrl-C finishes the batch, saves `last/` and ends
 * as interrupted) and resumption. It emits the lifecycle events of `callbacks.ts`; recording a
 * run is a callback's business (the experiment store's `TrackerCallback`).
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConfigError, GlyphlabError } from '../errors';
import { getBackendInfo } from '../backend/index';
import { saveModel } from '../models/io';
import { metricMode } from '../metrics/mode';
import { CallbackList, type Logs } from './callbacks';
import { canFuseAdam, fusedAdamStep } from './fused-adam';
import { disposeBatch, lossGradients } from './gradients';
import type { OptimizerName, TrainBatch, TrainData, TrainingConfig, TrainOptions, TrainResult } from './types';

export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['adam', 'sgd', 'rmsprop'];

/** Raised when the loss stops being a finite number. */
export class NonFiniteLossError extends GlyphlabError {
  override name = 'NonFiniteLossError';
}

/** Raised when the loss diverges (see `TrainOptions.divergence`). */
export class DivergenceError extends GlyphlabError {
  override name = 'DivergenceError';
}

/** Why a run stopped, from the signal that stopped it: its string reason, else 'stopped by the caller'. */
export function stopReason(signal: AbortSignal): string {
  return typeof signal.reason === 'string' ? signal.reason : 'stopped by the caller';
}

/** Builds an optimizer by name. */
export function createOptimizer(name: OptimizerName, learningRate: number): tf.Optimizer {
  if (!(learningRate > 0)) throw new ConfigError(`learning rate ${learningRate} must be a positive number, e.g. 0.001`);
  switch (name) {
    case 'adam':
      return tf.train.adam(learningRate);
    case 'sgd':
      return tf.train.momentum(learningRate, 0.9);
    case 'rmsprop':
      return tf.train.rmsprop(learningRate);
    default:
      throw new ConfigError(`optimizer ${JSON.stringify(name)} is not one of: ${OPTIMIZER_NAMES.join(', ')}`);
  }
}

/** Reads the current learning rate of a tfjs optimizer. */
export function getLearningRate(optimizer: tf.Optimizer): number {
  return (optimizer as unknown as { learningRate: number }).learningRate;
}

/** Sets the learning rate; every tfjs optimizer reads this field at each step. */
export function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = learningRate;
}

/** Scales `grads` so that their global L2 norm is at most `clipNorm`, and clips elements to ±clipValue. */
export function clipGradients(grads: tf.NamedTensorMap, clipNorm?: number, clipValue?: number): tf.NamedTensorMap {
  return tf.tidy(() => {
    let out: tf.NamedTensorMap = grads;
    if (clipValue !== undefined) {
      out = Object.fromEntries(Object.entries(out).map(([k, g]) => [k, tf.clipByValue(g, -clipValue, clipValue)]));
    }
    if (clipNorm !== undefined) {
      const squares = Object.values(out).map((g) => tf.sum(tf.square(g)));
      const norm = tf.sqrt(tf.addN(squares));
      const scale = tf.div(clipNorm, tf.maximum(norm, clipNorm));
      out = Object.fromEntries(Object.entries(out).map(([k, g]) => [k, tf.mul(g, scale)]));
    }
    return out;
  });
}


/** The learning rate `schedule` gives `epoch`, checked. */
function scheduledRate(schedule: (epoch: number) => number, epoch: number): number {
  const rate = schedule(epoch);
  if (!(rate > 0) || !Number.isFinite(rate)) throw new ConfigError(`learningRateSchedule gave ${rate} for epoch ${epoch + 1}; it must give positive numbers`);
  return rate;
}

function isImprovement(value: number, best: number | undefined, mode: 'max' | 'min', minDelta: number): boolean {
  if (!Number.isFinite(value)) return false;
  if (best === undefined) return true;
  return mode === 'max' ? value > best + minDelta : value < best - minDelta;
}


/** The variables that train in this call: all trainable weights, or those of the named layers. */
function trainableVariables(model: tf.LayersModel, layerNames: string[] | undefined): tf.Variable[] {
  if (layerNames === undefined) return model.trainableWeights.map((w) => w.read() as tf.Variable);
  const known = new Set(model.layers.map((l) => l.name));
  const unknown = layerNames.filter((n) => !known.has(n));
  if (unknown.length > 0) throw new ConfigError(`trainableLayers names layers the model lacks: ${unknown.join(', ')}; the model has ${[...known].join(', ')}`);
  const vars: tf.Variable[] = [];
  for (const name of layerNames) for (const w of model.getLayer(name).trainableWeights) vars.push(w.read() as tf.Variable);
  if (vars.length === 0) throw new ConfigError(`trainableLayers ${layerNames.join(', ')} have no trainable weights`);
  return vars;
}

/** Weights snapshot for restoring the best epoch in memory. */
function snapshot(model: tf.LayersModel): tf.Tensor[] {
  return model.getWeights().map((w) => tf.keep(w.clone()));
}

/** The options of `train` with their defaults resolved and checked, once. */
interface LoopSettings {
  epochs: number;
  initialEpoch: number;
  monitor: string;
  mode: 'max' | 'min';
  tieBreak: string;
  optimizerName: OptimizerName;
  learningRate: number;
  early?: { patience: number; minDelta: number };
  plateau?: { factor: number; patience: number; minLr: number };
}

function resolveSettings<B extends TrainBatch>(options: TrainOptions<B>): LoopSettings {
  const epochs = options.epochs ?? 10;
  const initialEpoch = options.initialEpoch ?? 0;
  if (!Number.isInteger(epochs) || epochs < 1) throw new ConfigError(`epochs ${epochs} must be a positive integer`);
  // initialEpoch = epochs trains nothing: the best weights are tested and the final files written (a resume whose epochs are done).
  if (!Number.isInteger(initialEpoch) || initialEpoch < 0 || initialEpoch > epochs) {
    throw new ConfigError(`initialEpoch ${initialEpoch} must be an integer from 0 to epochs (${epochs})`);
  }
  const monitor = options.monitor ?? (options.evaluate ? 'val_accuracy' : 'loss');
  const { earlyStopping: early, reduceLrOnPlateau: plateau } = options;
  if (options.weightDecay !== undefined && !(options.weightDecay >= 0 && Number.isFinite(options.weightDecay))) {
    throw new ConfigError(`weightDecay ${options.weightDecay} must be a number >= 0 (e.g. 0.05; 0 turns it off)`);
  }
  const rateRules = [options.learningRateSchedule ? 'learningRateSchedule' : '', plateau ? 'reduceLrOnPlateau' : '', options.batchLearningRate ? 'batchLearningRate' : ''].filter(Boolean);
  if (rateRules.length > 1) throw new ConfigError(`${rateRules.join(' and ')} both set the learning rate; choose one`);
  return {
    epochs,
    initialEpoch,
    monitor,
    mode: options.mode ?? metricMode(monitor),
    tieBreak: options.tieBreak ?? (monitor === 'val_loss' ? 'loss' : 'val_loss'),
    optimizerName: options.optimizer ?? 'adam',
    learningRate: options.learningRate ?? 1e-3,
    early: early ? { patience: early.patience ?? 8, minDelta: early.minDelta ?? 0 } : undefined,
    plateau: plateau ? { factor: plateau.factor ?? 0.5, patience: plateau.patience ?? 3, minLr: plateau.minLr ?? 1e-6 } : undefined,
  };
}

/** How this call trains, as the run's config records it under `training`. */
function trainingConfig<B extends TrainBatch>(settings: LoopSettings, options: TrainOptions<B>): TrainingConfig {
  const { epochs } = settings;
  return {
    epochs,
    optimizer: settings.optimizerName,
    learningRate: settings.learningRate,
    clipNorm: options.clipNorm ?? null,
    clipValue: options.clipValue ?? null,
    weightDecay: options.weightDecay ? options.weightDecay : null,
    monitor: settings.monitor,
    mode: settings.mode,
    earlyStopping: settings.early ?? null,
    reduceLrOnPlateau: settings.plateau ?? null,
    learningRateSchedule: options.learningRateSchedule ? Array.from({ length: epochs }, (_, e) => options.learningRateSchedule!(e)) : null,
    trainableLayers: options.trainableLayers ?? 'all',
    initialEpoch: settings.initialEpoch,
  };
}

/** The smoothed batch loss the divergence check watches (see `TrainOptions.divergence`). */
interface LossTrend {
  smoothed?: number;
  first?: number;
  lowest?: number;
  lowestStep?: number;
  batches: number;
}

/** Weight of a new batch in the smoothed loss: about the last 20 batches count. */
const TREND_WEIGHT = 0.05;
/** Batches before the divergence check acts (the trend is watched from the first). */
const TREND_WARMUP = 10;

/** Adds a batch loss to the trend; throws a DivergenceError when the run diverges. */
function watchDivergence<B extends TrainBatch>(loop: Loop<B>, loss: number, epoch: number): void {
  const { divergence } = loop.options;
  if (divergence === false) return;
  const factor = divergence?.factor ?? 10;
  const trend = loop.state.trend;
  trend.smoothed = trend.smoothed === undefined ? loss : trend.smoothed + TREND_WEIGHT * (loss - trend.smoothed);
  trend.batches++;
  trend.first ??= trend.smoothed;
  if (trend.lowest === undefined || trend.smoothed < trend.lowest) {
    trend.lowest = trend.smoothed;
    trend.lowestStep = loop.state.step;
  }
  if (trend.batches < TREND_WARMUP) return;
  if (trend.smoothed > factor * trend.lowest && trend.smoothed > trend.first) {
    throw new DivergenceError(
      `the loss diverged at epoch ${epoch + 1}, batch ${loop.state.step + 1}: its smoothed value rose to ${trend.smoothed.toPrecision(4)}, ` +
        `${(trend.smoothed / trend.lowest).toFixed(0)}x its lowest (${trend.lowest.toPrecision(4)} at batch ${(trend.lowestStep ?? 0) + 1}) and above where it began (${trend.first.toPrecision(4)}); ` +
        `lower the learning rate (now ${getLearningRate(loop.optimizer)})`,
    );
  }
}

interface LoopState {
  best?: { epoch: number; value: number };
  /** The tie-break value of the best epoch. */
  bestTie?: number;
  /** The best epoch's weights, when `restoreBest`. */
  bestWeights?: tf.Tensor[];
  wait: number;
  lrWait: number;
  stopRequested: string | undefined;
  /** Why early stopping ended training, once it has. */
  earlyStop: string | undefined;
  /** The 0-based epoch being trained (or last trained); undefined before the first. */
  epoch: number | undefined;
  /** Batches trained, counted across epochs. */
  step: number;
  /** When training began (Date.now()). */
  startedAt: number;
  lastEpoch: number;
  history: Logs[];
  checkpoints: TrainResult['checkpoints'];
  trend: LossTrend;
}

/** Everything one call of `train` works with. */
interface Loop<B extends TrainBatch> {
  model: tf.LayersModel;
  data: TrainData<B>;
  options: TrainOptions<B>;
  settings: LoopSettings;
  optimizer: tf.Optimizer;
  variables: tf.Variable[];
  callbacks: CallbackList;
  state: LoopState;
}

/**
 * Trains `model` on `data`. Returns when the epochs are done, early stopping fires, or an
 * interrupt arrives (then `status` is `'interrupted'` and `last/` is saved under `runDir`). On
 * an error, callbacks receive a `'failed'` end event and the error is rethrown.
 *
 * @example
 * const result = await train(model, trainData, {
 *   loss: ctcLossFn(),
 *   evaluate: sequenceEvaluator(valSource),
 *   epochs: 20,
 *   callbacks: [new TrackerCallback({ experiment: 'equations' })],
 * });
 */
export async function train<B extends TrainBatch>(model: tf.LayersModel, data: TrainData<B>, options: TrainOptions<B>): Promise<TrainResult> {
  const settings = resolveSettings(options);
  const variables = trainableVariables(model, options.trainableLayers);
  const optimizer = options.optimizerInstance ?? createOptimizer(settings.optimizerName, settings.learningRate);
  if (options.optimizerInstance && options.learningRate !== undefined) setLearningRate(optimizer, settings.learningRate);
  const state: LoopState = {
    best: options.initialBest,
    wait: 0,
    lrWait: 0,
    stopRequested: undefined,
    earlyStop: undefined,
    epoch: undefined,
    step: settings.initialEpoch * (data.stepsPerEpoch ?? 0),
    startedAt: Date.now(),
    lastEpoch: settings.initialEpoch - 1,
    history: [],
    checkpoints: {},
    trend: { batches: 0 },
  };
  const loop: Loop<B> = { model, data, options, settings, optimizer, variables, callbacks: new CallbackList(options.callbacks ?? []), state };
  const stops = watchForStops(options, state);
  try {
    await loop.callbacks.onTrainBegin({
      model: options.describe?.model ?? model.name,
      config: { ...(options.describe?.config ?? {}), training: trainingConfig(settings, options) },
      parameterCount: model.countParams(),
      backend: backendSummary(),
      dataFingerprint: options.describe?.dataFingerprint,
      epochs: settings.epochs,
      stepsPerEpoch: data.stepsPerEpoch,
      runDir: options.runDir,
    });
    for (let epoch = settings.initialEpoch; epoch < settings.epochs && !state.stopRequested && !loop.callbacks.shouldStop; epoch++) {
      if (await trainEpoch(loop, epoch)) break;
    }
    return await endRun(loop);
  } catch (error) {
    const diverged = error instanceof DivergenceError || error instanceof NonFiniteLossError;
    await loop.callbacks.onTrainEnd({ status: 'failed', error, stopReason: diverged ? `divergence: ${error.message}` : undefined });
    throw error;
  } finally {
    state.bestWeights?.forEach((t) => t.dispose());
    // An optimizer built here dies with the call (its state is in last/ when there is a runDir).
    if (!options.optimizerInstance) optimizer.dispose();
    stops.dispose();
  }
}

/**
 * Turns an abort of `options.signal` into a stop request: the loop finishes the batch in flight,
 * saves `last/` and ends as interrupted.
 */
function watchForStops<B extends TrainBatch>(options: TrainOptions<B>, state: LoopState): { dispose(): void } {
  const { signal } = options;
  if (!signal) return { dispose: () => {} };
  const onAbort = (): void => {
    state.stopRequested ??= stopReason(signal);
  };
  signal.addEventListener('abort', onAbort);
  if (signal.aborted) onAbort();
  return { dispose: () => signal.removeEventListener('abort', onAbort) };
}

/**
 * One epoch: its batches, then (unless interrupted) the evaluation, the best checkpoint, the
 * epoch-end event, `last/` and the learning-rate rules. Returns true when training stops here.
 */
async function trainEpoch<B extends TrainBatch>(loop: Loop<B>, epoch: number): Promise<boolean> {
  const { options, optimizer, callbacks, state } = loop;
  if (options.learningRateSchedule) setLearningRate(optimizer, scheduledRate(options.learningRateSchedule, epoch));
  state.epoch = epoch;
  await callbacks.onEpochBegin(epoch);
  const started = Date.now();
  const { lossSum, samples } = await trainBatches(loop, epoch);
  if (samples === 0) throw new ConfigError(`epoch ${epoch + 1} had no training batches; the training set is empty`);
  if (state.stopRequested) {
    // The epoch is incomplete: save where we are, do not evaluate or log a partial epoch.
    await saveCheckpoint(loop, 'last', epoch - 1);
    return true;
  }
  const logs: Logs = { loss: lossSum / samples, lr: getLearningRate(optimizer) };
  if (options.evaluate) Object.assign(logs, await options.evaluate(loop.model));
  logs['epoch_time_s'] = (Date.now() - started) / 1000;
  state.history.push(logs);
  state.lastEpoch = epoch;
  if (recordBest(loop, epoch, logs)) await saveCheckpoint(loop, 'best', epoch);
  await callbacks.onEpochEnd(epoch, logs);
  await saveCheckpoint(loop, 'last', epoch);
  reduceLrOnPlateau(loop);
  const { early, monitor } = loop.settings;
  if (early === undefined || state.wait < early.patience) return false;
  const gain = early.minDelta > 0 ? ` by more than ${early.minDelta}` : '';
  const best = state.best ? ` (best ${state.best.value.toPrecision(4)} at epoch ${state.best.epoch + 1})` : '';
  state.earlyStop = `early stopping: ${monitor} did not improve${gain} for ${state.wait} epochs${best}`;
  return true;
}

/**
 * Why training ended before its planned epochs, in a sentence; undefined when it ran them all.
 * An interrupt outranks a callback's stop request (a time budget), which outranks early
 * stopping: the first came first.
 */
function stopReasonOf<B extends TrainBatch>(loop: Loop<B>): string | undefined {
  const { state, callbacks } = loop;
  const during = state.epoch === undefined ? 'before the first epoch' : `during epoch ${state.epoch + 1}`;
  if (state.stopRequested) return `${state.stopRequested} ${during}`;
  if (callbacks.shouldStop) return `${callbacks.requestedStopReason ?? 'a callback asked to stop'} ${during}`;
  return state.earlyStop;
}

/** The epoch's gradient steps; stops after the batch in flight when a stop is requested. */
async function trainBatches<B extends TrainBatch>(loop: Loop<B>, epoch: number): Promise<{ lossSum: number; samples: number }> {
  const { model, optimizer, variables, options, callbacks, state } = loop;
  let lossSum = 0;
  let samples = 0;
  for await (const batch of loop.data.batches(epoch)) {
    // A per-batch schedule's rate is logged with the batch (recorded as batch_lr), so its warm-up and decay draw per step.
    let batchLogs: Logs = {};
    if (options.batchLearningRate) {
      const rate = options.batchLearningRate({ step: state.step, epoch, elapsedMs: Date.now() - state.startedAt });
      if (!(rate > 0) || !Number.isFinite(rate)) throw new ConfigError(`batchLearningRate gave ${rate} at batch ${state.step + 1}; it must give positive numbers`);
      setLearningRate(optimizer, rate);
      batchLogs = { lr: rate };
    }
    let lossValue: number;
    try {
      lossValue = await trainStep(model, optimizer, variables, batch, options, state.step);
    } finally {
      disposeBatch(batch);
    }
    if (!Number.isFinite(lossValue)) {
      throw new NonFiniteLossError(
        `the loss became ${lossValue} at epoch ${epoch + 1}, batch ${state.step + 1}; lower the learning rate (now ${getLearningRate(optimizer)}) or set clipNorm`,
      );
    }
    watchDivergence(loop, lossValue, epoch);
    lossSum += lossValue * batch.size;
    samples += batch.size;
    await callbacks.onBatchEnd(state.step, { loss: lossValue, ...batchLogs });
    state.step++;
    // An interrupt ends the run without this epoch; a callback's stop request ends it after this (shorter) epoch.
    if (state.stopRequested || callbacks.shouldStop) break;
  }
  return { lossSum, samples };
}

/** Updates the best epoch and the patience counters from the epoch's logs; true when this epoch is the new best. */
function recordBest<B extends TrainBatch>(loop: Loop<B>, epoch: number, logs: Logs): boolean {
  const { monitor, mode, tieBreak, early } = loop.settings;
  const { state } = loop;
  const value = logs[monitor];
  if (value === undefined) throw new ConfigError(`monitor ${JSON.stringify(monitor)} is not among the epoch logs (${Object.keys(logs).join(', ')})`);
  const tie = logs[tieBreak];
  // An equal monitored value (e.g. accuracy still 0 early on) is decided by the tie-break key.
  const tieImproves = state.best !== undefined && value === state.best.value && tie !== undefined && state.bestTie !== undefined && isImprovement(tie, state.bestTie, metricMode(tieBreak), 0);
  if (!isImprovement(value, state.best?.value, mode, early?.minDelta ?? 0) && !tieImproves) {
    state.wait++;
    state.lrWait++;
    return false;
  }
  state.best = { epoch, value };
  state.bestTie = tie;
  state.wait = 0;
  state.lrWait = 0;
  if (loop.options.restoreBest ?? true) {
    state.bestWeights?.forEach((t) => t.dispose());
    state.bestWeights = snapshot(loop.model);
  }
  return true;
}

/** ReduceLROnPlateau: after `patience` epochs without a gain, multiply the rate by `factor` (not below `minLr`). */
function reduceLrOnPlateau<B extends TrainBatch>(loop: Loop<B>): void {
  const { plateau } = loop.settings;
  const { state, optimizer } = loop;
  if (!plateau || state.lrWait < plateau.patience) return;
  const current = getLearningRate(optimizer);
  const next = Math.max(current * plateau.factor, plateau.minLr);
  if (next < current) setLearningRate(optimizer, next);
  state.lrWait = 0;
}

/** Saves `best/` or `last/` (with the optimizer state) under the run folder, when there is one, and announces it. */
async function saveCheckpoint<B extends TrainBatch>(loop: Loop<B>, kind: 'best' | 'last', epoch: number): Promise<void> {
  const { options, optimizer, settings, state } = loop;
  const dir = options.runDir;
  if (dir === undefined) return;
  const path = await saveModel(loop.model, join(dir, kind), {
    optimizer: kind === 'last' ? optimizer : undefined,
    meta: { ...options.checkpointMeta?.(), epoch, learningRate: getLearningRate(optimizer), optimizer: settings.optimizerName, monitor: settings.monitor, mode: settings.mode, best: state.best ?? null },
  });
  state.checkpoints[kind] = join(dir, kind);
  await loop.callbacks.onArtifact({ path, kind: `checkpoint-${kind}` });
}

/** After the last epoch: the best weights back, the test, the final files, and the end event. */
async function endRun<B extends TrainBatch>(loop: Loop<B>): Promise<TrainResult> {
  const { model, options, state } = loop;
  if (state.bestWeights) model.setWeights(state.bestWeights);
  const status: TrainResult['status'] = state.stopRequested ? 'interrupted' : 'finished';
  const testMetrics = status === 'finished' && options.test ? await options.test(model) : undefined;
  const artifacts = status === 'finished' && options.finalize ? await options.finalize(model) : [];
  const stopReason = stopReasonOf(loop);
  await loop.callbacks.onTrainEnd({ status, testMetrics, artifacts, error: state.stopRequested, stopReason });
  return { status, history: state.history, best: state.best, lastEpoch: state.lastEpoch, testMetrics, checkpoints: state.checkpoints, stopReason };
}

/** The batch's loss and gradient of `variables`, computed on this thread. */
async function localGradients<B extends TrainBatch>(model: tf.LayersModel, variables: tf.Variable[], batch: B, options: TrainOptions<B>): Promise<{ loss: number; grads: tf.NamedTensorMap }> {
  const { value, grads } = lossGradients(model, variables, batch, { loss: options.loss, penalties: options.regularization !== false });
  try {
    return { loss: (await value.data())[0] ?? Number.NaN, grads };
  } finally {
    value.dispose();
  }
}

/** The factor weight decay scales the weights by at `learningRate`; refuses one that is not positive. */
function checkDecay(learningRate: number, weightDecay: number): number {
  const factor = 1 - learningRate * weightDecay;
  if (!(factor > 0)) {
    throw new ConfigError(`weightDecay ${weightDecay} at learning rate ${learningRate} would scale the weights by ${factor}; learning rate x weight decay must stay below 1`);
  }
  return factor;
}

/**
 * Decoupled weight decay: every variable times `factor` (`checkDecay`'s), applied after the
 * gradients were computed and before the optimizer's update (PyTorch's AdamW does the same).
 */
function decayWeights(variables: readonly tf.Variable[], factor: number): void {
  tf.tidy(() => {
    for (const variable of variables) variable.assign(tf.mul(variable, factor));
  });
}

/** One gradient step; returns the batch loss. Nothing but the variables' new values outlives it. */
async function trainStep<B extends TrainBatch>(model: tf.LayersModel, optimizer: tf.Optimizer, variables: tf.Variable[], batch: B, options: TrainOptions<B>, step: number): Promise<number> {
  const { loss, grads } = options.gradients ? await options.gradients(batch, variables, step) : await localGradients(model, variables, batch, options);
  try {
    const decay = options.weightDecay ? checkDecay(getLearningRate(optimizer), options.weightDecay) : 1;
    if (options.clipValue === undefined && canFuseAdam(optimizer)) {
      // The same update in one pass per variable where the backend has the fused kernels.
      fusedAdamStep(optimizer, variables, grads, { weightDecay: options.weightDecay ?? 0, clipNorm: options.clipNorm });
      return loss;
    }
    if (decay !== 1) decayWeights(variables, decay);
    if (options.clipNorm !== undefined || options.clipValue !== undefined) {
      const clipped = clipGradients(grads, options.clipNorm, options.clipValue);
      optimizer.applyGradients(clipped);
      tf.dispose(clipped);
    } else {
      optimizer.applyGradients(grads);
    }
    return loss;
  } finally {
    tf.dispose(grads);
  }
}

function backendSummary(): { name: string; threads: number } | undefined {
  const info = getBackendInfo();
  return info ? { name: info.name, threads: info.threads } : undefined;
}
