import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, parseBackendName, describeBackend, getBackendInfo } from '../../src/backend/index';
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
