/**
 * Whole-sequence LSTM and GRU ops with their own gradients.
 *
 * tfjs-layers runs a recurrent layer as a per-time-step graph of small ops, every one recorded
 * on the gradient tape with copies of its inputs: for 32 time steps and two bidirectional layers
 * that is several thousand taped ops and, at 75 time steps and batch 32, more than the wasm
 * backend's 4 GB heap (the allocation fails and the backend writes through a null pointer,
 * which surfaces as "memory access out of bounds"). Here one direction of one layer is ONE
 * taped op: the forward pass projects every time step's input with one matrix product, walks
 * the recurrence untaped, and saves only the gate activations; the backward pass walks back
 * through time once and computes the weight gradients as three large matrix products.
 *
 * Where the active backend has glyphlab's whole-sequence kernel (wasm: `backend/wasm-rnn.ts`)
 * that kernel runs; elsewhere the same computation is composed of tfjs ops below.
 *
 * The weights have the Keras (and tfjs-layers) layout, so a model trained with the stock layers
 * loads into the fused ones and back:
 *   LSTM: kernel [F, 4U], recurrentKernel [U, 4U], bias [4U], gates in the order i, f, c, o.
 *   GRU:  kernel [F, 3U], recurrentKernel [U, 3U], bias [3U], gates z, r, h, with the reset
 *         gate applied before the recurrent product (`reset_after = false`, tfjs-layers' GRU).
 */
import * as tf from '@tensorflow/tfjs';
import { GRU_SEQUENCE, LSTM_SEQUENCE } from '../../backend/wasm-rnn';
import { ConfigError } from '../../errors';

/** Gate activations the fused layers support: Keras's `sigmoid` and tfjs-layers' default `hardSigmoid`. */
export type GateActivation = 'sigmoid' | 'hardSigmoid';

export const GATE_ACTIVATIONS: readonly GateActivation[] = ['sigmoid', 'hardSigmoid'];

/** Options of {@link lstmSequence} and {@link gruSequence}. */
export interface RecurrentSequenceOptions {
  /** Run from the last time step to the first (the backward half of a bidirectional layer); the output keeps input order. Defaults to false. */
  reverse?: boolean;
  /** Activation of the gates. Defaults to 'sigmoid'. */
  recurrentActivation?: GateActivation;
}

function gate(x: tf.Tensor, activation: GateActivation): tf.Tensor {
  // hardSigmoid as tfjs-layers defines it: clip(0.2 x + 0.5, 0, 1).
  return activation === 'sigmoid' ? tf.sigmoid(x) : tf.clipByValue(tf.add(tf.mul(x, 0.2), 0.5), 0, 1);
}

/** The derivative of the gate activation, from its output `y`. */
function gateDerivative(y: tf.Tensor, activation: GateActivation): tf.Tensor {
  if (activation === 'sigmoid') return tf.mul(y, tf.sub(1, y));
  // Slope 0.2 inside the clip, 0 where it saturates.
  return tf.mul(tf.logicalAnd(tf.greater(y, 0), tf.less(y, 1)).toFloat(), 0.2);
}

function checkActivation(activation: string): GateActivation {
  if (!(GATE_ACTIVATIONS as readonly string[]).includes(activation)) {
    throw new ConfigError(`recurrent activation ${JSON.stringify(activation)} is not one of: ${GATE_ACTIVATIONS.join(', ')}`);
  }
  return activation as GateActivation;
}

/**
 * Runs the backend's whole-sequence kernel when it has one (its first output is the hidden
 * states); undefined elsewhere. `GLYPHLAB_RNN=ops` forces the op-level composition (tests,
 * comparisons).
 */
function runSequenceKernel(
  name: string,
  x: tf.Tensor3D,
  kernel: tf.Tensor2D,
  recurrentKernel: tf.Tensor2D,
  bias: tf.Tensor1D,
  reverse: boolean,
  recurrentActivation: GateActivation,
): tf.Tensor3D | undefined {
  if (process.env['GLYPHLAB_RNN'] === 'ops' || tf.getKernel(name, tf.getBackend()) == null) return undefined;
  const outputs = tf.engine().runKernel(name, { x, kernel, recurrentKernel, bias }, { reverse, recurrentActivation }) as tf.Tensor[];
  // The other outputs only feed the gradient, which holds its own references (the engine saves
  // clones for the tape): they do not leave the op.
  tf.dispose(outputs.slice(1));
  return outputs[0] as tf.Tensor3D;
}

/**
 * Projects every time step of `x` [B, T, F] by `kernel` [F, G] plus `bias` at once, and returns
 * the steps in processing order as `[B, G]` tensors.
 */
function projectSteps(x: tf.Tensor3D, kernel: tf.Tensor2D, bias: tf.Tensor1D, reverse: boolean): tf.Tensor2D[] {
  const [batch, steps, features] = x.shape;
  const projected = tf.add(tf.matMul(tf.reshape(x, [batch * steps, features]), kernel), bias);
  const byTime = tf.transpose(tf.reshape(projected, [batch, steps, kernel.shape[1]]), [1, 0, 2]);
  const list = tf.unstack(byTime) as tf.Tensor2D[];
  return reverse ? list.reverse() : list;
}

/** `[T, B, X]` in processing order back to `[B, T, X]` in input order. */
function toBatchMajor(steps: tf.Tensor2D[], reverse: boolean): tf.Tensor3D {
  const ordered = reverse ? [...steps].reverse() : steps;
  return tf.transpose(tf.stack(ordered), [1, 0, 2]) as tf.Tensor3D;
}

/**
 * The weight and input gradients shared by both cells, from the pre-activation gradients `dz`
 * of every step ([B, G] each, in processing order): dX = dZ W^T, dW = X^T dZ, db = sum dZ, and
 * dR = Hprev^T dZr for the recurrent part `dzRecurrent` (same steps, recurrent columns).
 */
function weightGradients(
  x: tf.Tensor3D,
  kernel: tf.Tensor2D,
  dz: tf.Tensor2D[],
  previous: tf.Tensor2D[],
  dzRecurrent: tf.Tensor2D[],
  reverse: boolean,
): { dx: tf.Tensor3D; dKernel: tf.Tensor2D; dRecurrent: tf.Tensor2D; dBias: tf.Tensor1D } {
  const [batch, steps, features] = x.shape;
  const gates = kernel.shape[1];
  const dzAll = tf.reshape(toBatchMajor(dz, reverse), [batch * steps, gates]) as tf.Tensor2D;
  const dx = tf.reshape(tf.matMul(dzAll, kernel, false, true), [batch, steps, features]) as tf.Tensor3D;
  const dKernel = tf.matMul(tf.reshape(x, [batch * steps, features]), dzAll, true, false) as tf.Tensor2D;
  const dBias = tf.sum(dzAll, 0) as tf.Tensor1D;
  const units = (previous[0] as tf.Tensor2D).shape[1];
  const prevAll = tf.reshape(tf.stack(previous), [steps * batch, units]);
  const dzrAll = tf.reshape(tf.stack(dzRecurrent), [steps * batch, (dzRecurrent[0] as tf.Tensor2D).shape[1]]);
  const dRecurrent = tf.matMul(prevAll, dzrAll, true, false) as tf.Tensor2D;
  return { dx, dKernel, dRecurrent, dBias };
}

function unstackSteps(t: tf.Tensor, reverse: boolean): tf.Tensor2D[] {
  const list = tf.unstack(tf.transpose(t, [1, 0, 2])) as tf.Tensor2D[];
  return reverse ? list.reverse() : list;
}

/** The units of a recurrent layer whose weights hold `gates` gates side by side; a ConfigError when the shapes disagree. */
function gateUnits(op: string, kernel: tf.Tensor2D, recurrentKernel: tf.Tensor2D, bias: tf.Tensor1D, gates: number): number {
  const units = recurrentKernel.shape[0];
  if (kernel.shape[1] !== gates * units || recurrentKernel.shape[1] !== gates * units || bias.shape[0] !== gates * units) {
    throw new ConfigError(`${op}: kernel ${kernel.shape}, recurrent kernel ${recurrentKernel.shape} and bias ${bias.shape} do not fit ${units} units (${gates} gates)`);
  }
  return units;
}

/**
 * What both sequence ops do first: read the options, check that the weights fit one gate block
 * of `gatesPerUnit` gates, and run the whole sequence in the wasm kernel `kernelName` where it is
 * registered (its `result`); otherwise what the tfjs graph needs.
 */
function openSequence(
  op: 'lstmSequence' | 'gruSequence',
  kernelName: string,
  gatesPerUnit: 3 | 4,
  [x, kernel, recurrentKernel, bias]: [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D],
  options: RecurrentSequenceOptions,
): { result: tf.Tensor3D } | { reverse: boolean; activation: GateActivation; units: number } {
  const reverse = options.reverse ?? false;
  const activation = checkActivation(options.recurrentActivation ?? 'sigmoid');
  const units = gateUnits(op, kernel, recurrentKernel, bias, gatesPerUnit);
  const result = runSequenceKernel(kernelName, x, kernel, recurrentKernel, bias, reverse, activation);
  return result ? { result } : { reverse, activation, units };
}

/**
 * One direction of an LSTM layer over a whole sequence, as one differentiable op: `x` [B, T, F]
 * -> hidden states [B, T, U], starting from zero states. Keras gate order i, f, c, o.
 *
 * @example
 * const h = lstmSequence(x, kernel, recurrentKernel, bias, { reverse: true });
 */
export function lstmSequence(
  x: tf.Tensor3D,
  kernel: tf.Tensor2D,
  recurrentKernel: tf.Tensor2D,
  bias: tf.Tensor1D,
  options: RecurrentSequenceOptions = {},
): tf.Tensor3D {
  const opened = openSequence('lstmSequence', LSTM_SEQUENCE, 4, [x, kernel, recurrentKernel, bias], options);
  if ('result' in opened) return opened.result;
  const { reverse, activation, units } = opened;
  const op = tf.customGrad((...args: (tf.Tensor | ((tensors: tf.Tensor[]) => void))[]) => {
    const [xIn, w, r, b] = args as [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    const save = args[4] as (tensors: tf.Tensor[]) => void;
    const [batch] = xIn.shape;
    const projected = projectSteps(xIn, w, b, reverse);
    let h = tf.zeros([batch, units]) as tf.Tensor2D;
    let c = tf.zeros([batch, units]) as tf.Tensor2D;
    const hs: tf.Tensor2D[] = [];
    const cs: tf.Tensor2D[] = [];
    const gateSteps: tf.Tensor2D[] = [];
    for (const xp of projected) {
      const z = tf.add(xp, tf.matMul(h, r));
      const [zi, zf, zg, zo] = tf.split(z, 4, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
      const i = gate(zi, activation);
      const f = gate(zf, activation);
      const g = tf.tanh(zg);
      const o = gate(zo, activation);
      c = tf.add(tf.mul(f, c), tf.mul(i, g)) as tf.Tensor2D;
      h = tf.mul(o, tf.tanh(c)) as tf.Tensor2D;
      hs.push(h);
      cs.push(c);
      gateSteps.push(tf.concat([i, f, g, o], 1) as tf.Tensor2D);
    }
    const output = toBatchMajor(hs, reverse);
    // Saved in processing order, time-major: hidden and cell states, gate activations.
    save([xIn, w, r, tf.stack(hs), tf.stack(cs), tf.stack(gateSteps)]);
    return {
      value: output,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws, rs, hAll, cAll, gAll] = saved as [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
        const steps = hAll.shape[0];
        const dySteps = unstackSteps(dy, reverse);
        const hSteps = tf.unstack(hAll) as tf.Tensor2D[];
        const cSteps = tf.unstack(cAll) as tf.Tensor2D[];
        const gSteps = tf.unstack(gAll) as tf.Tensor2D[];
        const zeros = tf.zeros([xs.shape[0], units]) as tf.Tensor2D;
        const rT = tf.transpose(rs) as tf.Tensor2D;
        const dz: tf.Tensor2D[] = new Array(steps);
        let dh = zeros;
        let dc = zeros;
        for (let t = steps - 1; t >= 0; t--) {
          const [i, f, g, o] = tf.split(gSteps[t] as tf.Tensor2D, 4, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
          const cPrev = t > 0 ? (cSteps[t - 1] as tf.Tensor2D) : zeros;
          const dhT = tf.add(dh, dySteps[t] as tf.Tensor2D);
          const tc = tf.tanh(cSteps[t] as tf.Tensor2D);
          const dcT = tf.add(dc, tf.mul(tf.mul(dhT, o), tf.sub(1, tf.square(tc))));
          const dzi = tf.mul(tf.mul(dcT, g), gateDerivative(i, activation));
          const dzf = tf.mul(tf.mul(dcT, cPrev), gateDerivative(f, activation));
          const dzg = tf.mul(tf.mul(dcT, i), tf.sub(1, tf.square(g)));
          const dzo = tf.mul(tf.mul(dhT, tc), gateDerivative(o, activation));
          const dzT = tf.concat([dzi, dzf, dzg, dzo], 1) as tf.Tensor2D;
          dz[t] = dzT;
          dh = tf.matMul(dzT, rT);
          dc = tf.mul(dcT, f) as tf.Tensor2D;
        }
        const previous = [zeros, ...hSteps.slice(0, steps - 1)];
        const grads = weightGradients(xs, ws, dz, previous, dz, reverse);
        return [grads.dx, grads.dKernel, grads.dRecurrent, grads.dBias];
      },
    };
  });
  return op(x, kernel, recurrentKernel, bias) as tf.Tensor3D;
}

/**
 * One direction of a GRU layer over a whole sequence, as one differentiable op: `x` [B, T, F]
 * -> hidden states [B, T, U] from a zero state. Keras gate order z, r, h; the reset gate scales
 * the previous state before the recurrent product (tfjs-layers' GRU, `reset_after = false`).
 */
export function gruSequence(
  x: tf.Tensor3D,
  kernel: tf.Tensor2D,
  recurrentKernel: tf.Tensor2D,
  bias: tf.Tensor1D,
  options: RecurrentSequenceOptions = {},
): tf.Tensor3D {
  const opened = openSequence('gruSequence', GRU_SEQUENCE, 3, [x, kernel, recurrentKernel, bias], options);
  if ('result' in opened) return opened.result;
  const { reverse, activation, units } = opened;
  const op = tf.customGrad((...args: (tf.Tensor | ((tensors: tf.Tensor[]) => void))[]) => {
    const [xIn, w, r, b] = args as [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    const save = args[4] as (tensors: tf.Tensor[]) => void;
    const [batch] = xIn.shape;
    const [rGates, rCandidate] = tf.split(r, [2 * units, units], 1) as [tf.Tensor2D, tf.Tensor2D];
    const projected = projectSteps(xIn, w, b, reverse);
    let h = tf.zeros([batch, units]) as tf.Tensor2D;
    const hs: tf.Tensor2D[] = [];
    const gateSteps: tf.Tensor2D[] = [];
    for (const xp of projected) {
      const [xzr, xh] = tf.split(xp, [2 * units, units], 1) as [tf.Tensor2D, tf.Tensor2D];
      const zr = gate(tf.add(xzr, tf.matMul(h, rGates)), activation);
      const [z, rg] = tf.split(zr, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
      const candidate = tf.tanh(tf.add(xh, tf.matMul(tf.mul(rg, h), rCandidate)));
      h = tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), candidate)) as tf.Tensor2D;
      hs.push(h);
      gateSteps.push(tf.concat([zr, candidate], 1) as tf.Tensor2D);
    }
    const output = toBatchMajor(hs, reverse);
    save([xIn, w, r, tf.stack(hs), tf.stack(gateSteps)]);
    return {
      value: output,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws, rs, hAll, gAll] = saved as [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D, tf.Tensor3D, tf.Tensor3D];
        const steps = hAll.shape[0];
        const dySteps = unstackSteps(dy, reverse);
        const hSteps = tf.unstack(hAll) as tf.Tensor2D[];
        const gSteps = tf.unstack(gAll) as tf.Tensor2D[];
        const zeros = tf.zeros([xs.shape[0], units]) as tf.Tensor2D;
        const [rGatesS, rCandidateS] = tf.split(rs, [2 * units, units], 1) as [tf.Tensor2D, tf.Tensor2D];
        const rGatesT = tf.transpose(rGatesS) as tf.Tensor2D;
        const rCandidateT = tf.transpose(rCandidateS) as tf.Tensor2D;
        const dz: tf.Tensor2D[] = new Array(steps);
        const dzGates: tf.Tensor2D[] = new Array(steps);
        const dzCandidate: tf.Tensor2D[] = new Array(steps);
        const resetPrevious: tf.Tensor2D[] = new Array(steps);
        let dh = zeros;
        for (let t = steps - 1; t >= 0; t--) {
          const [z, rg, candidate] = tf.split(gSteps[t] as tf.Tensor2D, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
          const hPrev = t > 0 ? (hSteps[t - 1] as tf.Tensor2D) : zeros;
          const dhT = tf.add(dh, dySteps[t] as tf.Tensor2D);
          const dzh = tf.mul(tf.mul(dhT, tf.sub(1, z)), tf.sub(1, tf.square(candidate))) as tf.Tensor2D;
          const dResetH = tf.matMul(dzh, rCandidateT);
          const dzz = tf.mul(tf.mul(dhT, tf.sub(hPrev, candidate)), gateDerivative(z, activation));
          const dzr = tf.mul(tf.mul(dResetH, hPrev), gateDerivative(rg, activation));
          const dzzr = tf.concat([dzz, dzr], 1) as tf.Tensor2D;
          dz[t] = tf.concat([dzzr, dzh], 1) as tf.Tensor2D;
          dzGates[t] = dzzr;
          dzCandidate[t] = dzh;
          resetPrevious[t] = tf.mul(rg, hPrev) as tf.Tensor2D;
          dh = tf.add(tf.add(tf.mul(dhT, z), tf.mul(dResetH, rg)), tf.matMul(dzzr, rGatesT)) as tf.Tensor2D;
        }
        const previous = [zeros, ...hSteps.slice(0, steps - 1)];
        const grads = weightGradients(xs, ws, dz, previous, dzGates, reverse);
        // The candidate's recurrent weights see the reset-scaled previous state.
        const [batch] = xs.shape;
        const dCandidate = tf.matMul(
          tf.reshape(tf.stack(resetPrevious), [steps * batch, units]),
          tf.reshape(tf.stack(dzCandidate), [steps * batch, units]),
          true,
          false,
        );
        return [grads.dx, grads.dKernel, tf.concat([grads.dRecurrent, dCandidate], 1), grads.dBias];
      },
    };
  });
  return op(x, kernel, recurrentKernel, bias) as tf.Tensor3D;
}
