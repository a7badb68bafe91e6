/**
 * A leaner gradient for `FusedBatchNorm` (every batch-normalisation layer in training), for all
 * backends. tfjs 4.22's gradient tiles the per-channel factor 1/sqrt(variance + eps) to the full
 * input shape before multiplying (the wasm `Tile` kernel is slow: 1.8 s of a CRNN step at batch
 * 32) and forms three more full-size products than needed. Broadcasting gives the same values,
 * and per-channel factors can leave the sums over batch, height and width:
 *
 *     r = 1/sqrt(variance + eps), S1 = sum(dy), S2 = sum(dy * (x - mean))
 *     dx = dy * (r * scale)          dmean = -r * scale * S1
 *     dvariance = -r^3/2 * scale * S2   dscale = r * S2   doffset = S1
 *
 * Inputs whose mean is not one value per channel (rank above 1) keep tfjs's gradient.
 */
import * as tf from '@tensorflow/tfjs';

type GradFunc = tf.GradConfig['gradFunc'];

let original: tf.GradConfig | undefined;

const leanGradFunc: GradFunc = (dy, saved, attrs) => {
  const [x, mean, variance, scale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];
  const dyTensor = dy as tf.Tensor;
  const perChannel = mean.rank === 1 && variance.rank === 1 && (scale == null || scale.rank === 1);
  if (!perChannel && original) return original.gradFunc(dy, saved, attrs);
  const { varianceEpsilon } = attrs as unknown as tf.FusedBatchNormAttrs;
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
  const r = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
  const rTimesScale = scale == null ? r : tf.mul(r, scale);
  const sumDy = tf.sum(dyTensor, axes);
  const sumDyCentered = tf.sum(tf.mul(dyTensor, tf.sub(x, mean)), axes);
  return {
    x: () => tf.mul(dyTensor, rTimesScale),
    mean: () => tf.mul(tf.neg(rTimesScale), sumDy),
    variance: () => tf.mul(tf.mul(tf.mul(tf.square(r), rTimesScale), tf.scalar(-0.5)), sumDyCentered),
    scale: () => tf.mul(r, sumDyCentered),
    // A copy: the engine may free a returned gradient once accumulated, and mean's closure reads sumDy.
    offset: () => tf.clone(sumDy),
  };
};

/**
 * Installs the lean batch-norm gradient (once; later calls do nothing). Returns whether this
 * call installed it.
 */
export function registerBatchNormGradient(): boolean {
  const current = tf.getGradient('FusedBatchNorm');
  if (current?.gradFunc === leanGradFunc) return false;
  original = current;
  tf.registerGradient({ kernelName: 'FusedBatchNorm', inputsToSave: ['x', 'mean', 'variance', 'scale'], gradFunc: leanGradFunc });
  return true;
}
