/**
 * The reference implementation's writer-identification CNN: three conv + max-pool blocks, dense
 * layers, and a softmax over writers, trained with Adam on random line patches.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors';
import type { LossFn, TrainBatch } from '../training/types';

/** Options of {@link buildWriterCnn}. */
export interface WriterCnnOptions {
  /** Number of writers (softmax classes). */
  numWriters: number;
  /** Side of the square grayscale input. Defaults to 113 (the reference implementation's patch size). */
  inputSize?: number;
  /** Filters of the three conv blocks. Defaults to [32, 64, 128]. */
  convFilters?: [number, number, number];
  /** Units of the hidden dense layers. Defaults to [256]. */
  denseUnits?: number[];
  /** Dropout before each dense layer. Defaults to 0.5. */
  dropout?: number;
  /** Seed of the weight initialisers, for reproducible runs. Defaults to random initial weights. */
  seed?: number;
  /** Model name. Defaults to 'writer_cnn'. */
  name?: string;
}

/**
 * Builds the writer CNN: input `[size, size, 1]`, three blocks of 3x3 conv (ReLU) + 2x2 max
 * pooling, flatten, dense ReLU layers with dropout, softmax over writers.
 *
 * @example
 * const model = buildWriterCnn({ numWriters: 50 });
 */
export function buildWriterCnn(options: WriterCnnOptions): tf.LayersModel {
  const numWriters = options.numWriters;
  const size = options.inputSize ?? 113;
  const filters = options.convFilters ?? [32, 64, 128];
  const dense = options.denseUnits ?? [256];
  const dropout = options.dropout ?? 0.5;
  if (!Number.isInteger(numWriters) || numWriters < 2) throw new ConfigError(`writer CNN needs at least 2 writers, got ${numWriters}`);
  if (!Number.isInteger(size) || size < 8) throw new ConfigError(`writer CNN input size ${size} must be an integer >= 8 (three 2x2 poolings)`);
  if (filters.length !== 3) throw new ConfigError(`writer CNN has three conv blocks; convFilters has ${filters.length} entries`);
  let layerIndex = 0;
  const init = (): ReturnType<typeof tf.initializers.glorotUniform> | 'glorotUniform' =>
    options.seed === undefined ? 'glorotUniform' : tf.initializers.glorotUniform({ seed: options.seed * 101 + layerIndex++ });
  const input = tf.input({ shape: [size, size, 1], name: 'patch' });
  let x: tf.SymbolicTensor = input;
  filters.forEach((f, i) => {
    x = tf.layers.conv2d({ filters: f, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(), name: `conv${i + 1}` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `pool${i + 1}` }).apply(x) as tf.SymbolicTensor;
  });
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  dense.forEach((units, i) => {
    if (dropout > 0) x = tf.layers.dropout({ rate: dropout, name: `dropout${i + 1}` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.dense({ units, activation: 'relu', kernelInitializer: init(), name: `dense${i + 1}` }).apply(x) as tf.SymbolicTensor;
  });
  const output = tf.layers.dense({ units: numWriters, activation: 'softmax', kernelInitializer: init(), name: 'writer' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name: options.name ?? 'writer_cnn' });
}

/** A batch of patches with the writer index of each. */
export interface PatchBatch extends TrainBatch {
  x: tf.Tensor4D;
  writers: number[];
}

/** Categorical cross-entropy of softmax outputs against writer indices, the batch mean. */
export function writerLossFn(): LossFn<PatchBatch> {
  return (output, batch) => {
    const probabilities = (Array.isArray(output) ? output[0] : output) as tf.Tensor2D;
    const numWriters = probabilities.shape[1];
    const targets = tf.oneHot(tf.tensor1d(batch.writers, 'int32'), numWriters);
    const logProbabilities = tf.log(tf.clipByValue(probabilities, 1e-7, 1));
    return tf.neg(tf.mean(tf.sum(tf.mul(targets, logProbabilities), 1))) as tf.Scalar;
  };
}

/** Model input of grayscale patches: `[n, size, size, 1]`, ink high (`1 - x/255`), so padding is zero. */
export function patchesToTensor(patches: readonly Uint8Array[], size: number): tf.Tensor4D {
  const data = new Float32Array(patches.length * size * size);
  patches.forEach((patch, i) => {
    if (patch.length !== size * size) throw new ConfigError(`patch ${i} has ${patch.length} pixels; a ${size}x${size} patch has ${size * size}`);
    const offset = i * size * size;
    for (let p = 0; p < patch.length; p++) data[offset + p] = 1 - (patch[p] as number) / 255;
  });
  return tf.tensor4d(data, [patches.length, size, size, 1]);
}
