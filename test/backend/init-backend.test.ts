import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  initBackend, parseBackendName, describeBackend, getBackendInfo, nativeKernelsParams, nativeKernelsWarning, warnWithoutNativeKernels, type BackendInfo,
} from '../../src/backend/index';
import { BackendError, ConfigError } from '../../src/errors';

const root = join(__dirname, '..', '..');

/** Runs `glyphlab backend --json` in a fresh process, so each backend choice starts clean. */
function backendInFreshProcess(env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [join(root, 'scripts', 'glyphlab.js'), 'backend', '--json'], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('initBackend', () => {
  test('forces cpu and reports it with its thread count', async () => {
    const info = await initBackend({ backend: 'cpu' });
    assert.equal(info.name, 'cpu');
    assert.equal(tf.getBackend(), 'cpu');
    assert.equal(info.threads, 1);
    assert.equal(getBackendInfo(), info);
    assert.match(describeBackend(info), /^cpu \(@tensorflow\/tfjs-backend-cpu, 1 thread\)$/);
  });

  test('forces wasm with SIMD and registers the missing training kernels', async () => {
    const info = await initBackend({ backend: 'wasm' });
    assert.equal(info.name, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.ok(info.threads >= 1);
    assert.equal(info.simd, true);
    assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'), 'Conv2DBackpropFilter registered');
  });

  test('reads GLYPHLAB_BACKEND from the environment it is given', async () => {
    const info = await initBackend({ env: { GLYPHLAB_BACKEND: 'cpu' } });
    assert.equal(info.name, 'cpu');
  });

  test('rejects an unknown backend name, listing the valid ones', async () => {
    await assert.rejects(initBackend({ env: { GLYPHLAB_BACKEND: 'gpu' } }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /GLYPHLAB_BACKEND="gpu".*auto, tensorflow, wasm, cpu/);
      return true;
    });
    assert.equal(parseBackendName(' WASM '), 'wasm');
    assert.equal(parseBackendName(''), 'auto');
  });

  test('a forced tensorflow backend that cannot load fails and names the missing package', async () => {
    let hasNative = false;
    try {
      require.resolve('@tensorflow/tfjs-node-gpu');
      hasNative = true;
    } catch {
      hasNative = false;
    }
    if (hasNative) {
      const info = await initBackend({ backend: 'tensorflow' });
      assert.equal(info.name, 'tensorflow');
      return;
    }
    await assert.rejects(initBackend({ backend: 'tensorflow' }), (error: unknown) => {
      assert.ok(error instanceof BackendError);
      assert.match(error.message, /@tensorflow\/tfjs-node-gpu is not installed/);
      assert.match(error.message, /GLYPHLAB_BACKEND=wasm or cpu/);
      return true;
    });
  });

  test('auto picks wasm here and records why tensorflow was skipped (fresh process)', () => {
    const result = backendInFreshProcess({ GLYPHLAB_BACKEND: '' });
    assert.equal(result.status, 0, result.stderr);
    const info = JSON.parse(result.stdout) as { name: string; skipped: { name: string; reason: string }[] };
    assert.ok(['tensorflow', 'wasm'].includes(info.name), `auto chose ${info.name}`);
    if (info.name === 'wasm') assert.equal(info.skipped[0]?.name, 'tensorflow');
    assert.doesNotMatch(result.stderr, /Hi, looks like you are running TensorFlow\.js in Node\.js/);
  });

  test('GLYPHLAB_BACKEND=tensorflow exits non-zero with a one-line reason (fresh process)', () => {
    const result = backendInFreshProcess({ GLYPHLAB_BACKEND: 'tensorflow' });
    if (result.status === 0) return; // a machine with the native binding installed
    assert.equal(result.status, 1);
    assert.equal(result.stdout, '');
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `expected one line, got:\n${result.stderr}`);
    assert.match(lines[0] ?? '', /^glyphlab backend: backend 'tensorflow' is not available: .*tfjs-node-gpu/);
  });
});

describe('what a run records and says of the native kernels', () => {
  const wasm = (native: BackendInfo['native']): BackendInfo => ({
    name: 'wasm', tfjsBackend: 'wasm', package: '@tensorflow/tfjs-backend-wasm', threads: 1, simd: true, addedKernels: [], native, tfjsVersion: '4.22.0', skipped: [],
  });
  const notBuilt = wasm({ loaded: false, reason: 'not built (/x/glyphlab_kernels.node is missing)', remedy: 'run `npm run build:native`' });

  test('params: avx2-fma when they compute; none with the reason on wasm without them, on other backends and before any backend', () => {
    assert.deepEqual(nativeKernelsParams(wasm({ loaded: true, path: '/x/glyphlab_kernels.node' })), { 'backend.native': 'avx2-fma' });
    assert.deepEqual(nativeKernelsParams(notBuilt), { 'backend.native': 'none', 'backend.native_reason': 'not built (/x/glyphlab_kernels.node is missing)' });
    const cpu: BackendInfo = { ...wasm(undefined), name: 'cpu', tfjsBackend: 'cpu', simd: undefined };
    assert.deepEqual(nativeKernelsParams(cpu), { 'backend.native': 'none', 'backend.native_reason': 'the cpu backend does not use them (they compute for wasm)' });
    assert.equal(nativeKernelsParams(undefined)['backend.native'], 'none');
  });

  test('the warning names the reason, the cost and the remedy; none where they compute or cannot apply', () => {
    assert.equal(
      nativeKernelsWarning(notBuilt),
      'glyphlab: training without the native AVX2/FMA kernels (not built (/x/glyphlab_kernels.node is missing)): the wasm kernels run instead, 2-3x slower per epoch; to use them, run `npm run build:native`.',
    );
    assert.match(nativeKernelsWarning(wasm({ loaded: false, reason: 'this CPU lacks AVX2 or FMA' })) ?? '', /\(this CPU lacks AVX2 or FMA\): the wasm kernels run instead, 2-3x slower per epoch\.$/);
    assert.equal(nativeKernelsWarning(wasm({ loaded: true })), undefined);
    assert.equal(nativeKernelsWarning({ ...wasm(undefined), name: 'cpu' }), undefined);
    assert.equal(nativeKernelsWarning(undefined), undefined);
  });

  test('the backend line says why the native products are absent, not only that they are', () => {
    assert.equal(describeBackend(notBuilt), 'wasm (@tensorflow/tfjs-backend-wasm, SIMD, 1 thread, no native products: not built (/x/glyphlab_kernels.node is missing))');
    assert.equal(describeBackend(wasm({ loaded: true })), 'wasm (@tensorflow/tfjs-backend-wasm, SIMD, 1 thread, native AVX2/FMA products)');
  });

  test('warnWithoutNativeKernels says it once per process', () => {
    const lines: string[] = [];
    assert.equal(warnWithoutNativeKernels(wasm({ loaded: true }), (line) => lines.push(line)), false, 'nothing to say while they compute');
    assert.equal(warnWithoutNativeKernels(notBuilt, (line) => lines.push(line)), true);
    assert.equal(warnWithoutNativeKernels(notBuilt, (line) => lines.push(line)), false);
    assert.deepEqual(lines, [nativeKernelsWarning(notBuilt)]);
  });
});
