/**
 * Data-parallel training on worker threads. The main thread is replica 0 and keeps the one true
 * model and optimizer; each of the other replicas is a worker with a copy of the model on its
 * own wasm backend. Per step:
 *
 *   1. the main thread publishes its weights to shared memory and sends every worker its shard;
 *   2. every replica (the main thread included) computes the gradient of its shard's share of
 *      the batch loss into its gradient slot, meeting the others inside each batch-norm layer
 *      to share statistics (synchronised batch norm);
 *   3. the main thread adds the slots (in rank order) and hands the sum to the training loop,
 *      which clips and applies it with its optimizer as it would a one-process gradient.
 *
 * So the step equals the one-process step on the same batch, up to float rounding, and the
 * replicas cannot drift apart: they never update weights of their own. A worker that fails or
 * exits fails the step with a message naming it; none can hang it (barriers time out).
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { getBackendInfo } from '../backend/index';
import { SUM_SLOTS, type SumSlotsAttrs } from '../backend/wasm-adam';
import { ConfigError } from '../errors';
import type { LossFn, TrainBatch } from '../training/types';
import { MAX_WORKER_THREADS, startScriptWorker } from '../util/script-worker';
import { allocateCollective, Collective, ReplicaError } from './collective';
import type { ReplicaLossSpec } from './losses';
import { computeShardGradients, packValues } from './replica-step';
import type { ReplicaInit, ReplicaStepMessage } from './replica-worker';
import { splitBatch } from './shard';

/** Most replicas a run may ask for. */
export const MAX_REPLICAS = MAX_WORKER_THREADS;

/** Options of {@link createReplicaGroup}. */
export interface ReplicaGroupOptions {
  /** Replicas including the main thread. Defaults to `os.availableParallelism()`. */
  replicas?: number;
  /** The loss, by name (replicas rebuild it in their threads). */
  loss: ReplicaLossSpec;
  /** The loss function on the main thread; defaults to the one the spec names. */
  lossFn?: LossFn;
  /** Seed of per-sample randomness (dropout). Defaults to 0. */
  seed?: number;
  /** Add the layers' regularisation penalties to the loss. Defaults to true. */
  regularization?: boolean;
  /** How long a replica waits for the others at a barrier before failing. Defaults to 120 s. */
  timeoutMs?: number;
}

/** Checks a replica count: an integer from 1 to {@link MAX_REPLICAS}. */
export function checkReplicaCount(replicas: number, source = 'replicas'): number {
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) {
    throw new ConfigError(`${source} ${replicas} must be an integer from 1 to ${MAX_REPLICAS} (this machine has ${availableParallelism()} cores)`);
  }
  return replicas;
}

/** The default replica count: one per core. */
export function defaultReplicas(): number {
  return Math.min(MAX_REPLICAS, availableParallelism());
}

/** A started group of replicas. */
export interface ReplicaGroup {
  /** Replicas including the main thread. */
  readonly replicas: number;
  /**
   * Computes the batch's summed gradient of `variables` over all replicas; returns the batch
   * loss and the gradients (owned by the caller).
   */
  gradients(batch: TrainBatch, variables: tf.Variable[], step: number): Promise<{ loss: number; grads: tf.NamedTensorMap }>;
  /** Stops the workers. */
  close(): Promise<void>;
}

interface WorkerHandle {
  rank: number;
  worker: Worker;
  /** The pending reply of the current request. */
  pending?: { resolve: (loss: number) => void; reject: (error: Error) => void };
  failure?: Error;
}

function waitFor(handle: WorkerHandle): Promise<number> {
  if (handle.failure) return Promise.reject(handle.failure);
  return new Promise((resolve, reject) => {
    handle.pending = { resolve, reject };
  });
}

/**
 * The gradient of each of `variables` (laid out one after another in every slot): the slots
 * added up in rank order, in one pass straight into the tensor where the backend has the kernel
 * (a JavaScript loop over shared memory took 8 ms a step for the CRNN's 626,000 weights).
 */
function sumSlots(variables: readonly tf.Variable[], slots: Float32Array[]): tf.NamedTensorMap {
  const grads: tf.NamedTensorMap = {};
  const fused = tf.getKernel(SUM_SLOTS, tf.getBackend()) != null;
  let offset = 0;
  for (const variable of variables) {
    if (fused) {
      const attrs: SumSlotsAttrs = { slots, start: offset, shape: variable.shape };
      grads[variable.name] = tf.engine().runKernel(SUM_SLOTS, {}, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
    } else {
      const sum = new Float32Array(variable.size);
      for (const slot of slots) for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + (slot[offset + i] as number);
      grads[variable.name] = tf.tensor(sum, variable.shape, 'float32');
    }
    offset += variable.size;
  }
  return grads;
}

/**
 * Starts `replicas - 1` workers holding copies of `model`. With one replica no worker starts and
 * the group computes the gradient on the main thread alone, with the same code.
 *
 * @example
 * const group = await createReplicaGroup(model, { replicas: 2, loss: { name: 'ctc' } });
 * const { loss, grads } = await group.gradients(batch, variables, step);
 */
export async function createReplicaGroup(model: tf.LayersModel, options: ReplicaGroupOptions): Promise<ReplicaGroup> {
  const replicas = checkReplicaCount(options.replicas ?? defaultReplicas());
  const info = getBackendInfo();
  if (replicas > 1 && info?.name !== 'wasm') {
    throw new ConfigError(`replicas ${replicas} need the wasm backend (this run uses ${info?.name ?? 'none'}); use replicas 1`);
  }
  const lossFn = options.lossFn ?? (await import('./losses')).replicaLoss(options.loss);
  const seed = options.seed ?? 0;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const trainable = model.trainableWeights;
  const sizeOf = (w: tf.LayerVariable): number => (w.shape as number[]).reduce((a, b) => a * b, 1);
  const parameters = trainable.reduce((n, w) => n + sizeOf(w), 0);
  const weightCount = model.weights.reduce((n, w) => n + sizeOf(w), 0);
  const buffers = allocateCollective({ replicas, parameters, weightCount });
  const collective = new Collective(0, replicas, parameters, buffers, timeoutMs);
  const nameOf = new Map(model.weights.map((w) => [(w.read() as tf.Variable).id, w.originalName]));
  const modelJson = model.toJSON(null, false) as object;

  const handles: WorkerHandle[] = [];
  const started: Promise<unknown>[] = [];
  for (let rank = 1; rank < replicas; rank++) {
    const init: ReplicaInit = {
      rank,
      replicas,
      backend: 'wasm',
      modelJson,
      variableNames: trainable.map((w) => w.originalName),
      parameters,
      loss: options.loss,
      buffers,
      timeoutMs,
    };
    const worker = startScriptWorker(__dirname, 'replica-worker', __filename, init);
    const handle: WorkerHandle = { rank, worker };
    const fail = (error: Error): void => {
      handle.failure ??= error;
      collective.abort();
      handle.pending?.reject(error);
      handle.pending = undefined;
    };
    worker.on('message', (message: { type: string; loss?: number; message?: string }) => {
      if (message.type === 'error') fail(new ReplicaError(`training replica ${rank} (worker thread) failed: ${message.message}`));
      else {
        handle.pending?.resolve(message.loss ?? Number.NaN);
        handle.pending = undefined;
      }
    });
    worker.on('error', (error) => fail(new ReplicaError(`training replica ${rank} (worker thread) crashed: ${error.message}`)));
    worker.on('exit', (code) => fail(new ReplicaError(`training replica ${rank} (worker thread) exited with code ${code}`)));
    handles.push(handle);
    started.push(waitFor(handle));
  }
  try {
    await Promise.all(started);
  } catch (error) {
    await Promise.all(handles.map((h) => h.worker.terminate()));
    throw error;
  }

  let closed = false;
  return {
    replicas,
    async gradients(batch, variables, step) {
      if (closed) throw new ReplicaError('the replica group is closed');
      const variableNames = variables.map((v) => {
        const name = nameOf.get(v.id);
        if (name === undefined) throw new ConfigError(`variable ${v.name} is not a weight of the replicated model`);
        return name;
      });
      // A batch too small to give every replica a sample runs on the main thread alone.
      const active = Math.min(replicas, batch.size);
      const group = active === replicas ? collective : new Collective(0, 1, parameters, allocateCollective({ replicas: 1, parameters, weightCount: 0 }), timeoutMs);
      const shards = splitBatch(batch, active);
      const replies: Promise<number>[] = [];
      if (active === replicas) {
        packValues(model.weights.map((w) => w.read()), collective.weights);
        handles.forEach((handle, i) => {
          const message: ReplicaStepMessage = { type: 'step', shard: shards[i + 1]!, globalBatch: batch.size, seed, step, variableNames };
          replies.push(waitFor(handle));
          handle.worker.postMessage(message);
        });
      }
      let mine: number;
      try {
        mine = computeShardGradients(shards[0]!, {
          model,
          variables,
          loss: lossFn,
          collective: group,
          globalBatch: batch.size,
          seed,
          step,
          penalties: options.regularization ?? true,
        });
      } catch (error) {
        collective.abort();
        // A worker's own failure explains an aborted barrier here better than the abort does;
        // its message arrives once this thread is free to receive it.
        await Promise.race([Promise.allSettled(replies), new Promise((resolve) => setTimeout(resolve, 5000))]);
        throw handles.find((h) => h.failure)?.failure ?? error;
      }
      const losses = [mine, ...(await Promise.all(replies))];
      return { loss: losses.reduce((a, b) => a + b, 0), grads: sumSlots(variables, Array.from({ length: active }, (_, rank) => group.gradientSlot(rank))) };
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const handle of handles) handle.worker.removeAllListeners('exit');
      await Promise.all(handles.map((h) => h.worker.terminate()));
    },
  };
}
