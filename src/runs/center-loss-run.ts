/**
 * The reference implementation's center-loss experiment as recorded runs: start from a trained
 * CRNN run, fine-tune it twice from the same weights with the same data, seed and learning rate,
 * once on CTC alone and once on CTC + center loss, and evaluate both on the normal test split
 * and on a look-alike-rich set. Each variant is one run in the experiment store (experiment
 * 'center-loss', with the base run's architecture params), with the training centers'
 * statistics and the held-out ones per epoch.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError } from '../errors';
import { type BatchSource, createBatchSource } from '../data/equations/batches';
import { type LabeledImage, loadLabeledImages } from '../data/equations/load';
import { lookalikeShare } from '../labels/lookalike';
import { databasePath } from '../util/paths';
import { type Callback, type Logs, TimeBudget } from '../training/callbacks';
import type { CenterLossObjectiveOptions } from '../training/center-loss/objective';
import { heldOutCenterEvaluator } from '../training/center-loss/held-out';
import { trainWithCenterLoss } from '../training/center-loss/fine-tune';
import { combineEvaluators } from '../training/evaluators';
import { loadEquationSplits, spreadSubset } from '../data/equations/split';
import { openRecordedRun, type RecordingOptions } from './recorded-run';
import { loadRunModel, type RunModel } from './run-model';
import { recordedData } from './spec/index';
import { sequenceEvaluator, sequenceTrainData } from '../training/sequence';
import type { EvaluateFn } from '../training/types';
import { percent } from '../util/format';
import { readyBackend } from '../backend/index';

/** One arm of the comparison. */
export interface CenterLossVariant {
  /** Run name, e.g. 'ctc' or 'ctc+center'. */
  name: string;
  /** Center-loss weight; 0 trains on CTC alone (centers are still tracked, for the statistics). */
  lambda: number;
}

/** Options of {@link runCenterLossComparison}. */
export interface CenterLossComparisonOptions extends Omit<RecordingOptions, 'name' | 'callbacks'> {
  /** The trained CRNN run to start from (its saved model). */
  baseRunId: string;
  /** Folder of look-alike-rich images with labels.csv (e.g. from `synthesizeLookalikeSet`). */
  lookalikeDir: string;
  /** Equation data folder. Defaults to the folder the base run trained on, split as it was. */
  dataDir?: string;
  /** Split seed when the folder has no split.json. Defaults to the base run's. */
  splitSeed?: number;
  /** The arms. Defaults to CTC alone (lambda 0) and CTC + center loss (lambda `center.lambda`, 0.003). */
  variants?: CenterLossVariant[];
  /** Center-loss options (alpha, frames, groups) shared by the arms; `lambda` is the default center arm's. */
  center?: CenterLossObjectiveOptions;
  /** Fine-tuning epochs of each arm. Defaults to 2. */
  epochs?: number;
  /** Stop each arm's training after this many minutes. Defaults to none. */
  maxMinutes?: number;
  /** Learning rate of the fine-tuning (the reference implementation fine-tunes gently). Defaults to 1e-4. */
  learningRate?: number;
  /** Batch size. Defaults to 32. */
  batchSize?: number;
  /** Use at most this many images of each split and of the look-alike set. Defaults to all. */
  limit?: { train?: number; val?: number; test?: number; lookalike?: number };
  /** Shuffle seed, the same for every arm. Defaults to 0. */
  seed?: number;
  /** Experiment name. Defaults to 'center-loss'. */
  experiment?: string;
  /** Tags of every arm's run. Defaults to none. */
  tags?: string[];
  /** More callbacks for each arm (progress bars, live curves). Defaults to none. */
  callbacks?: () => Callback[];
  /** Progress messages. Defaults to none. */
  log?: (message: string) => void;
}

/** Accuracy and CER of one model on the test split and the look-alike set. */
export interface CenterLossScores {
  testAccuracy: number;
  testCer: number;
  lookalikeAccuracy: number;
  lookalikeCer: number;
}

/** One arm's outcome. */
export interface CenterLossVariantResult extends CenterLossScores {
  name: string;
  lambda: number;
  runId: string;
  status: string;
  /** Folder of the fine-tuned CRNN (single output, loadable with `loadRunModel`). */
  modelDir?: string;
  /** Every test-time metric the run recorded (test_*, lookalike_*, their held-out center statistics). */
  metrics: Logs;
  history: Logs[];
}

/** What {@link runCenterLossComparison} measured. */
export interface CenterLossComparison {
  baseRunId: string;
  /** The base model before fine-tuning. */
  base: CenterLossScores;
  variants: CenterLossVariantResult[];
  sizes: { train: number; val: number; test: number; lookalike: number };
  /** Share of look-alike characters in the test split and in the look-alike set. */
  lookalikeShare: { test: number; lookalike: number };
}

/** The scores in the logs of the test evaluation (`test_*` and `lookalike_*`); NaN where absent. */
function scoresFromLogs(logs: Logs): CenterLossScores {
  const at = (key: string): number => (typeof logs[key] === 'number' ? (logs[key] as number) : Number.NaN);
  return { testAccuracy: at('test_accuracy'), testCer: at('test_cer'), lookalikeAccuracy: at('lookalike_accuracy'), lookalikeCer: at('lookalike_cer') };
}

/**
 * The arms for a list of center-loss weights: CTC alone (lambda 0), then one arm per weight,
 * named 'ctc+center' when there is one and 'ctc+center <lambda>' when there are several.
 */
export function centerLossVariants(lambdas: readonly number[]): CenterLossVariant[] {
  return [{ name: 'ctc', lambda: 0 }, ...lambdas.map((lambda) => ({ name: lambdas.length === 1 ? 'ctc+center' : `ctc+center ${lambda}`, lambda }))];
}

/** The base run's data, split as the run was, and the look-alike set, each cut to its limit. */
async function loadComparisonData(baseRun: RunModel, lookalikeDir: string, options: CenterLossComparisonOptions) {
  const recorded = recordedData(baseRun.config);
  const folder = options.dataDir ?? recorded.dir;
  if (!folder) throw new ConfigError(`run ${options.baseRunId} did not record its data folder; give dataDir`);
  const dataDir = resolve(folder);
  const split = await loadEquationSplits(dataDir, options.splitSeed ?? recorded.seed ?? 0);
  const lookalikeSet = await loadLabeledImages(lookalikeDir, { check: 'header' });
  const limit = options.limit ?? {};
  const parts: Record<'train' | 'val' | 'test' | 'lookalike', LabeledImage[]> = {
    train: spreadSubset(split.splits.train, limit.train),
    val: spreadSubset(split.splits.val, limit.val),
    test: spreadSubset(split.splits.test, limit.test),
    lookalike: spreadSubset(lookalikeSet.samples, limit.lookalike),
  };
  for (const [name, samples] of Object.entries(parts)) {
    if (samples.length === 0) throw new DataError(`center-loss comparison: the ${name} set is empty (${name === 'lookalike' ? lookalikeDir : dataDir})`);
  }
  return { dataDir, fingerprint: split.fingerprint, parts };
}

/**
 * Fine-tunes the base run's CRNN once per variant (default: CTC alone, then CTC + center loss)
 * and evaluates each on the test split and the look-alike set. Every arm starts from the same
 * saved weights and sees the same batches in the same order.
 *
 * @example
 * synthesizeLookalikeSet({ outDir: 'data/lookalike', count: 1000 });
 * const cmp = await runCenterLossComparison({ baseRunId: '20261122-074452-cf49ee', lookalikeDir: 'data/lookalike', epochs: 1 });
 * cmp.variants.map((v) => [v.name, v.testAccuracy, v.lookalikeAccuracy]);
 */
export async function runCenterLossComparison(options: CenterLossComparisonOptions): Promise<CenterLossComparison> {
  await readyBackend();
  const log = options.log ?? (() => {});
  const dbPath = options.dbPath ?? databasePath();
  const center = options.center ?? {};
  const variants = options.variants ?? centerLossVariants([center.lambda ?? 0.003]);
  if (variants.length === 0) throw new ConfigError('center-loss comparison: give at least one variant');
  for (const v of variants) {
    if (!(v.lambda >= 0) || !Number.isFinite(v.lambda)) throw new ConfigError(`center-loss variant ${JSON.stringify(v.name)}: lambda ${v.lambda} must be a finite number >= 0`);
  }
  const lookalikeDir = resolve(options.lookalikeDir);
  if (!existsSync(join(lookalikeDir, 'labels.csv'))) {
    throw new DataError(`${join(lookalikeDir, 'labels.csv')} does not exist; make the look-alike set first, e.g. synthesizeLookalikeSet({ outDir: ${JSON.stringify(options.lookalikeDir)}, count: 1000 })`);
  }

  // The base run tells where its data was and how it was split, so that its test images stay
  // unseen. Its model is scored once and freed; each arm loads its own copy to train.
  const baseRun = await loadRunModel(options.baseRunId, { dbPath });
  // The base may be named short (its id's suffix, a name): record and report its whole id.
  options = { ...options, baseRunId: baseRun.runId };
  let baseModel: tf.LayersModel | undefined = baseRun.model;
  const sources: BatchSource[] = [];
  try {
    const { dataDir, fingerprint, parts } = await loadComparisonData(baseRun, lookalikeDir, options);
    const sizes = { train: parts.train.length, val: parts.val.length, test: parts.test.length, lookalike: parts.lookalike.length };
    log(`data ${dataDir}: train ${sizes.train}, val ${sizes.val}, test ${sizes.test}; look-alike set ${lookalikeDir}: ${sizes.lookalike}`);

    const seed = options.seed ?? 0;
    const batchSize = options.batchSize ?? 32;
    const epochs = options.epochs ?? 2;
    const [height, width, channels] = baseRun.inputShape;
    const shape = { height, width, channels };
    const open = (samples: LabeledImage[], sourceOptions: { batchSize: number; shuffle?: boolean; seed?: number }): BatchSource => {
      const source = createBatchSource(samples, { ...shape, ...sourceOptions });
      sources.push(source);
      return source;
    };
    const trainSource = open(parts.train, { batchSize, seed });
    const [valSource, testSource, lookalikeSource] = [parts.val, parts.test, parts.lookalike].map((samples) => open(samples, { batchSize: 64, shuffle: false })) as [BatchSource, BatchSource, BatchSource];
    /** Decoding metrics of a held-out set as `<prefix>_*`, and the center statistics of its frames as `<prefix>_center_*`. */
    const heldOutEvaluator = (source: BatchSource, prefix: string): EvaluateFn =>
      combineEvaluators(sequenceEvaluator(source, { prefix }), heldOutCenterEvaluator(() => sequenceTrainData(source).batches(0), { prefix: `${prefix}_center` }));

    log(`evaluating the base model of run ${options.baseRunId}`);
    const base = scoresFromLogs(
      await combineEvaluators(sequenceEvaluator(testSource, { prefix: 'test', loss: false }), sequenceEvaluator(lookalikeSource, { prefix: 'lookalike', loss: false }))(baseModel),
    );
    baseModel.dispose();
    baseModel = undefined;
    log(`base: test ${percent(base.testAccuracy)}, look-alike ${percent(base.lookalikeAccuracy)}`);

    const results: CenterLossVariantResult[] = [];
    for (const variant of variants) results.push(await trainVariant(variant));
    return {
      baseRunId: options.baseRunId,
      base,
      variants: results,
      sizes,
      lookalikeShare: { test: lookalikeShare(parts.test.map((s) => s.label)), lookalike: lookalikeShare(parts.lookalike.map((s) => s.label)) },
    };

    async function trainVariant(variant: CenterLossVariant): Promise<CenterLossVariantResult> {
      const crnn = (await loadRunModel(options.baseRunId, { dbPath })).model;
      const callbacks = [...(options.maxMinutes !== undefined ? [new TimeBudget(options.maxMinutes)] : []), ...(options.callbacks?.() ?? [])];
      const config = {
        variant: variant.name,
        baseRun: options.baseRunId,
        center: { alpha: center.alpha ?? 0.5, frames: center.frames ?? 'all', lambda: variant.lambda },
        data: { dir: dataDir, lookalikeDir, sizes, seed },
        batchSize,
      };
      const recorded = await openRecordedRun(
        { ...options, dbPath, callbacks },
        { experiment: options.experiment ?? 'center-loss', name: variant.name, tags: options.tags ?? [], config, params: { ...baseRun.architecture, model: 'crnn', epochs }, dataFingerprint: fingerprint, logBatches: false },
      );
      log(`training ${variant.name} (lambda ${variant.lambda}) from run ${options.baseRunId}`);
      let objective: { dispose(): void } | undefined;
      try {
        return await recorded.during(async () => {
        const trained = await trainWithCenterLoss(crnn, sequenceTrainData(trainSource), {
          center: { ...center, lambda: variant.lambda },
          evaluate: heldOutEvaluator(valSource, 'val'),
          test: combineEvaluators(heldOutEvaluator(testSource, 'test'), heldOutEvaluator(lookalikeSource, 'lookalike')),
          epochs,
          learningRate: options.learningRate ?? 1e-4,
          clipNorm: 5,
          monitor: 'val_accuracy',
          earlyStopping: false,
          runDir: recorded.runDir,
          // Save the plain CRNN (it shares the two-output model's weights), loadable like any run's model.
          finalize: async () => [await recorded.saveFinalModel(crnn, { model: 'crnn', baseRun: options.baseRunId })],
          callbacks: recorded.callbacks,
        });
        objective = trained.objective;
        const metrics = trained.result.testMetrics ?? {};
        return {
          name: variant.name,
          lambda: variant.lambda,
          runId: recorded.runId,
          status: trained.result.status,
          modelDir: trained.result.status === 'finished' ? join(recorded.runDir, 'model') : undefined,
          metrics,
          history: trained.result.history,
          ...scoresFromLogs(metrics),
        };
        });
      } finally {
        objective?.dispose();
        crnn.dispose();
      }
    }
  } finally {
    baseModel?.dispose();
    await Promise.all(sources.map((s) => s.close()));
  }
}
