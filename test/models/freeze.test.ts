import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index';
import { ConfigError } from '../../src/errors';
import { layersWithWeights, setTrainable, trainableLayerNames } from '../../src/models/freeze';
import { buildVgg19Crnn } from '../../src/models/vgg19-crnn';

const tiny = { inputHeight: 32, inputWidth: 64, filterDivisor: 16, rnnUnits: 4 };

/** Weights per layer: a conv or dense layer has kernel + bias; a BiLSTM 2 x (kernel, recurrent kernel, bias). */
const CONV_WEIGHTS = 2;
const BILSTM_WEIGHTS = 6;

describe('two-phase fine-tuning helpers', () => {
  let model: tf.LayersModel;
  before(async () => {
    await initBackend({ backend: 'cpu' });
    model = buildVgg19Crnn(tiny);
  });
  after(() => model.dispose());

  test('phase 1 (the reference implementation\'s last 5 layers) trains block5_conv3/4, both BiLSTMs and the logits only', () => {
    const names = trainableLayerNames(model);
    assert.deepEqual(names, ['block5_conv3', 'block5_conv4', 'bidirectional_1', 'bidirectional_2', 'logits']);
    setTrainable(model, names);
    assert.equal(model.trainableWeights.length, 3 * CONV_WEIGHTS + 2 * BILSTM_WEIGHTS);
    const expectedParams = names.reduce((n, name) => n + model.getLayer(name).countParams(), 0);
    assert.equal(model.trainableWeights.reduce((n, w) => n + tf.util.sizeFromShape(w.shape as number[]), 0), expectedParams);
    assert.equal(model.nonTrainableWeights.length, 14 * CONV_WEIGHTS, 'the other 14 conv layers are frozen');
    assert.ok(model.getLayer('block1_conv1').weights.every((w) => !w.trainable));

    setTrainable(model, trainableLayerNames(model, { lastN: 3 }));
    assert.equal(model.trainableWeights.length, 2 * BILSTM_WEIGHTS + CONV_WEIGHTS, 'lastN 3: the sequence head alone');
  });

  test('phase 2 unfreezes every layer', () => {
    setTrainable(model, ['logits']);
    assert.equal(model.trainableWeights.length, CONV_WEIGHTS);
    setTrainable(model, 'all');
    assert.equal(model.trainableWeights.length, 16 * CONV_WEIGHTS + 2 * BILSTM_WEIGHTS + CONV_WEIGHTS);
    assert.equal(model.nonTrainableWeights.length, 0);
    assert.equal(layersWithWeights(model).length, 19);
  });

  test('unknown names and impossible counts are refused with the accepted values', () => {
    assert.throws(() => setTrainable(model, ['logits', 'block5_pool']), (e: unknown) =>
      e instanceof ConfigError && /no layer with weights named block5_pool; accepted are block1_conv1, .*logits/.test(e.message));
    assert.throws(() => trainableLayerNames(model, { lastN: 0 }), /accepted are integers 1\.\.19/);
    assert.throws(() => trainableLayerNames(model, { lastN: 20 }), /lastN 20/);
  });
});
