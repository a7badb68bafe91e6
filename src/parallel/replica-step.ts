/**
 * The work of one replica in one data-parallel step, the same on the main thread and in the
 * workers: load the published weights, compute the gradient of this shard's share of the loss
 * and write it into the replica's gradient slot.
 *
 * Shares add up to the one-process step: a shard of n of the batch's N samples contributes
 * (n / N) times its mean loss, so the replicas' gradients sum to the gradient of the batch mean;
 * the layers' regularisation penalties count once (on replica 0). Batch norm sees the whole
 * batch's statistics through the collective, and dropout draws per global sample index.
 */
import * as tf from '@tensorflow/tfjs';
import { disposeBatch, lossGradients } from '../training/gradients';
import type { LossFn, TrainBatch } from '../training/types';
import type { Collective } from './collective';
import type { Shard } from './shard';
import { shardToBatch } from './shard';

/** Writes the values of `tensors` one after another into `out`. */
export function packValues(tensors: readonly tf.Tensor[], out: Float32Array): void {
  let offset = 0;
  for (const t of tensors) {
    const values = t.dataSync();
    out.set(values as Float32Array, offset);
    offset += values.length;
  }
}

/** Sets every weight of `model` from `values` (its weights one after another, as published). */
export function loadPublishedWeights(model: tf.LayersModel, values: Float32Array): void {
  let offset = 0;
  for (const weight of model.weights) {
    const shape = weight.shape as number[];
    const size = shape.reduce((a, b) => a * b, 1);
    const value = tf.tensor(values.subarray(offset, offset + size), shape, 'float32');
    weight.write(value);
    value.dispose();
    offset += size;
  }
}

/** What a replica needs to compute its share of a step. */
export interface ShardStep {
  model: tf.LayersModel;
  /** The variables that train, in the order of the gradient slots. */
  variables: tf.Variable[];
  loss: LossFn;
  collective: Collective;
  /** Samples in the whole step. */
  globalBatch: number;
  /** The run's seed and the global step, for per-sample dropout. */
  seed: number;
  step: number;
  /** Add the layers' regularisation penalties (replica 0 only). */
  penalties: boolean;
}

/** Computes this replica's gradient share of `shard` into its slot; returns its loss share. */
export function computeShardGradients(shard: Shard, options: ShardStep): number {
  const { model, variables, collective } = options;
  const batch = shardToBatch<TrainBatch>(shard);
  try {
    const { value, grads } = lossGradients(model, variables, batch, {
      loss: options.loss,
      scale: shard.size / options.globalBatch,
      penalties: options.penalties,
      step: { seed: options.seed, step: options.step, sampleOffset: shard.offset, reduceBatchNormSums: (sums) => collective.allReduceSum(sums, 'the batch-norm statistics') },
    });
    try {
      const slot = collective.gradientSlot();
      let offset = 0;
      for (const variable of variables) {
        const grad = grads[variable.name];
        if (grad) slot.set(grad.dataSync() as Float32Array, offset);
        else slot.fill(0, offset, offset + variable.size);
        offset += variable.size;
      }
      return (value.dataSync()[0] as number) ?? Number.NaN;
    } finally {
      value.dispose();
      tf.dispose(grads);
    }
  } finally {
    disposeBatch(batch);
  }
}
