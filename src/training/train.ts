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
import type { OptimizerName, TrainBatch, TrainData, TrainOptions, TrainResult } from './types';

export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['adam', 'sgd', 'rmsprop'];

/** Raised when the loss stops being a finite number. */
export class NonFiniteLossError extends GlyphlabError {
  override name = 'NonFiniteLossError';
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

/** Disposes the batch's tensors: `x` and every top-level field holding a tensor or tensors (targets). */
function disposeBatch(batch: TrainBatch): void {
  for (const value of Object.values(batch)) {
    if (value instanceof tf.Tensor) value.dispose();
    else if (Array.isArray(value)) for (const item of value) if (item instanceof tf.Tensor) item.dispose();
  }
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

interface LoopState {
  best?: { epoch: number; value: number };
  /** The tie-break value of the best epoch. */
  bestTie?: number;
  wait: number;
  lrWait: number;
  stopRequested: string | undefined;
}

/**
 * Trains `model` on `data`. Returns when the epochs are done, early stopping fires, or an
 * interrupt arrives (then `status` is `'interrupted'` and `last/` is saved under `runDir`). On
 * an error, callbacks receive a `'failed'` end event and the error is rethrown.
 *
 * @example
 * const result = await train(model, trainData, {
 *   loss: ctcLossFn(),
 *   evaluate: sequenceEvaluator(validSource),
 *   epochs: 20,
 *   callbacks: [new TrackerCallback({ experiment: 'equations' })],
 * });
 */
export async function train<B extends TrainBatch>(model: tf.LayersModel, data: TrainData<B>, options: TrainOptions<B>): Promise<TrainResult> {
  const epochs = options.epochs ?? 10;
  const initialEpoch = options.initialEpoch ?? 0;
  if (!Number.isInteger(epochs) || epochs < 1) throw new ConfigError(`epochs ${epochs} must be a positive integer`);
  if (!Number.isInteger(initialEpoch) || initialEpoch < 0 || initialEpoch >= epochs) {
    throw new ConfigError(`initialEpoch ${initialEpoch} must be an integer from 0 to epochs - 1 (${epochs - 1})`);
  }
  const monitor = options.monitor ?? (options.evaluate ? 'val_accuracy' : 'loss');
  const mode = options.mode ?? metricMode(monitor);
  const tieBreak = options.tieBreak ?? (monitor === 'val_loss' ? 'loss' : 'val_loss');
  const optimizerName = options.optimizer ?? 'adam';
  const learningRate = options.learningRate ?? 1e-3;
  const optimizer = options.optimizerInstance ?? createOptimizer(optimizerName, learningRate);
  if (options.optimizerInstance && options.learningRate !== undefined) setLearningRate(optimizer, learningRate);
  const early = options.earlyStopping ? { patience: options.earlyStopping.patience ?? 8, minDelta: options.earlyStopping.minDelta ?? 0 } : undefined;
  const plateau = options.reduceLrOnPlateau
    ? { factor: options.reduceLrOnPlateau.factor ?? 0.5, patience: options.reduceLrOnPlateau.patience ?? 3, minLr: options.reduceLrOnPlateau.minLr ?? 1e-6 }
    : undefined;
  if (plateau && options.learningRateSchedule) {
    throw new ConfigError('learningRateSchedule and reduceLrOnPlateau both set the learning rate; choose one');
  }
  const variables = trainableVariables(model, options.trainableLayers);
  const callbacks = new CallbackList(options.callbacks ?? []);
  const state: LoopState = { best: options.initialBest, wait: 0, lrWait: 0, stopRequested: undefined };
  const history: Logs[] = [];
  const checkpoints: TrainResult['checkpoints'] = {};
  let bestWeights: tf.Tensor[] | undefined;
  let lastEpoch = initialEpoch - 1;
  let step = initialEpoch * (data.stepsPerEpoch ?? 0);

  const onSignal = (signal: NodeJS.Signals): void => {
    if (state.stopRequested) {
      // A second Ctrl-C: the user does not want to wait for the batch.
      process.exit(130);
    }
    state.stopRequested = `interrupted by ${signal}`;
    process.stderr.write(`\n${signal}: finishing the current batch, then saving a checkpoint (press again to quit at once)\n`);
  };
  const onAbort = (): void => {
    state.stopRequested ??= 'stopped by the caller';
  };
  const handleSignals = options.handleSignals ?? true;
  if (handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  options.signal?.addEventListener('abort', onAbort);
  if (options.signal?.aborted) onAbort();

  const runDir = (): string | undefined => (typeof options.runDir === 'function' ? options.runDir() : options.runDir);
  const saveCheckpoint = async (kind: 'best' | 'last', epoch: number): Promise<void> => {
    const dir = runDir();
    if (dir === undefined) return;
    const path = await saveModel(model, join(dir, kind), {
      optimizer: kind === 'last' ? optimizer : undefined,
      meta: { epoch, learningRate: getLearningRate(optimizer), optimizer: optimizerName, monitor, mode, best: state.best ?? null },
    });
    checkpoints[kind] = join(dir, kind);
    await callbacks.onArtifact({ path, kind: `checkpoint-${kind}` });
  };

  try {
    await callbacks.onTrainBegin({
      model: options.describe?.model ?? model.name,
      config: {
        ...(options.describe?.config ?? {}),
        training: {
          epochs,
          optimizer: optimizerName,
          learningRate,
          clipNorm: options.clipNorm ?? null,
          clipValue: options.clipValue ?? null,
          monitor,
          mode,
          earlyStopping: early ?? null,
          reduceLrOnPlateau: plateau ?? null,
          learningRateSchedule: options.learningRateSchedule ? Array.from({ length: epochs }, (_, e) => options.learningRateSchedule!(e)) : null,
          trainableLayers: options.trainableLayers ?? 'all',
          initialEpoch,
        },
      },
      parameterCount: model.countParams(),
      backend: backendSummary(),
      dataFingerprint: options.describe?.dataFingerprint,
      epochs,
      stepsPerEpoch: data.stepsPerEpoch,
      runDir: typeof options.runDir === 'string' ? options.runDir : undefined,
    });

    for (let epoch = initialEpoch; epoch < epochs && !state.stopRequested && !callbacks.shouldStop; epoch++) {
      if (options.learningRateSchedule) setLearningRate(optimizer, scheduledRate(options.learningRateSchedule, epoch));
      await callbacks.onEpochBegin(epoch);
      const started = Date.now();
      let lossSum = 0;
      let samples = 0;
      for await (const batch of data.batches(epoch)) {
        let lossValue: number;
        try {
          lossValue = await trainStep(model, optimizer, variables, batch, options);
        } finally {
          disposeBatch(batch);
        }
        if (!Number.isFinite(lossValue)) {
          throw new NonFiniteLossError(
            `the loss became ${lossValue} at epoch ${epoch + 1}, batch ${step + 1}; lower the learning rate (now ${getLearningRate(optimizer)}) or set clipNorm`,
          );
        }
        lossSum += lossValue * batch.size;
        samples += batch.size;
        await callbacks.onBatchEnd(step, { loss: lossValue });
        step++;
        // An interrupt ends the run without this epoch; a callback's stop request ends it after this (shorter) epoch.
        if (state.stopRequested || callbacks.shouldStop) break;
      }
      if (samples === 0) throw new ConfigError(`epoch ${epoch + 1} had no training batches; the training set is empty`);
      if (state.stopRequested) {
        // The epoch is incomplete: save where we are, do not evaluate or log a partial epoch.
        await saveCheckpoint('last', epoch - 1);
        break;
      }
      const logs: Logs = { loss: lossSum / samples, lr: getLearningRate(optimizer) };
      if (options.evaluate) Object.assign(logs, await options.evaluate(model));
      logs['epoch_time_s'] = (Date.now() - started) / 1000;
      history.push(logs);
      lastEpoch = epoch;

      const value = logs[monitor];
      if (value === undefined) throw new ConfigError(`monitor ${JSON.stringify(monitor)} is not among the epoch logs (${Object.keys(logs).join(', ')})`);
      const tie = logs[tieBreak];
      // An equal monitored value (e.g. accuracy still 0 early on) is decided by the tie-break key.
      const tieImproves = state.best !== undefined && value === state.best.value && tie !== undefined && state.bestTie !== undefined && isImprovement(tie, state.bestTie, metricMode(tieBreak), 0);
      if (isImprovement(value, state.best?.value, mode, early?.minDelta ?? 0) || tieImproves) {
        state.best = { epoch, value };
        state.bestTie = tie;
        state.wait = 0;
        state.lrWait = 0;
        if (options.restoreBest ?? true) {
          bestWeights?.forEach((t) => t.dispose());
          bestWeights = snapshot(model);
        }
        await saveCheckpoint('best', epoch);
      } else {
        state.wait++;
        state.lrWait++;
      }
      await callbacks.onEpochEnd(epoch, logs);
      await saveCheckpoint('last', epoch);
      if (plateau && state.lrWait >= plateau.patience) {
        const current = getLearningRate(optimizer);
        const next = Math.max(current * plateau.factor, plateau.minLr);
        if (next < current) setLearningRate(optimizer, next);
        state.lrWait = 0;
      }
      if (early && state.wait >= early.patience) break;
    }

    if (bestWeights) model.setWeights(bestWeights);
    const status: TrainResult['status'] = state.stopRequested ? 'interrupted' : 'finished';
    const testMetrics = status === 'finished' && options.test ? await options.test(model) : undefined;
    const artifacts = status === 'finished' && options.finalize ? await options.finalize(model) : [];
    await callbacks.onTrainEnd({ status, testMetrics, artifacts, error: state.stopRequested });
    return { status, history, best: state.best, lastEpoch, testMetrics, checkpoints };
  } catch (error) {
    await callbacks.onTrainEnd({ status: 'failed', error });
    throw error;
  } finally {
    bestWeights?.forEach((t) => t.dispose());
    // An optimizer built here dies with the call (its state is in last/ when there is a runDir).
    if (!options.optimizerInstance) optimizer.dispose();
    if (handleSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** One gradient step; returns the batch loss. Nothing but the variables' new values outlives it. */
async function trainStep<B extends TrainBatch>(model: tf.LayersModel, optimizer: tf.Optimizer, variables: tf.Variable[], batch: B, options: TrainOptions<B>): Promise<number> {
  const { value, grads } = tf.variableGrads(() => {
    const output = model.apply(batch.x, { training: true }) as tf.Tensor | tf.Tensor[];
    const loss = options.loss(output, batch);
    // The layers' regularisation penalties (L2 kernels), as Keras's fit adds them.
    const penalties = options.regularization === false ? [] : model.calculateLosses();
    return penalties.length === 0 ? loss : (tf.addN([loss, ...penalties]) as tf.Scalar);
  }, variables);
  try {
    if (options.clipNorm !== undefined || options.clipValue !== undefined) {
      const clipped = clipGradients(grads, options.clipNorm, options.clipValue);
      optimizer.applyGradients(clipped);
      tf.dispose(clipped);
    } else {
      optimizer.applyGradients(grads);
    }
    return (await value.data())[0] ?? Number.NaN;
  } finally {
    value.dispose();
    tf.dispose(grads);
  }
}

function backendSummary(): { name: string; threads: number } | undefined {
  const info = getBackendInfo();
  return info ? { name: info.name, threads: info.threads } : undefined;
}
