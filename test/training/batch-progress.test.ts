import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index';
import { BatchProgressCallback, type BatchProgress, type BatchProgressOptions } from '../../src/training/batch-progress';
import { train } from '../../src/training/train';
import type { TrainBatch, TrainData } from '../../src/training/types';

/** A clock the test moves by hand, so that rates and ETAs are exact. */
function manualClock(): { now: () => number; advance(ms: number): void } {
  let time = 1_000_000;
  return { now: () => time, advance: (ms) => (time += ms) };
}

/**
 * Drives the callback as the loop does: `epochs` epochs of `steps` batches of `batchMs` each,
 * then `evalMs` of evaluation before the epoch's end; returns every report.
 */
async function drive(options: BatchProgressOptions & { epochs: number; steps: number; batchMs: number; evalMs: number; stopAfterSteps?: number }): Promise<BatchProgress[]> {
  const clock = manualClock();
  const reports: BatchProgress[] = [];
  const callback = new BatchProgressCallback((p) => void reports.push(p), { ...options, now: clock.now });
  await callback.onTrainBegin({ model: 'm', config: {}, epochs: options.epochs, stepsPerEpoch: options.steps });
  let step = 0;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    await callback.onEpochBegin(epoch);
    for (let b = 0; b < options.steps; b++) {
      if (options.stopAfterSteps !== undefined && step >= options.stopAfterSteps) return reports;
      clock.advance(options.batchMs);
      await callback.onBatchEnd(step++, { loss: 1 / step });
    }
    clock.advance(options.evalMs);
    await callback.onEpochEnd(epoch, { loss: 0.5, val_loss: 0.6, val_accuracy: 0.1 * (epoch + 1) });
  }
  return reports;
}

describe('BatchProgressCallback', () => {
  test('reports every everyMs within an epoch and at each epoch end, with the step counter', async () => {
    const reports = await drive({ epochs: 2, steps: 10, batchMs: 1000, evalMs: 2000, everyMs: 3000 });
    const within = reports.filter((r) => !r.epochEnded).map((r) => [r.epoch, r.epochStep, r.step]);
    // Epoch 1: at 3, 6 and 9 s; epoch 2 restarts the wait at the epoch-end report (after the 2 s evaluation).
    assert.deepEqual(within, [[0, 3, 3], [0, 6, 6], [0, 9, 9], [1, 3, 13], [1, 6, 16], [1, 9, 19]]);
    assert.deepEqual(reports.filter((r) => r.epochEnded).map((r) => [r.epoch, r.epochStep, r.step]), [[0, 10, 10], [1, 10, 20]]);
    assert.deepEqual(reports[0]?.batches.steps, [1, 2, 3]);
    assert.deepEqual(reports[0]?.batches.epochs, [0.1, 0.2, 0.3]);
    assert.deepEqual(reports[0]?.batches.losses, [1, 1 / 2, 1 / 3]);
    assert.deepEqual(reports.at(-1)?.epochLogs.map((e) => [e.step, e.logs['val_accuracy']]), [[10, 0.1], [20, 0.2]]);
  });

  test('everySteps reports after that many batches however fast they come', async () => {
    const reports = await drive({ epochs: 1, steps: 6, batchMs: 10, evalMs: 10, everySteps: 2 });
    assert.deepEqual(reports.map((r) => [r.epochStep, r.epochEnded]), [[2, false], [4, false], [6, false], [6, true]]);
  });

  test('images per second and the ETAs of the epoch (its evaluation included, from the last) and of the run', async () => {
    const reports = await drive({ epochs: 3, steps: 10, batchMs: 1000, evalMs: 2000, everyMs: Infinity, everySteps: 5, batchSize: 8 });
    const first = reports[0];
    // Epoch 1, batch 5: 5 batches left, no evaluation seen yet; two more epochs of 10 batches.
    assert.deepEqual([first?.epochStep, first?.imagesPerSecond, first?.epochRemainingMs, first?.runRemainingMs], [5, 8, 5000, 25_000]);
    const second = reports.find((r) => r.epoch === 1 && r.epochStep === 5);
    // Epoch 2, batch 5: 5 batches and a 2 s evaluation left, then one epoch of 12 s.
    assert.deepEqual([second?.epochRemainingMs, second?.runRemainingMs, second?.budgetBound], [7000, 19_000, false]);
    assert.equal(second?.summary, 'epoch 2/3 · step 5/10 · 15 steps in all · 8.0 images/s · epoch ETA 7s · run ETA 19s');
    const last = reports.at(-1);
    assert.deepEqual([last?.epochEnded, last?.epochRemainingMs, last?.runRemainingMs], [true, 0, 0]);
  });

  test('a time budget that ends the run first bounds the ETAs and the summary says so', async () => {
    // 1000 planned epochs (the quick recipe), a 30 s budget: the run ends after the budget and one evaluation.
    const reports = await drive({ epochs: 1000, steps: 10, batchMs: 1000, evalMs: 2000, everyMs: Infinity, everySteps: 5, minutes: 0.5, stopAfterSteps: 15 });
    const second = reports.find((r) => r.epoch === 1 && r.epochStep === 5);
    // 17 s trained (15 batches, one evaluation): 13 s of budget, then the 2 s evaluation.
    assert.deepEqual([second?.runRemainingMs, second?.epochRemainingMs, second?.budgetBound], [15_000, 7000, true]);
    assert.match(second?.summary ?? '', /^epoch 2 · step 5\/10 · 15 steps in all · epoch ETA 7s · run ETA 15s \(time budget\)$/);
  });

  test('in the real loop: reports come within an epoch, before its end', async () => {
    await initBackend({ backend: 'cpu' });
    const data: TrainData<TrainBatch & { x: tf.Tensor2D; y: tf.Tensor2D }> = {
      stepsPerEpoch: 4,
      *batches() {
        for (let b = 0; b < 4; b++) yield { x: tf.ones([2, 3]) as tf.Tensor2D, y: tf.zeros([2, 1]) as tf.Tensor2D, size: 2 };
      },
    };
    const input = tf.input({ shape: [3] });
    const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 1 }).apply(input) as tf.SymbolicTensor });
    const reports: BatchProgress[] = [];
    await train(model, data, {
      loss: (output, batch) => tf.losses.meanSquaredError(batch.y, output as tf.Tensor2D) as tf.Scalar,
      epochs: 2,
      callbacks: [new BatchProgressCallback((p) => void reports.push(p), { everySteps: 2, batchSize: 2 })],
    });
    assert.deepEqual(reports.map((r) => [r.epoch, r.epochStep, r.epochEnded]), [[0, 2, false], [0, 4, false], [0, 4, true], [1, 2, false], [1, 4, false], [1, 4, true]]);
    assert.equal(reports.at(-1)?.batches.losses.length, 8);
    assert.ok(reports.every((r) => r.imagesPerSecond === undefined || r.imagesPerSecond > 0));
  });
});
