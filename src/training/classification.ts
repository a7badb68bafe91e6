/**
 * The classification task for the training loop (digits and letters): a softmax
 * cross-entropy loss on logits with optional label smoothing and the model's L2 penalties, and
 * evaluators that report loss, accuracy and weighted F1 on a held-out data set. Models output
 * logits (see `buildMlp`, `buildLenet`).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError } from '../errors';
import { type CharDataset, charDatasetSize } from '../data/characters/dataset';
import { augmentChar, type CharAugmentOptions } from '../data/characters/augment';
import { createRng } from '../util/rng';
import { classificationReport, type ClassificationReport } from '../metrics/classification';
import type { Logs } from './callbacks';
import type { EvaluateFn, LossFn, TrainBatch, TrainData } from './types';

/** A classification batch: images plus their class indices (plain numbers, so nothing leaks). */
export interface ClassificationBatch extends TrainBatch {
  x: tf.Tensor4D;
  /** Class index of each sample. */
  labels: Int32Array;
  /** Number of classes, for one-hot targets. */
  numClasses: number;
}

export interface CharTrainDataOptions {
  /** Samples per batch. Defaults to 32. */
  batchSize?: number;
  /** Seed of the per-epoch shuffle and the augmentation. Defaults to 0. */
  seed?: number | string;
  /** Augment training images on the fly; `true` for the defaults. Defaults to false. */
  augment?: CharAugmentOptions | boolean;
  /** Shuffle every epoch. Defaults to true. */
  shuffle?: boolean;
}

/**
 * Adapts a data set to the training loop's `TrainData`: every epoch is a fresh, seeded
 * permutation (epoch `e` always gives the same order for the same seed, so resumed runs see the
 * same batches), optionally augmented. The last batch may be smaller.
 */
export function charTrainData(dataset: CharDataset, options: CharTrainDataOptions = {}): TrainData<ClassificationBatch> {
  const batchSize = options.batchSize ?? 32;
  const seed = options.seed ?? 0;
  const shuffle = options.shuffle ?? true;
  const augment = options.augment === true ? {} : options.augment === false || options.augment === undefined ? undefined : options.augment;
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new ConfigError(`batchSize must be a positive integer, got ${batchSize}`);
  const n = charDatasetSize(dataset);
  if (n === 0) throw new DataError('charTrainData: the training set is empty');
  const { height, width } = dataset;
  const pixels = height * width;
  const numClasses = dataset.classes.length;
  return {
    stepsPerEpoch: Math.ceil(n / batchSize),
    *batches(epoch: number): Iterable<ClassificationBatch> {
      const rng = createRng(`char-batches:${seed}:${epoch}`);
      const order = Array.from({ length: n }, (_, i) => i);
      if (shuffle) rng.shuffle(order);
      for (let start = 0; start < n; start += batchSize) {
        const size = Math.min(batchSize, n - start);
        const pixelsOut = new Float32Array(size * pixels);
        const labels = new Int32Array(size);
        for (let i = 0; i < size; i++) {
          const index = order[start + i]!;
          const image = dataset.images.subarray(index * pixels, (index + 1) * pixels);
          pixelsOut.set(augment ? augmentChar(image, width, height, rng, augment) : image, i * pixels);
          labels[i] = dataset.labels[index]!;
        }
        yield { x: tf.tensor4d(pixelsOut, [size, height, width, 1]), size, labels, numClasses };
      }
    },
  };
}

export interface ClassificationLossOptions {
  /** Label smoothing in [0, 1): targets become (1 - s) one-hot + s / classes. Defaults to 0. */
  labelSmoothing?: number;
  /**
   * Add this model's regularisation penalties (its layers' L2 terms) to the loss, for custom loops
   * that call the model directly. Not with `train()`, which adds them itself. Defaults to none.
   */
  model?: tf.LayersModel;
}

function logitsOf(output: tf.Tensor | tf.Tensor[]): tf.Tensor2D {
  const logits = Array.isArray(output) ? output[0] : output;
  if (!logits || logits.rank !== 2) {
    throw new ConfigError(`classification loss: expected one [batch, classes] logits tensor, got shape [${logits?.shape.join(', ') ?? 'none'}]`);
  }
  return logits as tf.Tensor2D;
}

/**
 * The loss of a classification batch: mean softmax cross-entropy between the logits and
 * (smoothed) one-hot labels, plus the model's regularisation terms when `model` is given.
 *
 * @example
 * const loss = classificationLoss({ labelSmoothing: 0.1, model });
 * optimizer.minimize(() => loss(model.apply(batch.x, { training: true }) as tf.Tensor, batch));
 */
export function classificationLoss(options: ClassificationLossOptions = {}): LossFn<ClassificationBatch> {
  const labelSmoothing = options.labelSmoothing ?? 0;
  if (!(labelSmoothing >= 0 && labelSmoothing < 1)) throw new ConfigError(`labelSmoothing must be in [0, 1), got ${labelSmoothing}`);
  const model = options.model;
  return (output, batch) =>
    tf.tidy(() => {
      const logits = logitsOf(output);
      const targets = tf.oneHot(tf.tensor1d(batch.labels, 'int32'), batch.numClasses);
      let loss = tf.losses.softmaxCrossEntropy(targets, logits, undefined, labelSmoothing) as tf.Scalar;
      if (model) for (const penalty of model.calculateLosses()) loss = tf.add(loss, penalty);
      return loss;
    });
}

export interface PredictClassesOptions {
  /** Images per forward pass. Defaults to 256. */
  batchSize?: number;
}

/** Predictions of a classifier over a whole data set. */
export interface ClassPredictions {
  /** Arg-max class of each image. */
  predictions: Int32Array;
  /** Softmax probabilities, `[n, classes]` row-major. */
  probabilities: Float32Array;
  /** Mean cross-entropy against the data set's labels (no smoothing, no penalties). */
  loss: number;
}

/** Runs the model in inference mode over the data set in batches, leaking no tensors. */
export function predictClasses(model: tf.LayersModel, dataset: CharDataset, options: PredictClassesOptions = {}): ClassPredictions {
  const batchSize = options.batchSize ?? 256;
  const n = dataset.labels.length;
  const k = dataset.classes.length;
  const pixels = dataset.height * dataset.width;
  const predictions = new Int32Array(n);
  const probabilities = new Float32Array(n * k);
  let lossSum = 0;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const [probs, argmax, lossTotal] = tf.tidy(() => {
      const x = tf.tensor4d(dataset.images.subarray(start * pixels, (start + size) * pixels), [size, dataset.height, dataset.width, 1]);
      const logits = logitsOf(model.predict(x) as tf.Tensor | tf.Tensor[]);
      if (logits.shape[1] !== k) {
        throw new ConfigError(`the model has ${logits.shape[1]} outputs but the data set has ${k} classes`);
      }
      const targets = tf.oneHot(tf.tensor1d(dataset.labels.subarray(start, start + size), 'int32'), k);
      const ce = tf.losses.softmaxCrossEntropy(targets, logits, undefined, 0, tf.Reduction.SUM);
      return [tf.softmax(logits), tf.argMax(logits, 1), ce];
    });
    probabilities.set(probs.dataSync(), start * k);
    predictions.set(argmax.dataSync(), start);
    lossSum += lossTotal.dataSync()[0]!;
    tf.dispose([probs, argmax, lossTotal]);
  }
  return { predictions, probabilities, loss: n > 0 ? lossSum / n : 0 };
}

export interface ClassificationEvaluatorOptions extends PredictClassesOptions {
  /** Prefix of the log keys. Defaults to 'val_' (use 'test_' for the final evaluation). */
  prefix?: string;
}

/**
 * An `EvaluateFn` for the training loop: `{val_loss, val_accuracy, val_weighted_f1}` (with the
 * chosen prefix) of the model on `dataset`.
 *
 * @example
 * await train(model, charTrainData(splits.train), { loss, evaluate: classificationEvaluator(splits.val), test: classificationEvaluator(splits.test, { prefix: 'test_' }) });
 */
export function classificationEvaluator(dataset: CharDataset, options: ClassificationEvaluatorOptions = {}): EvaluateFn {
  const prefix = options.prefix ?? 'val_';
  return async (model) => {
    const result = predictClasses(model, dataset, options);
    const report = classificationReport(dataset.labels, result.predictions, dataset.classes);
    const logs: Logs = {
      [`${prefix}loss`]: result.loss,
      [`${prefix}accuracy`]: report.accuracy,
      [`${prefix}weighted_f1`]: report.weightedF1,
    };
    return logs;
  };
}

/** A full evaluation: metrics, per-class breakdown, and which samples were wrong. */
export interface ClassifierEvaluation extends ClassificationReport {
  loss: number;
  predictions: Int32Array;
  /** Indices (into the data set) of misclassified samples, most confident mistakes first. */
  misclassified: number[];
}

/**
 * Evaluates a classifier on a data set: accuracy, weighted F1, confusion matrix, per-class
 * metrics, and the misclassified samples sorted by how confident the wrong prediction was.
 */
export function evaluateClassifier(model: tf.LayersModel, dataset: CharDataset, options: PredictClassesOptions = {}): ClassifierEvaluation {
  return evaluatePredictions(predictClasses(model, dataset, options), dataset);
}

/**
 * Evaluates an ensemble: the mean of the members' softmax probabilities, arg-maxed. Members must
 * share the data set's classes. Returns the ensemble's evaluation and each member's.
 */
export function evaluateEnsemble(
  models: readonly tf.LayersModel[],
  dataset: CharDataset,
  options: PredictClassesOptions = {},
): { ensemble: ClassifierEvaluation; members: ClassifierEvaluation[] } {
  if (models.length === 0) throw new ConfigError('an ensemble needs at least one model');
  const results = models.map((model) => predictClasses(model, dataset, options));
  return { ensemble: evaluatePredictions(averagePredictions(results, dataset), dataset), members: results.map((r) => evaluatePredictions(r, dataset)) };
}

/** The mean of several predictions' probabilities over one data set, its arg-max and cross-entropy. */
function averagePredictions(results: readonly ClassPredictions[], dataset: CharDataset): ClassPredictions {
  const k = dataset.classes.length;
  const n = dataset.labels.length;
  const probabilities = new Float32Array(n * k);
  for (const result of results) for (let i = 0; i < probabilities.length; i++) probabilities[i]! += result.probabilities[i]! / results.length;
  const predictions = new Int32Array(n);
  let lossSum = 0;
  for (let i = 0; i < n; i++) {
    const row = probabilities.subarray(i * k, (i + 1) * k);
    let best = 0;
    for (let c = 1; c < k; c++) if (row[c]! > row[best]!) best = c;
    predictions[i] = best;
    lossSum -= Math.log(Math.max(row[dataset.labels[i]!]!, 1e-12));
  }
  return { predictions, probabilities, loss: n > 0 ? lossSum / n : 0 };
}

function evaluatePredictions(result: ClassPredictions, dataset: CharDataset): ClassifierEvaluation {
  const report = classificationReport(dataset.labels, result.predictions, dataset.classes);
  const k = dataset.classes.length;
  const misclassified: number[] = [];
  for (let i = 0; i < result.predictions.length; i++) if (result.predictions[i] !== dataset.labels[i]) misclassified.push(i);
  const confidence = (i: number): number => result.probabilities[i * k + result.predictions[i]!]!;
  misclassified.sort((a, b) => confidence(b) - confidence(a));
  return { ...report, loss: result.loss, predictions: result.predictions, misclassified };
}
