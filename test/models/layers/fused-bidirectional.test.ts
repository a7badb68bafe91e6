import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/backend';
import { setNativeKernelsEnabled } from '../../../src/backend/native-kernels';
import { FusedBidirectional, fusedBidirectional } from '../../../src/models/layers/fused-bidirectional';
import { gruSequence, lstmSequence } from '../../../src/models/layers/fused-rnn';
import { createRng } from '../../../src/util/rng';
import { expectArraysClose } from '../../support/tensors';

type Cell = 'lstm' | 'gru';
type Activation = 'sigmoid' | 'hardSigmoid';

/** The stock tfjs-layers bidirectional wrapper the fused layer replaces. */
function stockLayer(cell: Cell, units: number, recurrentActivation: Activation): tf.layers.Layer {
  const args = { units, returnSequences: true, recurrentActivation, recurrentInitializer: 'glorotUniform' as const, name: `${cell}_1` };
  const inner = cell === 'gru' ? tf.layers.gru(args) : tf.layers.lstm(args);
  return tf.layers.bidirectional({ layer: inner as tf.RNN, mergeMode: 'concat', name: 'bidirectional_1' });
}

function randomTensor(seed: string, shape: number[], scale = 1): tf.Tensor {
  const rng = createRng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * scale), shape);
}

/** Output and gradients (of a fixed random projection of the output) w.r.t. input and every weight. */
function outputAndGradients(layer: tf.layers.Layer, x: tf.Tensor, projection: tf.Tensor): Float32Array[] {
  return tf.tidy(() => {
    const variables = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    const f = (input: tf.Tensor): tf.Scalar => tf.sum(tf.mul(layer.apply(input) as tf.Tensor, projection));
    const output = layer.apply(x) as tf.Tensor;
    const dx = tf.grad(f)(x);
    const { grads } = tf.variableGrads(() => f(x), variables);
    return [output, dx, ...variables.map((v) => grads[v.name] as tf.Tensor)].map((t) => t.dataSync() as Float32Array).map((a) => Float32Array.from(a));
  });
}

function compareWithStock(cell: Cell, activation: Activation, shape: [number, number, number], units: number, label: string): void {
  const stock = stockLayer(cell, units, activation);
  const fused = fusedBidirectional({ cell, units, recurrentActivation: activation, cellName: `${cell}_1`, name: 'bidirectional_1' });
  const x = randomTensor(`${label}-x`, shape);
  stock.apply(x);
  fused.apply(x);
  // Larger weights than the initializers give, so that hardSigmoid saturates somewhere.
  fused.setWeights(stock.getWeights().map((w, i) => randomTensor(`${label}-w${i}`, w.shape, 0.6)));
  stock.setWeights(fused.getWeights());
  const projection = randomTensor(`${label}-p`, [shape[0], shape[1], 2 * units]);
  const expected = outputAndGradients(stock, x, projection);
  const actual = outputAndGradients(fused, x, projection);
  const names = ['output', 'dx', ...stock.trainableWeights.map((w) => w.name)];
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) => expectArraysClose(actual[i] as Float32Array, e, { atol: 2e-5, rtol: 2e-4, label: `${label} ${names[i]}` }));
  tf.dispose([x, projection]);
  stock.dispose();
  fused.dispose();
}

describe('fused bidirectional LSTM and GRU', () => {
  before(async () => {
    await initBackend({ backend: 'wasm' });
  });

  // wasm runs twice: with glyphlab's native kernels and on its own JavaScript route.
  for (const backend of ['cpu', 'wasm', 'wasm-no-native'] as const) {
    for (const cell of ['lstm', 'gru'] as const) {
      for (const activation of ['sigmoid', 'hardSigmoid'] as const) {
        test(`${backend}: ${cell} with ${activation} gates matches the stock layers' output and every gradient`, async () => {
          await tf.setBackend(backend === 'cpu' ? 'cpu' : 'wasm');
          setNativeKernelsEnabled(backend === 'wasm');
          compareWithStock(cell, activation, [3, 6, 5], 4, `${backend}-${cell}-${activation}`);
          // Batch 1 and two time steps (the stock layers' own gradient fails on one time step).
          compareWithStock(cell, activation, [1, 2, 2], 3, `${backend}-${cell}-${activation}-short`);
        });
      }
    }
  }

  test('the weights have the stock wrapper\'s names, shapes and order', async () => {
    await tf.setBackend('cpu');
    for (const cell of ['lstm', 'gru'] as const) {
      const stock = stockLayer(cell, 5, 'sigmoid');
      const fused = fusedBidirectional({ cell, units: 5, cellName: `${cell}_1`, name: 'bidirectional_1' });
      stock.apply(tf.input({ shape: [7, 9] }));
      fused.apply(tf.input({ shape: [7, 9] }));
      assert.deepEqual(
        fused.weights.map((w) => [w.originalName, w.shape]),
        stock.weights.map((w) => [w.originalName, w.shape]),
      );
      stock.dispose();
      fused.dispose();
    }
  });

  test('an LSTM starts with forget-gate bias 1 (unit_forget_bias), a GRU with zeros', async () => {
    await tf.setBackend('cpu');
    const lstm = fusedBidirectional({ cell: 'lstm', units: 2 });
    lstm.build([null, 3, 4]);
    assert.deepEqual(Array.from(lstm.getWeights()[2]!.dataSync()), [0, 0, 1, 1, 0, 0, 0, 0]);
    const gru = fusedBidirectional({ cell: 'gru', units: 2 });
    gru.build([null, 3, 4]);
    assert.deepEqual(Array.from(gru.getWeights()[2]!.dataSync()), [0, 0, 0, 0, 0, 0]);
  });

  test('a training step leaks no tensors, and the layer survives serialisation', async () => {
    await tf.setBackend('wasm');
    const input = tf.input({ shape: [6, 5] });
    const output = fusedBidirectional({ cell: 'gru', units: 4, name: 'rnn' }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: output });
    const x = randomTensor('leak-x', [2, 6, 5]);
    const optimizer = tf.train.adam(0.01);
    const step = (): void => optimizer.minimize(() => tf.mean(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, true)?.dispose();
    step();
    const before = tf.memory().numTensors;
    step();
    assert.equal(tf.memory().numTensors, before, 'a training step leaked tensors');
    const restored = await tf.models.modelFromJSON({ modelTopology: model.toJSON(null, false) as tf.io.ModelJSON['modelTopology'] });
    restored.setWeights(model.getWeights());
    assert.ok(restored.layers.some((l) => l instanceof FusedBidirectional));
    assert.deepEqual(restored.weights.map((w) => w.originalName), model.weights.map((w) => w.originalName), 'weight names survive serialisation');
    expectArraysClose((restored.predict(x) as tf.Tensor).dataSync(), (model.predict(x) as tf.Tensor).dataSync(), { label: 'restored model' });
    tf.dispose([x]);
    optimizer.dispose();
  });

  test('mismatched weights are refused with the shapes', async () => {
    await tf.setBackend('cpu');
    const x = tf.zeros([1, 2, 3]) as tf.Tensor3D;
    assert.throws(() => lstmSequence(x, tf.zeros([3, 8]) as tf.Tensor2D, tf.zeros([2, 8]) as tf.Tensor2D, tf.zeros([6]) as tf.Tensor1D), /do not fit 2 units/);
    assert.throws(() => gruSequence(x, tf.zeros([3, 6]) as tf.Tensor2D, tf.zeros([2, 6]) as tf.Tensor2D, tf.zeros([6]) as tf.Tensor1D, { recurrentActivation: 'relu' as 'sigmoid' }), /not one of: sigmoid, hardSigmoid/);
  });
});
