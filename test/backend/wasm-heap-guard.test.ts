import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index';
import { guardWasmHeap } from '../../src/backend/wasm-heap-guard';
import { BackendError } from '../../src/errors';

describe('guardWasmHeap', () => {
  test('a tensor larger than the wasm heap can hold fails at its allocation, naming its size, and the backend carries on', async () => {
    await initBackend({ backend: 'wasm' });
    const before = tf.memory().numTensors;
    // 4,294,900,000 bytes: under malloc's 32-bit limit, but more than the heap (at most 4,294,901,760
    // bytes) has room for beside what is in use, so malloc fails at once without growing it. Without
    // the guard it returns address 0 and the tensor is written over the start of the heap.
    assert.throws(
      () => tf.fill([1_073_725_000], 1),
      (error: unknown) =>
        error instanceof BackendError && /^the wasm backend is out of memory: a tensor of 4,096 MB does not fit beside the [\d,]+ MB already in use .*--batch-size/.test(error.message),
    );
    // 4 GiB or more would wrap around malloc's 32-bit size to a small allocation.
    assert.throws(() => tf.fill([1_100_000_000], 1), (error: unknown) => error instanceof BackendError && /a tensor of 4,196 MB/.test(error.message));
    const sum = tf.tidy(() => tf.add(tf.ones([3]), 1).sum());
    assert.equal((await sum.data())[0], 6);
    sum.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  test('is put in place once, and leaves a backend without a wasm module alone', async () => {
    await initBackend({ backend: 'wasm' });
    const wasm = (tf.backend() as unknown as { wasm: { _malloc: unknown } }).wasm;
    const guarded = wasm._malloc;
    assert.equal(guardWasmHeap(tf.backend()), true);
    assert.equal(wasm._malloc, guarded, 'a second call does not wrap the wrapper');
    await initBackend({ backend: 'cpu' });
    assert.equal(guardWasmHeap(tf.backend()), false);
  });
});
