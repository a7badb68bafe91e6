/**
 * The TensorFlow.js compute backend: choosing and preparing it (`initBackend`), the kernels
 * glyphlab adds to wasm, and a quick proof that the chosen backend can train.
 *
 * The public names of backend/, by module; a notebook imports them from
 * `./glyphlab/backend/index`. The entry points most work starts from are also in src/index.ts.
 */

// init: choosing, initialising and describing the backend
export {
  initBackend,
  readyBackend,
  getBackendInfo,
  describeBackend,
  parseBackendName,
  nativeKernelsParams,
  nativeKernelsWarning,
  warnWithoutNativeKernels,
  BACKEND_NAMES,
  type BackendName,
  type BackendInfo,
  type InitBackendOptions,
  type NativeKernelsParams,
} from './init';

// wasm-kernels: the training kernels tfjs's wasm backend lacks
export { registerWasmTrainingKernels } from './wasm-kernels';

// self-check: a few training steps proving the backend can train
export { runSelfCheck, selfCheckFailure, type SelfCheckOptions, type SelfCheckResult } from './self-check';
