import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors';
import { CHAR_RUN_DEFAULTS, getModelBuilder, MODEL_NAMES } from '../../src/runs/models';

describe('the model registry', () => {
  test('an unknown name, or a model of the other task, is a ConfigError listing what would do', () => {
    assert.throws(() => getModelBuilder('resnet'), (e: unknown) => e instanceof ConfigError && e.message === 'model "resnet" is not one of: crnn, vgg19-crnn, mlp, cnn');
    assert.throws(() => getModelBuilder('crnn', 'characters'), /model "crnn" is not one of: mlp, cnn$/);
    assert.throws(() => getModelBuilder('cnn', 'equations'), /model "cnn" is not one of: crnn, vgg19-crnn$/);
    assert.deepEqual(MODEL_NAMES.map((name) => getModelBuilder(name).task), ['equations', 'equations', 'characters', 'characters']);
  });

  test('each character family has the defaults its runs use', () => {
    assert.equal(getModelBuilder('cnn').defaults, CHAR_RUN_DEFAULTS);
    assert.equal(getModelBuilder('mlp').defaults, CHAR_RUN_DEFAULTS);
    assert.deepEqual([CHAR_RUN_DEFAULTS.learningRate, CHAR_RUN_DEFAULTS.batchSize, CHAR_RUN_DEFAULTS.experiment, CHAR_RUN_DEFAULTS.augment], [0.002, 64, 'characters', true]);
  });

  test('a character builder takes its classes and input from the data, over glyphlab\'s CNN defaults', () => {
    const { model, config, architecture } = getModelBuilder('cnn').build({ numClasses: 26, inputShape: [28, 28, 1], lenet: { kernelSize: 3, denseUnits: undefined } });
    try {
      assert.deepEqual(model.outputs[0]!.shape, [null, 26]);
      assert.deepEqual(config['convFilters'], [32, 64], 'an undefined option keeps the default');
      assert.deepEqual([architecture['model.kernel'], architecture['model.dense'], architecture['model.classes']], [3, [128], 26]);
    } finally {
      model.dispose();
    }
  });
});
