/**
 * Picks and prepares the TensorFlow.js compute backend, in one place, so that every run can
 * record which backend and how many threads it used.
 *
 * Order for `'auto'`: the native TensorFlow binding (`@tensorflow/tfjs-node-gpu`, then
 * `@tensorflow/tfjs-node`) when it loads, then wasm (SIMD), then the pure-JS cpu backend.
 * `GLYPHLAB_BACKEND=tensorflow|wasm|cpu` forces one; a forced backend that cannot load is an
 * error that says what is missing, never a silent fallback.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import * as tfWasm from '@tensorflow/tfjs-backend-wasm';
import { availableParallelism } from 'node:os';
import { BackendError, ConfigError, errorMessage } from '../errors';
import { loadNativeKernels, nativeKernelsEnabled, type NativeKernelsStatus } from './native-kernels';
import { guardWasmHeap } from './wasm-heap-guard';
import { registerWasmTrainingKernels } from './wasm-kernels';

/** The backends glyphlab knows, in the order `'auto'` tries them. */
export const BACKEND_NAMES = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** What {@link initBackend} chose; recorded with every run. */
export interface BackendInfo {
  /** The glyphlab backend name. */
  name: BackendName;
  /** The tfjs backend name (`tensorflow`, `wasm` or `cpu`). */
  tfjsBackend: string;
  /** The npm package that provides it, e.g. `@tensorflow/tfjs-node-gpu`. */
  package: string;
  /** Threads the backend computes with. */
  threads: number;
  /** Whether wasm runs with SIMD; `undefined` for other backends. */
  simd: boolean | undefined;
  /** Kernels glyphlab registered (missing) or replaced (slow or wrong) on this backend. */
  addedKernels: string[];
  /** wasm only: whether glyphlab's native products and convolutions (AVX2/FMA) run, or why not. */
  native?: NativeKernelsStatus;
  /** The tfjs version. */
  tfjsVersion: string;
  /** Why backends earlier in the `'auto'` order were skipped. */
  skipped: { name: BackendName; reason: string }[];
}

export interface InitBackendOptions {
  /**
   * Which backend to use. Defaults to the `GLYPHLAB_BACKEND` environment variable, or
   * `'auto'` when it is unset or empty.
   */
  backend?: BackendName | 'auto';
  /** Environment to read `GLYPHLAB_BACKEND` from. Defaults to `process.env`. */
  env?: Record<string, string | undefined>;
}

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

let current: BackendInfo | undefined;

/**
 * tfjs's cpu backend prints a banner recommending tfjs-node on its first write. glyphlab makes
 * that choice itself and reports it, so the banner is consumed here with warnings muted once.
 */
function silenceCpuBanner(): void {
  const env = tf.env();
  const wasProd = env.getBool('PROD');
  env.set('PROD', true);
  try {
    const cpu = tf.engine().findBackend('cpu');
    if (cpu) cpu.disposeData(cpu.write(new Float32Array(1), [1], 'float32'), true);
  } finally {
    env.set('PROD', wasProd);
  }
}

/** The backend chosen by the last {@link initBackend}, or `undefined` before any. */
export function getBackendInfo(): BackendInfo | undefined {
  return current;
}

/** Parses a backend name, e.g. from `GLYPHLAB_BACKEND`; throws a ConfigError listing the valid names. */
export function parseBackendName(value: string, source = 'backend'): BackendName | 'auto' {
  const name = value.trim().toLowerCase();
  if (name === '' || name === 'auto') return 'auto';
  if ((BACKEND_NAMES as readonly string[]).includes(name)) return name as BackendName;
  throw new ConfigError(`${source}=${JSON.stringify(value)} is not a backend; use one of: auto, ${BACKEND_NAMES.join(', ')}`);
}

/** Why a native package cannot provide the `tensorflow` backend, or undefined when it can. */
function loadNative(packageName: string): string | undefined {
  let manifest: { name?: string; version?: string };
  try {
    manifest = require(`${packageName}/package.json`) as { name?: string; version?: string };
  } catch {
    return `${packageName} is not installed`;
  }
  // danfojs-node's install override puts plain @tensorflow/tfjs under the tfjs-node name.
  if (manifest.name !== packageName) {
    return `${packageName} in node_modules is an alias of ${manifest.name ?? 'another package'} (the danfojs-node install override), not the native binding`;
  }
  try {
    require(packageName);
  } catch (error) {
    return `${packageName}@${manifest.version ?? '?'} is installed but does not load: ${errorMessage(error).split('\n')[0]}`;
  }
  if (tf.findBackendFactory('tensorflow') == null) {
    return `${packageName} loaded but registered no 'tensorflow' backend`;
  }
  return undefined;
}

async function tryTensorflow(): Promise<{ info?: Omit<BackendInfo, 'skipped'>; reason?: string }> {
  const reasons: string[] = [];
  for (const packageName of NATIVE_PACKAGES) {
    const reason = loadNative(packageName);
    if (reason !== undefined) {
      reasons.push(reason);
      continue;
    }
    if (!(await tf.setBackend('tensorflow'))) {
      reasons.push(`${packageName} registered the 'tensorflow' backend but it failed to initialise`);
      continue;
    }
    return {
      info: {
        name: 'tensorflow',
        tfjsBackend: 'tensorflow',
        package: packageName,
        threads: availableParallelism(),
        simd: undefined,
        addedKernels: [],
        tfjsVersion: tf.version.tfjs,
      },
    };
  }
  return { reason: reasons.join('; ') };
}

async function tryWasm(): Promise<{ info?: Omit<BackendInfo, 'skipped'>; reason?: string }> {
  let ok = false;
  try {
    ok = await tf.setBackend('wasm');
  } catch (error) {
    return { reason: `@tensorflow/tfjs-backend-wasm failed to initialise: ${errorMessage(error)}` };
  }
  if (!ok) return { reason: '@tensorflow/tfjs-backend-wasm failed to initialise (see the warning above)' };
  // A full heap fails the allocation with a clear error instead of corrupting memory.
  guardWasmHeap(tf.backend());
  const addedKernels = registerWasmTrainingKernels();
  return {
    info: {
      native: loadNativeKernels(),
      name: 'wasm',
      tfjsBackend: 'wasm',
      package: '@tensorflow/tfjs-backend-wasm',
      threads: tfWasm.getThreadsCount(),
      simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')),
      addedKernels,
      tfjsVersion: tf.version.tfjs,
    },
  };
}

async function tryCpu(): Promise<{ info?: Omit<BackendInfo, 'skipped'>; reason?: string }> {
  if (!(await tf.setBackend('cpu'))) return { reason: 'the tfjs cpu backend failed to initialise' };
  return {
    info: {
      name: 'cpu',
      tfjsBackend: 'cpu',
      package: '@tensorflow/tfjs-backend-cpu',
      threads: 1,
      simd: undefined,
      addedKernels: [],
      tfjsVersion: tf.version.tfjs,
    },
  };
}

const LOADERS: Record<BackendName, () => Promise<{ info?: Omit<BackendInfo, 'skipped'>; reason?: string }>> = {
  tensorflow: tryTensorflow,
  wasm: tryWasm,
  cpu: tryCpu,
};

const REMEDIES: Record<BackendName, string> = {
  tensorflow:
    'install the native binding where libtensorflow can be downloaded (`npm install @tensorflow/tfjs-node-gpu@4.22.0` with CUDA, or `@tensorflow/tfjs-node@4.22.0`), or set GLYPHLAB_BACKEND=wasm or cpu',
  wasm: 'reinstall @tensorflow/tfjs-backend-wasm@4.22.0 (`npm ci`), or set GLYPHLAB_BACKEND=cpu',
  cpu: 'reinstall @tensorflow/tfjs@4.22.0 (`npm ci`)',
};

/**
 * The backend in use, initialised first (as `initBackend()` picks it) when none is yet: what the
 * run functions call, so that a notebook or a script may train without setting one up.
 *
 * @example
 * await readyBackend(); // the backend chosen earlier, or auto
 */
export async function readyBackend(): Promise<BackendInfo> {
  return getBackendInfo() ?? initBackend();
}

/**
 * Chooses, initialises and reports the compute backend. Call it once before building models;
 * later calls with the same choice return the same report.
 *
 * @example
 * const backend = await initBackend();          // auto, or GLYPHLAB_BACKEND
 * console.log(backend.name, backend.threads);   // e.g. "wasm 1"
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const env = options.env ?? process.env;
  const requested =
    options.backend ?? parseBackendName(env['GLYPHLAB_BACKEND'] ?? '', 'GLYPHLAB_BACKEND');
  if (requested !== 'auto' && !(BACKEND_NAMES as readonly string[]).includes(requested)) {
    throw new ConfigError(`backend ${JSON.stringify(requested)} is not one of: auto, ${BACKEND_NAMES.join(', ')}`);
  }
  if (current && (requested === 'auto' || requested === current.name) && tf.getBackend() === current.tfjsBackend) {
    return current;
  }
  silenceCpuBanner();
  const order: readonly BackendName[] = requested === 'auto' ? BACKEND_NAMES : [requested];
  const skipped: BackendInfo['skipped'] = [];
  for (const name of order) {
    const { info, reason } = await LOADERS[name]();
    if (info) {
      current = { ...info, skipped };
      return current;
    }
    skipped.push({ name, reason: reason ?? 'unknown reason' });
  }
  if (requested !== 'auto') {
    const reason = skipped[0]?.reason ?? 'unknown reason';
    throw new BackendError(`backend '${requested}' is not available: ${reason}. To fix: ${REMEDIES[requested]}`);
  }
  throw new BackendError(`no TensorFlow.js backend could be loaded: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}

/** A one-line description, e.g. `wasm (@tensorflow/tfjs-backend-wasm, SIMD, 1 thread)`. */
export function describeBackend(info: BackendInfo): string {
  const features = [info.package];
  if (info.simd !== undefined) features.push(info.simd ? 'SIMD' : 'no SIMD');
  features.push(`${info.threads} thread${info.threads === 1 ? '' : 's'}`);
  // Without the native products a reader needs to know why (the speed depends on it), not only that.
  if (info.native) features.push(info.native.loaded ? 'native AVX2/FMA products' : `no native products: ${info.native.reason ?? 'not loaded'}`);
  return `${info.name} (${features.join(', ')})`;
}

/**
 * Whether glyphlab's native kernels computed a run, as the run records it in its params:
 * `backend.native` is `'avx2-fma'` when they did and `'none'` when they did not, with
 * `backend.native_reason` saying why (`glyphlab runs ls --where 'params.backend.native = "none"'`).
 */
export interface NativeKernelsParams {
  'backend.native': 'avx2-fma' | 'none';
  /** Why not, when `'none'`. */
  'backend.native_reason'?: string;
}

/** Why the native kernels do not compute on `info`'s backend, or undefined when they do. */
function nativeKernelsAbsence(info: BackendInfo | undefined): { reason: string; remedy?: string } | undefined {
  if (info === undefined) return { reason: 'no backend was set up by initBackend', remedy: 'call initBackend() before training' };
  if (info.native === undefined) return { reason: `the ${info.name} backend does not use them (they compute for wasm)` };
  if (!info.native.loaded) return { reason: info.native.reason ?? 'unknown', remedy: info.native.remedy };
  if (!nativeKernelsEnabled()) return { reason: 'turned off by setNativeKernelsEnabled(false)' };
  return undefined;
}

/**
 * The params a run records about the native kernels (see {@link NativeKernelsParams}).
 *
 * @example
 * startRun(store, { params: { ...architecture, ...nativeKernelsParams(getBackendInfo()) } });
 */
export function nativeKernelsParams(info: BackendInfo | undefined): NativeKernelsParams {
  const absence = nativeKernelsAbsence(info);
  return absence ? { 'backend.native': 'none', 'backend.native_reason': absence.reason } : { 'backend.native': 'avx2-fma' };
}

/**
 * The warning a training on the wasm backend without the native kernels gives: what is missing,
 * why, what it costs and what would fix it. Undefined when they compute, on another backend
 * (which never uses them), or before any backend is set up.
 */
export function nativeKernelsWarning(info: BackendInfo | undefined): string | undefined {
  if (info === undefined || info.native === undefined) return undefined;
  const absence = nativeKernelsAbsence(info);
  if (absence === undefined) return undefined;
  const fix = absence.remedy ? `; to use them, ${absence.remedy}` : '';
  return `glyphlab: training without the native AVX2/FMA kernels (${absence.reason}): the wasm kernels run instead, 2-3x slower per epoch${fix}.`;
}

let warnedWithoutNative = false;

/**
 * Says once per process, through `warn`, that training runs without the native kernels (see
 * {@link nativeKernelsWarning}); the run functions call it as a training starts, so the CLI
 * prints it on stderr and a notebook shows it under the cell. Returns whether it warned now.
 */
export function warnWithoutNativeKernels(info: BackendInfo | undefined, warn: (line: string) => void = (line) => console.warn(line)): boolean {
  const warning = nativeKernelsWarning(info);
  if (warning === undefined || warnedWithoutNative) return false;
  warnedWithoutNative = true;
  warn(warning);
  return true;
}
