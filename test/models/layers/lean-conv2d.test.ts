import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/backend';
import { LeanConv2D, leanConv2d } from '../../../src/models/layers/lean-conv2d';
import { createRng } from '../../../src/util/rng';
import { expectArraysClose } from '../../support/tensors';

function randomTensor(seed: string, shape: number[]): tf.Tensor {
  const rng = createRng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
}

type ConvArgs = Parameters<typeof tf.layers.conv2d>[0];

/** Two convolutions (the first reads the input image), each given the same kernels. */
function twoConvolutions(make: (args: ConvArgs) => tf.layers.Layer, kernels: tf.Tensor[], useBias = false): tf.LayersModel {
  const input = tf.input({ shape: [6, 7, 1] });
  let x = make({ filters: 4, kernelSize: 3, padding: 'same', useBias, name: 'conv1' }).apply(input) as tf.SymbolicTensor;
  x = make({ filters: 3, kernelSize: 3, strides: [2, 1], padding: 'valid', useBias, name: 'conv2' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x });
  model.setWeights(useBias ? [kernels[0]!, tf.zeros([4]), kernels[1]!, tf.zeros([3])] : kernels);
  return model;
}

/** A scalar of the training-mode output: its dot product with `projection`. */
function projected(model: tf.LayersModel, x: tf.Tensor, projection: tf.Tensor): tf.Scalar {
  return tf.sum(tf.mul(model.apply(x, { training: true }) as tf.Tensor, projection));
}

/** Output and the gradients of a projection of it with respect to every kernel. */
function outputAndGradients(model: tf.LayersModel, x: tf.Tensor, projection: tf.Tensor): Float32Array[] {
  return tf.tidy(() => {
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const output = model.apply(x, { training: true }) as tf.Tensor;
    const { grads } = tf.variableGrads(() => projected(model, x, projection), vars);
    return [output, ...vars.map((v) => grads[v.name] as tf.Tensor)].map((t) => Float32Array.from(t.dataSync()));
  });
}

/** The kernels that run while the weights' gradients are computed. */
async function kernelNames(model: tf.LayersModel, x: tf.Tensor, projection: tf.Tensor): Promise<string[]> {
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const info = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(() => projected(model, x, projection), vars);
    tf.dispose([value, ...Object.values(grads)]);
  });
  return info.kernels.map((k) => k.name);
}

describe('LeanConv2D', () => {
  before(async () => {
    await initBackend({ backend: 'wasm' });
  });

  test("the stock layer's outputs and weight gradients, without the input image's gradient", async () => {
    const kernels = [randomTensor('k1', [3, 3, 1, 4]), randomTensor('k2', [3, 3, 4, 3])];
    const x = randomTensor('x', [2, 6, 7, 1]);
    const projection = randomTensor('p', [2, 2, 5, 3]);
    const stock = twoConvolutions((args) => tf.layers.conv2d(args), kernels);
    const lean = twoConvolutions(leanConv2d, kernels);
    try {
      const expected = outputAndGradients(stock, x, projection);
      const actual = outputAndGradients(lean, x, projection);
      assert.equal(actual.length, 3);
      actual.forEach((values, i) => expectArraysClose(values, expected[i]!, { atol: 1e-4 }));
      // Stock: both layers compute an input gradient (the first one for the image); lean: only
      // the second, whose input is the first layer's output.
      const count = (names: string[]): number => names.filter((n) => n === 'Conv2DBackpropInput').length;
      assert.equal(count(await kernelNames(stock, x, projection)), 2);
      assert.equal(count(await kernelNames(lean, x, projection)), 1);
    } finally {
      tf.dispose([...kernels, x, projection]);
      stock.dispose();
      lean.dispose();
    }
  });

  test('with a bias it is the stock layer; it saves as GlyphlabConv2D and loads back', async () => {
    const kernels = [randomTensor('k1', [3, 3, 1, 4]), randomTensor('k2', [3, 3, 4, 3])];
    const x = randomTensor('x', [2, 6, 7, 1]);
    const projection = randomTensor('p', [2, 2, 5, 3]);
    const stock = twoConvolutions((args) => tf.layers.conv2d(args), kernels, true);
    const lean = twoConvolutions(leanConv2d, kernels, true);
    try {
      const expected = outputAndGradients(stock, x, projection);
      outputAndGradients(lean, x, projection).forEach((values, i) => expectArraysClose(values, expected[i]!, { atol: 1e-4 }));
      const saved = JSON.parse(JSON.stringify(lean.toJSON(null, false))) as { config: { layers: { class_name: string }[] } };
      assert.deepEqual(saved.config.layers.map((l) => l.class_name), ['InputLayer', 'GlyphlabConv2D', 'GlyphlabConv2D']);
      const loaded = await tf.models.modelFromJSON(saved as never);
      try {
        assert.ok(loaded.layers[1] instanceof LeanConv2D);
        loaded.setWeights(lean.getWeights());
        expectArraysClose(Float32Array.from((loaded.predict(x) as tf.Tensor).dataSync()), Float32Array.from((lean.predict(x) as tf.Tensor).dataSync()), { atol: 1e-6 });
      } finally {
        loaded.dispose();
      }
    } finally {
      tf.dispose([...kernels, x, projection]);
      stock.dispose();
      lean.dispose();
    }
  });
});
