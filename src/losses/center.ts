/**
 * Center loss (Wen et al., 2016) for sequence models (a look-alike-character recipe of the reference write-ups): per-frame features
 * are pulled towards a learned center of the character they show, so that look-alike characters
 * (1/7, 6/8/9, 0/8, +/*, (/)) end up further apart in feature space. A CTC model gives no
 * per-frame labels, so the frames are first aligned with the label through the greedy CTC path
 * (see {@link alignGreedyPath}).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError } from '../errors';
import { editAlignment } from '../metrics/edit-distance';
import { framewiseArgmax } from '../decode/greedy';

/** One frame aligned with the character it shows. */
export interface AlignedFrame {
  /** Time step in the model output. */
  frame: number;
  /** Class index of the label character the frame shows. */
  classIndex: number;
  /** Position of that character in the label. */
  labelPosition: number;
}

/** Options of {@link alignGreedyPath}. */
export interface AlignGreedyPathOptions {
  /** The blank's class index. Defaults to 16, the equation blank (`BLANK_INDEX`). */
  blank?: number;
  /**
   * Which frames of a run (consecutive frames with the same non-blank argmax) to keep: `all`, or
   * only `peak`, the most confident frame of the run. Defaults to `all`.
   */
  frames?: 'all' | 'peak';
  /**
   * Also use runs whose predicted character was substituted for the label's (the run sits where
   * the label character is, but was read as another, e.g. a `1` read as `7`). Pulling those
   * towards the truth's center is what a look-alike needs most, but the alignment is less
   * certain. Defaults to false (matched runs only).
   */
  includeSubstitutions?: boolean;
  /** Per-frame scores (`[time, classes]` row-major) to pick the peak frame by; needed for `frames: 'peak'`. */
  scores?: ArrayLike<number>;
  /** Classes per frame in `scores`. Needed with `scores`. */
  classes?: number;
}

/** A run of the greedy path: consecutive frames with the same non-blank class (one emitted character). */
interface Run {
  classIndex: number;
  frames: number[];
}

function greedyRuns(path: readonly number[], blank: number): Run[] {
  const runs: Run[] = [];
  let previous = -1;
  path.forEach((k, t) => {
    if (k !== blank) {
      if (k === previous) (runs[runs.length - 1] as Run).frames.push(t);
      else runs.push({ classIndex: k, frames: [t] });
    }
    previous = k;
  });
  return runs;
}

// Class indices as characters, so that editAlignment (which works on strings) aligns them.
const asChar = (k: number): string => String.fromCodePoint(0x100 + k);

/**
 * Aligns the frames of one sample with its label through the greedy CTC path. The path is
 * split into runs (repeated argmax frames collapse into one emitted character, as in best-path
 * decoding; a blank between two equal classes starts a new character); the emitted characters
 * are aligned with the label by edit distance; frames of a run that matches its label
 * character are kept with that character's class. Repeated or missed characters thus never
 * shift the rest: an extra emission is an insertion and a missed one a deletion, and neither
 * gives frames.
 *
 * @example
 * // path 1 1 _ 7 _ _ 3 with label 1 7 3 -> frames 0,1 -> '1', 3 -> '7', 6 -> '3'
 * alignGreedyPath([7, 7, 16, 13, 16, 16, 9], [7, 13, 9]);
 */
export function alignGreedyPath(path: readonly number[], label: readonly number[], options: AlignGreedyPathOptions = {}): AlignedFrame[] {
  const blank = options.blank ?? 16;
  const mode = options.frames ?? 'all';
  if (mode !== 'all' && mode !== 'peak') throw new ConfigError(`frames ${JSON.stringify(mode)} is not one of: all, peak`);
  if (mode === 'peak' && (options.scores === undefined || options.classes === undefined)) {
    throw new ConfigError("frames: 'peak' needs the per-frame scores and their number of classes");
  }
  const runs = greedyRuns(path, blank);
  const steps = editAlignment(label.map(asChar).join(''), runs.map((r) => asChar(r.classIndex)).join(''));
  const aligned: AlignedFrame[] = [];
  let labelPosition = 0;
  let runIndex = 0;
  for (const step of steps) {
    const takesLabel = step.op !== 'insert';
    const takesRun = step.op !== 'delete';
    const run = takesRun ? runs[runIndex] : undefined;
    const use = step.op === 'match' || (step.op === 'substitute' && (options.includeSubstitutions ?? false));
    if (use && run) {
      const classIndex = label[labelPosition] as number;
      let frames = run.frames;
      if (mode === 'peak') {
        const scores = options.scores as ArrayLike<number>;
        const classes = options.classes as number;
        let peak = frames[0] as number;
        for (const t of frames) if ((scores[t * classes + run.classIndex] as number) > (scores[peak * classes + run.classIndex] as number)) peak = t;
        frames = [peak];
      }
      for (const frame of frames) aligned.push({ frame, classIndex, labelPosition });
    }
    if (takesLabel) labelPosition++;
    if (takesRun) runIndex++;
  }
  return aligned;
}

/**
 * The center loss `1/2 * mean_i ||features_i - centers[classes_i]||^2` over `N` feature rows
 * (`[N, D]`). The centers are constants here (only the features get a gradient, which is
 * `(features_i - centers[classes_i]) / N`); they move by {@link updateCenters}, outside the
 * gradient, as in Wen et al. Returns 0 for no rows.
 */
export function centerLoss(features: tf.Tensor2D, centers: tf.Tensor2D, classes: readonly number[]): tf.Scalar {
  checkRows(features, centers, classes);
  return tf.tidy(() => {
    if (classes.length === 0) return tf.scalar(0);
    const own = tf.gather(centers, tf.tensor1d(classes as number[], 'int32'));
    return tf.mul(0.5, tf.mean(tf.sum(tf.square(tf.sub(features, own)), 1))) as tf.Scalar;
  });
}

/**
 * The same value and gradient as `centerLoss(tf.gather(features, rows), centers, classes)`, for
 * rows picked out of a larger feature matrix, computed with elementwise ops only: tfjs's
 * gradient of `gather` (an unsorted segment sum) takes seconds per batch on the wasm backend,
 * this takes milliseconds. `rows` must be distinct (an aligned frame shows one character).
 */
export function centerLossAt(features: tf.Tensor2D, centers: tf.Tensor2D, rows: readonly number[], classes: readonly number[]): tf.Scalar {
  const [n, dim] = features.shape;
  if (rows.length !== classes.length) throw new DataError(`center loss: ${rows.length} rows but ${classes.length} classes; pass one class per row`);
  if (centers.rank !== 2 || centers.shape[1] !== dim) throw new DataError(`center loss: features [${features.shape.join(', ')}] and centers [${centers.shape.join(', ')}] must be [N, D] and [K, D]`);
  if (rows.length === 0) return tf.scalar(0);
  const k = centers.shape[0];
  const centerValues = centers.dataSync();
  const target = new Float32Array(n * dim);
  const mask = new Float32Array(n);
  rows.forEach((row, i) => {
    const c = classes[i] as number;
    if (!Number.isInteger(row) || row < 0 || row >= n) throw new DataError(`center loss: row ${row} is not a feature row 0..${n - 1}`);
    if (!Number.isInteger(c) || c < 0 || c >= k) throw new DataError(`center loss: class ${c} of row ${row} is not a center index 0..${k - 1}`);
    if (mask[row]) throw new DataError(`center loss: row ${row} is given twice; each frame can show one character`);
    mask[row] = 1;
    target.set(centerValues.subarray(c * dim, (c + 1) * dim), row * dim);
  });
  return tf.tidy(() => {
    const squared = tf.sum(tf.square(tf.sub(features, tf.tensor2d(target, [n, dim]))), 1);
    return tf.div(tf.mul(0.5, tf.sum(tf.mul(squared, tf.tensor1d(mask)))), rows.length) as tf.Scalar;
  });
}

function checkRows(features: tf.Tensor2D, centers: tf.Tensor2D, classes: readonly number[]): void {
  if (features.rank !== 2 || centers.rank !== 2 || features.shape[1] !== centers.shape[1]) {
    throw new DataError(`center loss: features [${features.shape.join(', ')}] and centers [${centers.shape.join(', ')}] must be [N, D] and [K, D]`);
  }
  if (features.shape[0] !== classes.length) {
    throw new DataError(`center loss: ${features.shape[0]} feature rows but ${classes.length} classes; pass one class per row`);
  }
  const k = centers.shape[0];
  classes.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 0 || c >= k) throw new DataError(`center loss: class ${c} of row ${i} is not a center index 0..${k - 1}`);
  });
}

/**
 * One center update (Wen et al., eq. 4): `c_j -= alpha * sum_{i: y_i = j}(c_j - x_i) / (1 + n_j)`,
 * so a class seen `n` times in the batch moves `alpha * n / (1 + n)` of the way to its batch
 * mean; unseen classes stay. Returns the new centers (the caller owns them).
 */
export function updateCenters(centers: tf.Tensor2D, features: tf.Tensor2D, classes: readonly number[], alpha: number): tf.Tensor2D {
  checkRows(features, centers, classes);
  if (!(alpha >= 0 && alpha <= 1)) throw new ConfigError(`center update rate alpha ${alpha} must be in [0, 1]`);
  const k = centers.shape[0];
  return tf.tidy(() => {
    if (classes.length === 0) return centers.clone();
    const { sums, counts } = classSums(features, classes, k);
    // sum_i (c_j - x_i) = n_j * c_j - sum_i x_i
    const delta = tf.div(tf.sub(tf.mul(counts, centers), sums), tf.add(counts, 1));
    return tf.sub(centers, tf.mul(alpha, delta)) as tf.Tensor2D;
  });
}

/**
 * Per-class sums of feature rows (`[k, D]`) and row counts (`[k, 1]`), through a one-hot matrix
 * product (supported by every backend, unlike segment sums).
 */
export function classSums(features: tf.Tensor2D, classes: readonly number[], k: number): { sums: tf.Tensor2D; counts: tf.Tensor2D } {
  const n = classes.length;
  const oneHot = new Float32Array(k * n);
  const counts = new Float32Array(k);
  classes.forEach((c, i) => {
    oneHot[c * n + i] = 1;
    counts[c] = (counts[c] as number) + 1;
  });
  return tf.tidy(() => ({ sums: tf.matMul(tf.tensor2d(oneHot, [k, n]), features), counts: tf.tensor2d(counts, [k, 1]) }));
}

export { framewiseArgmax };
