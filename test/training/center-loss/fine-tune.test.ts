import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../src/backend';
import * as tf from '@tensorflow/tfjs';
import { buildCrnn } from '../../../src/models/crnn';
import { encodeLabel } from '../../../src/labels/alphabet';
import { type LabeledSequenceBatch } from '../../../src/training/center-loss/align';
import { trainWithCenterLoss } from '../../../src/training/center-loss/fine-tune';

before(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('trainWithCenterLoss', () => {
  test('trains a CRNN and logs the center statistics with the validation logs', async () => {
    const crnn = buildCrnn({ inputHeight: 16, inputWidth: 32, convFilters: [4, 8], pools: [[2, 2], [2, 2]], rnnUnits: 8, rnnLayers: 1 });
    const labels = [encodeLabel('1+7=8'), encodeLabel('6*9=54')];
    const data = { *batches() { yield { x: tf.randomUniform([2, 16, 32, 1]), size: 2, labels } as LabeledSequenceBatch; } };
    const { result, model, objective } = await trainWithCenterLoss(crnn, data, {
      epochs: 1,
      evaluate: async () => ({ val_accuracy: 0.5 }),
      center: { lambda: 0.1, alpha: 0.3 },
    });
    assert.equal(model.outputs.length, 2);
    assert.equal(result.history[0]?.['val_accuracy'], 0.5);
    assert.ok('center_own_distance' in (result.history[0] ?? {}));
    assert.equal(result.best?.value, 0.5, 'monitors val_accuracy when an evaluator is given');
    objective.dispose();
  });
});
