/**
 * Adam's update as one wasm kernel per variable, the sum of squares of many tensors as one, and
 * the sum of the replicas' gradient slots straight into a tensor.
 *
 * tfjs's `AdamOptimizer` spends a dozen element-wise ops on each variable every step, and global
 * norm clipping and decoupled weight decay add two more passes: about 300 small kernels on the
 * CRNN, 17 ms of a 190 ms two-replica step during which the other replicas wait. These kernels
 * do the same arithmetic in one pass over each variable (`training/fused-adam.ts` uses them):
 * natively where glyphlab's native kernels run (about 2 ms for the CRNN's 626,000 weights), else
 * as JavaScript loops over the heap (about 12 ms).
 * Like the other kernels of `wasm-js-kernels.ts`, outputs are allocated first (allocation can
 * grow the wasm memory and detach views), then read and written through views of the heap.
 */
import * as tf from '@tensorflow/tfjs';
import { activeNativeModule, type HeapBackend, heapOf, offsetOf } from './native-kernels';
import type { KernelArgs, TensorInfo } from './wasm-call';
import { heapBackend, type WasmHeapBackend } from './wasm-js-kernels';
import { registerNewWasmKernels } from './wasm-replace';

/** The fused update: inputs `value`, `gradient`, `m`, `v`; outputs the new value, m and v. */
export const ADAM_UPDATE = 'GlyphlabAdamUpdate';
/** The sum of the squares of all inputs' elements, as a float32 scalar. */
export const SUM_OF_SQUARES = 'GlyphlabSumOfSquares';
/**
 * No inputs; attrs `slots` (Float32Arrays, e.g. the replicas' gradient slots in shared memory),
 * `start` and `shape`: a float32 tensor of `shape` whose values are the slots' values from
 * `start` added up in slot order.
 */
export const SUM_SLOTS = 'GlyphlabSumSlots';

/** The attrs of {@link SUM_SLOTS}. */
export interface SumSlotsAttrs {
  slots: Float32Array[];
  start: number;
  shape: number[];
}

/**
 * The scalars of one update. With g = gradient x `gradientScale`:
 * m' = beta1 m + (1 - beta1) g; v' = beta2 v + (1 - beta2) g^2;
 * value' = value x `decay` - learningRate (m' / biasFix1) / (sqrt(v' / biasFix2) + epsilon).
 */
export interface AdamUpdateAttrs {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1 - beta1^t for step t (Adam's bias correction). */
  biasFix1: number;
  /** 1 - beta2^t. */
  biasFix2: number;
  /** The factor decoupled weight decay scales the value by first (1 - learningRate x weightDecay); 1 for none. */
  decay: number;
  /** The factor gradient clipping scales the gradient by; 1 for none. */
  gradientScale: number;
}

/** The float32 view of `info` on the heap; `kernel` and `what` name it when it is not float32. */
function floats(backend: WasmHeapBackend, info: TensorInfo, kernel: string, what: string): Float32Array {
  const values = backend.typedArrayFromHeap(info);
  if (!(values instanceof Float32Array)) throw new TypeError(`${kernel}: ${what} must be float32, got ${info.dtype}`);
  return values;
}

function adamUpdate(args: KernelArgs): TensorInfo[] {
  const backend = heapBackend(args);
  const value = args.inputs['value'] as TensorInfo;
  const gradient = args.inputs['gradient'] as TensorInfo;
  const m = args.inputs['m'] as TensorInfo;
  const v = args.inputs['v'] as TensorInfo;
  for (const [name, info] of [['gradient', gradient], ['m', m], ['v', v]] as const) {
    if (info.shape.join() !== value.shape.join()) throw new RangeError(`${ADAM_UPDATE}: ${name} has shape [${info.shape}], the value [${value.shape}]`);
  }
  const a = args.attrs as unknown as AdamUpdateAttrs;
  const valueOut = backend.makeOutput([...value.shape], 'float32');
  const mOut = backend.makeOutput([...value.shape], 'float32');
  const vOut = backend.makeOutput([...value.shape], 'float32');
  const native = activeNativeModule();
  if (native && [value, gradient, m, v].every((info) => info.dtype === 'float32')) {
    const heap = args.backend as unknown as HeapBackend;
    const offsets = [value, gradient, m, v, valueOut, mOut, vOut].map((info) => offsetOf(heap, info));
    const params = Float64Array.of(a.learningRate, a.beta1, a.beta2, a.epsilon, a.biasFix1, a.biasFix2, a.decay, a.gradientScale);
    native.adamUpdate(heapOf(heap), offsets, tf.util.sizeFromShape(value.shape), params);
    return [valueOut, mOut, vOut];
  }
  const w = floats(backend, value, ADAM_UPDATE, 'the value');
  const g = floats(backend, gradient, ADAM_UPDATE, 'the gradient');
  const ms = floats(backend, m, ADAM_UPDATE, 'm');
  const vs = floats(backend, v, ADAM_UPDATE, 'v');
  const w2 = floats(backend, valueOut, ADAM_UPDATE, 'the value');
  const m2 = floats(backend, mOut, ADAM_UPDATE, 'm');
  const v2 = floats(backend, vOut, ADAM_UPDATE, 'v');
  const { beta1, beta2, epsilon, decay, gradientScale } = a;
  const oneMinusBeta1 = 1 - beta1;
  const oneMinusBeta2 = 1 - beta2;
  const step = a.learningRate / a.biasFix1;
  const inverseFix2 = 1 / a.biasFix2;
  for (let i = 0; i < w.length; i++) {
    const gi = (g[i] as number) * gradientScale;
    const mi = beta1 * (ms[i] as number) + oneMinusBeta1 * gi;
    const vi = beta2 * (vs[i] as number) + oneMinusBeta2 * gi * gi;
    m2[i] = mi;
    v2[i] = vi;
    w2[i] = (w[i] as number) * decay - (step * mi) / (Math.sqrt(vi * inverseFix2) + epsilon);
  }
  return [valueOut, mOut, vOut];
}

function sumOfSquares(args: KernelArgs): TensorInfo {
  const backend = heapBackend(args);
  const inputs = Object.keys(args.inputs)
    .sort((p, q) => Number(p.slice(1)) - Number(q.slice(1)))
    .map((key) => args.inputs[key] as TensorInfo);
  const out = backend.makeOutput([], 'float32');
  const native = activeNativeModule();
  let total = 0;
  for (const info of inputs) {
    if (native && info.dtype === 'float32') {
      const heap = args.backend as unknown as HeapBackend;
      total += native.sumOfSquares(heapOf(heap), offsetOf(heap, info), tf.util.sizeFromShape(info.shape));
      continue;
    }
    const values = floats(backend, info, SUM_OF_SQUARES, 'every input');
    let partial = 0;
    for (let i = 0; i < values.length; i++) partial += (values[i] as number) * (values[i] as number);
    total += partial;
  }
  floats(backend, out, SUM_OF_SQUARES, 'the sum')[0] = total;
  return out;
}

function sumSlots(args: KernelArgs): TensorInfo {
  const backend = heapBackend(args);
  const { slots, start, shape } = args.attrs as unknown as SumSlotsAttrs;
  const count = tf.util.sizeFromShape(shape);
  if (slots.length === 0 || slots.some((slot) => slot.length < start + count)) {
    throw new RangeError(`${SUM_SLOTS}: every slot must hold values ${start} to ${start + count - 1}`);
  }
  const out = backend.makeOutput([...shape], 'float32');
  const native = activeNativeModule();
  if (native) {
    const heap = args.backend as unknown as HeapBackend;
    native.sumSlots(heapOf(heap), offsetOf(heap, out), slots, start, count);
    return out;
  }
  const values = floats(backend, out, SUM_SLOTS, 'the sum');
  values.set((slots[0] as Float32Array).subarray(start, start + count));
  for (let rank = 1; rank < slots.length; rank++) {
    const slot = slots[rank] as Float32Array;
    for (let i = 0; i < count; i++) values[i] = (values[i] as number) + (slot[start + i] as number);
  }
  return out;
}

/** Registers the three kernels on the wasm backend; returns the names this call registered. */
export function registerWasmOptimizerKernels(): string[] {
  return registerNewWasmKernels([
    [ADAM_UPDATE, adamUpdate],
    [SUM_OF_SQUARES, sumOfSquares],
    [SUM_SLOTS, sumSlots],
  ]);
}
