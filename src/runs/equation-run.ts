/**
 * One recorded training run of the equation recogniser, end to end: load a data folder, split it
 * (its `split.json`, or a stratified 8:1:1 split from the RNG seed), stream batches, build the
 * model, train with validation decoding, evaluate the best weights on the test split, and save
 * the final model and an evaluation report, every step recorded in the experiment store. The
 * CLI's `glyphlab train`, `npm start` and the training notebooks all call this.
 */
import { join, resolve } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError } from '../errors';
import type { AugmentOptions } from '../data/equations/augment';
import { type BatchSource, createBatchSource } from '../data/equations/batches';
import type { LabeledImage } from '../data/equations/load';
import { loadEquationSplits, spreadSubset } from '../data/equations/split';
import { loadModel, loadOptimizerState, readModelMeta } from '../models/io';
import { getRun } from '../tracker/query';
import { closeStore, openStore } from '../tracker/store';
import { RESUMABLE_STATUSES } from '../tracker/record';
import { type Logs, TimeBudget } from '../training/callbacks';
import { type TrainingPhase, trainInPhases } from '../training/phases';
import { ctcLossFn, predictSequences, type SequenceBatch, sequenceEvaluator, sequenceLogs, sequenceTrainData } from '../training/sequence';
import { warmupCosine } from '../training/schedule';
import { createOptimizer } from '../training/train';
import type { EarlyStoppingOptions, OptimizerName, ReduceLrOptions, TrainResult } from '../training/types';
import type { SplitName } from '../types';
import { databasePath, runsDirFor } from '../util/paths';
import type { ModelArchitecture } from './architecture';
import { type EquationRunRecord, recordedEquationOptions } from './equation-record';
import { buildEvalReport, type RunEvalReport } from './eval-report';
import { type BuiltModel, EQUATION_RUN_DEFAULTS, type EquationModelName, type EquationModelOptions, getModelBuilder } from './models';
import { recordRun, type RecordingOptions } from './recorded-run';
import { resolveReplicas, type RunReplicas, startRunReplicas } from './replicas';

/** Options of {@link runEquationTraining}. Every field is recorded with the run. */
export interface EquationRunOptions extends RecordingOptions, Omit<EquationModelOptions, 'log' | 'vgg19'> {
  /** Data folder with `labels.csv` (or `labels.txt`) and images; `split.json` is used when present. */
  dataDir: string;
  /** Model family. Defaults to 'crnn'. */
  model?: EquationModelName;
  /**
   * VGG19-CRNN specifics: ImageNet weights file (default: GLYPHLAB_VGG19_WEIGHTS, else
   * experiments/weights/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5, else random init,
   * recorded as such), `phase1Epochs` training only the last `lastN` layers with weights before
   * all layers train (defaults 2 and 5, the reference implementation's recipe), `filterDivisor`
   * for small trials (ImageNet weights need 1), and `weights: 'random'` to skip the file.
   */
  vgg19?: EquationModelOptions['vgg19'] & { phase1Epochs?: number };
  /** Epochs. Defaults to 10. */
  epochs?: number;
  /** Training batch size. Defaults to 32. */
  batchSize?: number;
  /** Validation and test batch size. Defaults to 64. */
  evalBatchSize?: number;
  /** Optimizer. Defaults to 'adam'. */
  optimizer?: OptimizerName;
  /** Learning rate. Defaults to 1e-3. */
  learningRate?: number;
  /** Global gradient-norm clipping. Defaults to 5. */
  clipNorm?: number;
  /** Decoupled weight decay (see `TrainOptions.weightDecay`). Defaults to 0 (none); the quick and long recipes use 0.05. */
  weightDecay?: number;
  /** Early stopping on val_accuracy, or false. Defaults to patience 8. */
  earlyStopping?: EarlyStoppingOptions | false;
  /** Learning-rate reduction on plateau of val_accuracy (with `schedule: 'plateau'`), or false. Defaults to factor 0.5, patience 3. */
  reduceLrOnPlateau?: ReduceLrOptions | false;
  /**
   * How the learning rate moves: 'warmup-cosine' (a linear warm-up over the first `warmup`
   * share of training to `learningRate`, then a half cosine down to a hundredth of it, per
   * batch, over `minutes` or over all epochs) or 'plateau' (`learningRate`, halved when
   * val_accuracy stops improving). Defaults to 'plateau'.
   */
  schedule?: EquationSchedule;
  /** Share of training spent warming up, with 'warmup-cosine'. Defaults to 0.1. */
  warmup?: number;
  /**
   * A time budget: training stops after this many minutes (after the batch in flight; the
   * epoch is then evaluated as usual), and a 'warmup-cosine' schedule spans it. Defaults to none.
   */
  minutes?: number;
  /** Seed of the split (when the folder has no split.json) and of the shuffles. Defaults to 0. */
  seed?: number;
  /** Use at most this many samples of each split (quick runs). Defaults to all. */
  limit?: Partial<Record<SplitName, number>>;
  /** Training-time augmentation, or false. Defaults to false. */
  augment?: AugmentOptions | false;
  /** Worker threads decoding images. Defaults to the batch source's default. */
  workers?: number;
  /**
   * How the folder's images are checked before training: 'decode' reads every pixel, so that an
   * unreadable image stops the run before the first epoch; 'header' reads only sizes (for a
   * folder just synthesised). Recorded as `data.imageCheck`. Defaults to 'decode'.
   */
  imageCheck?: 'decode' | 'header';
  /**
   * Data-parallel training replicas (threads, each with its own copy of the model, splitting
   * every batch); not the same as `workers`, which decode images. Defaults to one per core on
   * the wasm backend, 1 elsewhere; recorded as `replicas`.
   */
  replicas?: number;
  /** Experiment name. Defaults to 'equations'. */
  experiment?: string;
  /** Run name. Defaults to the model name. */
  name?: string;
  /** Stop cleanly when this aborts. Defaults to none. */
  signal?: AbortSignal;
  /** Handle Ctrl-C (finish the batch, save, end as interrupted). Defaults to true. */
  handleSignals?: boolean;
  /** Record every batch's loss. Defaults to true. */
  logBatches?: boolean;
  /** Called with progress messages (data loading, evaluation). Defaults to none. */
  log?: (message: string) => void;
  /** Set by {@link resumeEquationTraining}: the restored state of an interrupted run. */
  resumeFrom?: ResumeState;
}

/** The learning-rate schedules of an equation run. */
export type EquationSchedule = 'plateau' | 'warmup-cosine';

/** The per-batch rate and stop rule of a run's schedule and time budget, spanning all its phases. */
function scheduleOf(options: EquationRunOptions, learningRate: number, totalSteps: number): { batchLearningRate?: (progress: { step: number }) => number; budget?: TimeBudget } {
  const budget = options.minutes !== undefined ? new TimeBudget(options.minutes) : undefined;
  if ((options.schedule ?? 'plateau') !== 'warmup-cosine') return { budget };
  // One clock for the whole run: phases restart the loop's own.
  let started: number | undefined;
  const rate = warmupCosine({ peak: learningRate, warmup: options.warmup, budgetMs: budget ? budget.minutes * 60_000 : undefined, totalSteps });
  return {
    budget,
    batchLearningRate: ({ step }) => {
      started ??= Date.now();
      return rate({ step, elapsedMs: Date.now() - started });
    },
  };
}

/** What resuming a run restores from its `last/` checkpoint. */
export interface ResumeState {
  runId: string;
  model: tf.LayersModel;
  modelConfig: Record<string, unknown>;
  optimizer: tf.Optimizer;
  /** The first epoch still to train. */
  initialEpoch: number;
  best?: { epoch: number; value: number };
}

/** What a recorded run produced. */
export interface EquationRunResult {
  runId: string;
  runDir: string;
  status: TrainResult['status'];
  history: Logs[];
  best?: { epoch: number; value: number };
  /** Test metrics of the best weights, e.g. `{ test_accuracy, test_cer, test_loss }`. */
  testMetrics?: Logs;
  /** The full test evaluation (by length, confusions, misreads). */
  testReport?: RunEvalReport;
  /** The saved final (best) model's folder. */
  modelDir?: string;
  /** Samples per split. */
  splitSizes: Record<SplitName, number>;
  /** The data folder trained on. */
  dataDir: string;
}

/** The folder's split, cut to the limits; an empty train or val split is a DataError. */
async function loadRunSplits(dataDir: string, options: EquationRunOptions, seed: number) {
  const data = await loadEquationSplits(dataDir, seed, { check: options.imageCheck });
  const splits: Record<SplitName, LabeledImage[]> = {
    train: spreadSubset(data.splits.train, options.limit?.train),
    val: spreadSubset(data.splits.val, options.limit?.val),
    test: spreadSubset(data.splits.test, options.limit?.test),
  };
  for (const name of ['train', 'val'] as const) {
    if (splits[name].length === 0) throw new DataError(`the ${name} split of ${dataDir} is empty; the folder needs more images (or a larger limit)`);
  }
  const sizes = { train: splits.train.length, val: splits.val.length, test: splits.test.length };
  return { splits, sizes, fingerprint: data.fingerprint, fromManifest: data.fromManifest, imageCheck: data.imageCheck };
}

/** The model of a new run, or the one a resume restored (its architecture is recorded already). */
async function runModel(options: EquationRunOptions, log: (message: string) => void): Promise<Omit<BuiltModel, 'architecture'> & { architecture?: ModelArchitecture }> {
  const resume = options.resumeFrom;
  if (resume) return { model: resume.model, config: resume.modelConfig };
  return getModelBuilder(options.model ?? 'crnn', 'equations').build({ crnn: options.crnn, vgg19: options.vgg19, log });
}

/**
 * Trains and records one run. Returns after the test evaluation (or after an interruption, with
 * `status: 'interrupted'` and the `last/` checkpoint saved).
 *
 * @example
 * const run = await runEquationTraining({ dataDir: 'data/equations', epochs: 3, crnn: { inputHeight: 32 } });
 * console.log(run.runId, run.testMetrics?.test_accuracy);
 */
export async function runEquationTraining(options: EquationRunOptions): Promise<EquationRunResult> {
  const log = options.log ?? (() => {});
  const defaults = EQUATION_RUN_DEFAULTS;
  const dataDir = resolve(options.dataDir);
  const seed = options.seed ?? 0;
  const modelName = options.model ?? 'crnn';
  const resume = options.resumeFrom;
  const { model, config: modelConfig, architecture, phase1Layers } = await runModel(options, log);
  const [, height, width, channels] = model.inputs[0]!.shape as [null, number, number, number];

  log(`loading ${dataDir}`);
  const data = await loadRunSplits(dataDir, options, seed);
  const { splits, sizes } = data;
  log(`split ${data.fromManifest ? 'from split.json' : `8:1:1 (seed ${seed})`}: train ${sizes.train}, val ${sizes.val}, test ${sizes.test}`);

  const sourceOptions = { height, width, channels: channels as 1 | 3, workers: options.workers };
  const batchSize = options.batchSize ?? defaults.batchSize;
  const evalBatchSize = options.evalBatchSize ?? 64;
  const augment = options.augment ?? (defaults.augment ? {} : false);
  const trainSource = createBatchSource(splits.train, { ...sourceOptions, batchSize, seed, augment });
  const valSource = createBatchSource(splits.val, { ...sourceOptions, batchSize: evalBatchSize, shuffle: false });
  const testSource = splits.test.length > 0 ? createBatchSource(splits.test, { ...sourceOptions, batchSize: evalBatchSize, shuffle: false }) : undefined;
  const sources: BatchSource[] = [trainSource, valSource, ...(testSource ? [testSource] : [])];

  const recorded = recordRun(options, {
    experiment: defaults.experiment,
    name: modelName,
    architecture,
    logBatches: options.logBatches ?? true,
    resumeRunId: resume?.runId,
  });
  const loss = ctcLossFn();
  const replicas = resolveReplicas(options.replicas);
  const record: EquationRunRecord = {
    model: modelConfig,
    data: { dir: dataDir, split: data.fromManifest ? 'split.json' : 'stratified 8:1:1', sizes, limit: options.limit ?? null, seed, augment, imageCheck: data.imageCheck },
    batchSize,
    evalBatchSize,
    replicas,
    schedule: { name: options.schedule ?? 'plateau', warmup: options.schedule === 'warmup-cosine' ? (options.warmup ?? 0.1) : null, minutes: options.minutes ?? null },
  };
  let testReport: RunEvalReport | undefined;
  let parallel: RunReplicas<SequenceBatch> | undefined;
  try {
    parallel = await startRunReplicas(model, { replicas, loss: { name: 'ctc' }, lossFn: loss, seed });
    if (replicas > 1) log(`training on ${replicas} replicas (worker threads splitting every batch)`);
    const epochs = options.epochs ?? defaults.epochs;
    const initialEpoch = resume?.initialEpoch ?? 0;
    if (initialEpoch >= epochs) throw new ConfigError(`run ${resume?.runId} already trained ${initialEpoch} of ${epochs} epochs; resume with more --epochs`);
    const phase1Epochs = phase1Layers ? Math.min(options.vgg19?.phase1Epochs ?? 2, epochs - 1) : 0;
    const learningRate = options.learningRate ?? defaults.learningRate;
    const { batchLearningRate, budget } = scheduleOf(options, learningRate, epochs * trainSource.batchesPerEpoch);
    // A resumed run trains its remaining epochs with all layers.
    const phases: TrainingPhase<SequenceBatch>[] =
      phase1Epochs > 0 ? [{ epochs: phase1Epochs, trainableLayers: phase1Layers, name: 'last layers' }, { epochs: epochs - phase1Epochs, name: 'all layers' }] : [{ epochs: epochs - initialEpoch }];
    const result = await trainInPhases(model, sequenceTrainData(trainSource), {
      loss,
      gradients: parallel.gradients,
      evaluate: sequenceEvaluator(valSource),
      test: testSource
        ? async (m) => {
            log(`evaluating the best weights on ${sizes.test} test images`);
            const predictions = await predictSequences(m, testSource);
            testReport = buildEvalReport(predictions, 'test');
            return sequenceLogs(testReport, predictions.loss, 'test');
          }
        : undefined,
      optimizer: options.optimizer,
      learningRate: resume ? undefined : learningRate,
      batchLearningRate,
      optimizerInstance: resume?.optimizer,
      initialEpoch,
      initialBest: resume?.best,
      clipNorm: options.clipNorm ?? defaults.clipNorm,
      weightDecay: options.weightDecay,
      monitor: 'val_accuracy',
      earlyStopping: options.earlyStopping ?? { patience: defaults.patience },
      reduceLrOnPlateau: batchLearningRate ? false : (options.reduceLrOnPlateau ?? { factor: 0.5, patience: 3 }),
      runDir: recorded.runDir,
      finalize: async (m) => [await recorded.saveFinalModel(m, { model: modelName, config: modelConfig }), ...(testReport ? [recorded.saveEvalReport(testReport)] : [])],
      callbacks: budget ? [...recorded.callbacks, budget] : recorded.callbacks,
      handleSignals: options.handleSignals,
      signal: options.signal,
      describe: { model: modelName, dataFingerprint: data.fingerprint, config: { ...record } },
    }, phases);
    const modelDir = result.status === 'finished' ? join(recorded.runDir(), 'model') : undefined;
    return { runId: recorded.runId(), runDir: recorded.runDir(), status: result.status, history: result.history, best: result.best, testMetrics: result.testMetrics, testReport, modelDir, splitSizes: sizes, dataDir };
  } finally {
    await parallel?.close();
    await Promise.all(sources.map((s) => s.close()));
    model.dispose();
    resume?.optimizer.dispose();
  }
}

/**
 * Resumes an interrupted, failed or crashed run from its `last/` checkpoint (weights, optimizer
 * state, learning rate, best value so far) with the options it was recorded with, and records
 * the rest of it into the same run. `overrides` may change the epochs, callbacks and the like.
 *
 * @example
 * const run = await resumeEquationTraining('20261122-101500-ab12cd', { epochs: 40 });
 */
export async function resumeEquationTraining(runId: string, overrides: Partial<EquationRunOptions> = {}): Promise<EquationRunResult> {
  const dbPath = overrides.dbPath ?? databasePath();
  const store = openStore(dbPath);
  let run;
  try {
    run = getRun(store, runId);
  } finally {
    closeStore(store);
  }
  if (!RESUMABLE_STATUSES.includes(run.status)) {
    throw new ConfigError(`run ${run.id} is ${run.status}; only ${RESUMABLE_STATUSES.join(', ')} runs can be resumed`);
  }
  const { dataDir, modelConfig, architecture, ...recorded } = recordedEquationOptions(run);
  const lastDir = join(resolve(overrides.runsDir ?? runsDirFor(dbPath)), run.id, 'last');
  const meta = readModelMeta(lastDir);
  if (!meta || !dataDir) {
    throw new ConfigError(`run ${run.id} has no last checkpoint with metadata in ${lastDir} (or no recorded data folder); it cannot be resumed`);
  }
  const model = await loadModel(lastDir);
  const input = model.inputs[0]!.shape.slice(1).join('x');
  const recordedInput = architecture && [architecture['input.height'], architecture['input.width'], architecture['input.channels']].join('x');
  if (recordedInput !== undefined && input !== recordedInput) {
    model.dispose();
    throw new ConfigError(`the checkpoint in ${lastDir} takes ${input} images, but run ${run.id} recorded a ${recordedInput} model; it is not this run's checkpoint`);
  }
  const optimizer = createOptimizer(recorded.optimizer, Number(meta['learningRate'] ?? 1e-3));
  await loadOptimizerState(lastDir, optimizer);
  const best = meta['best'] as { epoch: number; value: number } | null | undefined;
  return runEquationTraining({
    ...recorded,
    dataDir,
    dbPath,
    ...overrides,
    resumeFrom: { runId: run.id, model, modelConfig, optimizer, initialEpoch: Number(meta['epoch']) + 1, best: best ?? undefined },
  });
}
