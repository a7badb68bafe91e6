/**
 * Training in phases that form one run (the reference implementation's VGG19 recipe: phase 1 trains
 * only the last layers, phase 2 all of them). Callbacks see one run: one train-begin event, epochs
 * numbered on from phase to phase, one train-end event.
 */
import type * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors';
import { Callback, CallbackList, type Logs, type TrainBeginEvent, type TrainEndEvent } from './callbacks';
import { train } from './train';
import type { TrainBatch, TrainData, TrainOptions, TrainResult } from './types';

/** One phase: its epoch count and the options it changes (e.g. `trainableLayers`, `learningRate`). */
export interface TrainingPhase<B extends TrainBatch = TrainBatch> extends Partial<Omit<TrainOptions<B>, 'epochs' | 'initialEpoch' | 'callbacks' | 'loss'>> {
  /** Epochs of this phase. */
  epochs: number;
  /** Name recorded in the epoch logs as `phase` (1-based index) and in the config. Defaults to `phase N`. */
  name?: string;
}

/** Forwards events to the run's callbacks, hiding the begin of later phases and the end of earlier ones. */
class PhaseForwarder extends Callback {
  constructor(
    private readonly target: CallbackList,
    private readonly first: boolean,
    private readonly last: boolean,
    private readonly phase: number,
    /** Why an earlier phase stopped the run, told at its end by this (closing) phase. */
    private readonly carriedStopReason?: string,
  ) {
    super();
  }
  override async onTrainBegin(event: TrainBeginEvent): Promise<void> {
    if (this.first) await this.target.onTrainBegin(event);
  }
  override async onEpochBegin(epoch: number): Promise<void> {
    await this.target.onEpochBegin(epoch);
  }
  override async onBatchEnd(step: number, logs: Logs): Promise<void> {
    await this.target.onBatchEnd(step, logs);
    this.stopTraining = this.target.shouldStop;
    // The reason is read only while stopTraining is set: no second scan of the callbacks per batch.
    if (this.stopTraining) this.stopReason = this.target.requestedStopReason;
  }
  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    await this.target.onEpochEnd(epoch, { ...logs, phase: this.phase });
    this.stopTraining = this.target.shouldStop;
    // The reason is read only while stopTraining is set: no second scan of the callbacks per batch.
    if (this.stopTraining) this.stopReason = this.target.requestedStopReason;
  }
  override async onArtifact(artifact: { path: string; kind: string }): Promise<void> {
    await this.target.onArtifact(artifact);
  }
  override async onTrainEnd(event: TrainEndEvent): Promise<void> {
    // An earlier phase that did not finish ends the run; one that finished hands over.
    if (this.last || event.status !== 'finished') await this.target.onTrainEnd({ ...event, stopReason: event.stopReason ?? this.carriedStopReason });
  }
}

/**
 * Trains `model` through `phases` in order as one run. `test` and `finalize` run after the last
 * phase only; an interrupted or failed phase ends the run. Epochs and steps continue across
 * phases (from `options.initialEpoch` when resuming), and the best value carries over.
 *
 * @example
 * await trainInPhases(model, data, { loss, evaluate, callbacks: [tracker] }, [
 *   { epochs: 3, trainableLayers: trainableLayerNames(model, { lastN: 5 }), name: 'head' },
 *   { epochs: 20, learningRate: 1e-4, name: 'all layers' },
 * ]);
 */
export async function trainInPhases<B extends TrainBatch>(
  model: tf.LayersModel,
  data: TrainData<B>,
  options: TrainOptions<B>,
  phases: readonly TrainingPhase<B>[],
): Promise<TrainResult> {
  if (phases.length === 0) throw new ConfigError('trainInPhases needs at least one phase');
  const run = new CallbackList(options.callbacks ?? []);
  const history: Logs[] = [];
  const checkpoints: TrainResult['checkpoints'] = {};
  const total = phases.reduce((n, p) => n + p.epochs, 0);
  for (const [i, { name, epochs }] of phases.entries()) {
    const last = i === phases.length - 1;
    // A last phase of 0 epochs trains nothing and tests (a resume whose epochs are done).
    if (!Number.isInteger(epochs) || epochs < (last ? 0 : 1)) throw new ConfigError(`phase ${i + 1} (${name ?? 'unnamed'}): epochs ${epochs} must be a ${last ? 'whole number' : 'positive integer'}`);
  }
  const config = {
    ...(options.describe?.config ?? {}),
    phases: phases.map((p, k) => ({ name: p.name ?? `phase ${k + 1}`, epochs: p.epochs, trainableLayers: p.trainableLayers ?? 'all', learningRate: p.learningRate ?? options.learningRate ?? 1e-3 })),
    totalEpochs: total,
  };
  let best: TrainResult['best'] = options.initialBest;
  /** Trains phase `i` for `epochs` from `initialEpoch`; `carriedStopReason` is why an earlier phase ended the run. */
  const trainPhase = async (i: number, initialEpoch: number, epochs: number, carriedStopReason?: string): Promise<TrainResult> => {
    const { name: _name, epochs: _epochs, ...overrides } = phases[i]!;
    const last = i === phases.length - 1;
    const result = await train(model, data, {
      ...options,
      ...overrides,
      test: last ? options.test : undefined,
      finalize: last ? options.finalize : undefined,
      initialEpoch,
      epochs: initialEpoch + epochs,
      initialBest: best,
      callbacks: [new PhaseForwarder(run, i === 0, last, i + 1, carriedStopReason)],
      describe: { model: options.describe?.model ?? model.name, dataFingerprint: options.describe?.dataFingerprint, config },
    });
    history.push(...result.history.map((h) => ({ ...h, phase: i + 1 })));
    Object.assign(checkpoints, result.checkpoints);
    best = result.best ?? best;
    return result;
  };
  let initialEpoch = options.initialEpoch ?? 0;
  let result: TrainResult | undefined;
  for (const [i, phase] of phases.entries()) {
    result = await trainPhase(i, initialEpoch, phase.epochs);
    if (result.status !== 'finished') break;
    if (run.shouldStop && i < phases.length - 1) {
      // A callback's stop (a time budget) in an earlier phase ends the run: the last phase then
      // trains no epoch, so the run still gets its best weights tested, its files and one end.
      const reason = result.stopReason ?? run.requestedStopReason ?? 'a callback asked to stop';
      result = await trainPhase(phases.length - 1, result.lastEpoch + 1, 0, reason);
      return { ...result, history, best, checkpoints, stopReason: result.stopReason ?? reason };
    }
    if (run.shouldStop) break;
    initialEpoch += phase.epochs;
  }
  return { ...result!, history, best, checkpoints };
}
