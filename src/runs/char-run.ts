/**
 * One recorded training run of a single-character classifier (handwritten digits or letters,
 * seeds.md sections 2 and 5): the MLP or the LeNet-style CNN through the shared training loop,
 * best epoch by validation accuracy, test evaluation, saved model, all in the experiment store.
 * `glyphlab train --model mlp|cnn` calls this.
 */
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors';
import { concatCharDatasets, type CharSplits } from '../data/characters/dataset';
import { saveModel } from '../models/io';
import { buildLenet, type LenetOptions, resolveLenetOptions } from '../models/lenet';
import { buildMlp, type MlpOptions, resolveMlpOptions } from '../models/mlp';
import { TrackerCallback } from '../tracker/callback';
import { databasePath, runsDirFor } from '../util/paths';
import type { Callback, Logs } from '../training/callbacks';
import { type ClassificationBatch, charTrainData, classificationEvaluator, classificationLoss } from '../training/classification';
import { formatStepSchedule, type StepSchedule } from '../training/schedule';
import { train } from '../training/train';
import type { TrainOptions, TrainResult } from '../training/types';

/** Classifier families. */
export const CHAR_MODELS = ['mlp', 'cnn'] as const;
export type CharModelName = (typeof CHAR_MODELS)[number];

/** glyphlab's CNN for characters, over LeNet-5's defaults: wider convs, one dense layer. */
const CNN_DEFAULTS: LenetOptions = { convFilters: [32, 64], kernelSize: 5, denseUnits: [128], dropout: 0.5, l2: 0.0005 };

/** The fields that are set: `{ a: undefined }` must not hide a default when spread over it. */
function definedOnly<T extends object>(options: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(options ?? {}).filter(([, value]) => value !== undefined)) as Partial<T>;
}

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
export interface CharRunOptions extends CharFitOptions {
  /** Train, validation and test parts (e.g. from `loadCharDataset`). */
  splits: CharSplits;
  /** What the data is, recorded with the run (e.g. 'mnist'). */
  dataName: string;
  /** Model family: the seed's MLP or the LeNet-style CNN. Defaults to 'cnn'. */
  model?: CharModelName;
  /**
   * LeNet options for `model: 'cnn'`, over glyphlab's defaults (conv 32 and 64 of 5x5, dense 128,
   * dropout 0.5, L2 0.0005). `numClasses` and `inputShape` come from the data.
   */
  lenet?: LenetOptions;
  /** MLP options for `model: 'mlp'`, over the seed's (hidden 512 and 512, dropout 0.2). */
  mlp?: MlpOptions;
  /** Epochs. Defaults to the schedule's length with `learningRateSchedule`, else 10. */
  epochs?: number;
  /** Batch size. Defaults to 64. */
  batchSize?: number;
  /** Label smoothing. Defaults to 0.05. */
  labelSmoothing?: number;
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
  /** Database file. Defaults to GLYPHLAB_DB or experiments/glyphlab.db. */
  dbPath?: string;
  /** What started the run. Defaults to the process's command line. */
  source?: string;
  /** More callbacks (progress). Defaults to none. */
  callbacks?: Callback[];
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
  const patience = options.patience ?? 5;
  return {
    fitSet: final ? concatCharDatasets([splits.train, splits.val]) : splits.train,
    evaluate: final ? undefined : classificationEvaluator(splits.val),
    learningRate: schedule ? schedule.schedule(0) : (options.learningRate ?? 0.002),
    learningRateSchedule: schedule?.schedule,
    reduceLrOnPlateau: schedule ? false : { factor: 0.5, patience: 2 },
    earlyStopping: final || patience === 0 ? false : { patience },
    restoreBest: !final,
  };
}

/** Trains and records one classifier run. */
export async function runCharTraining(options: CharRunOptions): Promise<CharRunResult> {
  const { splits } = options;
  const modelName = options.model ?? 'cnn';
  if (!(CHAR_MODELS as readonly string[]).includes(modelName)) throw new ConfigError(`model ${JSON.stringify(modelName)} is not one of: ${CHAR_MODELS.join(', ')}`);
  const fromData = { numClasses: splits.train.classes.length, inputShape: [splits.train.height, splits.train.width, 1] as [number, number, number] };
  const mlpConfig = modelName === 'mlp' ? resolveMlpOptions({ ...definedOnly(options.mlp), ...fromData }) : undefined;
  const lenetConfig = modelName === 'mlp' ? undefined : resolveLenetOptions({ ...CNN_DEFAULTS, ...definedOnly(options.lenet), ...fromData });
  const architecture = mlpConfig ?? lenetConfig;
  const model = mlpConfig ? buildMlp(mlpConfig) : buildLenet(lenetConfig);
  const tracker = new TrackerCallback({
    experiment: options.experiment ?? 'characters',
    name: options.name ?? `${modelName}-${options.dataName}`,
    dbPath: options.dbPath,
    source: options.source,
    tags: options.tags,
  });
  const runDir = (): string => join(resolve(runsDirFor(options.dbPath ?? databasePath())), tracker.runId ?? 'unstarted');
  const batchSize = options.batchSize ?? 64;
  const augment = options.augment ?? true;
  const schedule = options.learningRateSchedule;
  const final = options.final ?? false;
  const { fitSet, ...fit } = charFitOptions(splits, options);
  try {
    const result = await train(model, charTrainData(fitSet, { batchSize, seed: options.seed ?? 0, augment: augment ? {} : false }), {
      ...fit,
      loss: classificationLoss({ labelSmoothing: options.labelSmoothing ?? 0.05 }),
      test: classificationEvaluator(splits.test, { prefix: 'test_' }),
      epochs: options.epochs ?? schedule?.epochs ?? 10,
      clipNorm: 5,
      runDir,
      finalize: async (m) => [{ path: await saveModel(m, join(runDir(), 'model')), kind: 'model' }],
      callbacks: [tracker, ...(options.callbacks ?? [])],
      describe: {
        model: modelName,
        config: {
          architecture,
          data: {
            name: options.dataName,
            classes: splits.train.classes,
            sizes: { train: fitSet.labels.length, val: final ? 0 : splits.val.labels.length, test: splits.test.labels.length },
          },
          final,
          schedule: schedule ? formatStepSchedule(schedule) : null,
          batchSize,
          augment,
          labelSmoothing: options.labelSmoothing ?? 0.05,
        },
      },
    });
    return { runId: tracker.runId!, runDir: runDir(), status: result.status, best: result.best, testMetrics: result.testMetrics };
  } finally {
    model.dispose();
  }
}
