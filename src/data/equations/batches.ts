/**
 * Streaming batches for training: an async source that reads images from disk batch by batch
 * (never the whole set in memory), reshuffles every epoch from a seed, and decodes and
 * preprocesses a few batches ahead of the consumer on worker threads, so that the work
 * overlaps with training on the main thread. It yields plain typed arrays; the training loop
 * makes the tensors.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { ConfigError, DataError } from '../../errors';
import { createRng } from '../../util/rng';
import { encodeLabel } from '../../labels/alphabet';
import type { AugmentOptions } from './augment';
import { type PreprocessParams, preprocessBatch } from './batch-preprocess';
import { MAX_WORKER_THREADS, startScriptWorker } from '../../util/script-worker';

/** One batch: images `[size, height, width, channels]` in [-1, 1] and CTC labels. */
export interface Batch {
  images: Float32Array;
  shape: [number, number, number, number];
  /** Label class indices per sample. */
  labels: number[][];
  /** Length of each label. */
  labelLengths: Int32Array;
  /** The label texts, for accuracy and display. */
  texts: string[];
  /** The image paths, in batch order. */
  paths: string[];
  epoch: number;
  /** Index of the batch within its epoch. */
  index: number;
}

export interface BatchSourceOptions {
  /** Samples per batch. Defaults to 32. */
  batchSize?: number;
  /** Model input height; images are resized to it keeping the aspect ratio. Defaults to 64. */
  height?: number;
  /** Model input width; narrower images are padded with white on the right, wider ones cropped. Defaults to 300. */
  width?: number;
  /** 1: grayscale (custom model), 3: RGB (VGG19). Defaults to 1. */
  channels?: 1 | 3;
  /** Shuffle seed; epoch `e` uses order `createRng(`${seed}:epoch:${e}`)`. Defaults to 0. */
  seed?: number | string;
  /** Reshuffle every epoch. Defaults to true. */
  shuffle?: boolean;
  /** Batches prepared ahead of the consumer. Defaults to 3. */
  prefetch?: number;
  /** Drop the last, smaller batch of an epoch. Defaults to false. */
  dropRemainder?: boolean;
  /** Augmentation options, or false for none. Defaults to false. */
  augment?: AugmentOptions | false;
  /**
   * Worker threads that decode and preprocess, started as batches need them (at most `prefetch`
   * + 1 are ever busy at once); 0 does it on the calling thread. Defaults to min(2, cores).
   */
  workers?: number;
}

/** A reusable, epoch-aware batch source. */
export interface BatchSource {
  readonly size: number;
  readonly batchesPerEpoch: number;
  readonly inputShape: [number, number, number];
  /** The batches of epoch `epoch`, in that epoch's order. */
  epoch(epoch: number): AsyncGenerator<Batch>;
  /** Worker threads started so far: they start as batches need them, at most `workers`. */
  readonly workersStarted: number;
  /** Stops the worker threads (idle workers never keep the process alive, so this is optional). */
  close(): Promise<void>;
}

interface PendingJob {
  resolve: (images: Float32Array) => void;
  reject: (error: Error) => void;
}

/**
 * Worker threads that preprocess whole batches, so decoding runs beside training on the other
 * cores. A worker starts when a batch finds every started one busy, up to `limit`: no more
 * batches are ever in flight than the prefetch depth allows, so a large `workers` costs no
 * threads (nor their start-up time, during which nothing else could happen) that would sit idle.
 * Workers are unreferenced while idle, so a forgotten source never keeps the process alive.
 */
class BatchWorkerPool {
  private readonly workers: Worker[] = [];
  private readonly busy: number[] = [];
  private readonly pending = new Map<number, PendingJob & { worker: number }>();
  private nextId = 0;

  constructor(private readonly limit: number) {}

  /** Worker threads started so far. */
  get started(): number {
    return this.workers.length;
  }

  private start(): number {
    const w = this.workers.length;
    const worker = startScriptWorker(__dirname, 'batch-worker', __filename);
    worker.unref();
    worker.on('message', (message: { id: number; images?: Float32Array; error?: string }) => {
      const job = this.pending.get(message.id);
      if (!job) return;
      this.pending.delete(message.id);
      this.release(job.worker);
      if (message.error !== undefined || !message.images) job.reject(new DataError(message.error ?? 'batch worker returned no images'));
      else job.resolve(message.images);
    });
    worker.on('error', (error) => {
      for (const [id, job] of this.pending) {
        if (job.worker !== w) continue;
        this.pending.delete(id);
        job.reject(error);
      }
    });
    this.workers.push(worker);
    this.busy.push(0);
    return w;
  }

  private release(w: number): void {
    this.busy[w] = (this.busy[w] ?? 1) - 1;
    if (this.busy[w] === 0) this.workers[w]?.unref();
  }

  /** An idle worker, else a new one while under the limit, else the least busy. */
  private pick(): number {
    const idle = this.busy.findIndex((n) => n === 0);
    if (idle >= 0) return idle;
    if (this.workers.length < this.limit) return this.start();
    let w = 0;
    for (let i = 1; i < this.workers.length; i++) if ((this.busy[i] ?? 0) < (this.busy[w] ?? 0)) w = i;
    return w;
  }

  run(paths: string[], sampleIndices: number[], params: PreprocessParams): Promise<Float32Array> {
    const w = this.pick();
    const worker = this.workers[w] as Worker;
    this.busy[w] = (this.busy[w] ?? 0) + 1;
    worker.ref();
    const id = this.nextId++;
    return new Promise<Float32Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker: w });
      worker.postMessage({ id, paths, sampleIndices, params });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}

/**
 * Yields `load(0)`, `load(1)`, ... `load(count - 1)` in order, starting each up to `prefetch`
 * loads ahead of the one awaited, so that loading overlaps with the consumer's work.
 */
export async function* prefetched<T>(count: number, prefetch: number, load: (index: number) => Promise<T>): AsyncGenerator<T> {
  const pending = new Map<number, Promise<T>>();
  const start = (index: number): void => {
    if (index >= count || pending.has(index)) return;
    const promise = load(index);
    // Errors surface when the load is awaited; this keeps a prefetched failure from being unhandled.
    promise.catch(() => undefined);
    pending.set(index, promise);
  };
  try {
    for (let index = 0; index < count; index++) {
      for (let ahead = 0; ahead <= prefetch; ahead++) start(index + ahead);
      const item = await (pending.get(index) as Promise<T>);
      pending.delete(index);
      yield item;
    }
  } finally {
    // A consumer that stops early leaves prefetched loads running; let them settle.
    await Promise.allSettled(pending.values());
  }
}

/**
 * Creates a batch source over `samples` (anything with `path` and `label`).
 *
 * @example
 * const source = createBatchSource(split.train, { batchSize: 64, channels: 1, seed: 1 });
 * for await (const batch of source.epoch(0)) {
 *   const x = tf.tensor4d(batch.images, batch.shape);
 *   // ...
 * }
 */
export function createBatchSource(samples: readonly { path: string; label: string }[], options: BatchSourceOptions = {}): BatchSource {
  const batchSize = options.batchSize ?? 32;
  const height = options.height ?? 64;
  const width = options.width ?? 300;
  const channels = options.channels ?? 1;
  const seed = String(options.seed ?? 0);
  const shuffle = options.shuffle ?? true;
  const prefetch = Math.max(0, options.prefetch ?? 3);
  const dropRemainder = options.dropRemainder ?? false;
  const augment = options.augment ?? false;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`batchSize ${batchSize} is not valid: expected an integer >= 1`);
  if (channels !== 1 && channels !== 3) throw new ConfigError(`channels ${String(channels)} is not valid: expected 1 (grayscale) or 3 (RGB)`);
  if (samples.length === 0) throw new DataError('createBatchSource needs at least one sample');
  // Labels are encoded once up front so that a bad label fails here, not mid-epoch.
  const encoded = samples.map((s) => encodeLabel(s.label));
  const batchesPerEpoch = dropRemainder ? Math.floor(samples.length / batchSize) : Math.ceil(samples.length / batchSize);
  const workerCount = options.workers ?? Math.min(2, availableParallelism());
  if (!Number.isInteger(workerCount) || workerCount < 0 || workerCount > MAX_WORKER_THREADS) {
    throw new ConfigError(`workers ${workerCount} is not valid: expected an integer from 0 to ${MAX_WORKER_THREADS} (image-decoding threads; this machine has ${availableParallelism()} cores)`);
  }
  let pool: BatchWorkerPool | undefined;

  const loadBatch = async (order: readonly number[], epoch: number, index: number): Promise<Batch> => {
    const members = order.slice(index * batchSize, (index + 1) * batchSize);
    const paths = members.map((i) => (samples[i] as { path: string }).path);
    const params: PreprocessParams = { height, width, channels, augment, augmentSeed: `${seed}:augment:${epoch}` };
    if (workerCount > 0 && !pool) pool = new BatchWorkerPool(workerCount);
    const images = pool ? await pool.run(paths, members, params) : await preprocessBatch(paths, members, params);
    const labels = members.map((i) => encoded[i] as number[]);
    return {
      images,
      shape: [members.length, height, width, channels],
      labels,
      labelLengths: Int32Array.from(labels, (l) => l.length),
      texts: members.map((i) => (samples[i] as { label: string }).label),
      paths,
      epoch,
      index,
    };
  };

  return {
    size: samples.length,
    batchesPerEpoch,
    inputShape: [height, width, channels],
    get workersStarted() {
      return pool?.started ?? 0;
    },
    async close() {
      await pool?.close();
      pool = undefined;
    },
    async *epoch(epoch: number): AsyncGenerator<Batch> {
      const order = samples.map((_, i) => i);
      if (shuffle) createRng(`${seed}:epoch:${epoch}`).shuffle(order);
      yield* prefetched(batchesPerEpoch, prefetch, (index) => loadBatch(order, epoch, index));
    },
  };
}
