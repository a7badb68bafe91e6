/**
 * CTC + center loss training (seeds.md section 3): a two-output view of a CRNN (logits and the
 * per-frame features that feed the logits layer), a loss function for `train` that adds
 * `lambda * centerLoss` to the CTC loss and moves the class centers as a side effect, and the
 * per-epoch center statistics the seed tracked (distance between centers, to a frame's own
 * center, to its look-alike's center).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError } from '../errors';
import { alignGreedyPath, centerLossAt, classSums, framewiseArgmax, updateCenters } from '../losses/center';
import { ctcLoss } from '../losses/ctc';
import { EQUATION_ALPHABET } from '../labels/alphabet';
import { LOOKALIKE_GROUPS } from '../labels/lookalike';
import type { Logs } from './callbacks';
import { train } from './train';
import type { EvaluateFn, LossFn, TrainBatch, TrainData, TrainOptions, TrainResult } from './types';

/** A batch with CTC labels (class indices per sample), like `SequenceBatch`. */
export interface LabeledSequenceBatch extends TrainBatch {
  labels: number[][];
}

/** Options of {@link withFeatureOutput}. */
export interface FeatureOutputOptions {
  /** The output layer whose input is the feature. Defaults to 'logits' (the CRNN's last dense layer). */
  logitsLayer?: string;
  /**
   * When the layer before the logits is a dropout, take the dropout's input instead: in training
   * mode dropout zeroes and rescales features at random, and centers of such vectors mean
   * little. Defaults to true.
   */
  skipDropout?: boolean;
}

/**
 * A model with two outputs sharing `model`'s weights: `[logits, features]`, where `features`
 * (`[batch, time, D]`) is the tensor that feeds the logits layer. Train the returned model; the
 * original sees the same weights.
 *
 * @example
 * const twoHeads = withFeatureOutput(buildCrnn());
 * const [logits, features] = twoHeads.predict(x) as tf.Tensor[];
 */
export function withFeatureOutput(model: tf.LayersModel, options: FeatureOutputOptions = {}): tf.LayersModel {
  const name = options.logitsLayer ?? 'logits';
  let logitsLayer: tf.layers.Layer;
  try {
    logitsLayer = model.getLayer(name);
  } catch (error) {
    throw new ConfigError(`model ${model.name} has no layer ${JSON.stringify(name)}; its layers are ${model.layers.map((l) => l.name).join(', ')}`, { cause: error });
  }
  let features = logitsLayer.input as tf.SymbolicTensor;
  if (Array.isArray(features)) throw new ConfigError(`layer ${name} has several inputs; give the layer whose single input is the feature`);
  const source = features.sourceLayer;
  if ((options.skipDropout ?? true) && source.getClassName() === 'Dropout') features = source.input as tf.SymbolicTensor;
  return tf.model({ inputs: model.inputs, outputs: [logitsLayer.output as tf.SymbolicTensor, features], name: `${model.name}_with_features` });
}

/** Options of {@link createCenterLossObjective}. */
export interface CenterLossObjectiveOptions {
  /**
   * Weight of the center loss next to CTC. 0 trains on CTC alone but still tracks centers and
   * statistics (a baseline). Defaults to 0.003 (Wen et al.; the seed asks for a small weight).
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
   * Center statistics of the training frames since the last call, then resets them:
   * `center_loss`, `center_frames`, `center_between` (mean distance between the centers of
   * seen classes), `center_own_distance` (mean frame-to-own-center distance), `center_lookalike` (mean
   * distance to the nearest look-alike's center). Use as (part of) the `evaluate` of `train`.
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

/** Per-frame alignment of a batch: flat row indices into `[batch * time]` and their classes. */
export interface BatchAlignment {
  rows: number[];
  classes: number[];
}

/** Aligns every sample of a batch of logits (`[batch, time, classes]` values) with its label. */
export function alignBatch(
  scores: ArrayLike<number>,
  shape: readonly [number, number, number],
  labels: readonly (readonly number[])[],
  options: { blank?: number; frames?: 'all' | 'peak'; includeSubstitutions?: boolean } = {},
): BatchAlignment {
  const [batch, time, classes] = shape;
  if (labels.length !== batch) throw new DataError(`center loss: ${labels.length} labels for a batch of ${batch}`);
  const rows: number[] = [];
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    const offset = b * time * classes;
    const path = framewiseArgmax(scores, time, classes, offset);
    const sampleScores = options.frames === 'peak' ? Array.prototype.slice.call(scores, offset, offset + time * classes) : undefined;
    const aligned = alignGreedyPath(path, labels[b] as number[], {
      blank: options.blank ?? classes - 1,
      frames: options.frames,
      includeSubstitutions: options.includeSubstitutions,
      scores: sampleScores as number[] | undefined,
      classes,
    });
    for (const a of aligned) {
      rows.push(b * time + a.frame);
      out.push(a.classIndex);
    }
  }
  return { rows, classes: out };
}

/** Look-alikes of each class index, from groups of characters. */
export function lookalikeMap(groups: readonly string[], alphabet: string = EQUATION_ALPHABET): Map<number, number[]> {
  const map = new Map<number, Set<number>>();
  for (const group of groups) {
    const indices = Array.from(group, (ch) => {
      const index = alphabet.indexOf(ch);
      if (index < 0) throw new ConfigError(`look-alike group ${JSON.stringify(group)} has ${JSON.stringify(ch)}, which is not in the alphabet ${JSON.stringify(alphabet)}`);
      return index;
    });
    for (const a of indices) for (const b of indices) if (a !== b) (map.get(a) ?? map.set(a, new Set()).get(a) as Set<number>).add(b);
  }
  return new Map([...map].map(([k, v]) => [k, [...v].sort((x, y) => x - y)]));
}

function distance(a: ArrayLike<number>, aOffset: number, b: ArrayLike<number>, bOffset: number, d: number): number {
  let sum = 0;
  for (let i = 0; i < d; i++) {
    const diff = (a[aOffset + i] as number) - (b[bOffset + i] as number);
    sum += diff * diff;
  }
  return Math.sqrt(sum);
}

/** Mean Euclidean distance over all pairs of the given centers (`[K, D]` row-major). */
export function meanCenterDistance(centers: ArrayLike<number>, dim: number, classes: readonly number[]): number {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < classes.length; i++) {
    for (let j = i + 1; j < classes.length; j++) {
      sum += distance(centers, (classes[i] as number) * dim, centers, (classes[j] as number) * dim, dim);
      pairs++;
    }
  }
  return pairs === 0 ? Number.NaN : sum / pairs;
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

/**
 * One `EvaluateFn` from several, their logs merged (a later key wins). For example validation
 * accuracy from `sequenceEvaluator` plus the center statistics of the epoch.
 */
export function combineEvaluators(...evaluators: EvaluateFn[]): EvaluateFn {
  return async (model) => {
    const logs: Logs = {};
    for (const evaluate of evaluators) Object.assign(logs, await evaluate(model));
    return logs;
  };
}

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

/** Center statistics of labelled feature vectors, the centers being the vectors' own class means. */
export interface CenterStatistics {
  /** Vectors counted. */
  frames: number;
  /** Classes with at least one vector. */
  classes: number;
  /** Mean distance between the class means. */
  between: number;
  /** Mean distance of a vector to its own class mean. */
  own: number;
  /** Mean distance of a vector to the nearest look-alike's class mean (vectors with a look-alike present). */
  lookalike: number;
  /**
   * `own / lookalike`: how far a vector sits from its own center measured in units of the
   * distance to its look-alike's. Scale-free, so runs with different feature scales compare;
   * lower means look-alikes are better separated.
   */
  lookalikeRatio: number;
}

/**
 * Center statistics of a held-out set: class means computed from `vectors` themselves (not the
 * training centers), so a CTC-only model and a center-loss model are measured alike.
 *
 * @example
 * const { vectors, labels } = await collectAlignedFeatures(withFeatureOutput(crnn), batches);
 * centerStatistics(vectors, labels); // { between, own, lookalike, lookalikeRatio, ... }
 */
export function centerStatistics(vectors: readonly (readonly number[])[], labels: readonly string[], groups: readonly string[] = LOOKALIKE_GROUPS): CenterStatistics {
  if (vectors.length !== labels.length) throw new DataError(`center statistics: ${vectors.length} vectors but ${labels.length} labels`);
  const dim = vectors[0]?.length ?? 0;
  const names = [...new Set(labels)];
  const index = new Map(names.map((name, i) => [name, i]));
  const means = new Float64Array(names.length * dim);
  const counts = new Float64Array(names.length);
  vectors.forEach((v, i) => {
    if (v.length !== dim) throw new DataError(`center statistics: vector ${i} has ${v.length} values, the first has ${dim}`);
    const k = index.get(labels[i] as string) as number;
    counts[k]++;
    for (let d = 0; d < dim; d++) means[k * dim + d] += v[d] as number;
  });
  for (let k = 0; k < names.length; k++) for (let d = 0; d < dim; d++) means[k * dim + d] /= counts[k] as number;
  const lookalikes = new Map<string, string[]>();
  for (const group of groups) for (const ch of group) lookalikes.set(ch, [...group].filter((o) => o !== ch && index.has(o)));
  let own = 0;
  let look = 0;
  let lookFrames = 0;
  vectors.forEach((v, i) => {
    const label = labels[i] as string;
    own += distance(v, 0, means, (index.get(label) as number) * dim, dim);
    const others = lookalikes.get(label) ?? [];
    if (others.length === 0) return;
    look += Math.min(...others.map((o) => distance(v, 0, means, (index.get(o) as number) * dim, dim)));
    lookFrames++;
  });
  const ownMean = vectors.length > 0 ? own / vectors.length : Number.NaN;
  const lookMean = lookFrames > 0 ? look / lookFrames : Number.NaN;
  return {
    frames: vectors.length,
    classes: names.length,
    between: meanCenterDistance(means, dim, names.map((_, k) => k)),
    own: ownMean,
    lookalike: lookMean,
    lookalikeRatio: ownMean / lookMean,
  };
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

/** Options of {@link trainWithCenterLoss}: those of `train` without the loss, plus the objective's. */
export interface TrainWithCenterLossOptions extends Omit<TrainOptions<LabeledSequenceBatch>, 'loss'> {
  /** The center-loss objective. Defaults to those of {@link createCenterLossObjective}. */
  center?: CenterLossObjectiveOptions;
}

/**
 * The seed's recipe, second phase: continue training a (pre-trained) CRNN with CTC + center
 * loss. Wraps the model with {@link withFeatureOutput}, trains with the objective's loss, and
 * adds the epoch's center statistics to the logs of `evaluate` (so a `TrackerCallback` records
 * them). The returned `objective` still holds the centers; dispose it when done.
 *
 * @example
 * const { result } = await trainWithCenterLoss(crnn, sequenceTrainData(trainSource), {
 *   evaluate: sequenceEvaluator(validSource), epochs: 5, learningRate: 1e-4, center: { lambda: 0.003 },
 * });
 */
export async function trainWithCenterLoss(
  crnn: tf.LayersModel,
  data: TrainData<LabeledSequenceBatch>,
  options: TrainWithCenterLossOptions = {},
): Promise<{ result: TrainResult; model: tf.LayersModel; objective: CenterLossObjective }> {
  const { center, ...trainOptions } = options;
  const objective = createCenterLossObjective({ numClasses: crnn.outputs[0]?.shape[2] ?? undefined, ...center });
  const model = withFeatureOutput(crnn);
  try {
    const result = await train(model, data, {
      ...trainOptions,
      loss: objective.loss,
      evaluate: options.evaluate ? combineEvaluators(options.evaluate, objective.evaluate) : objective.evaluate,
      // Without a validation evaluator there is no val_accuracy to monitor.
      monitor: options.monitor ?? (options.evaluate ? undefined : 'loss'),
    });
    return { result, model, objective };
  } catch (error) {
    objective.dispose();
    throw error;
  }
}
