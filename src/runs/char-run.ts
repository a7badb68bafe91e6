/**
 * One recorded training run of a single-character classifier (handwritten digits or letters):
 * the MLP or the LeNet-style CNN through the shared training loop, best epoch by validation
 * accuracy, test evaluation, saved model, all in the experiment store. `glyphlab train --model
 * mlp|cnn` calls this.
 */
import { concatCharDatasets, type CharSplits } from '../data/characters/dataset';
import type { LenetOptions } from '../models/lenet';
import type { MlpOptions } from '../models/mlp';
import type { Logs } from '../training/callbacks';
import { type ClassificationBatch, charTrainData, classificationEvaluator, classificationLoss } from '../training/classification';
import { formatStepSchedule, type StepSchedule } from '../training/schedule';
import { train } from '../training/train';
import type { TrainOptions, TrainResult } from '../training/types';
import { CHAR_RUN_DEFAULTS, type CharModelName, getModelBuilder } from './models';
import { openRecordedRun, type RecordingOptions } from './recorded-run';
import { resolveReplicas, type RunReplicas, startRunReplicas } from './replicas';
import { withInterrupt } from './signals';
import { readyBackend } from '../backend/index';

/** How {@link charFitOptions} chooses between model selection and a final model. */
export interface CharFitOptions {
  /**
   * Train the final model on train + validation: no validation score, no early stopping, the
   * last epoch kept; the test split stays held out. Choose the epochs and rates first on a run
   * with validation (see `scheduleFromHistory`). Defaults to false.
   */
  final?: boolean;
  /**
   * Fixed learning rate per epoch (e.g. `parseStepSchedule('0.002x6,0.001x2')`), instead of
   * `learningRate` with ReduceLROnPlateau (factor 0.5, patience 2). Defaults to none.
   */
  learningRateSchedule?: StepSchedule;
  /** Learning rate without a schedule. Defaults to 0.002. */
  learningRate?: number;
  /** Early stopping after this many epochs without a validation-accuracy gain; 0 turns it off. Defaults to 5. */
  patience?: number;
}

/** Options of {@link runCharTraining}; `final`, `learningRateSchedule`, `learningRate` and `patience` as in {@link CharFitOptions}. */
export interface CharRunOptions extends CharFitOptions, RecordingOptions {
  /** Train, validation and test parts (e.g. from `loadCharDataset`). */
  splits: CharSplits;
  /** What the data is, recorded with the run (e.g. 'mnist'). */
  dataName: string;
  /** Model family: the reference implementation's MLP or the LeNet-style CNN. Defaults to 'cnn'. */
  model?: CharModelName;
  /**
   * LeNet options for `model: 'cnn'`, over glyphlab's defaults (conv 32 and 64 of 5x5, dense 128,
   * dropout 0.5, L2 0.0005). `numClasses` and `inputShape` come from the data.
   */
  lenet?: LenetOptions;
  /** MLP options for `model: 'mlp'`, over the reference implementation's (hidden 512 and 512, dropout 0.2). */
  mlp?: MlpOptions;
  /** Epochs. Defaults to the schedule's length with `learningRateSchedule`, else 10. */
  epochs?: number;
  /** Batch size. Defaults to 64. */
  batchSize?: number;
  /** Label smoothing. Defaults to 0.05. */
  labelSmoothing?: number;
  /** Data-parallel training replicas (threads splitting every batch). Defaults to one per core on the wasm backend, 1 elsewhere; recorded as `replicas`. */
  replicas?: number;
  /** Augment training images (rotation, zoom, shifts, noise, elastic). Defaults to true. */
  augment?: boolean;
  /** Shuffle seed. Defaults to 0. */
  seed?: number;
  /** Experiment name. Defaults to 'characters'. */
  experiment?: string;
  /** Run name. Defaults to `<model>-<data>`. */
  name?: string;
  /** Tags. Defaults to none. */
  tags?: string[];
  /** Stop cleanly when this aborts. Defaults to none. */
  signal?: AbortSignal;
  /** Turn this process's Ctrl-C and SIGTERM into that stop (see `runs/signals.ts`). Defaults to true. */
  handleSignals?: boolean;
}

/** What a classifier run produced. */
export interface CharRunResult {
  runId: string;
  runDir: string;
  status: TrainResult['status'];
  best?: { epoch: number; value: number };
  testMetrics?: Logs;
}

/**
 * The images to fit and the training-loop options of a classifier run: model selection (train
 * split, validation watched, best epoch restored) or, with `final`, the final model (train +
 * validation, nothing watched, last epoch kept). Shared by `runCharTraining` and `bench:digits`.
 */
export function charFitOptions(
  splits: CharSplits,
  options: CharFitOptions = {},
): { fitSet: CharSplits['train'] } & Pick<TrainOptions<ClassificationBatch>, 'evaluate' | 'learningRate' | 'learningRateSchedule' | 'reduceLrOnPlateau' | 'earlyStopping' | 'restoreBest'> {
  const schedule = options.learningRateSchedule;
  const final = options.final ?? false;
  const patience = options.patience ?? CHAR_RUN_DEFAULTS.patience;
  return {
    fitSet: final ? concatCharDatasets([splits.train, splits.val]) : splits.train,
    evaluate: final ? undefined : classificationEvaluator(splits.val),
    learningRate: schedule ? schedule.schedule(0) : (options.learningRate ?? CHAR_RUN_DEFAULTS.learningRate),
    learningRateSchedule: schedule?.schedule,
    reduceLrOnPlateau: schedule ? false : { factor: 0.5, patience: 2 },
    earlyStopping: final || patience === 0 ? false : { patience },
    restoreBest: !final,
  };
}

/** Trains and records one classifier run. */
export async function runCharTraining(options: CharRunOptions): Promise<CharRunResult> {
  await readyBackend();
  return withInterrupt(options, (signal) => trainCharRun({ ...options, signal }));
}

async function trainCharRun(options: CharRunOptions): Promise<CharRunResult> {
  const { splits } = options;
  const defaults = CHAR_RUN_DEFAULTS;
  const modelName = options.model ?? 'cnn';
  const { model, config, architecture } = getModelBuilder(modelName, 'characters').build({
    numClasses: splits.train.classes.length,
    inputShape: [splits.train.height, splits.train.width, 1],
    lenet: options.lenet,
    mlp: options.mlp,
  });
  const batchSize = options.batchSize ?? defaults.batchSize;
  const augment = options.augment ?? defaults.augment;
  const schedule = options.learningRateSchedule;
  const final = options.final ?? false;
  const seed = options.seed ?? 0;
  const epochs = options.epochs ?? schedule?.epochs ?? defaults.epochs;
  const { fitSet, ...fit } = charFitOptions(splits, options);
  const labelSmoothing = options.labelSmoothing ?? 0.05;
  const loss = classificationLoss({ labelSmoothing });
  const replicas = resolveReplicas(options.replicas);
  // The run's config: every value it trains with, resolved.
  const runConfig = {
    model: config,
    data: { name: options.dataName, classes: splits.train.classes, sizes: { train: fitSet.labels.length, val: final ? 0 : splits.val.labels.length, test: splits.test.labels.length } },
    final,
    epochs,
    learningRate: fit.learningRate,
    schedule: schedule ? formatStepSchedule(schedule) : null,
    patience: options.patience ?? defaults.patience,
    batchSize,
    augment,
    labelSmoothing,
    clipNorm: defaults.clipNorm,
    replicas,
    seed,
  };
  let parallel: RunReplicas<ClassificationBatch> | undefined;
  try {
    const replicaGroup = await startRunReplicas(model, { replicas, loss: { name: 'classification', labelSmoothing }, lossFn: loss, seed });
    parallel = replicaGroup;
    const run = await openRecordedRun(options, {
      experiment: options.experiment ?? defaults.experiment,
      name: options.name ?? `${modelName}-${options.dataName}`,
      tags: options.tags ?? [],
      config: runConfig,
      params: { ...architecture, model: modelName, parameter_count: model.countParams() },
      logBatches: false,
    });
    return await run.during(async () => {
      const result = await train(model, charTrainData(fitSet, { batchSize, seed, augment: augment ? {} : false }), {
        ...fit,
        loss,
        gradients: replicaGroup.gradients,
        test: classificationEvaluator(splits.test, { prefix: 'test_' }),
        epochs,
        clipNorm: defaults.clipNorm,
        runDir: run.runDir,
        finalize: async (m) => [await run.saveFinalModel(m)],
        callbacks: run.callbacks,
        signal: options.signal,
      });
      return { runId: run.runId, runDir: run.runDir, status: result.status, best: result.best, testMetrics: result.testMetrics };
    });
  } finally {
    await parallel?.close();
    model.dispose();
  }
}
