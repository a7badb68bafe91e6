/**
 * Whole-sequence LSTM and GRU kernels for the wasm backend, with their gradients.
 *
 * One direction of one recurrent layer runs as ONE kernel: the input projection of every time
 * step is one matrix product; the recurrence then calls, per time step, the backend's own
 * matrix product (XNNPACK, which packs the recurrent weights once) and its vectorised
 * `Sigmoid` / `Tanh`, and combines gates with plain loops over the wasm heap. Nothing is taped
 * per step. The gradient kernel walks back through time once (one matrix product per step,
 * two for the GRU) and computes the weight gradients as three large products at the end.
 *
 * The ops in `models/layers/fused-rnn.ts` use these kernels where they are registered and an
 * op-level composition elsewhere; tests hold both against tfjs-layers' stock LSTM and GRU.
 *
 * Layouts: x [B, T, F]; kernel [F, G]; recurrentKernel [U, G]; bias [G], with G = 4U (LSTM,
 * gates i, f, c, o) or 3U (GRU, gates z, r, h; reset before the recurrent product). Saved
 * per-step values are time-major in processing order (reversed for the backward direction).
 */
import * as tf from '@tensorflow/tfjs';
import { activeNativeModule, type HeapBackend as NativeHeap, heapOf, type NativeModule, offsetOf } from './native-kernels';
import { kernelCalls, type KernelArgs, type KernelCalls, type TensorInfo } from './wasm-call';
import { registerNewWasmKernels } from './wasm-replace';

export const LSTM_SEQUENCE = 'GlyphlabLstmSequence';
export const LSTM_SEQUENCE_GRAD = 'GlyphlabLstmSequenceGrad';
export const GRU_SEQUENCE = 'GlyphlabGruSequence';
export const GRU_SEQUENCE_GRAD = 'GlyphlabGruSequenceGrad';

/** Attributes of the sequence kernels. */
export interface RnnSequenceAttrs {
  reverse: boolean;
  recurrentActivation: 'sigmoid' | 'hardSigmoid';
}

interface HeapBackend {
  typedArrayFromHeap(info: TensorInfo): Float32Array;
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
}

/** A float32 view of `info`; take it again after any allocation (the heap may have moved). */
function view(backend: HeapBackend, info: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(info);
}

function attrsOf(args: KernelArgs): RnnSequenceAttrs {
  const attrs = args.attrs as unknown as RnnSequenceAttrs;
  return { reverse: Boolean(attrs.reverse), recurrentActivation: attrs.recurrentActivation === 'hardSigmoid' ? 'hardSigmoid' : 'sigmoid' };
}

function input(args: KernelArgs, name: string): TensorInfo {
  const info = args.inputs[name];
  if (info == null) throw new Error(`recurrent kernel: input '${name}' is missing`);
  return info;
}

/** The time index of processing step `s`. */
function timeOf(s: number, steps: number, reverse: boolean): number {
  return reverse ? steps - 1 - s : s;
}

/** hardSigmoid of a pre-activation: clip(0.2 v + 0.5, 0, 1), tfjs-layers' definition. */
function hardSigmoid(v: number): number {
  const y = 0.2 * v + 0.5;
  return y <= 0 ? 0 : y >= 1 ? 1 : y;
}

/** The gate activation's derivative from its output. */
function gateSlope(y: number, hard: boolean): number {
  return hard ? (y > 0 && y < 1 ? 0.2 : 0) : y * (1 - y);
}

/** `a` [rows, inner] times `b` [inner, cols] (both as rank-3 with batch 1). */
function product(k: KernelCalls, a: TensorInfo, b: TensorInfo): TensorInfo {
  return k.call('BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
}

function asMatrix(k: KernelCalls, info: TensorInfo, rows: number, cols: number): TensorInfo {
  return k.call('Reshape', { x: info }, { shape: [1, rows, cols] });
}

function transposed(k: KernelCalls, info: TensorInfo, rows: number, cols: number): TensorInfo {
  return k.call('Transpose', { x: k.call('Reshape', { x: info }, { shape: [rows, cols] }) }, { perm: [1, 0] });
}

/** The input projection of every time step: [1, B*T, G], rows in batch-major order (b*T + t). */
function projectInputs(k: KernelCalls, x: TensorInfo, kernel: TensorInfo): TensorInfo {
  const [batch, steps, features] = x.shape as [number, number, number];
  const gates = kernel.shape[1] as number;
  return product(k, asMatrix(k, x, batch * steps, features), asMatrix(k, kernel, features, gates));
}

/**
 * The weight gradients of one direction: dX = dZ W^T, dW = X^T dZ, db = column sums of dZ
 * (dZ [B*T, G] batch-major), kept for the caller.
 */
function inputGradients(k: KernelCalls, backend: HeapBackend, x: TensorInfo, kernel: TensorInfo, dZ: TensorInfo): { dx: TensorInfo; dKernel: TensorInfo; dBias: TensorInfo } {
  const [batch, steps, features] = x.shape as [number, number, number];
  const gates = kernel.shape[1] as number;
  const rows = batch * steps;
  const kernelT = k.call('Reshape', { x: transposed(k, kernel, features, gates) }, { shape: [1, gates, features] });
  const dx = k.keep('Reshape', { x: product(k, dZ, kernelT) }, { shape: [batch, steps, features] });
  const xT = k.call('Reshape', { x: transposed(k, x, rows, features) }, { shape: [1, features, rows] });
  const dKernel = k.keep('Reshape', { x: product(k, xT, dZ) }, { shape: [features, gates] });
  const dBias = backend.makeOutput([gates], 'float32');
  const db = view(backend, dBias);
  const dz = view(backend, dZ);
  db.fill(0);
  for (let r = 0; r < rows; r++) {
    const base = r * gates;
    for (let j = 0; j < gates; j++) db[j] = (db[j] as number) + (dz[base + j] as number);
  }
  return { dx, dKernel, dBias };
}

/** hPrev^T dZ for [B*T, U] previous states and [B*T, C] gradients: [U, C], kept. */
function recurrentGradient(k: KernelCalls, previous: TensorInfo, dZ: TensorInfo, units: number, rows: number, cols: number): TensorInfo {
  const previousT = k.call('Reshape', { x: transposed(k, previous, rows, units) }, { shape: [1, units, rows] });
  return k.keep('Reshape', { x: product(k, previousT, dZ) }, { shape: [units, cols] });
}

/** Fills `out` [B*T, U] with each step's previous hidden state in processing order (0 at the first). */
function fillPrevious(out: Float32Array, h: Float32Array, batch: number, steps: number, units: number, reverse: boolean): void {
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < steps; t++) {
      const prev = reverse ? t + 1 : t - 1;
      const row = (b * steps + t) * units;
      if (prev < 0 || prev >= steps) out.fill(0, row, row + units);
      else out.set(h.subarray((b * steps + prev) * units, (b * steps + prev + 1) * units), row);
    }
  }
}


/** What every recurrent kernel reads of its arguments: the heap, the direction, the gate function and the sizes. */
interface RnnCall {
  backend: HeapBackend;
  reverse: boolean;
  /** Gates use the hard sigmoid (tfjs-layers' default) instead of the sigmoid. */
  hard: boolean;
  x: TensorInfo;
  recurrentKernel: TensorInfo;
  batch: number;
  steps: number;
  features: number;
  units: number;
  /** Width of the gate block: 4 units (LSTM) or 3 (GRU). */
  gates: number;
  /** Batch times steps: the rows of the sequence-wide products. */
  rows: number;
}

function rnnCall(args: KernelArgs, gatesPerUnit: 3 | 4): RnnCall {
  const { reverse, recurrentActivation } = attrsOf(args);
  const x = input(args, 'x');
  const recurrentKernel = input(args, 'recurrentKernel');
  const [batch, steps, features] = x.shape as [number, number, number];
  const units = recurrentKernel.shape[0] as number;
  return { backend: args.backend as unknown as HeapBackend, reverse, hard: recurrentActivation === 'hardSigmoid', x, recurrentKernel, batch, steps, features, units, gates: gatesPerUnit * units, rows: batch * steps };
}

/** The shapes of the kernels' outputs. */
function rnnShapes({ batch, steps, features, units, gates }: RnnCall) {
  return {
    h: [batch, steps, units],
    perStep: [steps, batch, units],
    gates: [steps, batch, gates],
    dx: [batch, steps, features],
    dKernel: [features, gates],
    dRecurrent: [units, gates],
    dBias: [gates],
  };
}

type NativeRun = 'lstmForward' | 'lstmBackward' | 'gruForward' | 'gruBackward';

/**
 * The whole kernel in the native module (recurrence, products and gate arithmetic in C++):
 * allocates `outputs` shapes, passes the inputs' and outputs' heap offsets, returns the outputs.
 */
function runNative(call: RnnCall, args: KernelArgs, native: NativeModule, run: NativeRun, inputs: readonly string[], outputs: number[][]): TensorInfo[] {
  const backend = args.backend as unknown as NativeHeap;
  const outs = outputs.map((shape) => backend.makeOutput(shape, 'float32'));
  const offsets = [...inputs.map((name) => offsetOf(backend, input(args, name))), ...outs.map((o) => offsetOf(backend, o))];
  native[run](heapOf(backend), offsets, [call.batch, call.steps, call.features, call.units, call.reverse ? 1 : 0, call.hard ? 1 : 0]);
  return outs;
}

/**
 * A recurrent kernel: the native module's `run` where it is loaded, else `js` on the wasm heap
 * (with its kernel calls disposed after). Both read the same {@link RnnCall}.
 */
function recurrentKernel(
  run: NativeRun,
  gatesPerUnit: 3 | 4,
  inputs: readonly string[],
  outputs: (shapes: ReturnType<typeof rnnShapes>) => number[][],
  js: (call: RnnCall, args: KernelArgs, k: KernelCalls) => TensorInfo[],
): (args: KernelArgs) => TensorInfo[] {
  return (args) => {
    const call = rnnCall(args, gatesPerUnit);
    const native = activeNativeModule();
    if (native) return runNative(call, args, native, run, inputs, outputs(rnnShapes(call)));
    const k = kernelCalls(args.backend as tf.KernelBackend);
    try {
      return js(call, args, k);
    } finally {
      k.dispose();
    }
  };
}

/** LSTM forward: outputs h [B, T, U], c [T, B, U], tanh(c) [T, B, U], gates [T, B, 4U]. */
function lstmForwardJs(call: RnnCall, args: KernelArgs, k: KernelCalls): TensorInfo[] {
  const { backend, reverse, hard, x, recurrentKernel, batch, steps, units, gates } = call;
  const bias = input(args, 'bias');
  const projected = projectInputs(k, x, input(args, 'kernel'));
  const recurrent = asMatrix(k, recurrentKernel, units, gates);
  const hOut = backend.makeOutput([batch, steps, units], 'float32');
  const cOut = backend.makeOutput([steps, batch, units], 'float32');
  const tanhOut = backend.makeOutput([steps, batch, units], 'float32');
  const gateOut = backend.makeOutput([steps, batch, gates], 'float32');
  const state = k.allocate([1, batch, units]);
  const pre = k.allocate([1, batch, gates]);
  const cell = k.allocate([1, batch, units]);
  for (let s = 0; s < steps; s++) {
    const t = timeOf(s, steps, reverse);
    const rec = s > 0 ? product(k, state, recurrent) : undefined;
    const p = view(backend, projected);
    const bv = view(backend, bias);
    const pv = view(backend, pre);
    const rv = rec ? view(backend, rec) : undefined;
    for (let b = 0; b < batch; b++) {
      const row = (b * steps + t) * gates;
      for (let j = 0; j < gates; j++) {
        const v = (p[row + j] as number) + (bv[j] as number) + (rv ? (rv[b * gates + j] as number) : 0);
        // The cell input's tanh comes from the sigmoid kernel: tanh(v) = 2 sigmoid(2v) - 1.
        pv[b * gates + j] = j >= 2 * units && j < 3 * units ? 2 * v : v;
      }
    }
    if (rec) k.free(rec);
    const sig = k.call('Sigmoid', { x: pre }, {});
    {
      const sv = view(backend, sig);
      const pv2 = view(backend, pre);
      const gv = view(backend, gateOut);
      const cv = view(backend, cOut);
      const cellV = view(backend, cell);
      const gBase = s * batch * gates;
      const cBase = s * batch * units;
      for (let b = 0; b < batch; b++) {
        const z = b * gates;
        for (let j = 0; j < units; j++) {
          const i = hard ? hardSigmoid(pv2[z + j] as number) : (sv[z + j] as number);
          const f = hard ? hardSigmoid(pv2[z + units + j] as number) : (sv[z + units + j] as number);
          const g = 2 * (sv[z + 2 * units + j] as number) - 1;
          const o = hard ? hardSigmoid(pv2[z + 3 * units + j] as number) : (sv[z + 3 * units + j] as number);
          const cPrev = s > 0 ? (cv[cBase - batch * units + b * units + j] as number) : 0;
          const c = f * cPrev + i * g;
          cv[cBase + b * units + j] = c;
          cellV[b * units + j] = c;
          gv[gBase + z + j] = i;
          gv[gBase + z + units + j] = f;
          gv[gBase + z + 2 * units + j] = g;
          gv[gBase + z + 3 * units + j] = o;
        }
      }
    }
    k.free(sig);
    const tanhC = k.call('Tanh', { x: cell }, {});
    {
      const tv = view(backend, tanhC);
      const gv = view(backend, gateOut);
      const hv = view(backend, hOut);
      const tOut = view(backend, tanhOut);
      const st = view(backend, state);
      const gBase = s * batch * gates;
      for (let b = 0; b < batch; b++) {
        for (let j = 0; j < units; j++) {
          const tc = tv[b * units + j] as number;
          const h = (gv[gBase + b * gates + 3 * units + j] as number) * tc;
          tOut[(s * batch + b) * units + j] = tc;
          hv[(b * steps + t) * units + j] = h;
          st[b * units + j] = h;
        }
      }
    }
    k.free(tanhC);
  }
  return [hOut, cOut, tanhOut, gateOut];
}
const lstmForward = recurrentKernel('lstmForward', 4, ['x', 'kernel', 'recurrentKernel', 'bias'], (s) => [s.h, s.perStep, s.perStep, s.gates], lstmForwardJs);

/** LSTM gradient: outputs dx, dKernel, dRecurrentKernel, dBias. */
function lstmBackwardJs(call: RnnCall, args: KernelArgs, k: KernelCalls): TensorInfo[] {
  const { backend, reverse, hard, x, recurrentKernel, batch, steps, units, gates, rows } = call;
  const kernel = input(args, 'kernel');
  const h = input(args, 'h');
  const c = input(args, 'c');
  const tanhC = input(args, 'tanhC');
  const gateValues = input(args, 'gates');
  const dy = input(args, 'dy');
  const recurrentT = k.call('Reshape', { x: transposed(k, recurrentKernel, units, gates) }, { shape: [1, gates, units] });
  const dZ = k.allocate([1, rows, gates]);
  const dzStep = k.allocate([1, batch, gates]);
  const dc = new Float32Array(batch * units);
  let rec: TensorInfo | undefined;
  for (let s = steps - 1; s >= 0; s--) {
    const t = timeOf(s, steps, reverse);
    const dyv = view(backend, dy);
    const rv = rec ? view(backend, rec) : undefined;
    const gv = view(backend, gateValues);
    const cv = view(backend, c);
    const tv = view(backend, tanhC);
    const dz = view(backend, dZ);
    const ds = view(backend, dzStep);
    const gBase = s * batch * gates;
    for (let b = 0; b < batch; b++) {
      const z = gBase + b * gates;
      const row = (b * steps + t) * gates;
      for (let j = 0; j < units; j++) {
        const dh = (dyv[(b * steps + t) * units + j] as number) + (rv ? (rv[b * units + j] as number) : 0);
        const i = gv[z + j] as number;
        const f = gv[z + units + j] as number;
        const g = gv[z + 2 * units + j] as number;
        const o = gv[z + 3 * units + j] as number;
        const tc = tv[(s * batch + b) * units + j] as number;
        const cPrev = s > 0 ? (cv[((s - 1) * batch + b) * units + j] as number) : 0;
        const dcT = (dc[b * units + j] as number) + dh * o * (1 - tc * tc);
        const dzi = dcT * g * gateSlope(i, hard);
        const dzf = dcT * cPrev * gateSlope(f, hard);
        const dzg = dcT * i * (1 - g * g);
        const dzo = dh * tc * gateSlope(o, hard);
        dz[row + j] = dzi;
        dz[row + units + j] = dzf;
        dz[row + 2 * units + j] = dzg;
        dz[row + 3 * units + j] = dzo;
        const d = b * gates;
        ds[d + j] = dzi;
        ds[d + units + j] = dzf;
        ds[d + 2 * units + j] = dzg;
        ds[d + 3 * units + j] = dzo;
        dc[b * units + j] = dcT * f;
      }
    }
    if (rec) k.free(rec);
    rec = s > 0 ? product(k, dzStep, recurrentT) : undefined;
  }
  const previous = k.allocate([1, rows, units]);
  fillPrevious(view(backend, previous), view(backend, h), batch, steps, units, reverse);
  const { dx, dKernel, dBias } = inputGradients(k, backend, x, kernel, dZ);
  const dRecurrent = recurrentGradient(k, previous, dZ, units, rows, gates);
  return [dx, dKernel, dRecurrent, dBias];
}
const lstmBackward = recurrentKernel('lstmBackward', 4, ['x', 'kernel', 'recurrentKernel', 'h', 'c', 'tanhC', 'gates', 'dy'], (s) => [s.dx, s.dKernel, s.dRecurrent, s.dBias], lstmBackwardJs);

/** GRU forward: outputs h [B, T, U] and gates (z, r, candidate) [T, B, 3U]. */
function gruForwardJs(call: RnnCall, args: KernelArgs, k: KernelCalls): TensorInfo[] {
  const { backend, reverse, hard, x, recurrentKernel, batch, steps, units, gates } = call;
  const bias = input(args, 'bias');
  const projected = projectInputs(k, x, input(args, 'kernel'));
  const rGates = asMatrix(k, k.call('Slice', { x: recurrentKernel }, { begin: [0, 0], size: [units, 2 * units] }), units, 2 * units);
  const rCandidate = asMatrix(k, k.call('Slice', { x: recurrentKernel }, { begin: [0, 2 * units], size: [units, units] }), units, units);
  const hOut = backend.makeOutput([batch, steps, units], 'float32');
  const gateOut = backend.makeOutput([steps, batch, gates], 'float32');
  const state = k.allocate([1, batch, units]);
  const resetState = k.allocate([1, batch, units]);
  const preGates = k.allocate([1, batch, 2 * units]);
  const preCandidate = k.allocate([1, batch, units]);
  for (let s = 0; s < steps; s++) {
    const t = timeOf(s, steps, reverse);
    const rec = s > 0 ? product(k, state, rGates) : undefined;
    {
      const p = view(backend, projected);
      const bv = view(backend, bias);
      const pv = view(backend, preGates);
      const rv = rec ? view(backend, rec) : undefined;
      for (let b = 0; b < batch; b++) {
        const row = (b * steps + t) * gates;
        for (let j = 0; j < 2 * units; j++) pv[b * 2 * units + j] = (p[row + j] as number) + (bv[j] as number) + (rv ? (rv[b * 2 * units + j] as number) : 0);
      }
    }
    if (rec) k.free(rec);
    const sig = k.call('Sigmoid', { x: preGates }, {});
    {
      const sv = view(backend, sig);
      const pv = view(backend, preGates);
      const gv = view(backend, gateOut);
      const st = view(backend, state);
      const rs = view(backend, resetState);
      const gBase = s * batch * gates;
      for (let b = 0; b < batch; b++) {
        for (let j = 0; j < 2 * units; j++) {
          const idx = b * 2 * units + j;
          gv[gBase + b * gates + j] = hard ? hardSigmoid(pv[idx] as number) : (sv[idx] as number);
        }
        for (let j = 0; j < units; j++) {
          const r = gv[gBase + b * gates + units + j] as number;
          rs[b * units + j] = s > 0 ? r * (st[b * units + j] as number) : 0;
        }
      }
    }
    k.free(sig);
    const recC = s > 0 ? product(k, resetState, rCandidate) : undefined;
    {
      const p = view(backend, projected);
      const bv = view(backend, bias);
      const pc = view(backend, preCandidate);
      const rv = recC ? view(backend, recC) : undefined;
      for (let b = 0; b < batch; b++) {
        const row = (b * steps + t) * gates + 2 * units;
        for (let j = 0; j < units; j++) pc[b * units + j] = (p[row + j] as number) + (bv[2 * units + j] as number) + (rv ? (rv[b * units + j] as number) : 0);
      }
    }
    if (recC) k.free(recC);
    const candidate = k.call('Tanh', { x: preCandidate }, {});
    {
      const cv = view(backend, candidate);
      const gv = view(backend, gateOut);
      const hv = view(backend, hOut);
      const st = view(backend, state);
      const gBase = s * batch * gates;
      for (let b = 0; b < batch; b++) {
        for (let j = 0; j < units; j++) {
          const z = gv[gBase + b * gates + j] as number;
          const cand = cv[b * units + j] as number;
          const hPrev = s > 0 ? (st[b * units + j] as number) : 0;
          const h = z * hPrev + (1 - z) * cand;
          gv[gBase + b * gates + 2 * units + j] = cand;
          hv[(b * steps + t) * units + j] = h;
          st[b * units + j] = h;
        }
      }
    }
    k.free(candidate);
  }
  return [hOut, gateOut];
}
const gruForward = recurrentKernel('gruForward', 3, ['x', 'kernel', 'recurrentKernel', 'bias'], (s) => [s.h, s.gates], gruForwardJs);

/** GRU gradient: outputs dx, dKernel, dRecurrentKernel, dBias. */
function gruBackwardJs(call: RnnCall, args: KernelArgs, k: KernelCalls): TensorInfo[] {
  const { backend, reverse, hard, x, recurrentKernel, batch, steps, units, gates, rows } = call;
  const kernel = input(args, 'kernel');
  const h = input(args, 'h');
  const gateValues = input(args, 'gates');
  const dy = input(args, 'dy');
  const rGatesT = k.call('Reshape', { x: k.call('Transpose', { x: k.call('Slice', { x: recurrentKernel }, { begin: [0, 0], size: [units, 2 * units] }) }, { perm: [1, 0] }) }, { shape: [1, 2 * units, units] });
  const rCandidateT = k.call('Reshape', { x: k.call('Transpose', { x: k.call('Slice', { x: recurrentKernel }, { begin: [0, 2 * units], size: [units, units] }) }, { perm: [1, 0] }) }, { shape: [1, units, units] });
  const previous = k.allocate([1, rows, units]);
  fillPrevious(view(backend, previous), view(backend, h), batch, steps, units, reverse);
  const dZ = k.allocate([1, rows, gates]);
  const dZGates = k.allocate([1, rows, 2 * units]);
  const dZCandidate = k.allocate([1, rows, units]);
  const resetPrevious = k.allocate([1, rows, units]);
  const dCandidateStep = k.allocate([1, batch, units]);
  const dGatesStep = k.allocate([1, batch, 2 * units]);
  const carry = new Float32Array(batch * units);
  let rec: TensorInfo | undefined;
  for (let s = steps - 1; s >= 0; s--) {
    const t = timeOf(s, steps, reverse);
    const dh = new Float32Array(batch * units);
    {
      const dyv = view(backend, dy);
      const rv = rec ? view(backend, rec) : undefined;
      const gv = view(backend, gateValues);
      const prev = view(backend, previous);
      const dcs = view(backend, dCandidateStep);
      const dzc = view(backend, dZCandidate);
      const dz = view(backend, dZ);
      const rp = view(backend, resetPrevious);
      const gBase = s * batch * gates;
      for (let b = 0; b < batch; b++) {
        const rowIndex = b * steps + t;
        for (let j = 0; j < units; j++) {
          const u = b * units + j;
          const d = (dyv[rowIndex * units + j] as number) + (carry[u] as number) + (rv ? (rv[u] as number) : 0);
          dh[u] = d;
          const z = gv[gBase + b * gates + j] as number;
          const cand = gv[gBase + b * gates + 2 * units + j] as number;
          const dzh = d * (1 - z) * (1 - cand * cand);
          dcs[u] = dzh;
          dzc[rowIndex * units + j] = dzh;
          dz[rowIndex * gates + 2 * units + j] = dzh;
          rp[rowIndex * units + j] = (gv[gBase + b * gates + units + j] as number) * (prev[rowIndex * units + j] as number);
        }
      }
    }
    if (rec) k.free(rec);
    const dResetH = product(k, dCandidateStep, rCandidateT);
    {
      const drh = view(backend, dResetH);
      const gv = view(backend, gateValues);
      const prev = view(backend, previous);
      const dgs = view(backend, dGatesStep);
      const dzg = view(backend, dZGates);
      const dz = view(backend, dZ);
      const gBase = s * batch * gates;
      for (let b = 0; b < batch; b++) {
        const rowIndex = b * steps + t;
        for (let j = 0; j < units; j++) {
          const u = b * units + j;
          const z = gv[gBase + b * gates + j] as number;
          const r = gv[gBase + b * gates + units + j] as number;
          const cand = gv[gBase + b * gates + 2 * units + j] as number;
          const hPrev = prev[rowIndex * units + j] as number;
          const d = dh[u] as number;
          const dr = drh[u] as number;
          const dzz = d * (hPrev - cand) * gateSlope(z, hard);
          const dzr = dr * hPrev * gateSlope(r, hard);
          dgs[b * 2 * units + j] = dzz;
          dgs[b * 2 * units + units + j] = dzr;
          dzg[rowIndex * 2 * units + j] = dzz;
          dzg[rowIndex * 2 * units + units + j] = dzr;
          dz[rowIndex * gates + j] = dzz;
          dz[rowIndex * gates + units + j] = dzr;
          carry[u] = d * z + dr * r;
        }
      }
    }
    k.free(dResetH);
    rec = s > 0 ? product(k, dGatesStep, rGatesT) : undefined;
  }
  const { dx, dKernel, dBias } = inputGradients(k, backend, x, kernel, dZ);
  const dRGates = recurrentGradient(k, previous, dZGates, units, rows, 2 * units);
  const dRCandidate = recurrentGradient(k, resetPrevious, dZCandidate, units, rows, units);
  const dRecurrent = backend.makeOutput([units, gates], 'float32');
  {
    const out = view(backend, dRecurrent);
    const a = view(backend, dRGates);
    const c = view(backend, dRCandidate);
    for (let i = 0; i < units; i++) {
      out.set(a.subarray(i * 2 * units, (i + 1) * 2 * units), i * gates);
      out.set(c.subarray(i * units, (i + 1) * units), i * gates + 2 * units);
    }
  }
  (args.backend as tf.KernelBackend).disposeData(dRGates.dataId);
  (args.backend as tf.KernelBackend).disposeData(dRCandidate.dataId);
  return [dx, dKernel, dRecurrent, dBias];
}
const gruBackward = recurrentKernel('gruBackward', 3, ['x', 'kernel', 'recurrentKernel', 'h', 'gates', 'dy'], (s) => [s.dx, s.dKernel, s.dRecurrent, s.dBias], gruBackwardJs);

function tensorOrZeros(dy: tf.Tensor | tf.Tensor[], like: tf.Tensor): tf.Tensor {
  const first = Array.isArray(dy) ? dy[0] : dy;
  return first ?? tf.zerosLike(like);
}

/**
 * Registers the sequence kernels and their gradients on the wasm backend. Safe to call more
 * than once; returns the kernel names this call registered.
 */
export function registerWasmRecurrentKernels(): string[] {
  const added = registerNewWasmKernels([
    [LSTM_SEQUENCE, lstmForward],
    [LSTM_SEQUENCE_GRAD, lstmBackward],
    [GRU_SEQUENCE, gruForward],
    [GRU_SEQUENCE_GRAD, gruBackward],
  ]);
  if (tf.getGradient(LSTM_SEQUENCE) == null) {
    tf.registerGradient({
      kernelName: LSTM_SEQUENCE,
      inputsToSave: ['x', 'kernel', 'recurrentKernel'],
      outputsToSave: [true, true, true, true],
      gradFunc: (dy, saved, attrs) => {
        const [x, kernel, recurrentKernel, h, c, tanhC, gates] = saved as tf.Tensor[];
        const grads = tf.engine().runKernel(
          LSTM_SEQUENCE_GRAD,
          { x, kernel, recurrentKernel, h, c, tanhC, gates, dy: tensorOrZeros(dy, h as tf.Tensor) } as unknown as tf.NamedTensorMap,
          attrs as unknown as tf.NamedAttrMap,
        ) as tf.Tensor[];
        return { x: () => grads[0]!, kernel: () => grads[1]!, recurrentKernel: () => grads[2]!, bias: () => grads[3]! };
      },
    });
  }
  if (tf.getGradient(GRU_SEQUENCE) == null) {
    tf.registerGradient({
      kernelName: GRU_SEQUENCE,
      inputsToSave: ['x', 'kernel', 'recurrentKernel'],
      outputsToSave: [true, true],
      gradFunc: (dy, saved, attrs) => {
        const [x, kernel, recurrentKernel, h, gates] = saved as tf.Tensor[];
        const grads = tf.engine().runKernel(
          GRU_SEQUENCE_GRAD,
          { x, kernel, recurrentKernel, h, gates, dy: tensorOrZeros(dy, h as tf.Tensor) } as unknown as tf.NamedTensorMap,
          attrs as unknown as tf.NamedAttrMap,
        ) as tf.Tensor[];
        return { x: () => grads[0]!, kernel: () => grads[1]!, recurrentKernel: () => grads[2]!, bias: () => grads[3]! };
      },
    });
  }
  return added;
}
