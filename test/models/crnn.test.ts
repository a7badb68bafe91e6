import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { buildCrnn, crnnFeatureSize, resolveCrnnOptions } from '../../src/models/crnn';
import { ConfigError } from '../../src/errors';

const tiny = { inputHeight: 16, inputWidth: 32, convFilters: [4, 8], pools: [[2, 2], [2, 1]] as [number, number][], rnnUnits: 8 };

describe('buildCrnn', () => {
  before(async () => {
    await initBackend({ backend: 'wasm' });
  });

  test('defaults reproduce the reference implementation: 64x300 grayscale in, 75 time steps of 17 classes out', () => {
    const config = resolveCrnnOptions();
    assert.deepEqual(crnnFeatureSize(config), [4, 75]);
    assert.equal(config.numClasses, 17);
    assert.equal(config.rnn, 'lstm');
    assert.equal(config.rnnLayers, 2);
  });

  test('width becomes time through Permute and TimeDistributed(Flatten), then two BiLSTMs', () => {
    const model = buildCrnn(tiny);
    try {
      assert.deepEqual(model.outputs[0]?.shape, [null, 16, 17]);
      const names = model.layers.map((l) => l.getClassName());
      const permute = names.indexOf('Permute');
      assert.ok(permute > 0, 'has a Permute layer');
      assert.equal(names[permute + 1], 'TimeDistributed');
      assert.equal(names.filter((n) => n === 'Bidirectional').length, 2);
      assert.ok(!names.includes('Reshape'), 'no bare Reshape');
      assert.equal(names.filter((n) => n === 'BatchNormalization').length, 2);
    } finally {
      model.dispose();
    }
  });

  test('GRU is an option', () => {
    const model = buildCrnn({ ...tiny, rnn: 'gru' });
    try {
      const bidirectional = model.layers.find((l) => l.getClassName() === 'Bidirectional') as unknown as { forwardLayer: tf.layers.Layer };
      assert.equal(bidirectional.forwardLayer.getClassName(), 'GRU');
    } finally {
      model.dispose();
    }
  });

  test('a training step runs on wasm and leaks no tensors', () => {
    const model = buildCrnn(tiny);
    const optimizer = tf.train.adam(0.01);
    const x = tf.randomNormal([2, 16, 32, 1]);
    try {
      // The first step creates the optimizer's slots; count from the second.
      optimizer.minimize(() => tf.mean(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar)?.dispose?.();
      const before = tf.memory().numTensors;
      const loss = optimizer.minimize(() => tf.mean(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, true);
      assert.ok(Number.isFinite(loss?.dataSync()[0]));
      loss?.dispose();
      assert.equal(tf.memory().numTensors, before);
    } finally {
      x.dispose();
      optimizer.dispose();
      model.dispose();
    }
  });

  test('default pools follow the number of conv blocks', () => {
    assert.deepEqual(resolveCrnnOptions({ convFilters: [8, 16] }).pools, [[2, 2], [2, 2]]);
    assert.deepEqual(resolveCrnnOptions({ convFilters: [8, 16, 32, 32, 64] }).pools, [[2, 2], [2, 2], [2, 1], [2, 1], [2, 1]]);
  });

  test('bad configurations are rejected with the reason', () => {
    assert.throws(() => resolveCrnnOptions({ inputHeight: 8, pools: [[2, 2], [2, 2], [2, 1], [2, 1]] }), (e: unknown) =>
      e instanceof ConfigError && /too small for 4 pooling blocks/.test(e.message));
    assert.throws(() => resolveCrnnOptions({ convFilters: [8], pools: [] }), /one pool \(or null\) per conv block/);
    assert.throws(() => resolveCrnnOptions({ rnn: 'rnn' as 'gru' }), /not one of: lstm, gru/);
  });
});
