/**
 * The seed's center-loss experiment as recorded runs (seeds.md section 3): start from a trained
 * CRNN run, fine-tune it twice from the same weights with the same data, seed and learning rate,
 * once on CTC alone and once on CTC + center loss, and evaluate both on the normal test split
 * and on a look-alike-rich set. Each variant is one run in the experiment store (experiment
 * 'center-loss'), with the training centers' statistics and the held-out ones per epoch.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError } from '../errors';
import { type BatchSource, createBatchSource } from '../data/batches';
import { type LabeledImage, loadLabeledImages } from '../data/load';
import { lookalikeShare } from '../data/lookalike';
import { saveModel } from '../models/io';
import { sequenceMetrics } from '../metrics/sequence';
import { TrackerCallback } from '../tracker/callback';
import { databasePath, runsDirFor } from '../util/paths';
import { type Callback, type Logs, TimeBudget } from './callbacks';
import { type CenterLossObjectiveOptions, combineEvaluators, type LabeledSequenceBatch, heldOutCenterEvaluator, trainWithCenterLoss } from './center-loss';
import { loadEquationSplits } from './equation-run';
import { loadRunModel } from './run-model';
import { predictSequences, sequenceEvaluator, sequenceLogs, sequenceTrainData } from './sequence';

/** One arm of the comparison. */
export interface CenterLossVariant {
  /** Run name, e.g. 'ctc' or 'ctc+center'. */
  name: string;
  /** Center-loss weight; 0 trains on CTC alone (centers are still tracked, for the statistics). */
  lambda: number;
}

/** Options of {@link runCenterLossComparison}. */
export interface CenterLossComparisonOptions {
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
  /** Learning rate of the fine-tuning (the seed fine-tunes gently). Defaults to 1e-4. */
  learningRate?: number;
  /** Batch size. Defaults to 32. */
  batchSize?: number;
  /** Use at most this many images of each split and of the look-alike set. Defaults to all. */
  limit?: { train?: number; valid?: number; test?: number; lookalike?: number };
  /** Shuffle seed, the same for every arm. Defaults to 0. */
  seed?: number;
  /** Experiment name. Defaults to 'center-loss'. */
  experiment?: string;
  /** Tags of every run. Defaults to none. */
  tags?: string[];
  /** Database file. Defaults to GLYPHLAB_DB or experiments/glyphlab.db. */
  dbPath?: string;
  /** What started the runs. Defaults to the process's command line. */
  source?: string;
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
  sizes: { train: number; valid: number; test: number; lookalike: number };
  /** Share of look-alike characters in the test split and in the look-alike set. */
  lookalikeShare: { test: number; lookalike: number };
}

function take<T>(items: readonly T[], limit: number | undefined): T[] {
  return limit === undefined ? [...items] : items.slice(0, limit);
}

async function scoresOf(model: tf.LayersModel, test: BatchSource, lookalike: BatchSource): Promise<CenterLossScores> {
  const t = await predictSequences(model, test, { loss: false });
  const l = await predictSequences(model, lookalike, { loss: false });
  const tm = sequenceMetrics(t.truths, t.predictions);
  const lm = sequenceMetrics(l.truths, l.predictions);
  return { testAccuracy: tm.accuracy, testCer: tm.characterErrorRate, lookalikeAccuracy: lm.accuracy, lookalikeCer: lm.characterErrorRate };
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
  const log = options.log ?? (() => {});
  const dbPath = options.dbPath ?? databasePath();
  const center = options.center ?? {};
  const variants = options.variants ?? [
    { name: 'ctc', lambda: 0 },
    { name: 'ctc+center', lambda: center.lambda ?? 0.003 },
  ];
  if (variants.length === 0) throw new ConfigError('center-loss comparison: give at least one variant');
  for (const v of variants) {
    if (!(v.lambda >= 0) || !Number.isFinite(v.lambda)) throw new ConfigError(`center-loss variant ${JSON.stringify(v.name)}: lambda ${v.lambda} must be a finite number >= 0`);
  }
  const lookalikeDir = resolve(options.lookalikeDir);
  if (!existsSync(join(lookalikeDir, 'labels.csv'))) {
    throw new DataError(`${join(lookalikeDir, 'labels.csv')} does not exist; make the look-alike set first, e.g. synthesizeLookalikeSet({ outDir: ${JSON.stringify(options.lookalikeDir)}, count: 1000 })`);
  }

  // The base run tells where its data was and how it was split, so that its test images stay unseen.
  const probe = await loadRunModel(options.baseRunId, { dbPath });
  const [height, width, channels] = probe.inputShape;
  probe.model.dispose();
  const baseData = (probe.config?.['data'] ?? {}) as { dir?: string; seed?: number };
  const dataDir = options.dataDir ?? baseData.dir;
  if (!dataDir) throw new ConfigError(`run ${options.baseRunId} did not record its data folder; give dataDir`);
  const split = await loadEquationSplits(dataDir, options.splitSeed ?? baseData.seed ?? 0);
  const lookalikeSet = await loadLabeledImages(lookalikeDir, { check: 'header' });
  const limit = options.limit ?? {};
  const parts: Record<'train' | 'valid' | 'test' | 'lookalike', LabeledImage[]> = {
    train: take(split.splits.train, limit.train),
    valid: take(split.splits.valid, limit.valid),
    test: take(split.splits.test, limit.test),
    lookalike: take(lookalikeSet.samples, limit.lookalike),
  };
  for (const [name, samples] of Object.entries(parts)) {
    if (samples.length === 0) throw new DataError(`center-loss comparison: the ${name} set is empty (${name === 'lookalike' ? lookalikeDir : dataDir})`);
  }
  const sizes = { train: parts.train.length, valid: parts.valid.length, test: parts.test.length, lookalike: parts.lookalike.length };
  log(`data ${dataDir}: train ${sizes.train}, valid ${sizes.valid}, test ${sizes.test}; look-alike set ${lookalikeDir}: ${sizes.lookalike}`);

  const seed = options.seed ?? 0;
  const batchSize = options.batchSize ?? 32;
  const shape = { height, width, channels: channels as 1 | 3 };
  const evalSource = (samples: LabeledImage[]): BatchSource => createBatchSource(samples, { ...shape, batchSize: 64, shuffle: false });
  const trainSource = createBatchSource(parts.train, { ...shape, batchSize, seed });
  const validSource = evalSource(parts.valid);
  const testSource = evalSource(parts.test);
  const lookalikeSource = evalSource(parts.lookalike);
  const sources = [trainSource, validSource, testSource, lookalikeSource];
  const heldOut = (source: BatchSource): (() => AsyncIterable<LabeledSequenceBatch> | Iterable<LabeledSequenceBatch>) => () => sequenceTrainData(source).batches(0);

  try {
    const base = await (async () => {
      const loaded = await loadRunModel(options.baseRunId, { dbPath });
      try {
        log(`evaluating the base model of run ${options.baseRunId}`);
        return await scoresOf(loaded.model, testSource, lookalikeSource);
      } finally {
        loaded.model.dispose();
      }
    })();
    log(`base: test ${(base.testAccuracy * 100).toFixed(2)}%, look-alike ${(base.lookalikeAccuracy * 100).toFixed(2)}%`);

    const results: CenterLossVariantResult[] = [];
    for (const variant of variants) {
      results.push(await trainVariant(variant));
    }
    return {
      baseRunId: options.baseRunId,
      base,
      variants: results,
      sizes,
      lookalikeShare: { test: lookalikeShare(parts.test.map((s) => s.label)), lookalike: lookalikeShare(parts.lookalike.map((s) => s.label)) },
    };
  } finally {
    await Promise.all(sources.map((s) => s.close()));
  }

  async function trainVariant(variant: CenterLossVariant): Promise<CenterLossVariantResult> {
    const loaded = await loadRunModel(options.baseRunId, { dbPath });
    const crnn = loaded.model;
    const tracker = new TrackerCallback({ experiment: options.experiment ?? 'center-loss', name: variant.name, dbPath, source: options.source, tags: options.tags });
    const runDir = (): string => join(resolve(runsDirFor(dbPath)), tracker.runId ?? 'unstarted');
    log(`training ${variant.name} (lambda ${variant.lambda}) from run ${options.baseRunId}`);
    let objective: { dispose(): void } | undefined;
    try {
      const trained = await trainWithCenterLoss(crnn, sequenceTrainData(trainSource), {
        center: { ...center, lambda: variant.lambda },
        evaluate: combineEvaluators(sequenceEvaluator(validSource), heldOutCenterEvaluator(heldOut(validSource))),
        test: async (m) => {
          const logs: Logs = {};
          for (const [prefix, source] of [['test', testSource], ['lookalike', lookalikeSource]] as const) {
            const predictions = await predictSequences(m, source);
            Object.assign(logs, sequenceLogs(sequenceMetrics(predictions.truths, predictions.predictions), predictions.loss, prefix));
            Object.assign(logs, await heldOutCenterEvaluator(heldOut(source), { prefix: `${prefix}_center` })(m));
          }
          return logs;
        },
        epochs: options.epochs ?? 2,
        learningRate: options.learningRate ?? 1e-4,
        clipNorm: 5,
        monitor: 'val_accuracy',
        earlyStopping: false,
        runDir,
        // Save the plain CRNN (it shares the two-output model's weights), loadable like any run's model.
        finalize: async () => [{ path: await saveModel(crnn, join(runDir(), 'model'), { meta: { model: 'crnn', baseRun: options.baseRunId } }), kind: 'model' }],
        callbacks: [tracker, ...(options.maxMinutes !== undefined ? [new TimeBudget(options.maxMinutes)] : []), ...(options.callbacks?.() ?? [])],
        describe: {
          model: 'crnn',
          dataFingerprint: split.fingerprint,
          config: {
            variant: variant.name,
            baseRun: options.baseRunId,
            center: { alpha: center.alpha ?? 0.5, frames: center.frames ?? 'all', lambda: variant.lambda },
            data: { dir: resolve(dataDir as string), lookalikeDir, sizes, seed },
            batchSize,
          },
        },
      });
      objective = trained.objective;
      const metrics = trained.result.testMetrics ?? {};
      const at = (key: string): number => (typeof metrics[key] === 'number' ? (metrics[key] as number) : Number.NaN);
      return {
        name: variant.name,
        lambda: variant.lambda,
        runId: tracker.runId as string,
        status: trained.result.status,
        modelDir: trained.result.status === 'finished' ? join(runDir(), 'model') : undefined,
        metrics,
        history: trained.result.history,
        testAccuracy: at('test_accuracy'),
        testCer: at('test_cer'),
        lookalikeAccuracy: at('lookalike_accuracy'),
        lookalikeCer: at('lookalike_cer'),
      };
    } finally {
      objective?.dispose();
      crnn.dispose();
    }
  }
}
