/**
 * One Adam step with global-norm clipping and decoupled weight decay in a pass per variable,
 * where the backend has the fused kernels (`backend/wasm-adam.ts`): the same update as
 * `decayWeights` + `clipGradients` + `AdamOptimizer.applyGradients`, on the optimizer's own
 * moment variables, so checkpoints, resume and `getWeights` see a stock tfjs Adam.
 */
import * as tf from '@tensorflow/tfjs';
import { ADAM_UPDATE, type AdamUpdateAttrs, SUM_OF_SQUARES } from '../backend/wasm-adam';

/** What a fused step needs besides the gradients. */
export interface FusedAdamStep {
  /** Decoupled weight decay (the value is first scaled by 1 - learningRate x weightDecay); 0 for none. */
  weightDecay: number;
  /** Scale the gradients so that their global L2 norm is at most this; undefined for no clipping. */
  clipNorm?: number;
}

/** tfjs 4.22's AdamOptimizer fields the fused step reads and updates (private there). */
interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  accumulatedSecondMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  incrementIterations(): void;
}

function adamInternals(optimizer: tf.Optimizer): AdamInternals | undefined {
  if (!(optimizer instanceof tf.AdamOptimizer)) return undefined;
  const internals = optimizer as unknown as AdamInternals;
  const shapeKnown =
    Array.isArray(internals.accumulatedFirstMoment) &&
    Array.isArray(internals.accumulatedSecondMoment) &&
    internals.accBeta1 instanceof tf.Tensor &&
    internals.accBeta2 instanceof tf.Tensor &&
    typeof internals.incrementIterations === 'function';
  return shapeKnown ? internals : undefined;
}

/** Whether {@link fusedAdamStep} can run `optimizer` on the current backend. */
export function canFuseAdam(optimizer: tf.Optimizer): boolean {
  const backend = tf.getBackend();
  return adamInternals(optimizer) !== undefined && tf.getKernel(ADAM_UPDATE, backend) != null && tf.getKernel(SUM_OF_SQUARES, backend) != null;
}

/**
 * Applies one step of `optimizer` (a tfjs Adam, see {@link canFuseAdam}) from `grads` (by
 * variable name, in the order tfjs's `variableGrads` gives them; the moments are indexed by that
 * order, as tfjs's own Adam indexes them) and decays every one of `variables`, with or without
 * a gradient, as `decayWeights` does. Nothing but the new values outlives the call.
 */
export function fusedAdamStep(optimizer: tf.Optimizer, variables: readonly tf.Variable[], grads: tf.NamedTensorMap, step: FusedAdamStep): void {
  const adam = adamInternals(optimizer);
  if (!adam) throw new TypeError('fusedAdamStep needs a tfjs AdamOptimizer');
  const decay = 1 - adam.learningRate * step.weightDecay;
  const names = Object.keys(grads);
  let gradientScale = 1;
  if (step.clipNorm !== undefined && names.length > 0) {
    const inputs = Object.fromEntries(names.map((name, i) => [`g${i}`, grads[name] as tf.Tensor]));
    const sum = tf.engine().runKernel(SUM_OF_SQUARES, inputs, {}) as tf.Tensor;
    const norm = Math.sqrt(sum.dataSync()[0] as number);
    sum.dispose();
    // clipGradients's scale: clipNorm / max(norm, clipNorm).
    gradientScale = step.clipNorm / Math.max(norm, step.clipNorm);
  }
  const attrs: AdamUpdateAttrs = {
    learningRate: adam.learningRate,
    beta1: adam.beta1,
    beta2: adam.beta2,
    epsilon: adam.epsilon,
    biasFix1: 1 - (adam.accBeta1.dataSync()[0] as number),
    biasFix2: 1 - (adam.accBeta2.dataSync()[0] as number),
    decay,
    gradientScale,
  };
  const registered = tf.engine().registeredVariables;
  names.forEach((name, i) => {
    const variable = registered[name];
    if (!variable) throw new TypeError(`fusedAdamStep: no variable named ${name}`);
    // The moments are created on first use, named as tfjs names them (checkpoints read them back).
    const first = (adam.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(variable).variable(false)) });
    const second = (adam.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(variable).variable(false)) });
    const m = first.variable;
    const v = second.variable;
    const outputs = tf.engine().runKernel(ADAM_UPDATE, { value: variable, gradient: grads[name] as tf.Tensor, m, v }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    const [value, mNext, vNext] = outputs as [tf.Tensor, tf.Tensor, tf.Tensor];
    variable.assign(value);
    m.assign(mNext);
    v.assign(vNext);
    tf.dispose(outputs);
  });
  tf.tidy(() => {
    if (decay !== 1) for (const variable of variables) if (grads[variable.name] === undefined) variable.assign(tf.mul(variable, decay));
    adam.accBeta1.assign(tf.mul(adam.accBeta1, adam.beta1));
    adam.accBeta2.assign(tf.mul(adam.accBeta2, adam.beta2));
  });
  adam.incrementIterations();
}
