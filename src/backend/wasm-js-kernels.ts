/**
 * wasm kernels written as plain loops over the wasm heap, for operations whose tfjs 4.22 wasm
 * kernels are generic per-element index arithmetic and far slower than one JS pass over memory.
 * Measured at CRNN sizes (batch 32): `MaxPoolGrad` on [32, 32, 128, 32] took 247 ms against
 * 3.8 ms for the forward pool; `Reverse` of the bidirectional LSTM's [32, 32, 256] sequences
 * 22 ms; batch-norm `Mean` / `Sum` over batch, height and width of [32, 32, 128, 32] 54 / 37 ms.
 *
 * Each kernel allocates its output first (allocation can grow the wasm memory, which detaches
 * earlier views of the heap) and only then takes views of inputs and output.
 */
import * as tf from '@tensorflow/tfjs';
import { activeNativeModule, type HeapBackend as NativeHeap, heapOf, offsetOf } from './native-kernels';
import type { KernelArgs, TensorInfo } from './wasm-call';

/** The parts of tfjs's wasm backend these kernels use (it exports no type for them). */
export interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

export function heapBackend(args: KernelArgs): WasmHeapBackend {
  return args.backend as unknown as WasmHeapBackend;
}

function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) strides[i] = (strides[i + 1] as number) * (shape[i + 1] as number);
  return strides;
}

/**
 * `MaxPoolGrad` for NHWC input: each window's gradient goes to its first maximum in row-major
 * window order (the rule of tfjs's cpu kernel, so ties, e.g. windows of ReLU zeros, match),
 * accumulated where windows overlap. A window whose values are all NaN or -Infinity gets none.
 */
export function maxPoolGradJs(args: KernelArgs): TensorInfo {
  const dy = args.inputs['dy'] as TensorInfo;
  const x = args.inputs['input'] as TensorInfo;
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { effectiveFilterHeight, effectiveFilterWidth } = info;
  const backend = heapBackend(args);
  if (tilingWindows(info)) return tiledMaxPoolGrad(backend, x, dy, info);
  const dx = backend.makeOutput(x.shape, 'float32');
  const xs = backend.typedArrayFromHeap(x);
  const dys = backend.typedArrayFromHeap(dy);
  const dxs = backend.typedArrayFromHeap(dx);
  dxs.fill(0);
  const maxValue = new Float32Array(channels);
  const maxIndex = new Int32Array(channels);
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const rowCorner = oh * strideHeight - info.padInfo.top;
      const rowStart = Math.max(0, rowCorner);
      const rowEnd = Math.min(inHeight, rowCorner + effectiveFilterHeight);
      for (let ow = 0; ow < outWidth; ow++) {
        const colCorner = ow * strideWidth - info.padInfo.left;
        const colStart = Math.max(0, colCorner);
        const colEnd = Math.min(inWidth, colCorner + effectiveFilterWidth);
        maxValue.fill(Number.NEGATIVE_INFINITY);
        maxIndex.fill(-1);
        for (let r = rowStart; r < rowEnd; r++) {
          for (let col = colStart; col < colEnd; col++) {
            const base = ((b * inHeight + r) * inWidth + col) * channels;
            for (let c = 0; c < channels; c++) {
              const value = xs[base + c] as number;
              if (value > (maxValue[c] as number)) {
                maxValue[c] = value;
                maxIndex[c] = base + c;
              }
            }
          }
        }
        const dyBase = ((b * outHeight + oh) * outWidth + ow) * channels;
        for (let c = 0; c < channels; c++) {
          const index = maxIndex[c] as number;
          if (index >= 0) dxs[index] = (dxs[index] as number) + (dys[dyBase + c] as number);
        }
      }
    }
  }
  return dx;
}

/**
 * Whether the pool's windows lie side by side: no overlap, no padding, and as many windows as fit
 * (an odd size under 'valid' padding leaves its last row or column out of every window).
 */
function tilingWindows(info: tf.backend_util.Conv2DInfo): boolean {
  return (
    info.strideHeight === info.effectiveFilterHeight &&
    info.strideWidth === info.effectiveFilterWidth &&
    info.padInfo.top === 0 &&
    info.padInfo.left === 0 &&
    info.outHeight === Math.floor(info.inHeight / info.strideHeight) &&
    info.outWidth === Math.floor(info.inWidth / info.strideWidth)
  );
}

/**
 * `MaxPoolGrad` of side-by-side windows (the CRNN's 2x2 and 2x1 pools): every input position
 * belongs to at most one window, so each is written once, dy at the window's first maximum and
 * 0 elsewhere, with no per-channel bookkeeping (and a fill pass only when an odd size leaves
 * positions outside every window). Same rule as {@link maxPoolGradJs}: the first maximum in
 * row-major window order; a window of NaN or -Infinity only gets zeros.
 */
function tiledMaxPoolGrad(backend: WasmHeapBackend, x: TensorInfo, dy: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight: fh, strideWidth: fw } = info;
  const dx = backend.makeOutput(x.shape, 'float32');
  const native = activeNativeModule();
  if (native) {
    const heap = backend as unknown as NativeHeap;
    native.maxPoolGradTiled(heapOf(heap), offsetOf(heap, x), offsetOf(heap, dy), offsetOf(heap, dx), batchSize, inHeight, inWidth, channels, fh, fw);
    return dx;
  }
  const xs = backend.typedArrayFromHeap(x);
  const dys = backend.typedArrayFromHeap(dy);
  const dxs = backend.typedArrayFromHeap(dx);
  if (outHeight * fh !== inHeight || outWidth * fw !== inWidth) dxs.fill(0);
  const rowStride = inWidth * channels;
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const corner = ((b * inHeight + oh * fh) * inWidth + ow * fw) * channels;
        const dyBase = ((b * outHeight + oh) * outWidth + ow) * channels;
        for (let c = 0; c < channels; c++) {
          let best = Number.NEGATIVE_INFINITY;
          let at = -1;
          for (let r = 0; r < fh; r++) {
            for (let q = 0; q < fw; q++) {
              const index = corner + r * rowStride + q * channels + c;
              const value = xs[index] as number;
              if (value > best) {
                best = value;
                at = index;
              }
              dxs[index] = 0;
            }
          }
          if (at >= 0) dxs[at] = dys[dyBase + c] as number;
        }
      }
    }
  }
  return dx;
}

/**
 * `Identity` without a copy: the output shares the input's buffer, reference-counted as the
 * wasm backend's own `Reshape` does (strings keep `original`'s copy). The engine runs `Identity`
 * for every tensor a gradient saves (`tf.clone`); the wasm kernel copied each, a full pass over
 * every layer's activations per training step. Sharing is safe for the reason `Reshape`'s is: no
 * kernel writes into its inputs.
 */
export function sharedIdentity(original: tf.KernelFunc): (args: KernelArgs) => TensorInfo | TensorInfo[] {
  return (args) => {
    const x = args.inputs['x'] as TensorInfo;
    if (x.dtype === 'string') return original(args);
    (args.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}

/** `Reverse` of any axes, copying contiguous blocks behind the last reversed axis. */
export function reverseJs(args: KernelArgs): TensorInfo {
  const x = args.inputs['x'] as TensorInfo;
  const { dims } = args.attrs as unknown as tf.ReverseAttrs;
  const shape = x.shape;
  const axes = tf.util.parseAxisParam(dims, shape).filter((axis) => (shape[axis] as number) > 1);
  const backend = heapBackend(args);
  const out = backend.makeOutput(shape, x.dtype);
  const source = backend.typedArrayFromHeap(x);
  const target = backend.typedArrayFromHeap(out);
  if (axes.length === 0) {
    target.set(source);
    return out;
  }
  const last = Math.max(...axes);
  const outer = shape.slice(0, last + 1);
  const block = shape.slice(last + 1).reduce((a, b) => a * b, 1);
  const outerStrides = stridesOf(outer);
  const reversed = outer.map((_, axis) => axes.includes(axis));
  const count = outer.reduce((a, b) => a * b, 1);
  for (let i = 0; i < count; i++) {
    let rest = i;
    let from = 0;
    for (let axis = 0; axis < outer.length; axis++) {
      const stride = outerStrides[axis] as number;
      const coordinate = Math.floor(rest / stride);
      rest -= coordinate * stride;
      from += (reversed[axis] ? (outer[axis] as number) - 1 - coordinate : coordinate) * stride;
    }
    if (block === 1) target[i] = source[from] as number;
    else target.set(source.subarray(from * block, (from + 1) * block), i * block);
  }
  return out;
}

/**
 * `Sum` and `Mean` of float32 tensors over leading axes (batch norm's statistics and their
 * gradients reduce [B, H, W, C] over B, H, W) as column sums in float64; other reductions go
 * to the original wasm kernel.
 */
export function leadingAxesReduction(kind: 'Sum' | 'Mean') {
  return (original: tf.KernelFunc) =>
    (args: KernelArgs): TensorInfo | TensorInfo[] => {
      const x = args.inputs['x'];
      const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
      if (x == null || x.dtype !== 'float32') return original(args);
      const axes = [...tf.util.parseAxisParam(axis, x.shape)].sort((a, b) => a - b);
      const leading = axes.every((a, i) => a === i);
      if (!leading || axes.length === 0 || axes.length === x.shape.length) return original(args);
      const rows = x.shape.slice(0, axes.length).reduce((a, b) => a * b, 1);
      const kept = x.shape.slice(axes.length);
      const columns = kept.reduce((a, b) => a * b, 1);
      const backend = heapBackend(args);
      const out = backend.makeOutput(keepDims ? [...axes.map(() => 1), ...kept] : kept, 'float32');
      const source = backend.typedArrayFromHeap(x);
      const target = backend.typedArrayFromHeap(out);
      const sums = new Float64Array(columns);
      for (let r = 0; r < rows; r++) {
        const base = r * columns;
        for (let c = 0; c < columns; c++) sums[c] = (sums[c] as number) + (source[base + c] as number);
      }
      const divisor = kind === 'Mean' ? rows : 1;
      for (let c = 0; c < columns; c++) target[c] = (sums[c] as number) / divisor;
      return out;
    };
}
