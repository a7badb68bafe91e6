/**
 * Matrix products with transposed operands on the wasm backend. tfjs 4.22's wasm `BatchMatMul`
 * and `_FusedMatMul` run 5-20x slower when `transposeA` or `transposeB` is set (measured
 * [32, 512] x [256, 512]^T: 16 ms; [32, 256]^T x [32, 512]: 23 ms; the untransposed products of
 * the same sizes: 1.0-1.2 ms), and every matMul gradient sets one of them: in the CRNN's LSTM
 * layers that made the backward products a third of a training step. Transposing the operand
 * first with the wasm `Transpose` kernel and multiplying untransposed gives the same sums.
 *
 * The untransposed wasm product packs its right operand once per tensor (XNNPACK), so a
 * transposed copy made afresh for each of the LSTM's time steps would be packed afresh too:
 * transposed copies of right operands are kept while their source lives (a few at most).
 */
import * as tf from '@tensorflow/tfjs';
import { kernelCalls, type KernelArgs, type TensorInfo } from './wasm-call';

/** The permutation swapping the last two axes of a rank-`rank` tensor. */
function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

interface CachedTranspose {
  backend: tf.KernelBackend;
  source: TensorInfo;
  transposed: TensorInfo;
}

/** Most transposed right operands kept at once (the CRNN's LSTM uses 2 per layer and direction). */
const CACHE_SIZE = 8;

/** Transposed copies of right operands, most recent last. */
const cache: CachedTranspose[] = [];

function refCount(backend: tf.KernelBackend, info: TensorInfo): number {
  return (backend as unknown as { refCount(dataId: object): number }).refCount(info.dataId);
}

/** The cached transpose of `b`, made when missing; drops entries whose source was freed. */
function transposedRightOperand(backend: tf.KernelBackend, b: TensorInfo): TensorInfo {
  for (let i = cache.length - 1; i >= 0; i--) {
    const entry = cache[i] as CachedTranspose;
    // An entry of an earlier wasm backend instance went with that backend's memory.
    if (entry.backend !== backend) cache.splice(i, 1);
    else if (refCount(backend, entry.source) === 0) {
      backend.disposeData(entry.transposed.dataId);
      cache.splice(i, 1);
    }
  }
  // Reshape shares data between shapes, so the shape is part of the key.
  const hit = cache.find((e) => e.source.dataId === b.dataId && tf.util.arraysEqual(e.source.shape, b.shape));
  if (hit) return hit.transposed;
  const k = kernelCalls(backend);
  const transposed = k.keep('Transpose', { x: b }, { perm: swapLastTwo(b.shape.length) });
  cache.push({ backend, source: { dataId: b.dataId, shape: [...b.shape], dtype: b.dtype }, transposed });
  if (cache.length > CACHE_SIZE) backend.disposeData((cache.shift() as CachedTranspose).transposed.dataId);
  return transposed;
}

/**
 * Wraps a wasm matMul kernel (`BatchMatMul` or `_FusedMatMul`, both with inputs `a`, `b` and
 * attributes `transposeA`, `transposeB`) so that the original always runs untransposed.
 */
export function explicitTransposes(name: string) {
  return (original: tf.KernelFunc) =>
    (args: KernelArgs): TensorInfo | TensorInfo[] => {
      const attrs = args.attrs as { transposeA?: boolean; transposeB?: boolean };
      const a = args.inputs['a'];
      const b = args.inputs['b'];
      if ((!attrs.transposeA && !attrs.transposeB) || a == null || b == null || a.dtype !== 'float32') return original(args);
      const backend = args.backend as tf.KernelBackend;
      const k = kernelCalls(backend, { [name]: original });
      try {
        const inputs = { ...args.inputs } as Record<string, TensorInfo>;
        if (attrs.transposeA) inputs['a'] = k.call('Transpose', { x: a }, { perm: swapLastTwo(a.shape.length) });
        if (attrs.transposeB) inputs['b'] = transposedRightOperand(backend, b);
        return k.keep(name, inputs, { ...args.attrs, transposeA: false, transposeB: false });
      } finally {
        k.dispose();
      }
    };
}
