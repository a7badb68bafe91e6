import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { SampleDropout } from '../../src/models/layers/sample-dropout';
import { initBackend } from '../../src/backend/index';
import { buildMlp, resolveMlpOptions } from '../../src/models/mlp';
import { ConfigError } from '../../src/errors';

describe('buildMlp', () => {
  before(async () => {
    await initBackend({ backend: 'cpu' });
  });

  test("defaults are the reference implementation's MLP: 784 -> 512 -> 512 -> 10 logits with dropout 0.2", () => {
    const model = buildMlp();
    try {
      assert.equal(model.countParams(), 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10);
      assert.deepEqual(model.outputs[0]?.shape, [null, 10]);
      assert.equal(model.layers.filter((l) => l.getClassName() === SampleDropout.className).length, 2);
      assert.equal(model.getLayer('logits').getConfig()['activation'], 'linear');
    } finally {
      model.dispose();
    }
  });

  test('L2 adds one penalty per dense kernel; bad options are ConfigErrors', () => {
    const model = buildMlp({ hiddenUnits: [8], numClasses: 26, l2: 0.01 });
    try {
      const penalties = tf.tidy(() => model.calculateLosses().map((t) => t.dataSync()[0]!));
      assert.equal(penalties.length, 2);
      assert.ok(penalties.every((p) => p > 0));
      assert.deepEqual(model.outputs[0]?.shape, [null, 26]);
    } finally {
      model.dispose();
    }
    assert.throws(() => resolveMlpOptions({ dropout: 1 }), ConfigError);
    assert.throws(() => resolveMlpOptions({ hiddenUnits: [0] }), /hiddenUnits must be positive integers/);
  });
});
