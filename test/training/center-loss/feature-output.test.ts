import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../src/backend';
import * as tf from '@tensorflow/tfjs';
import { buildCrnn } from '../../../src/models/crnn';
import { renderEquation } from '../../../src/data/equations/synth-render';
import { encodeLabel } from '../../../src/labels/alphabet';
import { greedyDecode } from '../../../src/decode/greedy';
import { toGrayscale } from '../../../src/image/raw-image';
import { createRng } from '../../../src/util/rng';
import { train } from '../../../src/training/train';
import { withFeatureOutput } from '../../../src/training/center-loss/feature-output';
import { type LabeledSequenceBatch } from '../../../src/training/center-loss/align';
import { createCenterLossObjective } from '../../../src/training/center-loss/objective';
import { combineEvaluators } from '../../../src/training/evaluators';

before(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('CRNN with a feature output', () => {
  test('shares weights, trains with the center objective through train(), leaks no tensors', async () => {
    const crnn = buildCrnn({ inputHeight: 16, inputWidth: 64, convFilters: [8, 16], pools: [[2, 2], [2, 2]], rnnUnits: 16, rnnLayers: 1 });
    const model = withFeatureOutput(crnn);
    assert.equal(model.outputs.length, 2);
    assert.deepEqual(model.outputs[1]?.shape, [null, 16, 32]); // pre-dropout BiLSTM features
    const rng = createRng('center-crnn');
    const texts = ['1+7=8', '6*9=54', '0+8=8', '(1+7)*1=8'];
    const images = texts.map((t) => toGrayscale(renderEquation(t, rng, { width: 64, height: 16 })));
    const pixels = new Float32Array(texts.length * 16 * 64);
    images.forEach((img, i) => img.data.forEach((v, p) => (pixels[i * 16 * 64 + p] = (v / 255) * 2 - 1)));
    // Labels as the untrained model reads the images (falling back to the text when it reads
    // nothing), so that frames align from the first step and the center term really trains.
    const initial = tf.tidy(() => (model.predict(tf.tensor4d(pixels, [texts.length, 16, 64, 1])) as tf.Tensor[])[0] as tf.Tensor3D);
    const labels = greedyDecode(initial).map((decoded, i) => (decoded.length > 0 ? decoded : encodeLabel(texts[i] as string)));
    initial.dispose();
    const objective = createCenterLossObjective({ lambda: 0.01 });
    const data = {
      stepsPerEpoch: 1,
      *batches() {
        yield { x: tf.tensor4d(pixels, [texts.length, 16, 64, 1]), size: texts.length, labels } as LabeledSequenceBatch;
      },
    };
    // Warm up once so that lazily created optimizer state does not count as a leak.
    await train(model, data, { loss: objective.loss, epochs: 1, restoreBest: false });
    const before = tf.memory().numTensors;
    const result = await train(model, data, {
      loss: objective.loss,
      epochs: 2,
      restoreBest: false,
      evaluate: combineEvaluators(objective.evaluate, async () => ({ val_marker: 1 })),
      monitor: 'loss',
    });
    assert.equal(tf.memory().numTensors, before, 'no tensors leaked by training steps');
    assert.equal(result.history.length, 2);
    for (const logs of result.history) {
      assert.ok(Number.isFinite(logs['loss']));
      assert.ok('center_between' in logs && 'center_own_distance' in logs && 'center_lookalike' in logs);
      assert.ok((logs['center_frames'] as number) > 0, 'frames were aligned and pulled to their centers');
      assert.ok(Number.isFinite(logs['center_own_distance']));
      assert.equal(logs['val_marker'], 1);
    }
    // The two models share the weights.
    assert.equal(crnn.getLayer('logits').getWeights()[0]?.dataId, model.getLayer('logits').getWeights()[0]?.dataId);
    objective.dispose();
  });
});
