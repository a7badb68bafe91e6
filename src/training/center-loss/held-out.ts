/**
 * Center statistics of held-out data: the aligned frame features of a two-output model over a
 * set of batches, and an `EvaluateFn` that measures them against the set's own class means, so
 * that a CTC-only model and a center-loss model are measured alike.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../errors';
import { EQUATION_ALPHABET } from '../../labels/alphabet';
import type { EvaluateFn } from '../types';
import { alignBatch, type LabeledSequenceBatch } from './align';
import { centerStatistics } from './statistics';

/** Options of {@link collectAlignedFeatures}. */
export interface CollectAlignedFeaturesOptions {
  /** Stop after this many frames. Defaults to 2000. */
  maxFrames?: number;
  /** Frames per aligned character: `peak` (one, the clearest) or `all`. Defaults to `peak`. */
  frames?: 'all' | 'peak';
  /** Alphabet for the metadata labels. Defaults to the equation alphabet. */
  alphabet?: string;
}

/** Aligned per-frame features with their characters, for projections and the projector export. */
export interface AlignedFeatures {
  vectors: number[][];
  /** The character each frame shows (its label character). */
  labels: string[];
  /** Which sample (in iteration order) each frame came from. */
  samples: number[];
}

/**
 * Runs a two-output model (see {@link withFeatureOutput}) in inference mode over `batches` and
 * returns the features of frames aligned with their label characters (matched greedy runs),
 * e.g. for `projectionFigure(vectors, labels)` and `writeProjectorFiles`. Disposes each
 * batch's `x`.
 */
export async function collectAlignedFeatures(
  model: tf.LayersModel,
  batches: AsyncIterable<LabeledSequenceBatch> | Iterable<LabeledSequenceBatch>,
  options: CollectAlignedFeaturesOptions = {},
): Promise<AlignedFeatures> {
  const maxFrames = options.maxFrames ?? 2000;
  const alphabet = options.alphabet ?? EQUATION_ALPHABET;
  const out: AlignedFeatures = { vectors: [], labels: [], samples: [] };
  let sampleOffset = 0;
  for await (const batch of batches) {
    try {
      const [logits, features] = model.predict(batch.x) as tf.Tensor[];
      if (!logits || !features) throw new ConfigError('collectAlignedFeatures needs a two-output model; wrap it with withFeatureOutput(model)');
      const [b, time, classes] = logits.shape as [number, number, number];
      const dim = features.shape[2] as number;
      const scores = await logits.data();
      const values = await features.data();
      tf.dispose([logits, features]);
      const alignment = alignBatch(scores, [b, time, classes], batch.labels, { frames: options.frames ?? 'peak' });
      alignment.rows.forEach((row, i) => {
        if (out.vectors.length >= maxFrames) return;
        out.vectors.push(Array.from(values.subarray(row * dim, (row + 1) * dim)));
        out.labels.push(alphabet[alignment.classes[i] as number] ?? String(alignment.classes[i]));
        out.samples.push(sampleOffset + Math.floor(row / time));
      });
      sampleOffset += b;
    } finally {
      tf.dispose(batch.x);
    }
    if (out.vectors.length >= maxFrames) break;
  }
  return out;
}

/** Options of {@link heldOutCenterEvaluator}. */
export interface HeldOutCenterOptions extends CollectAlignedFeaturesOptions {
  /** Prefix of the log keys. Defaults to 'val_center'. */
  prefix?: string;
  /** Look-alike groups. Defaults to {@link LOOKALIKE_GROUPS}. */
  lookalikeGroups?: readonly string[];
}

/**
 * An `EvaluateFn` for a two-output model (see {@link withFeatureOutput}): the
 * {@link centerStatistics} of a held-out set's aligned frames, as `<prefix>_between`,
 * `<prefix>_own_distance`, `<prefix>_lookalike` and `<prefix>_overlap` (`lookalikeRatio`). `batches` is called once per
 * evaluation and must yield fresh batches (their `x` is disposed).
 */
export function heldOutCenterEvaluator(batches: () => AsyncIterable<LabeledSequenceBatch> | Iterable<LabeledSequenceBatch>, options: HeldOutCenterOptions = {}): EvaluateFn {
  const prefix = options.prefix ?? 'val_center';
  return async (model) => {
    const { vectors, labels } = await collectAlignedFeatures(model, batches(), { frames: 'all', maxFrames: 20_000, ...options });
    const stats = centerStatistics(vectors, labels, options.lookalikeGroups);
    return {
      [`${prefix}_between`]: stats.between,
      [`${prefix}_own_distance`]: stats.own,
      [`${prefix}_lookalike`]: stats.lookalike,
      [`${prefix}_overlap`]: stats.lookalikeRatio,
    };
  };
}
