import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/backend';
import { setNativeKernelsEnabled } from '../../../src/backend/native-kernels';
import { batchNorm } from '../../../src/models/layers/batch-norm';
import { createRng } from '../../../src/util/rng';
import { expectArraysClose } from '../../support/tensors';

function randomTensor(seed: string, shape: number[], scale = 1, offset = 0): tf.Tensor {
  const rng = createRng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => offset + rng.normal() * scale), shape);
}

/** Keras's layers: BatchNormalization, then a ReLU when asked. */
function stockModel(shape: number[], relu: boolean, momentum: number): tf.LayersModel {
  const input = tf.input({ shape: shape.slice(1) });
  let x = tf.layers.batchNormalization({ momentum, name: 'bn' }).apply(input) as tf.SymbolicTensor;
  if (relu) x = tf.layers.reLU().apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x });
}

function fusedModel(shape: number[], relu: boolean, momentum: number): tf.LayersModel {
  const input = tf.input({ shape: shape.slice(1) });
  return tf.model({ inputs: input, outputs: batchNorm({ momentum, relu, name: 'bn' }).apply(input) as tf.SymbolicTensor });
}

/** Training output, gradients w.r.t. x, gamma and beta, then moving statistics and the inference output. */
function trainingValues(model: tf.LayersModel, x: tf.Tensor, projection: tf.Tensor): Float32Array[] {
  const values = tf.tidy(() => {
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const output = model.apply(x, { training: true }) as tf.Tensor;
    const f = (input: tf.Tensor): tf.Scalar => tf.sum(tf.mul(model.apply(input, { training: true }) as tf.Tensor, projection));
    const dx = tf.grad(f)(x);
    const { grads } = tf.variableGrads(() => f(x), vars);
    return [output, dx, ...vars.map((v) => grads[v.name] as tf.Tensor)].map((t) => Float32Array.from(t.dataSync()));
  });
  // Three training-mode passes above updated the moving averages three times.
  const moving = model.getWeights().slice(2).map((w) => Float32Array.from(w.dataSync()));
  const inference = tf.tidy(() => Float32Array.from((model.predict(x) as tf.Tensor).dataSync()));
  return [...values, ...moving, inference];
}

describe('batch normalisation (optionally with ReLU) as one kernel', () => {
  before(async () => {
    await initBackend({ backend: 'wasm' });
  });

  // wasm runs twice: with glyphlab's native kernels and on its own JavaScript route.
  for (const backend of ['cpu', 'wasm', 'wasm-no-native'] as const) {
    for (const relu of [false, true]) {
      test(`${backend}: ${relu ? 'with' : 'without'} ReLU, outputs, gradients and moving statistics match Keras's layers`, async () => {
        await tf.setBackend(backend === 'cpu' ? 'cpu' : 'wasm');
        setNativeKernelsEnabled(backend === 'wasm');
        const shape = [3, 4, 5, 6];
        // Channels with different means and scales.
        const x = tf.tidy(() => tf.add(randomTensor(`${backend}-${relu}-x`, shape, 2), tf.linspace(-3, 3, 6)));
        const projection = randomTensor(`${backend}-${relu}-p`, shape);
        const stock = stockModel(shape, relu, 0.8);
        const fused = fusedModel(shape, relu, 0.8);
        const weights = [randomTensor('gamma', [6], 0.5, 1), randomTensor('beta', [6], 0.5), randomTensor('mm', [6]), tf.abs(randomTensor('mv', [6])).add(0.5)];
        stock.setWeights(weights);
        fused.setWeights(weights);
        const names = ['training output', 'dx', 'dgamma', 'dbeta', 'moving mean', 'moving variance', 'inference output'];
        const expected = trainingValues(stock, x, projection);
        const actual = trainingValues(fused, x, projection);
        expected.forEach((e, i) => expectArraysClose(actual[i] as Float32Array, e, { atol: 1e-4, rtol: 1e-4, label: `${backend} ${names[i]}` }));
        assert.deepEqual(fused.weights.map((w) => w.originalName), stock.weights.filter((w) => w.originalName.startsWith('bn/')).map((w) => w.originalName));
        tf.dispose([x, projection, ...weights]);
      });
    }
  }

  test('a training step on wasm leaks no tensors', async () => {
    await tf.setBackend('wasm');
    const model = fusedModel([2, 3, 3, 4], true, 0.9);
    const x = randomTensor('leak', [2, 3, 3, 4]);
    const optimizer = tf.train.sgd(0.1);
    const step = (): void => optimizer.minimize(() => tf.mean(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, true)?.dispose();
    step();
    const before = tf.memory().numTensors;
    step();
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
  });

  test('bad settings are refused by name', () => {
    assert.throws(() => batchNorm({ momentum: 1 }), /momentum 1 must be in \[0, 1\)/);
    assert.throws(() => batchNorm({ epsilon: 0 }), /epsilon 0 must be positive/);
  });
});
