/**
 * A quick proof that the chosen backend can train: a small conv net (conv, batch norm, max
 * pool, dense) takes a few Adam steps on a fixed random batch, its first gradients are compared
 * with the cpu backend's, and its loss must fall. Used by `npm start` and `glyphlab backend check`.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../util/rng';

export interface SelfCheckOptions {
  /** Batch size. Defaults to 4. */
  batchSize?: number;
  /** Image height and width. Defaults to 12 x 16. */
  height?: number;
  width?: number;
  /** Adam steps to take. Defaults to 5. */
  steps?: number;
  /** Compare the first step's gradients with the cpu backend. Defaults to true. */
  compareWithCpu?: boolean;
  /** Seed for weights and data. Defaults to 7. */
  seed?: number;
}

export interface SelfCheckResult {
  backend: string;
  /** Loss before each step. */
  losses: number[];
  /** Largest |gradient difference| against cpu, relative to the largest |cpu gradient|; undefined when not compared. */
  maxRelativeGradientDiff: number | undefined;
  /** Wall time of the steps, in ms. */
  stepMs: number;
}

const CLASSES = 3;

function buildProbeModel(height: number, width: number): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [height, width, 1], filters: 4, kernelSize: 3, padding: 'same' }),
      tf.layers.batchNormalization(),
      tf.layers.reLU(),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 6, kernelSize: [3, 2], strides: [1, 2], padding: 'valid', activation: 'relu' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: CLASSES }),
    ],
  });
}

function seededValues(size: number, rng: ReturnType<typeof createRng>, scale: number): Float32Array {
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = rng.normal() * scale;
  return values;
}

/** Builds the probe model on the current backend with seeded weights, and returns it with its batch. */
function setUp(options: Required<SelfCheckOptions>): { model: tf.LayersModel; x: tf.Tensor4D; y: tf.Tensor2D } {
  const rng = createRng(options.seed);
  const model = buildProbeModel(options.height, options.width);
  const weights = model.weights.map((w) => {
    const size = w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
    const isVariance = w.name.includes('moving_variance') || w.name.includes('gamma');
    const values = isVariance ? new Float32Array(size).fill(1) : seededValues(size, rng, 0.3);
    return tf.tensor(values, w.shape as number[]);
  });
  model.setWeights(weights);
  tf.dispose(weights);
  const { batchSize, height, width } = options;
  const x = tf.tensor4d(seededValues(batchSize * height * width, rng, 1), [batchSize, height, width, 1]);
  const labels = Array.from({ length: batchSize }, () => rng.int(CLASSES));
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES).toFloat() as tf.Tensor2D);
  return { model, x, y };
}

function lossOf(model: tf.LayersModel, x: tf.Tensor4D, y: tf.Tensor2D): tf.Scalar {
  const logits = model.apply(x, { training: true }) as tf.Tensor;
  return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
}

/** Gradients of the loss for every trainable weight, in model order, as plain arrays. */
function gradientsOnCurrentBackend(options: Required<SelfCheckOptions>): Float32Array[] {
  const { model, x, y } = setUp(options);
  try {
    const { grads, value } = tf.variableGrads(() => lossOf(model, x, y));
    const arrays = model.trainableWeights.map((w) => {
      const g = grads[w.originalName] ?? grads[w.name];
      return g ? (g.dataSync() as Float32Array).slice() : new Float32Array(0);
    });
    tf.dispose([value, ...Object.values(grads)]);
    return arrays;
  } finally {
    tf.dispose([x, y]);
    model.dispose();
  }
}

function maxRelativeDiff(actual: Float32Array[], expected: Float32Array[]): number {
  let maxDiff = 0;
  let maxRef = 1e-12;
  expected.forEach((ref, i) => {
    const got = actual[i] ?? new Float32Array(0);
    if (got.length !== ref.length) maxDiff = Number.POSITIVE_INFINITY;
    for (let j = 0; j < ref.length; j++) {
      maxRef = Math.max(maxRef, Math.abs(ref[j] as number));
      maxDiff = Math.max(maxDiff, Math.abs((got[j] ?? Number.NaN) - (ref[j] as number)) || 0);
      if (Number.isNaN(got[j] as number)) maxDiff = Number.POSITIVE_INFINITY;
    }
  });
  return maxDiff / maxRef;
}

/**
 * Trains the probe model for a few steps on the current backend (call `initBackend` first).
 *
 * @example
 * const check = await runSelfCheck();
 * if (check.losses.at(-1)! >= check.losses[0]!) throw new Error('not learning');
 */
export async function runSelfCheck(options: SelfCheckOptions = {}): Promise<SelfCheckResult> {
  const resolved: Required<SelfCheckOptions> = {
    batchSize: options.batchSize ?? 4,
    height: options.height ?? 12,
    width: options.width ?? 16,
    steps: options.steps ?? 5,
    compareWithCpu: options.compareWithCpu ?? true,
    seed: options.seed ?? 7,
  };
  const backend = tf.getBackend();
  let maxRelativeGradientDiff: number | undefined;
  if (resolved.compareWithCpu && backend !== 'cpu') {
    const onBackend = gradientsOnCurrentBackend(resolved);
    await tf.setBackend('cpu');
    try {
      maxRelativeGradientDiff = maxRelativeDiff(onBackend, gradientsOnCurrentBackend(resolved));
    } finally {
      await tf.setBackend(backend);
    }
  }
  const { model, x, y } = setUp(resolved);
  const optimizer = tf.train.adam(0.01);
  const losses: number[] = [];
  const started = Date.now();
  try {
    for (let step = 0; step < resolved.steps; step++) {
      const loss = optimizer.minimize(() => lossOf(model, x, y), true);
      losses.push(loss ? (await loss.data())[0] ?? Number.NaN : Number.NaN);
      loss?.dispose();
    }
  } finally {
    optimizer.dispose();
    tf.dispose([x, y]);
    model.dispose();
  }
  return { backend, losses, maxRelativeGradientDiff, stepMs: Date.now() - started };
}

/** Largest relative gradient difference from the cpu backend that a passing check allows. */
export const SELF_CHECK_GRADIENT_TOLERANCE = 1e-3;

/**
 * Why a self-check failed, or `undefined` when it passed: the loss must fall over the steps and
 * the gradients, when compared, must match the cpu backend's within
 * {@link SELF_CHECK_GRADIENT_TOLERANCE}.
 */
export function selfCheckFailure(result: SelfCheckResult): string | undefined {
  const first = result.losses[0] ?? Number.NaN;
  const last = result.losses[result.losses.length - 1] ?? Number.NaN;
  if (!(last < first)) return `the loss did not fall (${first} -> ${last})`;
  const diff = result.maxRelativeGradientDiff;
  if (diff !== undefined && !(diff < SELF_CHECK_GRADIENT_TOLERANCE)) {
    return `gradients differ from the cpu backend's by ${diff} (relative; tolerance ${SELF_CHECK_GRADIENT_TOLERANCE})`;
  }
  return undefined;
}
