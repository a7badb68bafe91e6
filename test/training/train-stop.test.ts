import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index';
import { Callback, type TrainEndEvent, TimeBudget } from '../../src/training/callbacks';
import { DivergenceError, train } from '../../src/training/train';
import { trainInPhases } from '../../src/training/phases';
import type { TrainBatch, TrainData } from '../../src/training/types';

interface XyBatch extends TrainBatch {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
}

/** y = x0 + x1 in `batches` batches of 4, the same every epoch. */
function sumData(batches: number): TrainData<XyBatch> {
  return {
    stepsPerEpoch: batches,
    *batches() {
      for (let b = 0; b < batches; b++) {
        const x = tf.tensor2d(Array.from({ length: 8 }, (_, i) => Math.sin(b * 5 + i)), [4, 2]);
        yield { x, y: tf.tidy(() => tf.sum(x, 1, true) as tf.Tensor2D), size: 4 };
      }
    },
  };
}

const mse = (output: tf.Tensor | tf.Tensor[], batch: XyBatch): tf.Scalar => tf.losses.meanSquaredError(batch.y, output as tf.Tensor2D) as tf.Scalar;

function sumModel(): tf.LayersModel {
  const input = tf.input({ shape: [2] });
  const output = tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }).apply(input) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

/** Keeps the train-end event. */
class EndRecorder extends Callback {
  end: TrainEndEvent | undefined;
  override async onTrainEnd(event: TrainEndEvent): Promise<void> {
    this.end = event;
  }
}

/** A validation accuracy that follows `scores`, epoch by epoch. */
function scripted(scores: readonly number[]): () => Promise<{ val_accuracy: number }> {
  let epoch = 0;
  return async () => ({ val_accuracy: scores[epoch++] ?? 0 });
}

describe('why training stopped', () => {
  before(async () => {
    await initBackend({ backend: 'cpu' });
  });

  test('early stopping says which value stalled, for how many epochs, and the best one', async () => {
    const model = sumModel();
    const recorder = new EndRecorder();
    const result = await train(model, sumData(1), {
      loss: mse,
      evaluate: scripted([0.5, 0.9731, 0.96, 0.97, 0.9, 0.95, 0.95, 0.95]),
      epochs: 20,
      earlyStopping: { patience: 3 },
      callbacks: [recorder],
    });
    const reason = 'early stopping: val_accuracy did not improve for 3 epochs (best 0.9731 at epoch 2)';
    assert.equal(result.status, 'finished');
    assert.equal(result.lastEpoch, 4);
    assert.equal(result.stopReason, reason);
    assert.equal(recorder.end?.stopReason, reason);
    const withDelta = await train(model, sumData(1), { loss: mse, evaluate: scripted([0.5, 0.51, 0.52]), epochs: 5, earlyStopping: { patience: 2, minDelta: 0.05 } });
    assert.equal(withDelta.stopReason, 'early stopping: val_accuracy did not improve by more than 0.05 for 2 epochs (best 0.5000 at epoch 1)');
    model.dispose();
  });

  test('a run that trains all its epochs has no stop reason', async () => {
    const model = sumModel();
    const recorder = new EndRecorder();
    const result = await train(model, sumData(2), { loss: mse, evaluate: scripted([0.5, 0.6, 0.7]), epochs: 3, earlyStopping: { patience: 2 }, callbacks: [recorder] });
    assert.equal(result.lastEpoch, 2);
    assert.equal(result.stopReason, undefined);
    assert.equal(recorder.end?.status, 'finished');
    assert.equal(recorder.end?.stopReason, undefined);
    model.dispose();
  });

  test('a time budget says it ran out, and in which epoch; through phases too', async () => {
    const model = sumModel();
    const recorder = new EndRecorder();
    // A budget of no time runs out at the first batch.
    const result = await train(model, sumData(3), { loss: mse, epochs: 4, callbacks: [new TimeBudget(0), recorder] });
    assert.equal(result.stopReason, 'time budget: the 0 minutes of training ran out during epoch 1');
    assert.equal(recorder.end?.stopReason, result.stopReason);
    const phased = new EndRecorder();
    const inPhases = await trainInPhases(model, sumData(3), { loss: mse, callbacks: [new TimeBudget(0), phased] }, [{ epochs: 4 }]);
    assert.equal(inPhases.stopReason, 'time budget: the 0 minutes of training ran out during epoch 1');
    assert.equal(phased.end?.stopReason, inPhases.stopReason);
    model.dispose();
  });

  test('a time budget that runs out in an earlier phase still ends the run once: tested, finished, saying why', async () => {
    const model = sumModel();
    const recorder = new EndRecorder();
    let tested = 0;
    const result = await trainInPhases(model, sumData(3), { loss: mse, callbacks: [new TimeBudget(0), recorder], test: async () => ({ test_x: ++tested }) }, [
      { epochs: 2, name: 'head' },
      { epochs: 3, name: 'all' },
    ]);
    assert.equal(tested, 1, 'the test runs once, after the budget cut the first phase short');
    assert.equal(result.status, 'finished');
    assert.equal(recorder.end?.status, 'finished');
    assert.deepEqual(recorder.end?.testMetrics, { test_x: 1 });
    assert.equal(result.stopReason, 'time budget: the 0 minutes of training ran out during epoch 1');
    assert.equal(recorder.end?.stopReason, result.stopReason);
    assert.ok(result.history.every((h) => h['phase'] === 1), 'no epoch of the second phase trained');
    model.dispose();
  });

  test("another callback's stop says so, in its own words when it gives them", async () => {
    const model = sumModel();
    const silent = new (class extends Callback {
      override async onBatchEnd(step: number): Promise<void> {
        if (step === 4) this.stopTraining = true;
      }
    })();
    assert.equal((await train(model, sumData(3), { loss: mse, epochs: 4, callbacks: [silent] })).stopReason, 'a callback asked to stop during epoch 2');
    const talking = new (class extends Callback {
      override async onBatchEnd(): Promise<void> {
        this.stopTraining = true;
        this.stopReason = 'the target accuracy was reached';
      }
    })();
    assert.equal((await train(model, sumData(3), { loss: mse, epochs: 4, callbacks: [talking] })).stopReason, 'the target accuracy was reached during epoch 1');
    model.dispose();
  });

  test('an interrupt gives the reason of the abort and the epoch it cut short', async () => {
    const model = sumModel();
    const controller = new AbortController();
    const aborter = new (class extends Callback {
      override async onBatchEnd(step: number): Promise<void> {
        if (step === 7) controller.abort('interrupted by SIGINT');
      }
    })();
    const recorder = new EndRecorder();
    const result = await train(model, sumData(3), { loss: mse, epochs: 5, signal: controller.signal, callbacks: [aborter, recorder] });
    assert.equal(result.status, 'interrupted');
    assert.equal(result.stopReason, 'interrupted by SIGINT during epoch 3');
    assert.equal(recorder.end?.error, 'interrupted by SIGINT', 'the error of an interrupted run stays the abort reason');
    const before = new AbortController();
    before.abort('interrupted by SIGTERM');
    assert.equal((await train(model, sumData(3), { loss: mse, epochs: 5, signal: before.signal })).stopReason, 'interrupted by SIGTERM before the first epoch');
    model.dispose();
  });

  test('a diverging loss ends the run as failed with the divergence as its stop reason', async () => {
    const model = sumModel();
    const recorder = new EndRecorder();
    let batch = 0;
    const growing = (output: tf.Tensor | tf.Tensor[]): tf.Scalar => tf.mul(tf.sum(output as tf.Tensor), 0).add(10 ** Math.min(30, batch++)) as tf.Scalar;
    await assert.rejects(train(model, sumData(8), { loss: growing, epochs: 3, callbacks: [recorder] }), DivergenceError);
    assert.equal(recorder.end?.status, 'failed');
    assert.match(recorder.end?.stopReason ?? '', /^divergence: the loss diverged at epoch \d+, batch \d+: /);
    model.dispose();
  });
});
