/**
 * Adding kernels the wasm backend lacks, and replacing one it has with a faster composition that
 * may still call the original (e.g. for a layout the replacement does not handle).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelArgs, TensorInfo } from './wasm-call';

/** Kernel functions glyphlab installed, so that a second registration does not wrap twice. */
const installed = new WeakSet<tf.KernelFunc>();

/**
 * Replaces the wasm kernel `name` by `make(original)`, keeping the original's setup and dispose
 * functions (they bind the wasm exports the original needs). Returns false when the kernel is
 * missing or already replaced.
 */
export function replaceWasmKernel(name: string, make: (original: tf.KernelFunc) => (args: KernelArgs) => TensorInfo | TensorInfo[]): boolean {
  const config = tf.getKernel(name, 'wasm');
  if (config == null || installed.has(config.kernelFunc)) return false;
  const kernelFunc = make(config.kernelFunc) as tf.KernelFunc;
  installed.add(kernelFunc);
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ ...config, kernelFunc });
  return true;
}

/**
 * Registers each `[kernelName, kernelFunc]` on the wasm backend unless a kernel of that name is
 * there already; returns the names this call registered (so a second call registers nothing).
 */
export function registerNewWasmKernels(kernels: readonly (readonly [string, (args: KernelArgs) => TensorInfo | TensorInfo[]])[]): string[] {
  const added: string[] = [];
  for (const [kernelName, kernelFunc] of kernels) {
    if (tf.getKernel(kernelName, 'wasm') != null) continue;
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
    added.push(kernelName);
  }
  return added;
}
