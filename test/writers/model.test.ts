import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index';
import { train } from '../../src/training/train';
import { buildWriterCnn, writerLossFn } from '../../src/writers/model';
import { evaluateWriterLines, writerPatchData } from '../../src/writers/identify';
import type { WriterLineImage } from '../../src/writers/patches';
import { createSyntheticWriters, synthesizeWriterLines } from '../../src/writers/synth-writers';

before(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('writer CNN', () => {
  test('three conv + pool blocks, dense layers, softmax over writers', () => {
    const model = buildWriterCnn({ numWriters: 5, inputSize: 113, convFilters: [4, 8, 8], denseUnits: [16] });
    assert.deepEqual(model.outputs[0]?.shape, [null, 5]);
    assert.deepEqual(model.layers.filter((l) => l.getClassName() === 'Conv2D').length, 3);
    assert.deepEqual(model.layers.filter((l) => l.getClassName() === 'MaxPooling2D').length, 3);
    assert.deepEqual(model.getLayer('pool3').outputShape, [null, 14, 14, 8]);
    const p = tf.tidy(() => (model.predict(tf.zeros([2, 113, 113, 1])) as tf.Tensor).sum(1).dataSync());
    assert.ok(Math.abs((p[0] as number) - 1) < 1e-5);
    assert.throws(() => buildWriterCnn({ numWriters: 1 }), /at least 2 writers/);
    model.dispose();
  });

  test('trains on patches of a tiny writers set with falling loss', async () => {
    const size = 32;
    const lines: WriterLineImage[] = synthesizeWriterLines(createSyntheticWriters(3, { seed: 2, lineHeight: 40 }), {
      seed: 2,
      linesPerWriter: 2,
      lineHeight: 40,
      maxWidth: 160,
    });
    const writerIndex = new Map(['w000', 'w001', 'w002'].map((w, i) => [w, i]));
    const model = buildWriterCnn({ numWriters: 3, inputSize: size, convFilters: [4, 8, 8], denseUnits: [16], dropout: 0, seed: 7 });
    const data = writerPatchData(lines, writerIndex, { patchSize: size, trainPatchesPerLine: 16, batchSize: 16, seed: 1 });
    const before = tf.memory().numTensors;
    const result = await train(model, data, { loss: writerLossFn(), epochs: 10, learningRate: 3e-3, restoreBest: false });
    const losses = result.history.map((h) => h['loss'] as number);
    assert.ok((losses.at(-1) as number) < (losses[0] as number) * 0.85, `loss did not fall: ${losses.map((l) => l.toFixed(3)).join(' ')}`);
    const evaluation = evaluateWriterLines(model, lines, writerIndex, { patchSize: size, evalPatchesPerLine: 8 });
    assert.equal(evaluation.lines, 6);
    assert.equal(evaluation.patches, 48);
    assert.ok(evaluation.patchAccuracy >= 0 && evaluation.patchAccuracy <= 1);
    // Only the optimizer's slots may remain beyond the model's weights.
    assert.ok(tf.memory().numTensors - before <= 2 * model.trainableWeights.length + 2, 'tensors leaked');
    assert.throws(() => evaluateWriterLines(model, [{ ...(lines[0] as WriterLineImage), writerId: 'nobody' }], writerIndex), /writer nobody, whom the model was not trained on/);
    model.dispose();
  });
});
