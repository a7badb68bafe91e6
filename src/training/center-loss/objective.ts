/**
 * The CTC + center loss objective (Wen et al. 2016, for sequences): a loss for `train` that adds
 * `lambda * centerLoss` over the aligned frames to the CTC loss, moves the class centers as a
 * side effect, and keeps the per-epoch center statistics the reference implementation tracked
 * (distance between centers, to a frame's own center, to its look-alike's center).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../errors';
import { centerLossAt, classSums, updateCenters } from '../../losses/center';
import { ctcLoss } from '../../losses/ctc';
import { EQUATION_ALPHABET } from '../../labels/alphabet';
import { LOOKALIKE_GROUPS } from '../../labels/lookalike';
import type { Logs } from '../callbacks';
import type { EvaluateFn, LossFn } from '../types';
import { alignBatch, type LabeledSequenceBatch } from './align';
import { distance, lookalikeMap, meanCenterDistance } from './statistics';

/** Options of {@link createCenterLossObjective}. */
export interface CenterLossObjectiveOptions {
  /**
   * Weight of the center loss next to CTC. 0 trains on CTC alone but still tracks centers and
   * statistics (a baseline). Defaults to 0.003 (Wen et al.; the reference implementation asks for a
   * small weight).
   */
  lambda?: number;
  /** Center update rate in [0, 1]. Defaults to 0.5 (Wen et al.). */
  alpha?: number;
  /** Classes of the logits, blank included. Defaults to 17 (equations). */
  numClasses?: number;
  /** The blank's class index. Defaults to `numClasses - 1`. */
  blank?: number;
  /** Frames of each aligned run: `all` or the `peak` one. Defaults to `all`. */
  frames?: 'all' | 'peak';
  /** Also pull frames of substituted characters to the truth's center. Defaults to false. */
  includeSubstitutions?: boolean;
  /** Groups of look-alike classes, as label text. Defaults to {@link LOOKALIKE_GROUPS}. */
  lookalikeGroups?: readonly string[];
  /** Alphabet mapping group characters to class indices. Defaults to the equation alphabet. */
  alphabet?: string;
}

/** What {@link createCenterLossObjective} returns. */
export interface CenterLossObjective {
  /** The loss for `train`: CTC + lambda * center loss; moves the centers after each batch. */
  loss: LossFn<LabeledSequenceBatch>;
  /**
   * Center statistics of the training frames since the last call, then resets them: `center_loss`,
   * `center_frames`, `center_between` (mean distance between the centers of seen classes),
   * `center_own_distance` (mean frame-to-own-center distance), `center_lookalike` (mean distance to
   * the nearest look-alike's center). Use as (part of) the `evaluate` of `train`.
   */
  metrics(): Logs;
  /** An `EvaluateFn` returning {@link CenterLossObjective.metrics}. */
  evaluate: EvaluateFn;
  /** The current centers `[numClasses, D]` (a copy the caller disposes), or undefined before the first batch. */
  centers(): tf.Tensor2D | undefined;
  /** Which classes have a center yet. */
  seenClasses(): number[];
  /** Frees the centers. */
  dispose(): void;
}

/**
 * The CTC + center loss objective. Each call of `loss` computes CTC on the logits, aligns the
 * frames with the labels through the greedy path, and adds `lambda * 1/2 mean ||f - c_y||^2`
 * over the aligned frames. The centers live outside the gradient: they are updated from a
 * detached copy of the features, a class's center starting at the mean of its first frames
 * (so that features are not dragged towards zero) and then moving by Wen et al.'s rule.
 *
 * @example
 * const model = withFeatureOutput(pretrainedCrnn);
 * const objective = createCenterLossObjective({ lambda: 0.003, alpha: 0.5 });
 * await train(model, data, { loss: objective.loss, evaluate: combineEvaluators(sequenceEvaluator(valid), objective.evaluate) });
 */
export function createCenterLossObjective(options: CenterLossObjectiveOptions = {}): CenterLossObjective {
  const lambda = options.lambda ?? 0.003;
  const alpha = options.alpha ?? 0.5;
  const numClasses = options.numClasses ?? 17;
  const blank = options.blank ?? numClasses - 1;
  if (!(lambda >= 0) || !Number.isFinite(lambda)) throw new ConfigError(`center loss lambda ${lambda} must be a finite number >= 0`);
  if (!(alpha >= 0 && alpha <= 1)) throw new ConfigError(`center update rate alpha ${alpha} must be in [0, 1]`);
  const lookalikes = lookalikeMap(options.lookalikeGroups ?? LOOKALIKE_GROUPS, options.alphabet ?? EQUATION_ALPHABET);

  let centers: tf.Variable<tf.Rank.R2> | undefined;
  const seen = new Uint8Array(numClasses);
  const stats = { loss: 0, batches: 0, frames: 0, own: 0, look: 0, lookFrames: 0 };

  const accumulate = (features: Float32Array, classes: readonly number[], dim: number): void => {
    const c = (centers as tf.Variable).dataSync();
    classes.forEach((k, i) => {
      stats.own += distance(features, i * dim, c, k * dim, dim);
      const others = (lookalikes.get(k) ?? []).filter((o) => seen[o]);
      if (others.length === 0) return;
      stats.look += Math.min(...others.map((o) => distance(features, i * dim, c, o * dim, dim)));
      stats.lookFrames++;
    });
    stats.frames += classes.length;
  };

  const loss: LossFn<LabeledSequenceBatch> = (output, batch) => {
    if (!Array.isArray(output) || output.length < 2) {
      throw new ConfigError('the center loss needs a model with two outputs [logits, features]; wrap the CRNN with withFeatureOutput(model)');
    }
    const logits = output[0] as tf.Tensor3D;
    const features = output[1] as tf.Tensor3D;
    const [b, time, classes] = logits.shape;
    if (classes !== numClasses) throw new ConfigError(`center loss: the model outputs ${classes} classes but numClasses is ${numClasses}`);
    if (features.rank !== 3 || features.shape[0] !== b || features.shape[1] !== time) {
      throw new ConfigError(`center loss: features [${features.shape.join(', ')}] must be [batch, time, D] like the logits [${logits.shape.join(', ')}]`);
    }
    const dim = features.shape[2];
    const ctc = ctcLoss(logits, batch.labels, { blank }) as tf.Scalar;
    const alignment = alignBatch(logits.dataSync(), [b, time, classes], batch.labels, {
      blank,
      frames: options.frames,
      includeSubstitutions: options.includeSubstitutions,
    });
    stats.batches++;
    // lambda 0 still moves the centers and keeps the statistics: a CTC-only baseline measured
    // the same way as the center-loss run it is compared with.
    if (alignment.rows.length === 0) return ctc;

    const flat = tf.reshape(features, [b * time, dim]) as tf.Tensor2D;
    // A copy of the aligned rows with no gradient history: the centers must not carry a gradient into the features.
    const flatData = flat.dataSync();
    const detachedData = new Float32Array(alignment.rows.length * dim);
    alignment.rows.forEach((row, i) => detachedData.set(flatData.subarray(row * dim, (row + 1) * dim), i * dim));
    centers ??= tf.variable(tf.zeros([numClasses, dim]), false, undefined, 'float32') as tf.Variable<tf.Rank.R2>;
    if (centers.shape[1] !== dim) throw new ConfigError(`center loss: features have ${dim} values but the centers ${centers.shape[1]}`);
    const current = centers;
    const firstSeen = [...new Set(alignment.classes)].filter((k) => !seen[k]);
    tf.tidy(() => {
      const detached = tf.tensor2d(detachedData, [alignment.rows.length, dim]);
      if (firstSeen.length > 0) {
        const { sums, counts } = classSums(detached, alignment.classes, numClasses);
        const mask = new Float32Array(numClasses);
        for (const k of firstSeen) mask[k] = 1;
        const maskColumn = tf.tensor2d(mask, [numClasses, 1]);
        const means = tf.div(sums, tf.maximum(counts, 1));
        current.assign(tf.add(tf.mul(maskColumn, means), tf.mul(tf.sub(1, maskColumn), current)) as tf.Tensor2D);
        for (const k of firstSeen) seen[k] = 1;
      }
    });
    const centerValue = centerLossAt(flat, current, alignment.rows, alignment.classes);
    stats.loss += centerValue.dataSync()[0] as number;
    accumulate(detachedData, alignment.classes, dim);
    // Wen et al.'s update, from the detached copy, for classes that already had a center.
    const keep = alignment.classes.map((k, i) => (firstSeen.includes(k) ? -1 : i)).filter((i) => i >= 0);
    if (keep.length > 0) {
      tf.tidy(() => {
        const rows = tf.gather(tf.tensor2d(detachedData, [alignment.rows.length, dim]), tf.tensor1d(keep, 'int32')) as tf.Tensor2D;
        current.assign(updateCenters(current, rows, keep.map((i) => alignment.classes[i] as number), alpha));
      });
    }
    return lambda === 0 ? ctc : (tf.add(ctc, tf.mul(lambda, centerValue)) as tf.Scalar);
  };

  const metrics = (): Logs => {
    const seenClasses = [...seen.keys()].filter((k) => seen[k]);
    const logs: Logs = {
      center_loss: stats.batches > 0 ? stats.loss / stats.batches : Number.NaN,
      center_frames: stats.frames,
      center_between: centers ? meanCenterDistance(centers.dataSync(), centers.shape[1], seenClasses) : Number.NaN,
      center_own_distance: stats.frames > 0 ? stats.own / stats.frames : Number.NaN,
      center_lookalike: stats.lookFrames > 0 ? stats.look / stats.lookFrames : Number.NaN,
    };
    Object.assign(stats, { loss: 0, batches: 0, frames: 0, own: 0, look: 0, lookFrames: 0 });
    return logs;
  };

  return {
    loss,
    metrics,
    evaluate: async () => metrics(),
    centers: () => (centers ? (centers.clone() as tf.Tensor2D) : undefined),
    seenClasses: () => [...seen.keys()].filter((k) => seen[k]),
    dispose: () => {
      centers?.dispose();
      centers = undefined;
    },
  };
}
