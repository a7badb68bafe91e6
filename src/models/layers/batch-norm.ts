/**
 * Batch normalisation over the last axis, optionally fused with the ReLU that follows it in
 * glyphlab's conv blocks: the same computation and weights as Keras's `BatchNormalization`
 * (gamma, beta, moving_mean, moving_variance; moving averages of the batch mean and biased
 * variance), run in training as one kernel and one gradient kernel where the backend has them
 * (wasm: `backend/wasm-batch-norm.ts`) and composed of tfjs ops elsewhere.
 */
import * as tf from '@tensorflow/tfjs';
import { BATCH_NORM_TRAIN } from '../../backend/wasm-batch-norm';
import { ConfigError } from '../../errors';

/** Options of {@link batchNorm}. */
export interface BatchNormArgs {
  /** Momentum of the moving statistics. Defaults to 0.99 (Keras). */
  momentum?: number;
  /** Added to the variance. Defaults to 1e-3 (Keras). */
  epsilon?: number;
  /** Apply a ReLU after normalising. Defaults to false. */
  relu?: boolean;
  /** Layer name. Defaults to a unique name. */
  name?: string;
  /** Whether gamma and beta train. Defaults to true. */
  trainable?: boolean;
}

/** The batch-norm statistics and output of one training batch. */
export interface BatchNormTraining {
  y: tf.Tensor;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/**
 * Normalises `x` [..., C] by its batch statistics over every axis but the last, scales by
 * `gamma`, shifts by `beta` and (with `relu`) clips at 0. Differentiable in `x`, `gamma` and
 * `beta`; the statistics carry no gradient.
 */
export function batchNormTraining(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number, relu: boolean): BatchNormTraining {
  if (tf.getKernel(BATCH_NORM_TRAIN, tf.getBackend()) != null && process.env['GLYPHLAB_BATCH_NORM'] !== 'ops') {
    const [y, mean, variance, invStd] = tf.engine().runKernel(BATCH_NORM_TRAIN, { x, gamma, beta }, { epsilon, relu }) as tf.Tensor[];
    // The gradient holds its own reference to what it needs.
    invStd?.dispose();
    return { y: y as tf.Tensor, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  }
  return tf.tidy(() => {
    const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
    const { mean, variance } = tf.moments(x, axes);
    const normed = tf.batchNorm(x, mean, variance, beta, gamma, epsilon);
    return { y: relu ? tf.relu(normed) : normed, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  });
}

type Serializable = tf.serialization.ConfigDict;

/** Keras-compatible batch normalisation over the last axis, with an optional fused ReLU. */
export class BatchNorm extends tf.layers.Layer {
  static className = 'GlyphlabBatchNorm';
  readonly momentum: number;
  readonly epsilon: number;
  readonly relu: boolean;
  private vars: { gamma: tf.LayerVariable; beta: tf.LayerVariable; movingMean: tf.LayerVariable; movingVariance: tf.LayerVariable } | undefined;

  constructor(args: BatchNormArgs = {}) {
    super({ name: args.name, trainable: args.trainable });
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
    this.relu = args.relu ?? false;
    if (!(this.momentum >= 0 && this.momentum < 1)) throw new ConfigError(`batch norm: momentum ${this.momentum} must be in [0, 1)`);
    if (!(this.epsilon > 0)) throw new ConfigError(`batch norm: epsilon ${this.epsilon} must be positive`);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = shape[shape.length - 1];
    if (typeof channels !== 'number') throw new ConfigError(`batch norm ${this.name}: the last input axis must have a known size, got ${JSON.stringify(shape)}`);
    this.vars = {
      gamma: this.addWeight('gamma', [channels], 'float32', tf.initializers.ones()),
      beta: this.addWeight('beta', [channels], 'float32', tf.initializers.zeros()),
      movingMean: this.addWeight('moving_mean', [channels], 'float32', tf.initializers.zeros(), undefined, false),
      movingVariance: this.addWeight('moving_variance', [channels], 'float32', tf.initializers.ones(), undefined, false),
    };
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
      const vars = this.vars;
      if (!vars) throw new ConfigError(`batch norm ${this.name} was called before it was built`);
      const gamma = vars.gamma.read() as tf.Tensor1D;
      const beta = vars.beta.read() as tf.Tensor1D;
      if (!kwargs['training']) {
        const normed = tf.batchNorm(x, vars.movingMean.read(), vars.movingVariance.read(), beta, gamma, this.epsilon);
        return this.relu ? tf.relu(normed) : normed;
      }
      const { y, mean, variance } = batchNormTraining(x, gamma, beta, this.epsilon, this.relu);
      const decay = 1 - this.momentum;
      for (const [variable, value] of [[vars.movingMean, mean], [vars.movingVariance, variance]] as const) {
        const current = variable.read();
        variable.write(tf.sub(current, tf.mul(tf.sub(current, value), decay)));
      }
      return y;
    });
  }

  override getConfig(): Serializable {
    return { ...super.getConfig(), momentum: this.momentum, epsilon: this.epsilon, relu: this.relu };
  }
}
tf.serialization.registerClass(BatchNorm);

/**
 * A batch-normalisation layer (optionally with its ReLU).
 *
 * @example
 * x = batchNorm({ momentum: 0.9, relu: true, name: 'bn1' }).apply(x) as tf.SymbolicTensor;
 */
export function batchNorm(args: BatchNormArgs = {}): BatchNorm {
  return new BatchNorm(args);
}
