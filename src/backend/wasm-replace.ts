/**
 * Replacing a kernel the wasm backend has with a faster composition that may still call the
 * original (e.g. for a layout the replacement does not handle).
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
