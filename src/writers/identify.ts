/**
 * Writer identification end to end, the reference implementation's recipe: random patches from the
 * training lines (re-drawn every epoch), the writer CNN trained by `train` with Adam, and top-1
 * accuracy over held-out lines, each line's patch probabilities averaged into one vote.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors';
import type { Callback, Logs } from '../training/callbacks';
import { train } from '../training/train';
import type { EvaluateFn, TrainData, TrainResult } from '../training/types';
import { createRng, hashString32 } from '../util/rng';
import { buildWriterCnn, patchesToTensor, writerLossFn, type PatchBatch, type WriterCnnOptions } from './model';
import { patchCount, samplePatches, type WriterLineImage, type WriterPatchOptions } from './patches';
import { predictWriterLines } from './line-votes';
import { createSyntheticWriters, synthesizeWriterLines } from './synth-writers';

/** Per-line evaluation of a writer model. */
export interface WriterEvaluation {
  /** Share of lines whose averaged vote names the right writer. */
  lineAccuracy: number;
  /** Share of single patches classified right. */
  patchAccuracy: number;
  /** Mean cross-entropy over patches. */
  loss: number;
  lines: number;
  patches: number;
}

/**
 * Evaluates `model` on `lines`: `evalPatchesPerLine` patches per line (seeded by the line id,
 * so repeated evaluations see the same patches), patch predictions, and each line's mean
 * probability vector as its vote.
 */
export function evaluateWriterLines(
  model: tf.LayersModel,
  lines: readonly WriterLineImage[],
  writerIndex: ReadonlyMap<string, number>,
  options: WriterPatchOptions & { seed?: number | string } = {},
): WriterEvaluation {
  const predictions = predictWriterLines(model, lines, writerIndex, options);
  let lineHits = 0;
  let patchHits = 0;
  let patches = 0;
  let lossSum = 0;
  for (const p of predictions) {
    if (p.predicted === p.truth) lineHits++;
    patchHits += p.patchHits;
    patches += p.patches;
    lossSum += p.lossSum;
  }
  return {
    lineAccuracy: lines.length ? lineHits / lines.length : Number.NaN,
    patchAccuracy: patches ? patchHits / patches : Number.NaN,
    loss: patches ? lossSum / patches : Number.NaN,
    lines: lines.length,
    patches,
  };
}

/** Training data of patches re-drawn each epoch from `lines`, shuffled, in batches. */
export function writerPatchData(
  lines: readonly WriterLineImage[],
  writerIndex: ReadonlyMap<string, number>,
  options: WriterPatchOptions & { batchSize?: number; seed?: number | string } = {},
): TrainData<PatchBatch> {
  const size = options.patchSize ?? 113;
  const perLine = options.trainPatchesPerLine ?? 32;
  const batchSize = options.batchSize ?? 32;
  let patchesPerEpoch = 0;
  for (const line of lines) {
    patchesPerEpoch += patchCount(line.image.width, line.image.height, { size, maxFraction: options.maxFraction, maxPatches: perLine }).taken;
  }
  return {
    stepsPerEpoch: Math.ceil(patchesPerEpoch / batchSize),
    *batches(epoch: number) {
      const all: { patch: Uint8Array; writer: number }[] = [];
      for (const line of lines) {
        const writer = writerIndex.get(line.writerId) as number;
        const sampled = samplePatches(line.image, { size, maxFraction: options.maxFraction, maxPatches: perLine, seed: `train:${options.seed ?? 0}:${epoch}:${line.lineId}` });
        for (const patch of sampled.patches) all.push({ patch, writer });
      }
      createRng(`shuffle:${options.seed ?? 0}:${epoch}`).shuffle(all);
      for (let start = 0; start < all.length; start += batchSize) {
        const chunk = all.slice(start, start + batchSize);
        yield { x: patchesToTensor(chunk.map((c) => c.patch), size), size: chunk.length, writers: chunk.map((c) => c.writer) };
      }
    },
  };
}

/** Options of {@link splitWriterLines}. */
export interface SplitWriterLinesOptions {
  /** Seed of each writer's shuffle. Defaults to 0. */
  seed?: number | string;
  /** Validation lines per writer. Defaults to 2. */
  valLinesPerWriter?: number;
  /** Test lines per writer. Defaults to 3. */
  testLinesPerWriter?: number;
}

/**
 * Splits each writer's lines into test, validation and training lines (a seeded shuffle per
 * writer, so every writer is in every part). Fewer than `val + test + 1` lines for a writer
 * is a ConfigError naming the writer; fewer than 2 writers too.
 */
export function splitWriterLines(
  lines: readonly WriterLineImage[],
  options: SplitWriterLinesOptions = {},
): { writers: string[]; train: WriterLineImage[]; val: WriterLineImage[]; test: WriterLineImage[] } {
  const seed = options.seed ?? 0;
  const valPer = options.valLinesPerWriter ?? 2;
  const testPer = options.testLinesPerWriter ?? 3;
  const byWriter = new Map<string, WriterLineImage[]>();
  for (const line of lines) (byWriter.get(line.writerId) ?? byWriter.set(line.writerId, []).get(line.writerId) as WriterLineImage[]).push(line);
  const writers = [...byWriter.keys()].sort();
  if (writers.length < 2) throw new ConfigError(`writer identification needs at least 2 writers; the lines have ${writers.length}`);
  const split = { writers, train: [] as WriterLineImage[], val: [] as WriterLineImage[], test: [] as WriterLineImage[] };
  for (const writer of writers) {
    const own = createRng(`split:${seed}:${writer}`).shuffle([...(byWriter.get(writer) as WriterLineImage[])]);
    if (own.length < valPer + testPer + 1) {
      throw new ConfigError(`writer ${writer} has ${own.length} lines; needs at least ${valPer + testPer + 1} (val ${valPer} + test ${testPer} + 1 to train)`);
    }
    split.test.push(...own.slice(0, testPer));
    split.val.push(...own.slice(testPer, testPer + valPer));
    split.train.push(...own.slice(testPer + valPer));
  }
  return split;
}

/** Options of {@link runWriterIdentification}. */
export interface WriterIdentificationOptions extends WriterPatchOptions {
  /** Synthetic writers, when `lines` is not given. Defaults to 10. */
  writers?: number;
  /** Lines per synthetic writer (train + val + test). Defaults to 14. */
  linesPerWriter?: number;
  /** Synthetic line height. Defaults to 128. */
  lineHeight?: number;
  /** Widest synthetic line. Defaults to 768. */
  maxLineWidth?: number;
  /** Your own lines (e.g. decoded IAM lines) instead of synthetic ones. Defaults to synthetic. */
  lines?: readonly WriterLineImage[];
  /** Held-out lines per writer for validation (model selection). Defaults to 2. */
  valLinesPerWriter?: number;
  /** Held-out lines per writer for the reported test accuracy. Defaults to 3. */
  testLinesPerWriter?: number;
  /** Seed of data, split and patches. Defaults to 0. */
  seed?: number | string;
  /** Epochs. Defaults to 8. */
  epochs?: number;
  /** Batch size. Defaults to 32. */
  batchSize?: number;
  /** Adam learning rate. Defaults to 1e-3. */
  learningRate?: number;
  /** The CNN's sizes. Defaults to those of {@link buildWriterCnn}. */
  model?: Omit<WriterCnnOptions, 'numWriters' | 'inputSize'>;
  /** Training callbacks, e.g. a `TrackerCallback`. Defaults to none. */
  callbacks?: Callback[];
}

/** What {@link runWriterIdentification} returns. */
export interface WriterIdentificationResult {
  model: tf.LayersModel;
  writers: string[];
  split: { train: number; val: number; test: number };
  /** The lines of each part of the split (the held-out `test` lines give a confusion matrix). */
  lines: { train: WriterLineImage[]; val: WriterLineImage[]; test: WriterLineImage[] };
  training: TrainResult;
  test: WriterEvaluation;
}

/**
 * Splits each writer's lines into train / val / test (seeded shuffle per writer), trains the
 * writer CNN on patches and reports top-1 over held-out test lines. Small by default; a notebook
 * passes full sizes.
 *
 * @example
 * const { test } = await runWriterIdentification({ writers: 10, epochs: 8 });
 * test.lineAccuracy; // share of held-out lines attributed to the right writer
 */
export async function runWriterIdentification(options: WriterIdentificationOptions = {}): Promise<WriterIdentificationResult> {
  const seed = options.seed ?? 0;
  const patchSize = options.patchSize ?? 113;
  const lines =
    options.lines ??
    synthesizeWriterLines(createSyntheticWriters(options.writers ?? 10, { seed, lineHeight: options.lineHeight }), {
      seed,
      linesPerWriter: options.linesPerWriter ?? 14,
      lineHeight: options.lineHeight,
      maxWidth: options.maxLineWidth ?? 768,
    });
  const split = splitWriterLines(lines, { seed, valLinesPerWriter: options.valLinesPerWriter, testLinesPerWriter: options.testLinesPerWriter });
  const writers = split.writers;
  const writerIndex = new Map(writers.map((w, i) => [w, i]));
  const patchOptions: WriterPatchOptions = {
    patchSize,
    maxFraction: options.maxFraction,
    trainPatchesPerLine: options.trainPatchesPerLine,
    evalPatchesPerLine: options.evalPatchesPerLine,
  };
  const model = buildWriterCnn({ numWriters: writers.length, inputSize: patchSize, seed: hashString32(`model:${seed}`) % 100000, ...options.model });
  const logsOf = (e: WriterEvaluation, prefix: string): Logs => ({
    [`${prefix}line_accuracy`]: e.lineAccuracy,
    [`${prefix}patch_accuracy`]: e.patchAccuracy,
    [`${prefix}loss`]: e.loss,
  });
  const evaluate: EvaluateFn = async (m) => logsOf(evaluateWriterLines(m, split.val, writerIndex, { ...patchOptions, seed }), 'val_');
  let test: WriterEvaluation | undefined;
  const training = await train(model, writerPatchData(split.train, writerIndex, { ...patchOptions, batchSize: options.batchSize, seed }), {
    loss: writerLossFn(),
    evaluate: split.val.length > 0 ? evaluate : undefined,
    test: async (m) => {
      test = evaluateWriterLines(m, split.test, writerIndex, { ...patchOptions, seed });
      return logsOf(test, 'test_');
    },
    monitor: split.val.length > 0 ? 'val_line_accuracy' : 'loss',
    epochs: options.epochs ?? 8,
    optimizer: 'adam',
    learningRate: options.learningRate ?? 1e-3,
    callbacks: options.callbacks,
    describe: { model: 'writer_cnn', config: { writers: writers.length, patchSize, ...patchOptions, ...options.model, seed } },
  });
  test ??= evaluateWriterLines(model, split.test, writerIndex, { ...patchOptions, seed });
  return {
    model,
    writers,
    split: { train: split.train.length, val: split.val.length, test: split.test.length },
    lines: { train: split.train, val: split.val, test: split.test },
    training,
    test,
  };
}
