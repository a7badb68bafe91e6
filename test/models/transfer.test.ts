/**
 * Copying weights between models (models/transfer.ts) and telling the convolution blocks from
 * the sequence head (models/freeze.ts), on tiny real CRNNs and VGG19-CRNNs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index';
import { ConfigError } from '../../src/errors';
import { buildCrnn, type CrnnOptions } from '../../src/models/crnn';
import { convolutionAndHeadLayers } from '../../src/models/freeze';
import { transferWeights, weightDifferences } from '../../src/models/transfer';
import { buildVgg19Crnn } from '../../src/models/vgg19-crnn';
import { createRng } from '../../src/util/rng';

const TINY: CrnnOptions = { inputHeight: 32, inputWidth: 64, convFilters: [4, 8], rnn: 'gru', rnnUnits: 4, rnnLayers: 1, dropout: 0 };

/** A seeded batch of two images in [-1, 1]. */
function images(seed: string): tf.Tensor4D {
  const rng = createRng(seed);
  const values = Float32Array.from({ length: 2 * 32 * 64 }, () => rng.next() * 2 - 1);
  return tf.tensor4d(values, [2, 32, 64, 1]);
}

function outputOf(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
}

function weightsOf(model: tf.LayersModel, layer: string): Float32Array[] {
  return model.getLayer(layer).getWeights().map((w) => w.dataSync() as Float32Array);
}

describe('transferWeights', () => {
  const models: tf.LayersModel[] = [];
  const build = (options: CrnnOptions): tf.LayersModel => {
    const model = buildCrnn(options);
    models.push(model);
    return model;
  };
  before(async () => {
    await initBackend({ backend: 'cpu' });
  });
  after(() => models.forEach((m) => m.dispose()));

  test('the same architecture loads every layer: outputs equal the source\'s on the same input', () => {
    const source = build({ ...TINY, seed: 1 });
    const target = build({ ...TINY, seed: 2 });
    const x = images('same');
    try {
      assert.notDeepEqual(outputOf(target, x), outputOf(source, x), 'different seeds start apart');
      const report = transferWeights(source, target);
      assert.deepEqual(report.reinitialised, []);
      assert.deepEqual(report.loaded, ['conv1', 'bn1', 'conv2', 'bn2', 'bidirectional_1', 'logits']);
      assert.deepEqual(outputOf(target, x), outputOf(source, x));
    } finally {
      x.dispose();
    }
  });

  test('the copy shares nothing with the source: disposing the source leaves the target whole', () => {
    const source = buildCrnn({ ...TINY, seed: 3 });
    const target = build({ ...TINY, seed: 4 });
    transferWeights(source, target);
    const expected = weightsOf(source, 'conv1');
    source.dispose();
    assert.deepEqual(weightsOf(target, 'conv1'), expected);
  });

  test('another architecture is refused, naming each differing weight and both shapes', () => {
    const source = build({ ...TINY, seed: 1 });
    const target = build({ ...TINY, convFilters: [4, 6], seed: 1 });
    const before = weightsOf(target, 'conv1');
    assert.throws(
      () => transferWeights(source, target),
      (error: unknown) =>
        error instanceof ConfigError &&
        /conv2\/kernel: source \[3, 3, 4, 8\], target \[3, 3, 4, 6\]/.test(error.message) &&
        /bn2\/gamma: source \[8\], target \[6\]/.test(error.message) &&
        !/conv1\//.test(error.message),
    );
    assert.deepEqual(weightsOf(target, 'conv1'), before, 'nothing is copied when the transfer is refused');
    assert.deepEqual(weightDifferences(source, build({ ...TINY, seed: 9 })), [], 'the same options build the same weights');
    const other = buildVgg19Crnn({ inputHeight: 32, inputWidth: 64, filterDivisor: 64, rnnUnits: 4 });
    models.push(other);
    assert.throws(() => transferWeights(source, other), (error: unknown) => error instanceof ConfigError && /only the source has layers conv1, bn1, conv2, bn2,/.test(error.message) && /only the target has layers block1_conv1, block1_conv2,/.test(error.message));
  });

  test('another alphabet re-initialises only the output layer; every other weight is the source\'s', () => {
    const source = build({ ...TINY, numClasses: 20, seed: 1 });
    const target = build({ ...TINY, numClasses: 17, seed: 2 });
    const freshLogits = weightsOf(target, 'logits');
    const report = transferWeights(source, target);
    assert.deepEqual(report.reinitialised, ['logits']);
    assert.deepEqual(report.loaded, ['conv1', 'bn1', 'conv2', 'bn2', 'bidirectional_1']);
    for (const layer of report.loaded) assert.deepEqual(weightsOf(target, layer), weightsOf(source, layer), `${layer} is the source's`);
    assert.deepEqual(weightsOf(target, 'logits'), freshLogits, 'the output layer keeps its own initialisation');
  });
});

describe('convolutionAndHeadLayers', () => {
  before(async () => {
    await initBackend({ backend: 'cpu' });
  });

  test('the custom CRNN: conv and batch-norm layers, then the recurrent layers and the logits', () => {
    const model = buildCrnn({ ...TINY, rnnLayers: 2 });
    try {
      assert.deepEqual(convolutionAndHeadLayers(model), { convolution: ['conv1', 'bn1', 'conv2', 'bn2'], head: ['bidirectional_1', 'bidirectional_2', 'logits'] });
    } finally {
      model.dispose();
    }
  });

  test('the VGG19-CRNN: its 16 convolutions, then the head', () => {
    const model = buildVgg19Crnn({ inputHeight: 32, inputWidth: 64, filterDivisor: 64, rnnUnits: 4 });
    try {
      const { convolution, head } = convolutionAndHeadLayers(model);
      assert.equal(convolution.length, 16);
      assert.equal(convolution[0], 'block1_conv1');
      assert.deepEqual(head, ['bidirectional_1', 'bidirectional_2', 'logits']);
    } finally {
      model.dispose();
    }
  });

  test('a model without the sequence head is refused, naming the layer looked for', () => {
    const input = tf.input({ shape: [4] });
    const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 2 }).apply(input) as tf.SymbolicTensor });
    try {
      assert.throws(() => convolutionAndHeadLayers(model), (error: unknown) => error instanceof ConfigError && /width_as_time/.test(error.message));
    } finally {
      model.dispose();
    }
  });
});
