/**
 * Connectionist temporal classification (CTC) loss with its exact gradient. TensorFlow.js has
 * none (tensorflow/tfjs#840, #1759), so glyphlab computes it here: log-softmax, then the
 * forward-backward recursions over the blank-extended label in log space, in float64 typed-array
 * loops on the CPU. The batch is small (`[batch, time, classes]` = 32 x 75 x 17 for the equation
 * models), so reading it back from the backend costs less than any kernel round trip would, and
 * the same code runs under every backend.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError } from '../errors';
import { NEG_INF, logAdd } from '../util/log-space';

/** How per-sample losses become the returned tensor. */
export type CtcReduction = 'none' | 'mean' | 'sum';

export interface CtcLossOptions {
  /**
   * Valid time steps of each sample; steps from `inputLengths[b]` on are padding and get a
   * zero gradient. Defaults to `time` for every sample.
   */
  inputLengths?: readonly number[];
  /** The blank's class index. Defaults to `classes - 1` (the Keras convention). */
  blank?: number;
  /**
   * `'none'` returns the per-sample negative log-likelihoods as a `Tensor1D`; `'mean'` their
   * plain batch mean (not divided by label lengths, unlike PyTorch's `'mean'`); `'sum'` their
   * sum. Defaults to `'mean'`.
   */
  reduction?: CtcReduction;
  /**
   * Report an impossible alignment (a label too long for its input length) as loss 0 instead of
   * Infinity. Such samples always get a zero gradient. Defaults to `false`.
   */
  zeroInfinity?: boolean;
}

/** Per-sample results of {@link computeCtc}, kept so that the gradient can be formed later. */
export interface CtcComputation {
  batch: number;
  time: number;
  classes: number;
  /** Per-sample negative log-likelihood; Infinity for an impossible alignment. */
  losses: Float64Array;
  /**
   * Writes `scale[b] * d(loss_b)/d(logits_b)` for every sample into `out` (`[batch, time,
   * classes]`, row-major). Samples with an infinite loss or a zero scale get zeros.
   */
  gradient(scale: ArrayLike<number>, out: Float32Array): void;
}


function checkInteger(value: number, lo: number, hi: number): boolean {
  return Number.isInteger(value) && value >= lo && value <= hi;
}

/**
 * The CTC forward pass on plain arrays: `logits` holds `[batch, time, classes]` unnormalised
 * scores row-major. Arguments are validated as in {@link ctcLoss}. The returned object can form
 * the exact gradient afterwards, reusing the forward variables.
 */
export function computeCtc(
  logits: ArrayLike<number>,
  shape: readonly [number, number, number],
  labels: readonly (readonly number[])[],
  options: { inputLengths?: readonly number[]; blank?: number } = {},
): CtcComputation {
  const [batch, time, classes] = shape;
  if (logits.length !== batch * time * classes) {
    throw new DataError(`CTC logits hold ${logits.length} values; shape [${shape.join(', ')}] needs ${batch * time * classes}`);
  }
  const blank = options.blank ?? classes - 1;
  if (!checkInteger(blank, 0, classes - 1)) {
    throw new ConfigError(`CTC blank ${blank} is not a class index; accepted are integers 0..${classes - 1}`);
  }
  if (labels.length !== batch) {
    throw new DataError(`CTC got ${labels.length} labels for a batch of ${batch}; pass one label per sample`);
  }
  const inputLengths = options.inputLengths ?? new Array<number>(batch).fill(time);
  if (inputLengths.length !== batch) {
    throw new ConfigError(`CTC inputLengths has ${inputLengths.length} entries for a batch of ${batch}; pass one per sample`);
  }

  // The blank-extended labels, all in one buffer: [blank, l1, blank, l2, ..., lN, blank].
  const extOffsets = new Int32Array(batch + 1);
  for (let b = 0; b < batch; b++) {
    const label = labels[b] as readonly number[];
    const length = inputLengths[b] as number;
    if (!checkInteger(length, 0, time)) {
      throw new ConfigError(`CTC inputLengths[${b}] is ${length}; accepted are integers 0..${time} (the time steps)`);
    }
    for (let i = 0; i < label.length; i++) {
      const symbol = label[i] as number;
      if (!checkInteger(symbol, 0, classes - 1) || symbol === blank) {
        throw new DataError(
          `CTC label ${b} has ${symbol} at position ${i}; accepted are integer class indices 0..${classes - 1} ` +
            `other than the blank ${blank}`,
        );
      }
    }
    extOffsets[b + 1] = (extOffsets[b] as number) + 2 * label.length + 1;
  }
  const extended = new Int32Array(extOffsets[batch] as number).fill(blank);
  for (let b = 0; b < batch; b++) {
    const label = labels[b] as readonly number[];
    const offset = extOffsets[b] as number;
    for (let i = 0; i < label.length; i++) extended[offset + 2 * i + 1] = label[i] as number;
  }

  // Log-softmax over classes, in float64, for the valid steps only; the softmax itself is kept
  // for the gradient.
  const logProbs = new Float64Array(batch * time * classes);
  const probs = new Float64Array(batch * time * classes);
  for (let b = 0; b < batch; b++) {
    const steps = inputLengths[b] as number;
    for (let t = 0; t < steps; t++) {
      const row = (b * time + t) * classes;
      let max = NEG_INF;
      for (let k = 0; k < classes; k++) {
        const v = logits[row + k] as number;
        if (v > max) max = v;
      }
      let sum = 0;
      for (let k = 0; k < classes; k++) {
        const e = Math.exp((logits[row + k] as number) - max);
        probs[row + k] = e;
        sum += e;
      }
      const logZ = max + Math.log(sum);
      const inverse = 1 / sum;
      for (let k = 0; k < classes; k++) {
        logProbs[row + k] = (logits[row + k] as number) - logZ;
        probs[row + k] = (probs[row + k] as number) * inverse;
      }
    }
  }

  // Forward variables alpha[t][s] (log probability of all prefixes of paths that emit
  // ext[0..s] in steps 0..t, ending in state s), kept for the gradient.
  let alphaSize = 0;
  const alphaOffsets = new Int32Array(batch + 1);
  for (let b = 0; b < batch; b++) {
    const states = (extOffsets[b + 1] as number) - (extOffsets[b] as number);
    alphaSize += (inputLengths[b] as number) * states;
    alphaOffsets[b + 1] = alphaSize;
  }
  const alpha = new Float64Array(alphaSize).fill(NEG_INF);
  const losses = new Float64Array(batch);

  for (let b = 0; b < batch; b++) {
    const ext = extOffsets[b] as number;
    const states = (extOffsets[b + 1] as number) - ext;
    const steps = inputLengths[b] as number;
    const base = alphaOffsets[b] as number;
    if (steps === 0) {
      // No frames: only the empty label has an alignment, of probability 1.
      losses[b] = states === 1 ? 0 : Number.POSITIVE_INFINITY;
      continue;
    }
    const lp0 = b * time * classes;
    alpha[base] = logProbs[lp0 + blank] as number;
    if (states > 1) alpha[base + 1] = logProbs[lp0 + (extended[ext + 1] as number)] as number;
    for (let t = 1; t < steps; t++) {
      const row = lp0 + t * classes;
      const prev = base + (t - 1) * states;
      const cur = prev + states;
      // States before `first` can no longer reach the end in time, states after `last` cannot
      // have been reached yet: they stay at -Infinity and are skipped.
      const first = Math.max(0, states - 2 * (steps - t));
      const last = Math.min(states - 1, 2 * t + 1);
      for (let s = first; s <= last; s++) {
        const symbol = extended[ext + s] as number;
        const stay = alpha[prev + s] as number;
        const step = s > 0 ? (alpha[prev + s - 1] as number) : NEG_INF;
        // Skipping the blank between two symbols is allowed only when they differ.
        const skip =
          s > 1 && symbol !== blank && symbol !== extended[ext + s - 2] ? (alpha[prev + s - 2] as number) : NEG_INF;
        // log(e^stay + e^step + e^skip) with one log: shift by the largest term.
        const max = stay > step ? (stay > skip ? stay : skip) : step > skip ? step : skip;
        alpha[cur + s] =
          max === NEG_INF
            ? NEG_INF
            : max + Math.log(Math.exp(stay - max) + Math.exp(step - max) + Math.exp(skip - max)) + (logProbs[row + symbol] as number);
      }
    }
    const end = base + (steps - 1) * states;
    const logLikelihood =
      states > 1 ? logAdd(alpha[end + states - 1] as number, alpha[end + states - 2] as number) : (alpha[end] as number);
    losses[b] = -logLikelihood;
  }

  const gradient = (scale: ArrayLike<number>, out: Float32Array): void => {
    if (out.length !== batch * time * classes) {
      throw new RangeError(`CTC gradient buffer holds ${out.length} values, needs ${batch * time * classes}`);
    }
    out.fill(0);
    let maxStates = 1;
    for (let b = 0; b < batch; b++) maxStates = Math.max(maxStates, (extOffsets[b + 1] as number) - (extOffsets[b] as number));
    // Backward variables for steps t+1 and t: beta[t][s] is the log probability of emitting the
    // rest of the label in steps t+1.. given state s at step t (the emission at t excluded).
    let betaNext = new Float64Array(maxStates);
    let betaCur = new Float64Array(maxStates);

    for (let b = 0; b < batch; b++) {
      const weight = scale[b] as number;
      const loss = losses[b] as number;
      if (weight === 0 || !Number.isFinite(loss)) continue;
      const ext = extOffsets[b] as number;
      const states = (extOffsets[b + 1] as number) - ext;
      const steps = inputLengths[b] as number;
      const base = alphaOffsets[b] as number;
      const lp0 = b * time * classes;

      betaNext.fill(NEG_INF, 0, states);
      betaNext[states - 1] = 0;
      if (states > 1) betaNext[states - 2] = 0;
      for (let t = steps - 1; t >= 0; t--) {
        const row = lp0 + t * classes;
        if (t < steps - 1) {
          // beta[t] from beta[t+1], which is in betaNext.
          const nextRow = row + classes;
          const first = Math.max(0, states - 2 * (steps - t));
          const last = Math.min(states - 1, 2 * t + 1);
          betaCur.fill(NEG_INF, 0, states);
          for (let s = first; s <= last; s++) {
            const symbol = extended[ext + s] as number;
            const stay = (betaNext[s] as number) + (logProbs[nextRow + symbol] as number);
            const step =
              s + 1 < states ? (betaNext[s + 1] as number) + (logProbs[nextRow + (extended[ext + s + 1] as number)] as number) : NEG_INF;
            const skipTo = s + 2 < states ? (extended[ext + s + 2] as number) : blank;
            const skip =
              skipTo !== blank && skipTo !== symbol ? (betaNext[s + 2] as number) + (logProbs[nextRow + skipTo] as number) : NEG_INF;
            const max = stay > step ? (stay > skip ? stay : skip) : step > skip ? step : skip;
            betaCur[s] =
              max === NEG_INF ? NEG_INF : max + Math.log(Math.exp(stay - max) + Math.exp(step - max) + Math.exp(skip - max));
          }
          const swap = betaNext;
          betaNext = betaCur;
          betaCur = swap;
        }
        // betaNext now holds beta[t]. d loss / d logit[t][k] = softmax[t][k] - occupancy[t][k],
        // where occupancy sums alpha*beta/p over the states that emit k (the softmax-folded form).
        for (let k = 0; k < classes; k++) out[row + k] = weight * (probs[row + k] as number);
        const alphaRow = base + t * states;
        for (let s = 0; s < states; s++) {
          const a = alpha[alphaRow + s] as number;
          const beta = betaNext[s] as number;
          if (a === NEG_INF || beta === NEG_INF) continue;
          const k = extended[ext + s] as number;
          out[row + k] = (out[row + k] as number) - weight * Math.exp(a + beta + loss);
        }
      }
    }
  };

  return { batch, time, classes, losses, gradient };
}

/**
 * CTC loss of unnormalised scores `logits` (`[batch, time, classes]`) against `labels` (class
 * indices, no padding, lengths may differ), differentiable through `tf.customGrad` with the
 * exact softmax-folded gradient, so any tfjs optimizer trains through it. Returns a scalar for
 * `'mean'` (the default) and `'sum'`, a `Tensor1D` of per-sample negative log-likelihoods for
 * `'none'`. An impossible alignment gives Infinity (0 with `zeroInfinity`) and a zero gradient.
 *
 * For a model whose last layer is a softmax, pass `tf.log(probabilities)`: log-softmax leaves
 * log-probabilities unchanged, so the loss is the same.
 *
 * @example
 * const loss = ctcLoss(logits, [[3, 3, 1], [2]], { inputLengths: [75, 60] });
 * const { value, grads } = tf.variableGrads(() => ctcLoss(model.apply(x) as tf.Tensor3D, labels));
 */
export function ctcLoss(logits: tf.Tensor3D, labels: readonly (readonly number[])[], options: CtcLossOptions = {}): tf.Tensor {
  if (logits.rank !== 3) {
    throw new DataError(`CTC logits must be rank 3 [batch, time, classes]; got shape [${logits.shape.join(', ')}]`);
  }
  const reduction = options.reduction ?? 'mean';
  if (reduction !== 'none' && reduction !== 'mean' && reduction !== 'sum') {
    throw new ConfigError(`CTC reduction ${JSON.stringify(reduction)} is unknown; accepted are 'none', 'mean', 'sum'`);
  }
  const zeroInfinity = options.zeroInfinity ?? false;
  const [batch, time, classes] = logits.shape;

  const lossFn = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    const ctc = computeCtc(x.dataSync(), [batch, time, classes], labels, options);
    // A copy: the gradient must still see which samples were impossible.
    const losses = Float64Array.from(ctc.losses);
    if (zeroInfinity) {
      for (let b = 0; b < batch; b++) if (losses[b] === Number.POSITIVE_INFINITY) losses[b] = 0;
    }
    let value: tf.Tensor;
    if (reduction === 'none') {
      value = tf.tensor1d(Float32Array.from(losses));
    } else {
      let total = 0;
      for (let b = 0; b < batch; b++) total += losses[b] as number;
      value = tf.scalar(reduction === 'mean' ? (batch === 0 ? 0 : total / batch) : total);
    }
    const gradFunc = (dy: tf.Tensor): tf.Tensor => {
      const upstream = dy.dataSync();
      const scale = new Float64Array(batch);
      for (let b = 0; b < batch; b++) {
        scale[b] = reduction === 'none' ? (upstream[b] as number) : reduction === 'mean' ? (upstream[0] as number) / batch : (upstream[0] as number);
      }
      const grad = new Float32Array(batch * time * classes);
      ctc.gradient(scale, grad);
      return tf.tensor3d(grad, [batch, time, classes]);
    };
    return { value, gradFunc };
  });
  return lossFn(logits);
}
