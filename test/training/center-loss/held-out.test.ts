import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/backend';
import { type LabeledSequenceBatch } from '../../../src/training/center-loss/align';
import { collectAlignedFeatures, heldOutCenterEvaluator } from '../../../src/training/center-loss/held-out';
import { CLASSES, BLANK } from './fixtures';

before(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('collectAlignedFeatures and heldOutCenterEvaluator', () => {
  test('returns one feature vector per aligned character with its label', async () => {
    // A two-output model whose logits are its input (so the greedy path is chosen by the test)
    // and whose features are the input's first three scores.
    const input = tf.input({ shape: [4, CLASSES] });
    const logits = tf.layers.activation({ activation: 'linear', name: 'logits' }).apply(input) as tf.SymbolicTensor;
    const features = tf.layers.dense({ units: 3, useBias: false, kernelInitializer: 'ones', name: 'feat' }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: [logits, features] });
    const paths = [[7, 7, BLANK, 13], [BLANK, 9, BLANK, BLANK]];
    const data = new Float32Array(2 * 4 * CLASSES);
    paths.forEach((path, b) => path.forEach((k, t) => (data[(b * 4 + t) * CLASSES + k] = t === 1 ? 6 : 5)));
    const batch: LabeledSequenceBatch = { x: tf.tensor3d(data, [2, 4, CLASSES]), size: 2, labels: [[7, 13], [9]] };
    const before = tf.memory().numTensors;
    const collected = await collectAlignedFeatures(model, [batch]);
    assert.equal(tf.memory().numTensors, before - 1, 'only the batch input was disposed');
    assert.deepEqual(collected.labels, ['1', '7', '3']);
    assert.deepEqual(collected.samples, [0, 0, 1]);
    // peak frame of the '1' run is frame 1 (score 6): features sum the row = 6 each
    assert.deepEqual(collected.vectors[0], [6, 6, 6]);
    assert.deepEqual(collected.vectors[2], [6, 6, 6]);
    model.dispose();
  });

  test('the evaluator reads fresh batches each time and names its keys by prefix', async () => {
    await initBackend({ backend: 'cpu' });
    const input = tf.input({ shape: [4, CLASSES] });
    const logits = tf.layers.activation({ activation: 'linear', name: 'logits' }).apply(input) as tf.SymbolicTensor;
    const features = tf.layers.dense({ units: 2, kernelInitializer: 'randomNormal', name: 'feat' }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: [logits, features] });
    // Sample 0 reads "1 7", sample 1 reads "7": three aligned frames, two classes, look-alikes of each other.
    const paths = [[7, BLANK, 13, BLANK], [13, 13, BLANK, BLANK]];
    const batches = (): LabeledSequenceBatch[] => {
      const data = new Float32Array(2 * 4 * CLASSES);
      paths.forEach((path, b) => path.forEach((k, t) => (data[(b * 4 + t) * CLASSES + k] = 5 + t)));
      return [{ x: tf.tensor3d(data, [2, 4, CLASSES]), size: 2, labels: [[7, 13], [13]] }];
    };
    const evaluate = heldOutCenterEvaluator(batches, { prefix: 'look_center' });
    const first = await evaluate(model);
    const second = await evaluate(model);
    assert.deepEqual(Object.keys(first).sort(), ['look_center_between', 'look_center_lookalike', 'look_center_overlap', 'look_center_own_distance']);
    assert.deepEqual(second, first);
    assert.ok((first['look_center_between'] as number) > 0);
    assert.ok(Number.isFinite(first['look_center_overlap']));
    model.dispose();
  });
});
