/** Shared inputs of the center-loss tests: logits whose greedy path a test chooses, and label batches. */
import * as tf from '@tensorflow/tfjs';
import type { LabeledSequenceBatch } from '../../../src/training/center-loss/align';

/** Classes of the equation alphabet with the blank, and the blank's index. */
export const CLASSES = 17;
export const BLANK = 16;

/** Logits of one sample whose argmax follows `path` (one row per frame). */
export function pathLogits(path: number[]): tf.Tensor3D {
  const data = new Float32Array(path.length * CLASSES);
  path.forEach((k, t) => (data[t * CLASSES + k] = 5));
  return tf.tensor3d(data, [1, path.length, CLASSES]);
}

/** A batch of `labels` with a placeholder input. */
export function batchOf(labels: number[][]): LabeledSequenceBatch {
  return { x: tf.zeros([labels.length, 1]), size: labels.length, labels };
}
