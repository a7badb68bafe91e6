/**
 * Splitting a training batch into per-replica shards that can cross a thread boundary, and
 * turning a shard back into a batch. A field is per sample when it is a tensor (or list of
 * tensors) whose first axis is the batch, or an array with one entry per sample; other fields
 * (class counts and the like) go to every shard unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import type { TrainBatch } from '../training/types';

type TypedData = Float32Array | Int32Array | Uint8Array;

/** A tensor as plain data. */
interface PlainTensor {
  shape: number[];
  dtype: tf.DataType;
  data: TypedData;
}

type ShardField = { tensor: PlainTensor } | { tensors: PlainTensor[] } | { samples: unknown[] | TypedData } | { value: unknown };

function isTypedArray(value: unknown): value is TypedData {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}

/** One replica's part of a batch, as structured-cloneable data. */
export interface Shard {
  /** Samples in the shard. */
  size: number;
  /** Index of its first sample in the global batch. */
  offset: number;
  fields: Record<string, ShardField>;
}

/** Sample counts of `parts` near-equal shards of `size` samples (earlier shards get the remainder). */
export function shardSizes(size: number, parts: number): number[] {
  const base = Math.floor(size / parts);
  return Array.from({ length: parts }, (_, i) => base + (i < size % parts ? 1 : 0));
}

function sliceTensor(data: TypedData, shape: number[], dtype: tf.DataType, start: number, count: number): PlainTensor {
  const perSample = shape.slice(1).reduce((a, b) => a * b, 1);
  return { shape: [count, ...shape.slice(1)], dtype, data: data.slice(start * perSample, (start + count) * perSample) };
}

/**
 * Splits `batch` into `parts` shards of near-equal size, in sample order.
 *
 * @example
 * const [mine, theirs] = splitBatch(batch, 2);
 */
export function splitBatch(batch: TrainBatch, parts: number): Shard[] {
  const sizes = shardSizes(batch.size, parts);
  const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
  const perSample = (t: tf.Tensor): boolean => t.rank > 0 && t.shape[0] === batch.size;
  const fields: [string, (start: number, count: number) => ShardField][] = [];
  for (const [name, value] of Object.entries(batch)) {
    if (name === 'size') continue;
    if (value instanceof tf.Tensor && perSample(value)) {
      const data = value.dataSync() as TypedData;
      fields.push([name, (start, count) => ({ tensor: sliceTensor(data, value.shape, value.dtype, start, count) })]);
    } else if (Array.isArray(value) && value.length > 0 && value.every((v) => v instanceof tf.Tensor && perSample(v))) {
      const all = (value as tf.Tensor[]).map((t) => ({ data: t.dataSync() as TypedData, shape: t.shape, dtype: t.dtype }));
      fields.push([name, (start, count) => ({ tensors: all.map((t) => sliceTensor(t.data, t.shape, t.dtype, start, count)) })]);
    } else if ((Array.isArray(value) || isTypedArray(value)) && value.length === batch.size) {
      // One entry per sample: label lists, class indices (a typed array stays one), texts, paths.
      fields.push([name, (start, count) => ({ samples: value.slice(start, start + count) })]);
    } else if (value instanceof tf.Tensor || (Array.isArray(value) && value.some((v) => v instanceof tf.Tensor))) {
      throw new Error(`batch field '${name}' holds a tensor without one row per sample; it cannot be split across replicas`);
    } else {
      fields.push([name, () => ({ value })]);
    }
  }
  return sizes.map((size, i) => ({
    size,
    offset: offsets[i] as number,
    fields: Object.fromEntries(fields.map(([name, make]) => [name, make(offsets[i] as number, size)])),
  }));
}

function toTensor(plain: PlainTensor): tf.Tensor {
  return tf.tensor(plain.data, plain.shape, plain.dtype);
}

/** The batch of a shard, with fresh tensors (the caller disposes them). */
export function shardToBatch<B extends TrainBatch>(shard: Shard): B {
  const batch: Record<string, unknown> = { size: shard.size };
  for (const [name, field] of Object.entries(shard.fields)) {
    if ('tensor' in field) batch[name] = toTensor(field.tensor);
    else if ('tensors' in field) batch[name] = field.tensors.map(toTensor);
    else if ('samples' in field) batch[name] = field.samples;
    else batch[name] = field.value;
  }
  return batch as unknown as B;
}
