/**
 * Helpers for kernels composed of other wasm kernels. Composition happens at the kernel level,
 * below the autograd tape and tidy scopes, so every intermediate is freed explicitly.
 */
import * as tf from '@tensorflow/tfjs';

export type KernelArgs = Parameters<tf.KernelFunc>[0];
export type TensorInfo = tf.TensorInfo;

/** The kernels a composed kernel calls, and the intermediates it must free. */
export interface KernelCalls {
  /** Runs the wasm kernel `name`; its output is freed by {@link KernelCalls.dispose}. */
  call(name: string, inputs: Record<string, TensorInfo>, attrs: object): TensorInfo;
  /** Runs the wasm kernel `name` and hands its output to the caller (not freed). */
  keep(name: string, inputs: Record<string, TensorInfo>, attrs: object): TensorInfo;
  /** Allocates an uninitialised float32 intermediate, freed by {@link KernelCalls.dispose}. */
  allocate(shape: number[]): TensorInfo;
  /** Frees one intermediate now (a loop's per-step temporaries), not at {@link KernelCalls.dispose}. */
  free(info: TensorInfo): void;
  /** Frees every intermediate made by {@link KernelCalls.call}. */
  dispose(): void;
}

/** The function of a kernel as registered for wasm (or the one saved before glyphlab replaced it). */
export function wasmKernelFunc(name: string): tf.KernelFunc {
  const kernel = tf.getKernel(name, 'wasm');
  if (kernel == null) throw new Error(`wasm kernel '${name}' is missing`);
  return kernel.kernelFunc;
}

/**
 * Starts a composed kernel on `backend`. `overrides` maps kernel names to the functions to use
 * instead of the registered ones (e.g. a wasm kernel saved before glyphlab replaced it).
 */
export function kernelCalls(backend: tf.KernelBackend, overrides: Record<string, tf.KernelFunc> = {}): KernelCalls {
  const temporaries: TensorInfo[] = [];
  const run = (name: string, inputs: Record<string, TensorInfo>, attrs: object): TensorInfo => {
    const kernelFunc = overrides[name] ?? wasmKernelFunc(name);
    return kernelFunc({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as TensorInfo;
  };
  return {
    call(name, inputs, attrs) {
      const out = run(name, inputs, attrs);
      temporaries.push(out);
      return out;
    },
    keep: run,
    allocate(shape) {
      const out = (backend as unknown as { makeOutput(shape: number[], dtype: tf.DataType): TensorInfo }).makeOutput(shape, 'float32');
      temporaries.push(out);
      return out;
    },
    free(info) {
      const index = temporaries.lastIndexOf(info);
      if (index < 0) throw new Error('free: not an intermediate of this kernel');
      temporaries.splice(index, 1);
      backend.disposeData(info.dataId);
    },
    dispose() {
      // Reshape shares its input's data and counts a reference, so each output frees once.
      for (const t of temporaries) backend.disposeData(t.dataId);
      temporaries.length = 0;
    },
  };
}
