import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { createRng, type Rng } from '../../src/util/rng';
import { expectArraysClose } from '../support/tensors';

function randomValues(rng: Rng, shape: number[]): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: size }, () => rng.normal());
}

/** Runs `compute` on the named backend and returns its result as a plain array. */
async function on(backend: 'cpu' | 'wasm', compute: () => tf.Tensor): Promise<Float32Array> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const values = tf.tidy(() => compute().dataSync() as Float32Array).slice();
  assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
  return values;
}

interface ConvCase {
  batch: number;
  inShape: [number, number, number];
  filter: [number, number, number, number];
  strides: [number, number];
  pad: 'same' | 'valid';
}

/**
 * Random conv cases: batch 1 included, strides 1 and 2 mixed per axis, non-square kernels.
 * Paddings are the two Keras layers use; numeric padding is checked through the kernel directly
 * below, because the wasm *forward* Conv2D of tfjs 4.22 corrupts memory with numeric padding
 * and strides (e.g. x [1,9,2,1], filter [4,1,1,4], strides [1,2], pad 1).
 */
function randomConvCases(rng: Rng, count: number): ConvCase[] {
  const cases: ConvCase[] = [];
  const pads = ['same', 'valid'] as const;
  for (let i = 0; i < count; i++) {
    const fh = 1 + rng.int(4);
    const fw = 1 + rng.int(4);
    const strides: [number, number] = [1 + rng.int(2), 1 + rng.int(2)];
    const pad = pads[i % pads.length] as ConvCase['pad'];
    cases.push({
      batch: i % 4 === 0 ? 1 : 1 + rng.int(3),
      inShape: [fh + rng.int(6), fw + rng.int(7), 1 + rng.int(3)],
      filter: [fh, fw, 0, 1 + rng.int(4)],
      strides,
      pad,
    });
  }
  return cases.map((c) => ({ ...c, filter: [c.filter[0], c.filter[1], c.inShape[2], c.filter[3]] }));
}

describe('wasm training kernels', () => {
  before(async () => {
    await initBackend({ backend: 'wasm' });
  });

  test('the wasm backend has every kernel it needs for conv training', () => {
    for (const name of ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad', 'UnsortedSegmentSum']) {
      assert.ok(tf.getKernel(name, 'wasm'), `${name} is missing on wasm`);
    }
  });

  test('Conv2DBackpropFilter matches the cpu backend on random shapes, strides and paddings', async () => {
    const rng = createRng('conv2d-backprop-filter');
    const cases = randomConvCases(rng, 24);
    assert.ok(cases.some((c) => c.strides[0] === 2 && c.strides[1] === 2), 'cases include stride 2');
    assert.ok(cases.some((c) => c.batch === 1), 'cases include batch 1');
    assert.ok(cases.some((c) => c.filter[0] !== c.filter[1]), 'cases include non-square kernels');
    for (const c of cases) {
      const xShape: [number, number, number, number] = [c.batch, ...c.inShape];
      const x = randomValues(rng, xShape);
      const w = randomValues(rng, c.filter);
      const outShape = tf.backend_util.computeConv2DInfo(xShape, c.filter, c.strides, 1, c.pad).outShape;
      const dy = randomValues(rng, outShape);
      const filterGrad = () =>
        tf.grad((filter: tf.Tensor) =>
          tf.sum(tf.mul(tf.conv2d(tf.tensor4d(x, xShape), filter as tf.Tensor4D, c.strides, c.pad), tf.tensor(dy, outShape))),
        )(tf.tensor4d(w, c.filter));
      const expected = await on('cpu', filterGrad);
      const actual = await on('wasm', filterGrad);
      expectArraysClose(actual, expected, { atol: 1e-4, rtol: 1e-4, label: JSON.stringify(c) });
    }
  });

  test('Conv2DBackpropFilter called directly through the kernel matches cpu with explicit padding', async () => {
    const rng = createRng('direct-kernel');
    const xShape: [number, number, number, number] = [2, 7, 9, 3];
    const filterShape: [number, number, number, number] = [3, 2, 3, 4];
    const pad = [[0, 0], [1, 2], [0, 1], [0, 0]] as tf.backend_util.ExplicitPadding;
    const x = randomValues(rng, xShape);
    const outShape = tf.backend_util.computeConv2DInfo(xShape, filterShape, 2, 1, pad).outShape;
    const dy = randomValues(rng, outShape);
    const run = () =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor4d(x, xShape), dy: tf.tensor(dy, outShape) }, {
        strides: [2, 2],
        pad,
        dataFormat: 'NHWC',
        dimRoundingMode: undefined,
        filterShape,
      } as unknown as tf.NamedAttrMap) as tf.Tensor;
    expectArraysClose(await on('wasm', run), await on('cpu', run), { atol: 1e-4 });
  });

  test('depthwise convolution gradients (cpu fallback) match the cpu backend', async () => {
    const rng = createRng('depthwise');
    const xShape: [number, number, number, number] = [2, 6, 5, 3];
    const wShape: [number, number, number, number] = [3, 2, 3, 2];
    const x = randomValues(rng, xShape);
    const w = randomValues(rng, wShape);
    const grads = () => {
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, [2, 1], 'same'))),
      )([tf.tensor4d(x, xShape), tf.tensor4d(w, wShape)]);
      return tf.concat([(dx as tf.Tensor).flatten(), (dw as tf.Tensor).flatten()]);
    };
    expectArraysClose(await on('wasm', grads), await on('cpu', grads), { atol: 1e-4 });
  });

  test('the gradient of gather (UnsortedSegmentSum, cpu fallback) matches the cpu backend', async () => {
    const rng = createRng('gather');
    const table = randomValues(rng, [6, 4]);
    const indices = [0, 3, 3, 5, 1, 3];
    const grad = () =>
      tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.gather(t, tf.tensor1d(indices, 'int32')))))(tf.tensor2d(table, [6, 4]));
    const expected = await on('cpu', grad);
    expectArraysClose(await on('wasm', grad), expected, { atol: 1e-5 });
    // Row 3 is gathered three times, row 2 never: the sum must show it.
    assert.equal(expected[2 * 4], 0);
  });
});
