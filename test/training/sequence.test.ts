import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index';
import { createBatchSource } from '../../src/data/equations/batches';
import { loadLabeledImages } from '../../src/data/equations/load';
import { synthesizeEquations } from '../../src/data/equations/synth';
import { buildCrnn } from '../../src/models/crnn';
import { Callback, type Logs } from '../../src/training/callbacks';
import { ctcLossFn, predictSequences, sequenceEvaluator, sequenceTrainData } from '../../src/training/sequence';
import { train } from '../../src/training/train';

/** Stops training once the validation accuracy reaches `target`. */
class StopAt extends Callback {
  constructor(readonly target: number) {
    super();
  }
  override async onEpochEnd(_epoch: number, logs: Logs): Promise<void> {
    if ((logs['val_accuracy'] ?? 0) >= this.target) this.stopTraining = true;
  }
}

describe('sequence training (CRNN + CTC + greedy decoding)', () => {
  let dir: string;
  before(async () => {
    await initBackend({ backend: 'wasm' });
    dir = mkdtempSync(join(tmpdir(), 'glyphlab-seq-'));
    await synthesizeEquations({ outDir: dir, count: 12, seed: 3, workers: 0, width: 128, height: 32 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a tiny CRNN learns a tiny synthetic set to high exact-match accuracy', async () => {
    const { samples } = await loadLabeledImages(dir);
    const trainSource = createBatchSource(samples, { batchSize: 6, height: 32, width: 128, workers: 0, seed: 1 });
    const evalSource = createBatchSource(samples, { batchSize: 12, height: 32, width: 128, workers: 0, shuffle: false });
    const model = buildCrnn({
      inputHeight: 32,
      inputWidth: 128,
      convFilters: [8, 16, 32],
      pools: [[2, 2], [2, 2], [2, 1]],
      rnn: 'gru',
      rnnUnits: 32,
      rnnLayers: 1,
      dropout: 0,
      batchNormMomentum: 0.8,
      // Unseeded weights made this test pass on most starts only (best 0.75 after 90 epochs once).
      // Seeded, the run is the same every time: seed 1 reaches 1.0 at epoch 41 of 90 (seeds 1-8: 39-67).
      seed: 1,
    });
    const tensorsBefore = tf.memory().numTensors;
    const result = await train(model, sequenceTrainData(trainSource), {
      loss: ctcLossFn(),
      evaluate: sequenceEvaluator(evalSource),
      epochs: 90,
      learningRate: 0.01,
      callbacks: [new StopAt(1)],
    });
    const last = result.history[result.history.length - 1]!;
    assert.ok(result.best !== undefined && result.best.value >= 0.9, `best val_accuracy ${result.best?.value} after ${result.history.length} epochs (loss ${last.loss})`);
    assert.ok(last.val_cer !== undefined && last.val_cer < 0.05, `val_cer ${last.val_cer}`);
    assert.ok(Number.isFinite(last.val_loss), 'the evaluation reports the CTC loss');
    // Nothing but the model's own weights outlives training (the optimizer is disposed with the call).
    assert.equal(tf.memory().numTensors, tensorsBefore);

    const predictions = await predictSequences(model, evalSource, { decoder: 'grammar' });
    assert.equal(predictions.predictions.length, 12);
    assert.deepEqual(predictions.paths, samples.map((s) => s.path));
    const correct = predictions.predictions.filter((p, i) => p === predictions.truths[i]).length;
    assert.ok(correct >= 10, `grammar decoding reads ${correct}/12`);
    model.dispose();
  });
});
