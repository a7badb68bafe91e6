/**
 * Data-parallel replicas for a recorded run: the group of `parallel/replicas.ts` started for
 * the run's model and loss, handed to the training loop as its gradient function, and closed
 * with the run. Every run function takes `replicas` (default: one per core on the wasm backend,
 * where replicas are what uses the other cores; one elsewhere) and records the count it used.
 */
import type * as tf from '@tensorflow/tfjs';
import { getBackendInfo } from '../backend/index';
import type { ReplicaLossSpec } from '../parallel/losses';
import { checkReplicaCount, createReplicaGroup, defaultReplicas } from '../parallel/replicas';
import type { GradientFn, LossFn, TrainBatch } from '../training/types';

/** Replicas of a run: how many, the loop's gradient function, and how to stop them. */
export interface RunReplicas<B extends TrainBatch> {
  replicas: number;
  gradients: GradientFn<B>;
  close(): Promise<void>;
}

/**
 * The replica count a run uses: `requested`, or one per core on the wasm backend (the native
 * TensorFlow backend uses every core itself, so it gets one).
 */
export function resolveReplicas(requested: number | undefined): number {
  if (requested !== undefined) return checkReplicaCount(requested);
  return getBackendInfo()?.name === 'wasm' ? defaultReplicas() : 1;
}

/**
 * Starts the replicas of a run's model. With one replica no worker starts; the gradient is
 * still computed by the same code (per-sample dropout, batch-norm statistics), so a run gives
 * the same steps whatever its replica count.
 *
 * @example
 * const parallel = await startRunReplicas(model, { replicas: 2, loss: { name: 'ctc' }, lossFn, seed });
 * try { await train(model, data, { ..., gradients: parallel.gradients }); } finally { await parallel.close(); }
 */
export async function startRunReplicas<B extends TrainBatch>(
  model: tf.LayersModel,
  options: { replicas: number; loss: ReplicaLossSpec; lossFn: LossFn<B>; seed: number; regularization?: boolean },
): Promise<RunReplicas<B>> {
  const group = await createReplicaGroup(model, {
    replicas: options.replicas,
    loss: options.loss,
    lossFn: options.lossFn as unknown as LossFn,
    seed: options.seed,
    regularization: options.regularization,
  });
  return {
    replicas: group.replicas,
    gradients: (batch, variables, step) => group.gradients(batch, variables, step),
    close: () => group.close(),
  };
}
