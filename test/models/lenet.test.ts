import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index';
import { buildLenet, resolveLenetOptions } from '../../src/models/lenet';
import { BatchNorm } from '../../src/models/layers/batch-norm';
import { ConfigError } from '../../src/errors';

describe('buildLenet', () => {
  before(async () => {
    await initBackend({ backend: 'cpu' });
  });

  test('LeNet-5 defaults: conv 6 and 16 (5x5), pools, dense 120 and 84, dropout 0.5, L2 0.001', () => {
    const config = resolveLenetOptions();
    assert.deepEqual(config.convFilters, [6, 16]);
    assert.deepEqual(config.denseUnits, [120, 84]);
    assert.equal(config.l2, 0.001);
    assert.equal(config.dropout, 0.5);
    const model = buildLenet();
    try {
      const names = model.layers.map((l) => l.getClassName());
      assert.deepEqual(names.filter((n) => n === 'Conv2D' || n === 'MaxPooling2D'), ['Conv2D', 'MaxPooling2D', 'Conv2D', 'MaxPooling2D']);
      assert.deepEqual(model.getLayer('flatten').outputShape, [null, 7 * 7 * 16]);
      assert.deepEqual(model.outputs[0]?.shape, [null, 10]);
    } finally {
      model.dispose();
    }
  });

  test('the squeeze-and-excitation block gates channels and keeps the output shape', () => {
    const model = buildLenet({ convFilters: [4, 8], squeezeExcitation: true, seRatio: 2 });
    try {
      assert.deepEqual(model.getLayer('conv2_se_reduce').outputShape, [null, 4]);
      assert.deepEqual(model.getLayer('conv2_se_scale').outputShape, [null, 14, 14, 8]);
      assert.equal(model.getLayer('conv2_se_expand').getConfig()['activation'], 'sigmoid');
      const out = tf.tidy(() => (model.predict(tf.randomUniform([2, 28, 28, 1])) as tf.Tensor).shape);
      assert.deepEqual(out, [2, 10]);
      // Each kernel (conv, SE dense, dense, logits) carries the L2 penalty.
      const penalties = tf.tidy(() => model.calculateLosses().length);
      assert.equal(penalties, 2 + 4 + 2 + 1);
    } finally {
      model.dispose();
    }
  });

  test('VGG-style blocks: two convs a block, each batch-normalised before its ReLU', () => {
    const model = buildLenet({ convFilters: [4, 8], kernelSize: 3, convsPerBlock: 2, batchNorm: true, denseUnits: [16] });
    try {
      const convs = model.layers.filter((l) => l.getClassName() === 'Conv2D');
      assert.deepEqual(convs.map((l) => l.name), ['conv1_1', 'conv1_2', 'conv2_1', 'conv2_2']);
      for (const conv of convs) {
        assert.equal(conv.getConfig()['activation'], 'linear');
        assert.equal(conv.getConfig()['useBias'], false, 'the batch norm beta replaces the bias');
        assert.equal(model.getLayer(`${conv.name}_bn`).getClassName(), BatchNorm.className);
        assert.equal((model.getLayer(`${conv.name}_bn`) as BatchNorm).relu, true, 'the ReLU is fused into the batch norm');
      }
      assert.deepEqual(model.getLayer('flatten').outputShape, [null, 7 * 7 * 8]);
      assert.deepEqual(tf.tidy(() => (model.predict(tf.randomUniform([2, 28, 28, 1])) as tf.Tensor).shape), [2, 10]);
    } finally {
      model.dispose();
    }
    assert.throws(() => resolveLenetOptions({ convsPerBlock: 0 }), (e: unknown) => e instanceof ConfigError && /convsPerBlock must be a positive integer, got 0/.test(e.message));
  });

  test('too many pooling blocks for the input is a ConfigError', () => {
    assert.throws(() => resolveLenetOptions({ inputShape: [8, 8, 1], convFilters: [2, 2, 2, 2] }), (e: unknown) => e instanceof ConfigError && /shrink a 8x8 input below one pixel/.test(e.message));
  });
});
