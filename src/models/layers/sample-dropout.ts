/**
 * Inverted dropout whose mask is a pure function of (seed, training step, global sample index,
 * element index): the same sample in the same step is masked alike whether its batch runs in
 * one process or split across replicas (tfjs's dropout draws from one generator per call, so
 * two half batches would get other masks than the whole). Inference passes values through.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../errors';
import { currentStep } from '../../backend/step-context';

/** Calls in training mode outside a step context, counted as steps. */
let unsteppedCalls = 0;

/** Options of {@link sampleDropout}. */
export interface SampleDropoutArgs {
  /** Fraction of values dropped in training. */
  rate: number;
  /** Layer name. Defaults to a unique name. */
  name?: string;
}

/** A 32-bit mix of four integers (murmur3's finaliser over a running hash). */
function mix(a: number, b: number, c: number, d: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ b ^ (h >>> 13), 0xc2b2ae35);
  h = Math.imul(h ^ c ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ d ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The keep mask (1/(1-rate) where kept, 0 where dropped) of `samples` samples of `perSample`
 * values each, starting at global sample `sampleOffset`.
 */
export function dropoutMask(rate: number, samples: number, perSample: number, seed: number, step: number, sampleOffset: number): Float32Array {
  const mask = new Float32Array(samples * perSample);
  const keep = 1 / (1 - rate);
  const threshold = rate * 4294967296;
  for (let s = 0; s < samples; s++) {
    // xorshift32 from a per-sample state: cheap per element, independent across samples.
    let state = mix(seed, step, sampleOffset + s, 0x5bd1e995) || 1;
    const base = s * perSample;
    for (let i = 0; i < perSample; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      mask[base + i] = (state >>> 0) >= threshold ? keep : 0;
    }
  }
  return mask;
}

/** Dropout with per-sample deterministic masks. */
export class SampleDropout extends tf.layers.Layer {
  static className = 'GlyphlabSampleDropout';
  readonly rate: number;

  constructor(args: SampleDropoutArgs) {
    super({ name: args.name });
    if (!(args.rate >= 0 && args.rate < 1)) throw new ConfigError(`dropout rate ${args.rate} must be in [0, 1)`);
    this.rate = args.rate;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
    if (!kwargs['training'] || this.rate === 0) return tf.clone(x);
    // Outside a training step's context (plain tfjs use) every call is a new step, so masks still differ from call to call.
    const { seed, step, sampleOffset } = currentStep() ?? { seed: 0, step: unsteppedCalls++, sampleOffset: 0 };
    const samples = x.shape[0] as number;
    const perSample = x.size / Math.max(1, samples);
    return tf.tidy(() => tf.mul(x, tf.tensor(dropoutMask(this.rate, samples, perSample, seed, step, sampleOffset), x.shape)));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate };
  }
}
tf.serialization.registerClass(SampleDropout);

/**
 * A dropout layer whose masks do not depend on how a batch is split.
 *
 * @example
 * x = sampleDropout({ rate: 0.2, name: 'dropout' }).apply(x) as tf.SymbolicTensor;
 */
export function sampleDropout(args: SampleDropoutArgs): SampleDropout {
  return new SampleDropout(args);
}
