/**
 * Matrix products and convolutions of the wasm backend computed by glyphlab's native module
 * (`native/glyphlab_kernels.cc`, AVX2 and FMA) in place on the wasm heap.
 *
 * WebAssembly's SIMD has no fused multiply-add: XNNPACK's products in the wasm backend run at a
 * third or less of what the same core does natively, and products are most of a CRNN training
 * step (the forward convolutions, both convolution gradients, which glyphlab builds on the
 * forward convolution, and the recurrent layers' products). The module is built by `npm install`
 * where a C++ toolchain is present (the one `better-sqlite3` needs); without it, on another CPU,
 * or with `GLYPHLAB_NATIVE=0`, the wasm kernels run as before. Each kernel here falls back to them
 * for what it does not handle (other dtypes, NCHW, activations other than linear and ReLU).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { errorMessage } from '../errors';
import { projectRoot } from '../util/paths';
import { kernelCalls, type KernelArgs, type TensorInfo } from './wasm-call';

/** The native module's functions (offsets are byte offsets into the wasm heap). */
export interface NativeModule {
  supported(): boolean;
  /** The interface version the module was built with (absent before version 2). */
  abiVersion?(): number;
  bnStats(heap: ArrayBuffer, x: number, rows: number, channels: number, sums: Float64Array): void;
  /** Offsets: value, gradient, m, v, and the three outputs; params as `AdamUpdateAttrs` in wasm-adam.ts's order. */
  adamUpdate(heap: ArrayBuffer, offsets: number[], count: number, params: Float64Array): void;
  sumOfSquares(heap: ArrayBuffer, x: number, count: number): number;
  /** out = slots[0][start..start+count) + slots[1][...] + ..., in slot order, into the heap at `out`. */
  sumSlots(heap: ArrayBuffer, out: number, slots: Float32Array[], start: number, count: number): void;
  bnApply(heap: ArrayBuffer, x: number, y: number, rows: number, channels: number, scale: Float32Array, shift: Float32Array, relu: number): void;
  bnGradStats(heap: ArrayBuffer, x: number, y: number, dy: number, rows: number, channels: number, mean: Float32Array, relu: number, sums: Float64Array): void;
  bnGradApply(heap: ArrayBuffer, x: number, y: number, dy: number, dx: number, rows: number, channels: number, k: Float32Array, a: Float32Array, b: Float32Array, mean: Float32Array, relu: number): void;
  maxPoolGradTiled(heap: ArrayBuffer, x: number, dy: number, dx: number, batch: number, height: number, width: number, channels: number, filterHeight: number, filterWidth: number): void;
  /** Offsets: x, kernel, recurrentKernel, bias, h, c, tanh(c), gates. Dims: batch, steps, features, units, reverse, hardSigmoid. */
  lstmForward(heap: ArrayBuffer, offsets: number[], dims: number[]): void;
  /** Offsets: x, kernel, recurrentKernel, h, c, tanh(c), gates, dy, dx, dKernel, dRecurrentKernel, dBias. */
  lstmBackward(heap: ArrayBuffer, offsets: number[], dims: number[]): void;
  /** Offsets: x, kernel, recurrentKernel, bias, h, gates. */
  gruForward(heap: ArrayBuffer, offsets: number[], dims: number[]): void;
  /** Offsets: x, kernel, recurrentKernel, h, gates, dy, dx, dKernel, dRecurrentKernel, dBias. */
  gruBackward(heap: ArrayBuffer, offsets: number[], dims: number[]): void;
  gemm(heap: ArrayBuffer, a: number, b: number, c: number, m: number, n: number, k: number, transposeA: number, transposeB: number, accumulate: number, batch: number, aStride: number, bStride: number): void;
  conv2d(heap: ArrayBuffer, x: number, filter: number, y: number, input: number[], filterShape: number[], geometry: number[], output: number[]): void;
  /** The filter gradient of `conv2d`, with the same shapes and geometry: dW from x and dy. */
  conv2dBackpropFilter(heap: ArrayBuffer, x: number, dy: number, dw: number, input: number[], filterShape: number[], geometry: number[], output: number[]): void;
}

/** Whether the native kernels are in use, or why not. */
export interface NativeKernelsStatus {
  loaded: boolean;
  /** The module file, when found. */
  path?: string;
  /** Why they are not in use. */
  reason?: string;
  /** What would put them in use, when something would (e.g. `npm run build:native`). */
  remedy?: string;
}

/**
 * The interface version this code expects of the module (its `abiVersion()`); a module built
 * from older sources is not used (version 2: `maxPoolGradTiled` takes sizes that leave a
 * remainder; version 3: `conv2dBackpropFilter`; version 4: `adamUpdate`, `sumOfSquares`, `sumSlots`).
 */
export const NATIVE_ABI_VERSION = 4;

/**
 * Where `npm install` builds the module: under the project root, found from this file's real
 * path, so that the CLI, the tests and tslab (which reaches src/ through a notebook folder's
 * `glyphlab` link, where `__dirname` points into the notebooks) all find it.
 */
export const NATIVE_MODULE_PATH = join(projectRoot(), 'native', 'build', 'Release', 'glyphlab_kernels.node');

let loaded: { module?: NativeModule; status: NativeKernelsStatus } | undefined;

/** Whether loaded native kernels compute (tests turn them off to check the wasm route too). */
let enabled = true;

/** Turns the loaded native kernels on or off for later kernel calls; returns the previous setting. */
export function setNativeKernelsEnabled(on: boolean): boolean {
  const previous = enabled;
  enabled = on;
  return previous;
}

const BUILD_REMEDY = 'run `npm run build:native` (it needs a C++ toolchain, as better-sqlite3 does)';

/** Whether loaded native kernels are switched on (see {@link setNativeKernelsEnabled}). */
export function nativeKernelsEnabled(): boolean {
  return enabled;
}

/** Loads the native module once (honouring `GLYPHLAB_NATIVE=0`); says whether it can run here. */
export function loadNativeKernels(env: Record<string, string | undefined> = process.env): NativeKernelsStatus {
  if (loaded) return loaded.status;
  const off = (env['GLYPHLAB_NATIVE'] ?? '').trim();
  if (off === '0' || off.toLowerCase() === 'off') {
    loaded = { status: { loaded: false, reason: 'turned off by GLYPHLAB_NATIVE=0', remedy: 'unset GLYPHLAB_NATIVE' } };
  } else if (!existsSync(NATIVE_MODULE_PATH)) {
    loaded = { status: { loaded: false, reason: `not built (${NATIVE_MODULE_PATH} is missing)`, remedy: BUILD_REMEDY } };
  } else {
    try {
      const module = require(NATIVE_MODULE_PATH) as NativeModule;
      const version = module.abiVersion?.() ?? 1;
      if (!module.supported()) {
        loaded = { status: { loaded: false, path: NATIVE_MODULE_PATH, reason: 'this CPU lacks AVX2 or FMA' } };
      } else if (version !== NATIVE_ABI_VERSION) {
        const reason = `built from other sources (interface version ${version}, this code needs ${NATIVE_ABI_VERSION})`;
        loaded = { status: { loaded: false, path: NATIVE_MODULE_PATH, reason, remedy: BUILD_REMEDY } };
      } else {
        loaded = { module, status: { loaded: true, path: NATIVE_MODULE_PATH } };
      }
    } catch (error) {
      loaded = { status: { loaded: false, path: NATIVE_MODULE_PATH, reason: `does not load: ${errorMessage(error).split('\n')[0]}`, remedy: BUILD_REMEDY } };
    }
  }
  return loaded.status;
}

/** The loaded native module while native kernels are on, else undefined (the caller's wasm route runs). */
export function activeNativeModule(): NativeModule | undefined {
  return enabled && loadNativeKernels().loaded ? loaded?.module : undefined;
}

/** The parts of the wasm backend the native kernels use. */
export interface HeapBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
}

/** The heap's current buffer (take it after the last allocation: growing the heap replaces it). */
export function heapOf(backend: HeapBackend): ArrayBuffer {
  return backend.wasm.HEAPU8.buffer as ArrayBuffer;
}

/** The byte offset of a tensor's data in the wasm heap. */
export function offsetOf(backend: HeapBackend, info: TensorInfo): number {
  return backend.dataIdMap.get(info.dataId).memoryOffset;
}

type Activation = 'linear' | 'relu';

/** Adds the bias and applies the activation after a native product, with the backend's own kernels. */
function epilogue(args: KernelArgs, out: TensorInfo, bias: TensorInfo | undefined, activation: Activation): TensorInfo {
  if (bias === undefined && activation === 'linear') return out;
  const k = kernelCalls(args.backend as tf.KernelBackend);
  try {
    let result = out;
    if (bias !== undefined) {
      result = activation === 'linear' ? k.keep('Add', { a: out, b: bias }, {}) : k.call('Add', { a: out, b: bias }, {});
    }
    if (activation === 'relu') result = k.keep('Relu', { x: result }, {});
    return result;
  } finally {
    k.dispose();
    (args.backend as tf.KernelBackend).disposeData(out.dataId);
  }
}

function supportedActivation(attrs: { activation?: string }): Activation | undefined {
  const activation = attrs.activation ?? 'linear';
  return activation === 'linear' || activation === 'relu' ? activation : undefined;
}

type Shape4D = [number, number, number, number];

/**
 * `Conv2D` / `FusedConv2D` (NHWC, float32, linear or ReLU) natively; anything else goes to
 * `fallback`. Output size and padding follow tfjs-core's `computeConv2DInfo`, as the cpu backend's.
 */
function nativeConvolution(module: NativeModule, fallback: tf.KernelFunc) {
  return (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const x = args.inputs['x'];
    const filter = args.inputs['filter'];
    const attrs = args.attrs as unknown as tf.FusedConv2DAttrs;
    const activation = supportedActivation(attrs);
    if (!enabled || x == null || filter == null || x.dtype !== 'float32' || filter.dtype !== 'float32' || attrs.dataFormat === 'NCHW' || activation === undefined || args.inputs['preluActivationWeights'] != null) {
      return fallback(args);
    }
    const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4D, filter.shape as Shape4D, attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode);
    const backend = args.backend as unknown as HeapBackend;
    const out = backend.makeOutput([info.batchSize, info.outHeight, info.outWidth, info.outChannels], 'float32');
    module.conv2d(heapOf(backend), offsetOf(backend, x), offsetOf(backend, filter), offsetOf(backend, out), ...convGeometry(info));
    return epilogue(args, out, args.inputs['bias'] ?? undefined, activation);
  };
}

/** The native module's convolution geometry arguments for `info`. */
function convGeometry(info: tf.backend_util.Conv2DInfo): [number[], number[], number[], number[]] {
  return [
    [info.batchSize, info.inHeight, info.inWidth, info.inChannels],
    [info.filterHeight, info.filterWidth, info.outChannels],
    [info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left, info.dilationHeight, info.dilationWidth],
    [info.outHeight, info.outWidth],
  ];
}

/**
 * `Conv2DBackpropFilter` (NHWC, float32) natively, as one product per output row and filter tap
 * (see `conv2dBackpropFilter` in the module); anything else goes to `fallback`.
 */
function nativeConvolutionFilterGradient(module: NativeModule, fallback: tf.KernelFunc) {
  return (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const x = args.inputs['x'];
    const dy = args.inputs['dy'];
    const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    if (!enabled || x == null || dy == null || x.dtype !== 'float32' || dy.dtype !== 'float32' || attrs.dataFormat === 'NCHW') return fallback(args);
    const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4D, attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
    if (dy.shape.join() !== [info.batchSize, info.outHeight, info.outWidth, info.outChannels].join()) return fallback(args);
    const backend = args.backend as unknown as HeapBackend;
    const out = backend.makeOutput([info.filterHeight, info.filterWidth, info.inChannels, info.outChannels], 'float32');
    module.conv2dBackpropFilter(heapOf(backend), offsetOf(backend, x), offsetOf(backend, dy), offsetOf(backend, out), ...convGeometry(info));
    return out;
  };
}

/**
 * `BatchMatMul` / `_FusedMatMul` of rank-3 float32 operands (the shape tfjs-core hands its
 * kernels), with transposes and a broadcast batch of 1, natively; others go to `fallback`.
 */
function nativeMatMul(module: NativeModule, fallback: tf.KernelFunc) {
  return (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const a = args.inputs['a'];
    const b = args.inputs['b'];
    const attrs = args.attrs as unknown as { transposeA: boolean; transposeB: boolean; activation?: string };
    const activation = supportedActivation(attrs);
    if (!enabled || a == null || b == null || a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length !== 3 || b.shape.length !== 3 || activation === undefined || args.inputs['preluActivationWeights'] != null) {
      return fallback(args);
    }
    const [aBatch, aRows, aCols] = a.shape as [number, number, number];
    const [bBatch, bRows, bCols] = b.shape as [number, number, number];
    const m = attrs.transposeA ? aCols : aRows;
    const k = attrs.transposeA ? aRows : aCols;
    const n = attrs.transposeB ? bRows : bCols;
    const batch = Math.max(aBatch, bBatch);
    if ((attrs.transposeB ? bCols : bRows) !== k || (aBatch !== bBatch && aBatch !== 1 && bBatch !== 1)) return fallback(args);
    const backend = args.backend as unknown as HeapBackend;
    const out = backend.makeOutput([batch, m, n], 'float32');
    module.gemm(
      backend.wasm.HEAPU8.buffer as ArrayBuffer,
      offsetOf(backend, a),
      offsetOf(backend, b),
      offsetOf(backend, out),
      m,
      n,
      k,
      attrs.transposeA ? 1 : 0,
      attrs.transposeB ? 1 : 0,
      0,
      batch,
      aBatch === 1 ? 0 : m * k,
      bBatch === 1 ? 0 : k * n,
    );
    return epilogue(args, out, args.inputs['bias'] ?? undefined, activation);
  };
}

/**
 * The native replacement of wasm kernel `name` (`Conv2D`, `FusedConv2D`, `Conv2DBackpropFilter`,
 * `BatchMatMul`, `_FusedMatMul`) around `fallback`, or `fallback` itself when the native kernels are not in use.
 */
export function withNativeKernel(name: string, fallback: tf.KernelFunc): tf.KernelFunc {
  if (!loadNativeKernels().loaded || !loaded?.module) return fallback;
  const module = loaded.module;
  if (name === 'Conv2D' || name === 'FusedConv2D') return nativeConvolution(module, fallback) as tf.KernelFunc;
  if (name === 'Conv2DBackpropFilter') return nativeConvolutionFilterGradient(module, fallback) as tf.KernelFunc;
  if (name === 'BatchMatMul' || name === '_FusedMatMul') return nativeMatMul(module, fallback) as tf.KernelFunc;
  return fallback;
}
