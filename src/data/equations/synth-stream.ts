/**
 * Training batches rendered as they are consumed: an endless synthesis stream in place of a
 * folder's training split. Image `i` of epoch `e` is image `e * epochImages + i` of the stream
 * and draws its label and look from `createRng(`${seed}:${e * epochImages + i}`)`, so no image is
 * ever drawn twice, the stream is the same whatever the number of workers, and a resumed run goes
 * on where it stopped. Worker threads render whole batches at the model's input size (no file,
 * no PNG, no resize), a few batches ahead of the training loop, at a lowered priority like the
 * decoding threads of a folder's batches.
 *
 * It is a {@link BatchSource}, so training takes it as it takes a folder's; an "epoch" is
 * `epochImages` images, the interval between validations and checkpoints.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { ConfigError, DataError } from '../../errors';
import { encodeLabel } from '../../labels/alphabet';
import { convertChannels } from '../../image/raw-image';
import { createRng } from '../../util/rng';
import { MAX_WORKER_THREADS, startScriptWorker } from '../../util/script-worker';
import { type Batch, type BatchSource, prefetched } from './batches';
import { DEFAULT_FORM_SHARES, type FormShares, randomEquationLabel } from './forms';
import { renderEquation } from './synth-render';
import type { StyleSpace } from './synth-style';

/** What renders a stream's images: the same in every worker. */
export interface StreamRenderConfig {
  style: StyleSpace;
  forms: FormShares;
  /** Seed of the stream: image `n` draws from `createRng(`${seed}:${n}`)`. */
  seed: string;
  height: number;
  width: number;
  channels: 1 | 3;
}

export interface SynthStreamOptions {
  style: StyleSpace;
  /** Equation forms' shares. Defaults to equal shares. */
  forms?: FormShares;
  /** Seed of the stream. Defaults to 0. */
  seed?: number | string;
  /** Images per epoch (rounded down to whole batches). */
  epochImages: number;
  /** Samples per batch. Defaults to 32. */
  batchSize?: number;
  /** Model input size; images are rendered at it. Defaults to 32 x 150, grayscale. */
  height?: number;
  width?: number;
  channels?: 1 | 3;
  /** Rendering threads; 0 renders on the calling thread. Defaults to min(2, cores). */
  workers?: number;
  /** Batches rendered ahead of the consumer. Defaults to 4. */
  prefetch?: number;
}

/** One rendered batch: images in [-1, 1] and their labels. */
export interface RenderedBatch {
  images: Float32Array;
  texts: string[];
}

/** Renders images `first` to `first + count - 1` of the stream, normalised to [-1, 1]. */
export function renderStreamBatch(config: StreamRenderConfig, first: number, count: number): RenderedBatch {
  const pixels = config.height * config.width * config.channels;
  const images = new Float32Array(count * pixels);
  const texts: string[] = [];
  for (let k = 0; k < count; k++) {
    const rng = createRng(`${config.seed}:${first + k}`);
    const label = randomEquationLabel(rng, config.forms);
    const image = convertChannels(renderEquation(label, rng, { width: config.width, height: config.height, style: config.style }), config.channels);
    const offset = k * pixels;
    const data = image.data;
    for (let i = 0; i < pixels; i++) images[offset + i] = (data[i] as number) * (2 / 255) - 1;
    texts.push(label);
  }
  return { images, texts };
}

/** What a stream worker answers: a batch, or the error that stopped it. */
export type StreamWorkerReply = { id: number; batch: RenderedBatch } | { id: number; error: string };

/** Workers that render whole batches; each takes the next job when it is free. */
class RenderPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: { id: number; first: number; count: number }[] = [];
  private readonly pending = new Map<number, { resolve: (batch: RenderedBatch) => void; reject: (error: Error) => void }>();
  private nextId = 0;

  constructor(
    private readonly config: StreamRenderConfig,
    private readonly limit: number,
  ) {}

  get started(): number {
    return this.workers.length;
  }

  render(first: number, count: number): Promise<RenderedBatch> {
    const id = this.nextId++;
    const promise = new Promise<RenderedBatch>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.queue.push({ id, first, count });
    this.dispatch();
    return promise;
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const worker = this.idle.pop() ?? (this.workers.length < this.limit ? this.start() : undefined);
      if (!worker) return;
      worker.ref();
      worker.postMessage(this.queue.shift());
    }
  }

  private start(): Worker {
    const worker = startScriptWorker(__dirname, 'synth-stream-worker', __filename, this.config);
    worker.on('message', (reply: StreamWorkerReply) => {
      const job = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      worker.unref();
      this.idle.push(worker);
      if ('error' in reply) job?.reject(new DataError(`synthesis stream worker failed: ${reply.error}`));
      else job?.resolve(reply.batch);
      this.dispatch();
    });
    worker.on('error', (error) => {
      for (const job of this.pending.values()) job.reject(error);
      this.pending.clear();
    });
    this.workers.push(worker);
    return worker;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
    this.workers.length = 0;
    this.idle.length = 0;
  }
}

/**
 * A batch source whose epochs are rendered as they are read: see the file comment.
 *
 * @example
 * const stream = createSynthStream({ style: stylePreset('wide'), epochImages: 51_200, seed: 1 });
 * for await (const batch of stream.epoch(0)) { ... }
 */
export function createSynthStream(options: SynthStreamOptions): BatchSource {
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`batchSize ${batchSize} is not valid: expected an integer >= 1`);
  const batchesPerEpoch = Math.floor(options.epochImages / batchSize);
  if (!Number.isInteger(options.epochImages) || batchesPerEpoch < 1) {
    throw new ConfigError(`epochImages ${options.epochImages} is not valid: expected a whole number of at least one batch (${batchSize})`);
  }
  const workerCount = options.workers ?? Math.min(2, availableParallelism());
  if (!Number.isInteger(workerCount) || workerCount < 0 || workerCount > MAX_WORKER_THREADS) {
    throw new ConfigError(`workers ${workerCount} is not valid: expected an integer from 0 to ${MAX_WORKER_THREADS} (rendering threads)`);
  }
  const config: StreamRenderConfig = {
    style: options.style,
    forms: { ...(options.forms ?? DEFAULT_FORM_SHARES) },
    seed: String(options.seed ?? 0),
    height: options.height ?? 32,
    width: options.width ?? 150,
    channels: options.channels ?? 1,
  };
  const prefetch = Math.max(0, options.prefetch ?? 4);
  const epochImages = batchesPerEpoch * batchSize;
  let pool: RenderPool | undefined;

  const render = (first: number): Promise<RenderedBatch> => {
    if (workerCount === 0) return Promise.resolve().then(() => renderStreamBatch(config, first, batchSize));
    pool ??= new RenderPool(config, workerCount);
    return pool.render(first, batchSize);
  };
  const toBatch = (rendered: RenderedBatch, epoch: number, index: number, first: number): Batch => {
    const labels = rendered.texts.map((text) => encodeLabel(text));
    return {
      images: rendered.images,
      shape: [batchSize, config.height, config.width, config.channels],
      labels,
      labelLengths: Int32Array.from(labels, (l) => l.length),
      texts: rendered.texts,
      paths: rendered.texts.map((_, k) => `synth:${config.seed}:${first + k}`),
      epoch,
      index,
    };
  };

  return {
    size: epochImages,
    batchesPerEpoch,
    inputShape: [config.height, config.width, config.channels],
    get workersStarted() {
      return pool?.started ?? 0;
    },
    async close() {
      await pool?.close();
      pool = undefined;
    },
    async *epoch(epoch: number): AsyncGenerator<Batch> {
      const firstOf = (index: number): number => epoch * epochImages + index * batchSize;
      yield* prefetched(batchesPerEpoch, prefetch, async (index) => toBatch(await render(firstOf(index)), epoch, index, firstOf(index)));
    },
  };
}
