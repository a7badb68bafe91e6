import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { describeBackend, initBackend } from '../../src/backend/index';
import { type HeapBackend, heapOf, loadNativeKernels, NATIVE_ABI_VERSION, NATIVE_MODULE_PATH, type NativeModule, offsetOf, setNativeKernelsEnabled } from '../../src/backend/native-kernels';
import { createRng } from '../../src/util/rng';
import { expectArraysClose } from '../support/tensors';

function random(seed: string, shape: number[]): tf.Tensor {
  const rng = createRng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
}

/** `compute` on cpu, and on wasm with the native kernels: the two must agree. */
async function expectNativeMatchesCpu(compute: () => tf.Tensor, label: string, atol = 1e-4): Promise<void> {
  await tf.setBackend('cpu');
  const expected = tf.tidy(() => Float32Array.from(compute().dataSync()));
  await tf.setBackend('wasm');
  const before = tf.memory().numTensors;
  const actual = tf.tidy(() => Float32Array.from(compute().dataSync()));
  assert.equal(tf.memory().numTensors, before, `${label}: tensors leaked`);
  expectArraysClose(actual, expected, { atol, rtol: 1e-4, label });
}

// The module is built by `npm install` where a C++ toolchain is present (CI has one); these
// tests say so rather than pass vacuously when it is not.
describe('native products and convolutions (AVX2/FMA on the wasm heap)', () => {
  before(async () => {
    await initBackend({ backend: 'wasm' });
    setNativeKernelsEnabled(true);
  });

  test('the module is built, loads on this CPU, and the backend says so', async () => {
    assert.ok(existsSync(NATIVE_MODULE_PATH), `${NATIVE_MODULE_PATH} was not built: run \`npm run build:native\``);
    const status = loadNativeKernels();
    assert.equal(status.loaded, true, status.reason);
    const info = await initBackend({ backend: 'wasm' });
    assert.equal(info.native?.loaded, true);
    assert.match(describeBackend(info), /native AVX2\/FMA products/);
    assert.deepEqual(loadNativeKernels({ GLYPHLAB_NATIVE: '0' }), status, 'the first load decides for the process');
  });

  test('matrix products: any size (tails of the 6x16 tile), transposed operands, batches and a broadcast batch', async () => {
    const rng = createRng('native-gemm');
    for (let i = 0; i < 12; i++) {
      const m = 1 + rng.int(40);
      const k = 1 + rng.int(70);
      const n = 1 + rng.int(50);
      const batch = 1 + rng.int(3);
      const ta = rng.chance(0.5);
      const tb = rng.chance(0.5);
      const broadcast = batch > 1 && rng.chance(0.5);
      const a = random(`a${i}`, [batch, ...(ta ? [k, m] : [m, k])]);
      const b = random(`b${i}`, [broadcast ? 1 : batch, ...(tb ? [n, k] : [k, n])]);
      await expectNativeMatchesCpu(() => tf.matMul(a, b, ta, tb), JSON.stringify({ m, k, n, batch, ta, tb, broadcast }));
      tf.dispose([a, b]);
    }
  });

  test('a dense layer with bias and ReLU (_FusedMatMul) and without', async () => {
    const x = random('dense-x', [7, 13]);
    const w = random('dense-w', [13, 21]);
    const bias = random('dense-b', [21]);
    await expectNativeMatchesCpu(() => tf.fused.matMul({ a: x, b: w, bias, activation: 'relu' }), 'bias + relu');
    await expectNativeMatchesCpu(() => tf.fused.matMul({ a: x, b: w, bias }), 'bias');
    await expectNativeMatchesCpu(() => tf.fused.matMul({ a: x, b: w, transposeB: false, activation: 'linear' }), 'plain');
    tf.dispose([x, w, bias]);
  });

  test('convolutions: strides, dilations, same/valid/numeric padding, narrow and wide channels, bias and ReLU, and their gradients', async () => {
    const cases: { x: number[]; f: number[]; strides: [number, number]; pad: 'same' | 'valid' | number; dilations: [number, number] }[] = [
      { x: [2, 9, 11, 3], f: [3, 3, 3, 5], strides: [1, 1], pad: 'same', dilations: [1, 1] },
      { x: [1, 8, 7, 1], f: [3, 3, 1, 17], strides: [1, 1], pad: 'same', dilations: [1, 1] },
      { x: [3, 10, 9, 4], f: [2, 3, 4, 6], strides: [2, 1], pad: 'valid', dilations: [1, 1] },
      { x: [2, 12, 12, 2], f: [3, 3, 2, 3], strides: [1, 1], pad: 'same', dilations: [2, 2] },
      { x: [1, 7, 9, 2], f: [3, 2, 2, 4], strides: [2, 2], pad: 1, dilations: [1, 1] },
      // A CRNN's first block (one input channel: its input gradient is 16 channels to 1), and
      // channel counts past the 6x16 tile's with remainders, plain and strided.
      { x: [2, 6, 20, 1], f: [3, 3, 1, 16], strides: [1, 1], pad: 'same', dilations: [1, 1] },
      { x: [2, 5, 13, 14], f: [3, 3, 14, 20], strides: [1, 1], pad: 'same', dilations: [1, 1] },
      { x: [2, 9, 10, 7], f: [3, 3, 7, 9], strides: [2, 2], pad: 'same', dilations: [1, 1] },
    ];
    for (const [i, c] of cases.entries()) {
      const x = random(`conv-x${i}`, c.x) as tf.Tensor4D;
      const f = random(`conv-f${i}`, c.f) as tf.Tensor4D;
      const bias = random(`conv-b${i}`, [c.f[3]!]);
      const label = JSON.stringify(c);
      await expectNativeMatchesCpu(() => tf.conv2d(x, f, c.strides, c.pad, 'NHWC', c.dilations), `${label} forward`);
      if (c.dilations[0] === 1) {
        await expectNativeMatchesCpu(() => tf.fused.conv2d({ x, filter: f, strides: c.strides, pad: c.pad, bias, activation: 'relu' }), `${label} bias + relu`);
        const loss = (xx: tf.Tensor, ff: tf.Tensor): tf.Scalar => tf.sum(tf.square(tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, c.strides, c.pad)));
        await expectNativeMatchesCpu(() => tf.grads(loss)([x, f])[0]!, `${label} input gradient`, 1e-3);
        await expectNativeMatchesCpu(() => tf.grads(loss)([x, f])[1]!, `${label} filter gradient`, 1e-3);
      }
      tf.dispose([x, f, bias]);
    }
  });

  test('the module says which interface it was built with, the one this code needs', () => {
    const native = require(NATIVE_MODULE_PATH) as NativeModule;
    assert.equal(native.abiVersion?.(), NATIVE_ABI_VERSION);
  });

  test('the max-pool gradient of an odd size zeroes what lies outside every window, whatever dx held', async () => {
    await tf.setBackend('wasm');
    const native = require(NATIVE_MODULE_PATH) as NativeModule;
    const backend = tf.backend() as unknown as HeapBackend;
    // 3x3 under a 2x2 'valid' pool: one window (max 4 at row 1, column 1); row 2 and column 2 are in none.
    const x = tf.tensor4d([1, 2, 9, 3, 4, 9, 9, 9, 9], [1, 3, 3, 1]);
    const dy = tf.tensor4d([5], [1, 1, 1, 1]);
    const dx = tf.fill([1, 3, 3, 1], Number.NaN);
    native.maxPoolGradTiled(heapOf(backend), offsetOf(backend, x), offsetOf(backend, dy), offsetOf(backend, dx), 1, 3, 3, 1, 2, 2);
    assert.deepEqual(Array.from(dx.dataSync()), [0, 0, 0, 0, 5, 0, 0, 0, 0]);
    assert.throws(() => native.maxPoolGradTiled(heapOf(backend), offsetOf(backend, x), offsetOf(backend, dy), offsetOf(backend, dx), 1, 3, 3, 1, 4, 1), /at least one window/);
    tf.dispose([x, dy, dx]);
  });

  test('the module refuses operands outside the heap instead of reading or writing there', async () => {
    await tf.setBackend('wasm');
    const native = require(NATIVE_MODULE_PATH) as Record<'gemm' | 'conv2d' | 'conv2dBackpropFilter', (...args: unknown[]) => void>;
    const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer;
    assert.throws(() => native.gemm(heap, heap.byteLength - 4, 0, 0, 2, 2, 2, 0, 0, 0, 1, 0, 0), /A lies outside the heap/);
    assert.throws(() => native.gemm(heap, 0, 0, 3, 1, 1, 1, 0, 0, 0, 1, 0, 0), /C lies outside the heap/);
    assert.throws(() => native.gemm(heap, 0, 0), /gemm takes 13 arguments/);
    // A 3x3 convolution of a 2x8x8x4 input to 5 channels: x 512 floats, filter 180, y 640.
    const geometry = [[2, 8, 8, 4], [3, 3, 5], [1, 1, 1, 1, 1, 1], [8, 8]];
    const end = heap.byteLength;
    assert.throws(() => native.conv2d(heap, 0, end - 100 * 4, 0, ...geometry), /filter lies outside the heap/);
    assert.throws(() => native.conv2d(heap, 0, 0, end - 600 * 4, ...geometry), /y lies outside the heap/);
    assert.throws(() => native.conv2dBackpropFilter(heap, 0, end - 600 * 4, 0, ...geometry), /dy lies outside the heap/);
    assert.throws(() => native.conv2dBackpropFilter(heap, 0, 0, end - 100 * 4, ...geometry), /dW lies outside the heap/);
    assert.throws(() => native.conv2d(heap, 0, 0, 0, [2, 8, 8, 4], [3, 3, 5], [0, 1, 1, 1, 1, 1], [8, 8]), /conv2d: strides and dilations must be positive/);
    assert.throws(() => native.conv2dBackpropFilter(heap, 0, 0), /conv2dBackpropFilter takes 8 arguments/);
  });
});
