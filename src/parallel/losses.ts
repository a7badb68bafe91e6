/**
 * Losses that a replica can rebuild in its own thread: a closure cannot cross a thread, so a
 * replicated run names its loss and options instead.
 */
import { ConfigError } from '../errors';
import { classificationLoss } from '../training/classification';
import { ctcLossFn } from '../training/sequence';
import type { LossFn } from '../training/types';

/** A loss by name: CTC over sequence logits, or softmax cross-entropy over classes. */
export type ReplicaLossSpec = { name: 'ctc'; blank?: number } | { name: 'classification'; labelSmoothing?: number };

export const REPLICA_LOSSES = ['ctc', 'classification'] as const;

/** The loss function a spec names. */
export function replicaLoss(spec: ReplicaLossSpec): LossFn {
  switch (spec.name) {
    case 'ctc':
      return ctcLossFn({ blank: spec.blank }) as unknown as LossFn;
    case 'classification':
      return classificationLoss({ labelSmoothing: spec.labelSmoothing }) as unknown as LossFn;
    default:
      throw new ConfigError(`replica loss ${JSON.stringify((spec as { name: unknown }).name)} is not one of: ${REPLICA_LOSSES.join(', ')}`);
  }
}
