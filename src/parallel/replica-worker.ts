/**
 * Worker-thread entry of one training replica: builds the model from its JSON on its own
 * backend, then for every step loads the weights the main thread published, computes its
 * shard's gradient share into its slot and reports its loss share. See `replicas.ts`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendName } from '../backend/index';
import '../models/custom-layers';
import { Collective, type CollectiveBuffers } from './collective';
import { replicaLoss, type ReplicaLossSpec } from './losses';
import { computeShardGradients, loadPublishedWeights } from './replica-step';
import type { Shard } from './shard';

/** What the main thread sends a replica once. */
export interface ReplicaInit {
  rank: number;
  replicas: number;
  backend: BackendName;
  modelJson: object;
  /** Names of the variables that train, in gradient-slot order. */
  variableNames: string[];
  parameters: number;
  loss: ReplicaLossSpec;
  buffers: CollectiveBuffers;
  timeoutMs: number;
}

/** A step request. */
export interface ReplicaStepMessage {
  type: 'step';
  shard: Shard;
  globalBatch: number;
  seed: number;
  step: number;
  /** Which variables train this step (a subset for phased training), in slot order. */
  variableNames: string[];
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('replica-worker must run as a worker thread');
  const init = workerData as ReplicaInit;
  try {
    await initBackend({ backend: init.backend });
    const model = await tf.models.modelFromJSON({ modelTopology: init.modelJson } as unknown as tf.io.ModelJSON);
    const collective = new Collective(init.rank, init.replicas, init.parameters, init.buffers, init.timeoutMs);
    const loss = replicaLoss(init.loss);
    const byName = new Map(model.weights.map((w) => [w.originalName, w.read() as tf.Variable]));
    port.on('message', (message: ReplicaStepMessage | { type: 'quit' }) => {
      if (message.type === 'quit') {
        model.dispose();
        port.close();
        return;
      }
      try {
        loadPublishedWeights(model, collective.weights);
        const variables = message.variableNames.map((name) => {
          const variable = byName.get(name);
          if (!variable) throw new Error(`replica ${init.rank}: the model has no weight ${name}`);
          return variable;
        });
        const lossShare = computeShardGradients(message.shard, {
          model,
          variables,
          loss,
          collective,
          globalBatch: message.globalBatch,
          seed: message.seed,
          step: message.step,
          penalties: false,
        });
        port.postMessage({ type: 'done', loss: lossShare });
      } catch (error) {
        collective.abort();
        port.postMessage({ type: 'error', message: (error as Error).message, stack: (error as Error).stack });
      }
    });
    port.postMessage({ type: 'ready' });
  } catch (error) {
    port.postMessage({ type: 'error', message: (error as Error).message, stack: (error as Error).stack });
  }
}

void main();
