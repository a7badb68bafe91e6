import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index';
import { setNativeKernelsEnabled } from '../../src/backend/native-kernels';
import { SUM_OF_SQUARES, SUM_SLOTS, type SumSlotsAttrs } from '../../src/backend/wasm-adam';
import { createRng } from '../../src/util/rng';

/** Three slots in one SharedArrayBuffer, as the replicas' gradient slots are laid out. */
function sharedSlots(count: number): Float32Array[] {
  const buffer = new SharedArrayBuffer(3 * count * 4);
  const rng = createRng('slots');
  return [0, 1, 2].map((rank) => {
    const slot = new Float32Array(buffer, rank * count * 4, count);
    for (let i = 0; i < count; i++) slot[i] = rng.normal() * 10 ** rank;
    return slot;
  });
}

function sumSlots(attrs: SumSlotsAttrs): tf.Tensor {
  return tf.engine().runKernel(SUM_SLOTS, {}, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

describe('the training step\'s summing kernels on wasm', () => {
  before(async () => {
    await initBackend({ backend: 'wasm' });
  });
  after(() => setNativeKernelsEnabled(true));

  for (const native of [true, false]) {
    test(`${native ? 'natively' : 'in JavaScript'}: ${SUM_SLOTS} adds shared-memory slots from an offset, in slot order, into a tensor of the shape asked`, () => {
      setNativeKernelsEnabled(native);
      const slots = sharedSlots(40);
      const sum = sumSlots({ slots, start: 7, shape: [3, 5] });
      assert.deepEqual(sum.shape, [3, 5]);
      const expected = Float32Array.from({ length: 15 }, (_, i) => Math.fround(Math.fround((slots[0]![7 + i] as number) + (slots[1]![7 + i] as number)) + (slots[2]![7 + i] as number)));
      assert.deepEqual(Array.from(sum.dataSync()), Array.from(expected));
      sum.dispose();
      // One slot is a copy.
      const one = sumSlots({ slots: [slots[1] as Float32Array], start: 0, shape: [40] });
      assert.deepEqual(Array.from(one.dataSync()), Array.from(slots[1] as Float32Array));
      one.dispose();
    });
  }

  test(`${SUM_SLOTS} refuses a range past the end of a slot, naming the range`, () => {
    const slots = sharedSlots(10);
    assert.throws(() => sumSlots({ slots, start: 4, shape: [7] }), /every slot must hold values 4 to 10/);
  });

  test(`${SUM_OF_SQUARES} adds the squares of all its inputs, natively and in JavaScript alike`, () => {
    for (const native of [true, false]) {
      setNativeKernelsEnabled(native);
      const a = tf.tensor([1, -2, 3]);
      const b = tf.tensor([[0.5, 4], [1, -1]]);
      const sum = tf.engine().runKernel(SUM_OF_SQUARES, { g0: a, g1: b }, {}) as tf.Tensor;
      assert.ok(Math.abs((sum.dataSync()[0] as number) - (14 + 0.25 + 16 + 2)) < 1e-5, `native ${native}: ${sum.dataSync()[0]}`);
      tf.dispose([a, b, sum]);
    }
  });
});
