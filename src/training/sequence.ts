/**
 * The sequence-recognition task (equation images, CTC): batches as tensors, the CTC loss, and
 * evaluation by decoding (exact-match accuracy and character error rate, as the reference
 * implementation measured).
 */
import * as tf from '@tensorflow/tfjs';
import { decodeLabel } from '../labels/alphabet';
import type { Batch, BatchSource } from '../data/equations/batches';
import { greedyDecode } from '../decode/greedy';
import { grammarDecode } from '../decode/grammar';
import { ctcLoss } from '../losses/ctc';
import { type SequenceMetrics, sequenceMetrics } from '../metrics/sequence';
import type { Logs } from './callbacks';
import type { EvaluateFn, LossFn, TrainBatch, TrainData } from './types';

/** A training batch of the sequence task. */
export interface SequenceBatch extends TrainBatch {
  x: tf.Tensor4D;
  labels: number[][];
  texts: string[];
  paths: string[];
}

/** Makes the model-input tensor of a data batch. */
export function batchToSequenceBatch(batch: Batch): SequenceBatch {
  return { x: tf.tensor4d(batch.images, batch.shape), size: batch.shape[0], labels: batch.labels, texts: batch.texts, paths: batch.paths };
}

/** Training data from a batch source: one reshuffled pass per epoch. */
export function sequenceTrainData(source: BatchSource): TrainData<SequenceBatch> {
  return {
    stepsPerEpoch: source.batchesPerEpoch,
    async *batches(epoch: number) {
      for await (const batch of source.epoch(epoch)) yield batchToSequenceBatch(batch);
    },
  };
}

/** Options of {@link ctcLossFn}. */
export interface CtcLossFnOptions {
  /** The blank's class index. Defaults to the last class (16 for equations). */
  blank?: number;
}

/**
 * The CTC loss of a batch: batch mean of per-sample negative log-likelihoods. Every time step
 * of the model's output is valid input (images are padded to one width, and padding is white
 * background the model learns to read as blank).
 */
export function ctcLossFn(options: CtcLossFnOptions = {}): LossFn<SequenceBatch> {
  return (output, batch) => ctcLoss(firstOutput(output) as tf.Tensor3D, batch.labels, { blank: options.blank, reduction: 'mean' }) as tf.Scalar;
}

/** A multi-output model's first output is the logits by glyphlab's convention. */
function firstOutput(output: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(output) ? (output[0] as tf.Tensor) : output;
}

/** Decoders for evaluation and prediction. */
export type SequenceDecoder = 'greedy' | 'grammar';

/** Options of {@link predictSequences}. */
export interface PredictSequencesOptions {
  /** Decoder. Defaults to 'greedy' (the reference implementation's best path). */
  decoder?: SequenceDecoder;
  /** Beam width of the grammar decoder. Defaults to 20. */
  beamWidth?: number;
  /** Also compute the CTC loss. Defaults to true. */
  loss?: boolean;
  /** Also decode with the grammar decoder into `grammar` (to compare decoders). Defaults to false. */
  withGrammar?: boolean;
  /** Called after each batch with the samples done so far. Defaults to none. */
  onBatch?: (done: number) => void;
}

/** Predictions over a data set. */
export interface SequencePredictions {
  truths: string[];
  predictions: string[];
  paths: string[];
  /** Mean CTC loss (NaN when not asked). */
  loss: number;
  /** Grammar-decoder readings, when `withGrammar` was set. */
  grammar?: string[];
}

/** Logits of one batch in inference mode. */
export function predictLogits(model: tf.LayersModel, x: tf.Tensor): tf.Tensor3D {
  return tf.tidy(() => firstOutput(model.predict(x) as tf.Tensor | tf.Tensor[]) as tf.Tensor3D);
}

/** Decodes logits to texts with the chosen decoder. */
export function decodeTexts(logits: tf.Tensor3D, decoder: SequenceDecoder = 'greedy', beamWidth?: number): string[] {
  if (decoder === 'grammar') return grammarDecode(logits, { from: 'logits', beamWidth }).map((r) => r.text);
  return greedyDecode(logits).map((labels) => decodeLabel(labels));
}

/** Runs the model over one pass of `source` (its epoch 0, in order) and decodes every sample. */
export async function predictSequences(model: tf.LayersModel, source: BatchSource, options: PredictSequencesOptions = {}): Promise<SequencePredictions> {
  const out: SequencePredictions = { truths: [], predictions: [], paths: [], loss: Number.NaN };
  let lossSum = 0;
  for await (const batch of source.epoch(0)) {
    const x = tf.tensor4d(batch.images, batch.shape);
    const logits = predictLogits(model, x);
    x.dispose();
    try {
      if (options.loss ?? true) {
        const loss = tf.tidy(() => ctcLoss(logits, batch.labels, { reduction: 'sum' }));
        lossSum += (await loss.data())[0] ?? Number.NaN;
        loss.dispose();
      }
      out.predictions.push(...decodeTexts(logits, options.decoder, options.beamWidth));
      if (options.withGrammar) (out.grammar ??= []).push(...decodeTexts(logits, 'grammar', options.beamWidth));
    } finally {
      logits.dispose();
    }
    out.truths.push(...batch.texts);
    out.paths.push(...batch.paths);
    options.onBatch?.(out.truths.length);
  }
  if (options.loss ?? true) out.loss = out.truths.length > 0 ? lossSum / out.truths.length : Number.NaN;
  return out;
}

/** Metrics logs with a prefix: `{ <p>_loss, <p>_accuracy, <p>_cer }`. */
export function sequenceLogs(metrics: SequenceMetrics, loss: number, prefix: string): Logs {
  const logs: Logs = { [`${prefix}_accuracy`]: metrics.accuracy, [`${prefix}_cer`]: metrics.characterErrorRate };
  if (Number.isFinite(loss)) logs[`${prefix}_loss`] = loss;
  return logs;
}

/** Options of {@link sequenceEvaluator}. */
export interface SequenceEvaluatorOptions extends PredictSequencesOptions {
  /** Prefix of the log keys. Defaults to 'val'. */
  prefix?: string;
  /** Receives the full metrics and predictions of each evaluation (e.g. to write a report). Defaults to none. */
  onReport?: (metrics: SequenceMetrics, predictions: SequencePredictions) => void | Promise<void>;
}

/**
 * An evaluation for the training loop: decodes `source` and returns `{val_loss, val_accuracy,
 * val_cer}` (or another prefix).
 */
export function sequenceEvaluator(source: BatchSource, options: SequenceEvaluatorOptions = {}): EvaluateFn {
  const prefix = options.prefix ?? 'val';
  return async (model) => {
    const predictions = await predictSequences(model, source, options);
    const metrics = sequenceMetrics(predictions.truths, predictions.predictions);
    await options.onReport?.(metrics, predictions);
    return sequenceLogs(metrics, predictions.loss, prefix);
  };
}
