/**
 * One recorded training run of the equation recogniser, end to end: load a data folder, split it
 * (its `split.json`, or a stratified 8:1:1 split from the seed), stream batches, build the
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
import { loadEquationSplits } from '../data/equations/split';
import type { SplitName } from '../types';
import { buildCrnn, type CrnnOptions, resolveCrnnOptions } from '../models/crnn';
import { loadModel, loadOptimizerState, readModelMeta, saveModel } from '../models/io';
import { getRun } from '../tracker/query';
import { closeStore, openStore, RESUMABLE_STATUSES } from '../tracker/store';
import { createOptimizer } from '../training/train';
import { createVgg19Crnn } from '../models/vgg19-crnn';
import { trainableLayerNames } from '../models/freeze';
import { TrackerCallback } from '../tracker/callback';
import { databasePath, runsDirFor } from '../util/paths';
import { EVAL_REPORT_KIND, type EvalReport, evalReportFromMetrics, writeEvalReport } from './eval-report';
import { sequenceMetrics } from '../metrics/sequence';
import type { Callback, Logs } from '../training/callbacks';
import { ctcLossFn, predictSequences, type SequenceBatch, type SequencePredictions, sequenceEvaluator, sequenceLogs, sequenceTrainData } from '../training/sequence';
import { type TrainingPhase, trainInPhases } from '../training/phases';
import type { EarlyStoppingOptions, OptimizerName, ReduceLrOptions, TrainResult } from '../training/types';

/** Models `runEquationTraining` can build. */
export const EQUATION_MODELS = ['crnn', 'vgg19-crnn'] as const;
export type EquationModelName = (typeof EQUATION_MODELS)[number];

/** Options of {@link runEquationTraining}. Every field is recorded with the run. */
export interface EquationRunOptions {
  /** Data folder with `labels.csv` (or `labels.txt`) and images; `split.json` is used when present. */
  dataDir: string;
  /** Model family. Defaults to 'crnn'. */
  model?: EquationModelName;
  /**
   * Input size and head options of the model (both families read `inputHeight`, `inputWidth`,
   * `rnn`, `rnnUnits`, `rnnLayers`, `dropout`; the conv options only the custom CRNN). Defaults
   * to each builder's defaults.
   */
  crnn?: CrnnOptions;
  /**
   * VGG19-CRNN specifics: ImageNet weights file (default: GLYPHLAB_VGG19_WEIGHTS, else
   * experiments/weights/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5, else random init,
   * recorded as such), `phase1Epochs` training only the last `lastN` layers with weights before
   * all layers train (defaults 2 and 5, the seed's recipe), `filterDivisor` for small trials
   * (ImageNet weights need 1), and `weights: 'random'` to skip the file.
   */
  vgg19?: { weightsPath?: string; weights?: 'imagenet' | 'random'; phase1Epochs?: number; lastN?: number; filterDivisor?: number };
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
  /** Early stopping on val_accuracy, or false. Defaults to patience 8. */
  earlyStopping?: EarlyStoppingOptions | false;
  /** Learning-rate reduction on plateau of val_accuracy, or false. Defaults to factor 0.5, patience 3. */
  reduceLrOnPlateau?: ReduceLrOptions | false;
  /** Seed of the split (when the folder has no split.json) and of the shuffles. Defaults to 0. */
  seed?: number;
  /** Use at most this many samples of each split (quick runs). Defaults to all. */
  limit?: Partial<Record<SplitName, number>>;
  /** Training-time augmentation, or false. Defaults to false. */
  augment?: AugmentOptions | false;
  /** Worker threads decoding images. Defaults to the batch source's default. */
  workers?: number;
  /** Experiment name. Defaults to 'equations'. */
  experiment?: string;
  /** Run name. Defaults to the model name. */
  name?: string;
  /** Tags. Defaults to none. */
  tags?: string[];
  /** Database file. Defaults to GLYPHLAB_DB or experiments/glyphlab.db. */
  dbPath?: string;
  /** What started the run (CLI command, notebook path). Defaults to the process's command line. */
  source?: string;
  /** Where run folders go (`<runsDir>/<run id>/`). Defaults to `runs/` beside the database, e.g. `experiments/runs`. */
  runsDir?: string;
  /** More callbacks (progress bars, live charts). Defaults to none. */
  callbacks?: Callback[];
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

/** The evaluation report saved with a run (`eval-report.json`, kind 'eval-report'), with its misread samples. */
export interface RunEvalReport extends EvalReport {
  /** Misread samples (up to 100): image path, truth, prediction. */
  errors: { path: string; truth: string; predicted: string }[];
}

/** Builds the evaluation report of a set of predictions. */
export function buildEvalReport(predictions: SequencePredictions, split: string, maxErrors = 100): RunEvalReport {
  const metrics = sequenceMetrics(predictions.truths, predictions.predictions);
  const errors: RunEvalReport['errors'] = [];
  predictions.truths.forEach((truth, i) => {
    const predicted = predictions.predictions[i] ?? '';
    if (predicted !== truth && errors.length < maxErrors) errors.push({ path: predictions.paths[i] ?? '', truth, predicted });
  });
  return { ...evalReportFromMetrics(metrics, split), errors };
}

function limited<T>(items: T[], limit: number | undefined): T[] {
  return limit === undefined ? items : items.slice(0, limit);
}

interface BuiltModel {
  model: tf.LayersModel;
  config: Record<string, unknown>;
  /** Layers that train in the first phase (VGG19's last layers); undefined: one phase. */
  phase1Layers?: string[];
}

async function buildModel(name: EquationModelName, options: EquationRunOptions, log: (message: string) => void): Promise<BuiltModel> {
  const crnn = options.crnn ?? {};
  switch (name) {
    case 'crnn': {
      const config = resolveCrnnOptions(crnn);
      return { model: buildCrnn(config), config: { ...config } };
    }
    case 'vgg19-crnn': {
      const vgg = options.vgg19 ?? {};
      const built = await createVgg19Crnn({
        inputHeight: crnn.inputHeight,
        inputWidth: crnn.inputWidth,
        rnn: crnn.rnn,
        rnnUnits: crnn.rnnUnits,
        rnnLayers: crnn.rnnLayers,
        dropout: crnn.dropout,
        filterDivisor: vgg.filterDivisor,
        path: vgg.weightsPath,
        weights: vgg.weights,
      });
      if (built.message) log(built.message);
      log(`VGG19-CRNN: ${built.weights === 'imagenet' ? `ImageNet weights from ${built.weightsPath}` : 'random initialisation'}`);
      return {
        model: built.model,
        config: { ...built.config, weights: built.weights, weightsPath: built.weightsPath ?? null },
        phase1Layers: trainableLayerNames(built.model, { lastN: vgg.lastN ?? 5 }),
      };
    }
    default:
      throw new ConfigError(`model ${JSON.stringify(name)} is not one of: ${EQUATION_MODELS.join(', ')}`);
  }
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
  const dataDir = resolve(options.dataDir);
  const seed = options.seed ?? 0;
  const modelName = options.model ?? 'crnn';
  const resume = options.resumeFrom;
  const { model, config: modelConfig, phase1Layers } = resume ? { model: resume.model, config: resume.modelConfig, phase1Layers: undefined } : await buildModel(modelName, options, log);
  const [, height, width, channels] = model.inputs[0]!.shape as [null, number, number, number];

  log(`loading ${dataDir}`);
  const data = await loadEquationSplits(dataDir, seed);
  const splits: Record<SplitName, LabeledImage[]> = {
    train: limited(data.splits.train, options.limit?.train),
    val: limited(data.splits.val, options.limit?.val),
    test: limited(data.splits.test, options.limit?.test),
  };
  for (const name of ['train', 'val'] as const) {
    if (splits[name].length === 0) throw new DataError(`the ${name} split of ${dataDir} is empty; the folder needs more images (or a larger limit)`);
  }
  const splitSizes = { train: splits.train.length, val: splits.val.length, test: splits.test.length };
  log(`split ${data.fromManifest ? 'from split.json' : `8:1:1 (seed ${seed})`}: train ${splitSizes.train}, val ${splitSizes.val}, test ${splitSizes.test}`);

  const sourceOptions = { height, width, channels: channels as 1 | 3, workers: options.workers };
  const batchSize = options.batchSize ?? 32;
  const evalBatchSize = options.evalBatchSize ?? 64;
  const trainSource = createBatchSource(splits.train, { ...sourceOptions, batchSize, seed, augment: options.augment ?? false });
  const valSource = createBatchSource(splits.val, { ...sourceOptions, batchSize: evalBatchSize, shuffle: false });
  const testSource = splits.test.length > 0 ? createBatchSource(splits.test, { ...sourceOptions, batchSize: evalBatchSize, shuffle: false }) : undefined;

  const tracker = new TrackerCallback({
    experiment: options.experiment ?? 'equations',
    name: options.name ?? modelName,
    dbPath: options.dbPath,
    source: options.source,
    tags: options.tags,
    logBatches: options.logBatches ?? true,
    resumeRunId: resume?.runId,
  });
  const runsDir = resolve(options.runsDir ?? runsDirFor(options.dbPath ?? databasePath()));
  const runDir = (): string => join(runsDir, tracker.runId ?? 'unstarted');
  let testReport: RunEvalReport | undefined;
  const sources: BatchSource[] = [trainSource, valSource, ...(testSource ? [testSource] : [])];
  try {
    const epochs = options.epochs ?? 10;
    const initialEpoch = resume?.initialEpoch ?? 0;
    if (initialEpoch >= epochs) throw new ConfigError(`run ${resume?.runId} already trained ${initialEpoch} of ${epochs} epochs; resume with more --epochs`);
    const phase1Epochs = phase1Layers ? Math.min(options.vgg19?.phase1Epochs ?? 2, epochs - 1) : 0;
    // A resumed run trains its remaining epochs with all layers.
    const phases: TrainingPhase<SequenceBatch>[] =
      phase1Epochs > 0 ? [{ epochs: phase1Epochs, trainableLayers: phase1Layers, name: 'last layers' }, { epochs: epochs - phase1Epochs, name: 'all layers' }] : [{ epochs: epochs - initialEpoch }];
    const result = await trainInPhases(model, sequenceTrainData(trainSource), {
      loss: ctcLossFn(),
      evaluate: sequenceEvaluator(valSource),
      test: testSource
        ? async (m) => {
            log(`evaluating the best weights on ${splitSizes.test} test images`);
            const predictions = await predictSequences(m, testSource);
            testReport = buildEvalReport(predictions, 'test');
            return sequenceLogs(testReport, predictions.loss, 'test');
          }
        : undefined,
      optimizer: options.optimizer,
      learningRate: resume ? undefined : options.learningRate,
      optimizerInstance: resume?.optimizer,
      initialEpoch,
      initialBest: resume?.best,
      clipNorm: options.clipNorm ?? 5,
      monitor: 'val_accuracy',
      earlyStopping: options.earlyStopping ?? { patience: 8 },
      reduceLrOnPlateau: options.reduceLrOnPlateau ?? { factor: 0.5, patience: 3 },
      runDir,
      finalize: async (m) => {
        const dir = runDir();
        const modelDir = join(dir, 'model');
        await saveModel(m, modelDir, { meta: { model: modelName, config: modelConfig } });
        const artifacts = [{ path: join(modelDir, 'model.json'), kind: 'model' }];
        if (testReport) {
          artifacts.push({ path: writeEvalReport(join(dir, 'eval-report.json'), testReport), kind: EVAL_REPORT_KIND });
        }
        return artifacts;
      },
      callbacks: [tracker, ...(options.callbacks ?? [])],
      handleSignals: options.handleSignals,
      signal: options.signal,
      describe: {
        model: modelName,
        dataFingerprint: data.fingerprint,
        config: {
          model: modelConfig,
          data: { dir: dataDir, split: data.fromManifest ? 'split.json' : 'stratified 8:1:1', sizes: splitSizes, limit: options.limit ?? null, seed, augment: options.augment ?? false },
          batchSize,
          evalBatchSize,
        },
      },
    }, phases);
    const modelDir = result.status === 'finished' ? join(runDir(), 'model') : undefined;
    return { runId: tracker.runId!, runDir: runDir(), status: result.status, history: result.history, best: result.best, testMetrics: result.testMetrics, testReport, modelDir, splitSizes, dataDir };
  } finally {
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
  const config = (run.config ?? {}) as {
    model?: Record<string, unknown>;
    data?: { dir?: string; seed?: number; limit?: EquationRunOptions['limit'] | null; augment?: EquationRunOptions['augment'] };
    batchSize?: number;
    evalBatchSize?: number;
    training?: { optimizer?: OptimizerName; clipNorm?: number | null; earlyStopping?: EarlyStoppingOptions | null; reduceLrOnPlateau?: ReduceLrOptions | null };
    totalEpochs?: number;
  };
  if (!RESUMABLE_STATUSES.includes(run.status)) {
    throw new ConfigError(`run ${run.id} is ${run.status}; only ${RESUMABLE_STATUSES.join(', ')} runs can be resumed`);
  }
  const lastDir = join(resolve(overrides.runsDir ?? runsDirFor(dbPath)), run.id, 'last');
  const meta = readModelMeta(lastDir);
  if (!meta || !config.data?.dir) {
    throw new ConfigError(`run ${run.id} has no last checkpoint with metadata in ${lastDir} (or no recorded data folder); it cannot be resumed`);
  }
  const optimizerName = config.training?.optimizer ?? 'adam';
  const optimizer = createOptimizer(optimizerName, Number(meta['learningRate'] ?? 1e-3));
  await loadOptimizerState(lastDir, optimizer);
  const model = await loadModel(lastDir);
  const best = meta['best'] as { epoch: number; value: number } | null | undefined;
  return runEquationTraining({
    dataDir: config.data.dir,
    model: String(run.params['model'] ?? 'crnn') as EquationModelName,
    epochs: config.totalEpochs,
    batchSize: config.batchSize,
    evalBatchSize: config.evalBatchSize,
    optimizer: optimizerName,
    clipNorm: config.training?.clipNorm ?? undefined,
    earlyStopping: config.training?.earlyStopping ?? false,
    reduceLrOnPlateau: config.training?.reduceLrOnPlateau ?? false,
    seed: config.data.seed,
    limit: config.data.limit ?? undefined,
    augment: config.data.augment,
    dbPath,
    ...overrides,
    resumeFrom: { runId: run.id, model, modelConfig: config.model ?? {}, optimizer, initialEpoch: Number(meta['epoch']) + 1, best: best ?? undefined },
  });
}
