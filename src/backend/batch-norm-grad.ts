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
 * Statistics of rank above 1 (broadcast over other axes) get the same formulas per element,
 * summed back to each input's shape; tfjs's own gradient fails on them.
 */
import * as tf from '@tensorflow/tfjs';

type GradFunc = tf.GradConfig['gradFunc'];

/** Sums `t` over the axes along which `shape` was broadcast to it, giving `shape`. */
function reduceTo(t: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(shape, t.shape);
  return tf.reshape(axes.length > 0 ? tf.sum(t, axes, true) : t, shape);
}

const leanGradFunc: GradFunc = (dy, saved, attrs) => {
  const [x, mean, variance, scale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];
  const dyTensor = dy as tf.Tensor;
  const { varianceEpsilon } = attrs as unknown as tf.FusedBatchNormAttrs;
  const r = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
  const rTimesScale = scale == null ? r : tf.mul(r, scale);
  const minusHalfR2 = tf.mul(tf.square(r), tf.scalar(-0.5));
  const centered = tf.sub(x, mean);
  const perChannel = mean.rank === 1 && variance.rank === 1 && (scale == null || scale.rank === 1);
  if (!perChannel) {
    // Statistics broadcast over other axes (tfjs 4.22's own gradient fails there): the same
    // formulas per element, summed back to each input's shape.
    return {
      x: () => tf.mul(dyTensor, rTimesScale),
      mean: () => reduceTo(tf.mul(tf.neg(rTimesScale), dyTensor), mean.shape),
      variance: () => reduceTo(tf.mul(tf.mul(minusHalfR2, rTimesScale), tf.mul(dyTensor, centered)), variance.shape),
      scale: () => reduceTo(tf.mul(r, tf.mul(dyTensor, centered)), (scale as tf.Tensor).shape),
      offset: () => reduceTo(dyTensor, mean.shape),
    };
  }
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
  const sumDy = tf.sum(dyTensor, axes);
  const sumDyCentered = tf.sum(tf.mul(dyTensor, centered), axes);
  return {
    x: () => tf.mul(dyTensor, rTimesScale),
    mean: () => tf.mul(tf.neg(rTimesScale), sumDy),
    variance: () => tf.mul(tf.mul(minusHalfR2, rTimesScale), sumDyCentered),
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
  tf.registerGradient({ kernelName: 'FusedBatchNorm', inputsToSave: ['x', 'mean', 'variance', 'scale'], gradFunc: leanGradFunc });
  return true;
}
