import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index';
import { Callback, type Logs, type TrainBeginEvent, type TrainEndEvent } from '../../src/training/callbacks';
import { clipGradients, createOptimizer, DivergenceError, getLearningRate, NonFiniteLossError, train } from '../../src/training/train';
import { metricMode } from '../../src/metrics/mode';
import type { TrainBatch, TrainData } from '../../src/training/types';
import { trainInPhases } from '../../src/training/phases';
import { parseStepSchedule } from '../../src/training/schedule';
import { loadModel, loadOptimizerState, readModelMeta } from '../../src/models/io';
import { ConfigError } from '../../src/errors';
import { expectArraysClose } from '../support/tensors';

interface XyBatch extends TrainBatch {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
}

/** y = 2*x0 - x1 + 0.5, in `batches` batches of 8. */
function linearData(batches = 4): TrainData<XyBatch> {
  return {
    stepsPerEpoch: batches,
    *batches(epoch: number) {
      for (let b = 0; b < batches; b++) {
        const xs = Array.from({ length: 16 }, (_, i) => Math.sin(epoch * 31 + b * 7 + i));
        const x = tf.tensor2d(xs, [8, 2]);
        const y = tf.tidy(() => tf.matMul(x, tf.tensor2d([[2], [-1]])).add(0.5) as tf.Tensor2D);
        yield { x, y, size: 8 };
      }
    },
  };
}

const mse = (output: tf.Tensor | tf.Tensor[], batch: XyBatch): tf.Scalar => tf.losses.meanSquaredError(batch.y, output as tf.Tensor2D) as tf.Scalar;

function linearModel(): tf.LayersModel {
  const input = tf.input({ shape: [2] });
  // Seeded: an unlucky random start occasionally fitted too slowly for the assertions below.
  const hidden = tf.layers.dense({ units: 4, activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }), name: 'hidden' }).apply(input) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }), name: 'out' }).apply(hidden) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name: 'linear' });
}

/** Records every event it receives. */
class Recorder extends Callback {
  epochs: Logs[] = [];
  batches = 0;
  end: TrainEndEvent | undefined;
  artifacts: string[] = [];
  tensorsAtEpochEnd: number[] = [];
  override async onBatchEnd(): Promise<void> {
    this.batches++;
  }
  override async onEpochEnd(_epoch: number, logs: Logs): Promise<void> {
    this.epochs.push(logs);
    this.tensorsAtEpochEnd.push(tf.memory().numTensors);
  }
  override async onArtifact(artifact: { path: string; kind: string }): Promise<void> {
    this.artifacts.push(artifact.kind);
  }
  override async onTrainEnd(event: TrainEndEvent): Promise<void> {
    this.end = event;
  }
}

describe('train', () => {
  let dir: string;
  before(async () => {
    await initBackend({ backend: 'cpu' });
    dir = mkdtempSync(join(tmpdir(), 'glyphlab-train-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('fits a small regression, logs every epoch, and leaks no tensors across steps', async () => {
    const model = linearModel();
    const recorder = new Recorder();
    const result = await train(model, linearData(), { loss: mse, epochs: 6, learningRate: 0.05, callbacks: [recorder] });
    assert.equal(result.status, 'finished');
    assert.equal(recorder.batches, 24);
    assert.equal(recorder.epochs.length, 6);
    const losses = result.history.map((h) => h.loss as number);
    assert.ok(losses[5]! < losses[0]! / 3, `loss should fall: ${losses.join(', ')}`);
    assert.equal(recorder.epochs[0]!['lr'], 0.05);
    assert.ok((recorder.epochs[0]!['epoch_time_s'] as number) >= 0);
    // Optimizer slots exist from the first step on; after that, epochs add no tensors.
    const counts = recorder.tensorsAtEpochEnd.slice(1);
    assert.deepEqual(counts, counts.map(() => counts[0]), `tensor counts per epoch: ${recorder.tensorsAtEpochEnd.join(', ')}`);
    assert.equal(recorder.end?.status, 'finished');
    model.dispose();
  });

  test('keeps the best epoch by the monitored value, reduces the rate on a plateau, stops early', async () => {
    const model = linearModel();
    // A validation score that improves twice and then stalls.
    const scores = [0.5, 0.7, 0.6, 0.65, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6];
    let call = 0;
    const result = await train(model, linearData(1), {
      loss: mse,
      evaluate: async () => ({ val_accuracy: scores[call++] ?? 0 }),
      epochs: 10,
      learningRate: 0.01,
      reduceLrOnPlateau: { factor: 0.5, patience: 2 },
      earlyStopping: { patience: 4 },
      restoreBest: false,
    });
    assert.deepEqual(result.best, { epoch: 1, value: 0.7 });
    // Best at epoch 1; four epochs without improvement (2..5) stop it after epoch 5.
    assert.equal(result.lastEpoch, 5);
    assert.equal(result.history.length, 6);
    const rates = result.history.map((h) => h['lr']);
    assert.deepEqual(rates, [0.01, 0.01, 0.01, 0.01, 0.005, 0.005]);
    model.dispose();
  });

  test('a learning-rate schedule sets each epoch\'s rate, is recorded, and excludes ReduceLROnPlateau', async () => {
    const model = linearModel();
    const { schedule } = parseStepSchedule('0.01x2,0.004x1,0.001x2');
    let recorded: unknown;
    const result = await train(model, linearData(1), {
      loss: mse,
      epochs: 5,
      learningRateSchedule: schedule,
      restoreBest: false,
      callbacks: [new (class extends Callback {
        override async onTrainBegin(event: TrainBeginEvent): Promise<void> {
          recorded = (event.config['training'] as Record<string, unknown>)['learningRateSchedule'];
        }
      })()],
    });
    assert.deepEqual(result.history.map((h) => h['lr']), [0.01, 0.01, 0.004, 0.001, 0.001]);
    assert.deepEqual(recorded, [0.01, 0.01, 0.004, 0.001, 0.001]);
    await assert.rejects(
      train(model, linearData(1), { loss: mse, epochs: 2, learningRateSchedule: schedule, reduceLrOnPlateau: {} }),
      /learningRateSchedule and reduceLrOnPlateau/,
    );
    await assert.rejects(
      train(model, linearData(1), { loss: mse, epochs: 2, learningRateSchedule: (e) => (e === 0 ? 0.01 : -1) }),
      /gave -1 for epoch 2/,
    );
    model.dispose();
  });

  test('an equal monitored value is decided by the tie-break key (val_loss by default)', async () => {
    const model = linearModel();
    const losses = [3, 2, 1, 1.5];
    let call = 0;
    const result = await train(model, linearData(1), {
      loss: mse,
      evaluate: async () => ({ val_accuracy: 0, val_loss: losses[call++] ?? 9 }),
      epochs: 4,
      restoreBest: false,
    });
    assert.deepEqual(result.best, { epoch: 2, value: 0 });
    model.dispose();
  });

  test('restores the best weights at the end and evaluates the test set on them', async () => {
    const model = linearModel();
    const snapshots: number[][] = [];
    const result = await train(model, linearData(2), {
      loss: mse,
      // Epoch 0 is "best"; later epochs score worse, so its weights must come back.
      evaluate: async (m) => {
        snapshots.push(Array.from(m.getWeights()[0]!.dataSync()));
        return { val_loss: snapshots.length };
      },
      test: async (m) => ({ test_w0: m.getWeights()[0]!.dataSync()[0]! }),
      monitor: 'val_loss',
      epochs: 3,
      learningRate: 0.1,
    });
    assert.equal(result.best?.epoch, 0);
    expectArraysClose(model.getWeights()[0]!.dataSync(), snapshots[0]!);
    assert.equal(result.testMetrics?.['test_w0'], snapshots[0]![0]);
    model.dispose();
  });

  test('saves best/ and last/ checkpoints that load back with the optimizer state, and resumes', async () => {
    const runDir = join(dir, 'run-a');
    const model = linearModel();
    const recorder = new Recorder();
    const result = await train(model, linearData(), { loss: mse, epochs: 2, learningRate: 0.05, runDir, callbacks: [recorder] });
    assert.ok(existsSync(join(runDir, 'best', 'model.json')));
    assert.ok(existsSync(join(runDir, 'last', 'optimizer.json')));
    assert.ok(recorder.artifacts.includes('checkpoint-best') && recorder.artifacts.includes('checkpoint-last'));
    assert.equal(readModelMeta(join(runDir, 'last'))?.['epoch'], 1);

    const restored = await loadModel(join(runDir, 'last'));
    const x = tf.tensor2d([0.1, 0.2, -0.3, 0.4], [2, 2]);
    // restoreBest put best weights into `model`; with a monotone loss, best is the last epoch.
    assert.equal(result.best?.epoch, 1);
    expectArraysClose((restored.predict(x) as tf.Tensor).dataSync(), (model.predict(x) as tf.Tensor).dataSync());

    const optimizer = createOptimizer('adam', 0.05);
    assert.equal(await loadOptimizerState(join(runDir, 'last'), optimizer), true);
    const iterations = (await optimizer.getWeights())[0]!.tensor.dataSync()[0];
    assert.equal(iterations, 8, 'adam iterations after 2 epochs of 4 batches');
    const resumed = await train(restored, linearData(), { loss: mse, epochs: 4, initialEpoch: 2, optimizerInstance: optimizer });
    assert.equal(resumed.history.length, 2);
    assert.equal(resumed.lastEpoch, 3);
    assert.ok(resumed.history[1]!.loss! < result.history[0]!.loss!, 'resumed training continues from the trained weights');
    tf.dispose([x]);
    optimizer.dispose();
    model.dispose();
    restored.dispose();
  });

  test('an abort finishes the batch, saves last/ and ends as interrupted', async () => {
    const runDir = join(dir, 'run-b');
    const model = linearModel();
    const controller = new AbortController();
    const recorder = new Recorder();
    const stopper = new (class extends Callback {
      override async onBatchEnd(step: number): Promise<void> {
        if (step === 5) controller.abort();
      }
    })();
    const result = await train(model, linearData(4), { loss: mse, epochs: 5, runDir, signal: controller.signal, callbacks: [recorder, stopper] });
    assert.equal(result.status, 'interrupted');
    assert.equal(recorder.batches, 6, 'the batch in flight finishes, no further batch starts');
    assert.equal(result.lastEpoch, 0, 'epoch 1 was not complete');
    assert.equal(recorder.end?.status, 'interrupted');
    assert.equal(readModelMeta(join(runDir, 'last'))?.['epoch'], 0);
    model.dispose();
  });

  test("a callback's stop request ends the run after that batch, with the shorter epoch evaluated", async () => {
    const model = linearModel();
    const recorder = new Recorder();
    const stopper = new (class extends Callback {
      override async onBatchEnd(step: number): Promise<void> {
        if (step === 1) this.stopTraining = true;
      }
    })();
    const result = await train(model, linearData(4), { loss: mse, evaluate: async () => ({ val_accuracy: 0.5 }), epochs: 3, callbacks: [recorder, stopper] });
    assert.equal(result.status, 'finished');
    assert.equal(recorder.batches, 2);
    assert.equal(result.history.length, 1);
    assert.equal(result.history[0]!['val_accuracy'], 0.5);
    model.dispose();
  });

  test('a non-finite loss fails the run with a message naming the epoch and the fix', async () => {
    const model = linearModel();
    const recorder = new Recorder();
    await assert.rejects(
      train(model, linearData(), { loss: (o) => tf.div(tf.sum(o as tf.Tensor), 0) as tf.Scalar, callbacks: [recorder] }),
      (error: unknown) => error instanceof NonFiniteLossError && /epoch 1, batch 1.*learning rate/.test((error as Error).message),
    );
    assert.equal(recorder.end?.status, 'failed');
    model.dispose();
  });

  test("the layers' L2 penalties join the loss, as in Keras's fit", async () => {
    const input = tf.input({ shape: [2] });
    const output = tf.layers.dense({ units: 1, kernelRegularizer: tf.regularizers.l2({ l2: 10 }), kernelInitializer: 'ones' }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: output });
    const zero = (o: tf.Tensor | tf.Tensor[]): tf.Scalar => tf.mul(tf.sum(o as tf.Tensor), 0) as tf.Scalar;
    const withL2 = await train(model, linearData(1), { loss: zero, epochs: 1, learningRate: 1e-9 });
    const without = await train(model, linearData(1), { loss: zero, epochs: 1, learningRate: 1e-9, regularization: false });
    assert.ok(Math.abs(withL2.history[0]!.loss! - 20) < 1e-3, `10 * (1 + 1) = 20, got ${withL2.history[0]!.loss}`);
    assert.equal(without.history[0]!.loss, 0);
    model.dispose();
  });

  test('weightDecay shrinks each weight by lr x decay before the update, is recorded, and is refused when it would flip signs', async () => {
    // One SGD step from the same weights, with and without decay: the gradient is taken at the
    // starting weights both times, so the two results differ by exactly lr * decay * w0.
    const start = linearModel().getWeights().map((w) => w.clone());
    const step = async (weightDecay?: number): Promise<{ weights: Float32Array[]; config: TrainBeginEvent['config'] }> => {
      const model = linearModel();
      model.setWeights(start);
      const recorder = new Recorder();
      let config: TrainBeginEvent['config'] = {};
      recorder.onTrainBegin = async (event: TrainBeginEvent) => void (config = event.config);
      await train(model, linearData(1), { loss: mse, epochs: 1, optimizer: 'sgd', learningRate: 0.1, weightDecay, callbacks: [recorder] });
      const weights = model.getWeights().map((w) => Float32Array.from(w.dataSync()));
      model.dispose();
      return { weights, config };
    };
    const plain = await step();
    const decayed = await step(0.5);
    start.forEach((w0, i) => {
      const expected = Float32Array.from(w0.dataSync(), (v, j) => plain.weights[i]![j]! - 0.1 * 0.5 * v);
      expectArraysClose(decayed.weights[i]!, expected, { atol: 1e-6 });
    });
    assert.equal((decayed.config['training'] as { weightDecay: number | null }).weightDecay, 0.5);
    assert.equal((plain.config['training'] as { weightDecay: number | null }).weightDecay, null);
    const model = linearModel();
    await assert.rejects(train(model, linearData(1), { loss: mse, weightDecay: -0.1 }), /weightDecay -0.1 must be a number >= 0/);
    await assert.rejects(train(model, linearData(1), { loss: mse, learningRate: 0.5, weightDecay: 2 }), /would scale the weights by 0; learning rate x weight decay must stay below 1/);
    model.dispose();
    tf.dispose(start);
  });

  test('trainableLayers freezes every other layer for the call', async () => {
    const model = linearModel();
    const hiddenBefore = model.getLayer('hidden').getWeights().map((w) => Array.from(w.dataSync()));
    const outBefore = Array.from(model.getLayer('out').getWeights()[0]!.dataSync());
    await train(model, linearData(2), { loss: mse, epochs: 1, learningRate: 0.1, trainableLayers: ['out'] });
    model.getLayer('hidden').getWeights().forEach((w, i) => assert.deepEqual(Array.from(w.dataSync()), hiddenBefore[i]));
    assert.notDeepEqual(Array.from(model.getLayer('out').getWeights()[0]!.dataSync()), outBefore);
    await assert.rejects(train(model, linearData(1), { loss: mse, trainableLayers: ['nope'] }), /nope.*the model has/);
    model.dispose();
  });

  test('initialEpoch = epochs trains nothing and still tests and finalises (a resume whose epochs are done)', async () => {
    const model = linearModel();
    const recorder = new Recorder();
    let finalised = 0;
    const result = await train(model, linearData(2), { loss: mse, epochs: 2, initialEpoch: 2, callbacks: [recorder], test: async () => ({ test_x: 1 }), finalize: async () => [{ path: 'x', kind: String(++finalised) }] });
    assert.deepEqual([result.status, result.history.length, recorder.batches, finalised, result.testMetrics?.['test_x']], ['finished', 0, 0, 1, 1]);
    model.dispose();
  });

  test('bad options are refused with the accepted values', async () => {
    const model = linearModel();
    await assert.rejects(train(model, linearData(1), { loss: mse, epochs: 0 }), ConfigError);
    await assert.rejects(train(model, linearData(1), { loss: mse, epochs: 2, initialEpoch: 3 }), /initialEpoch 3 must be an integer from 0 to epochs \(2\)/);
    await assert.rejects(train(model, linearData(1), { loss: mse, optimizer: 'adagrad' as never }), /not one of: adam, sgd, rmsprop/);
    await assert.rejects(train(model, linearData(1), { loss: mse, monitor: 'val_accuracy' }), /monitor "val_accuracy" is not among the epoch logs \(loss, lr, epoch_time_s\)/);
    assert.throws(() => createOptimizer('adam', -1), /positive/);
    model.dispose();
  });
});

describe('train: per-batch learning rates', () => {
  test("a per-batch schedule's rate is logged with each batch as lr (the store's batch_lr), and none without one", async () => {
    const model = linearModel();
    const logged: Logs[] = [];
    const batches = new (class extends Callback {
      override async onBatchEnd(_step: number, logs: Logs): Promise<void> {
        logged.push(logs);
      }
    })();
    await train(model, linearData(3), { loss: mse, epochs: 2, callbacks: [batches], batchLearningRate: ({ step }) => 0.01 / (step + 1) });
    assert.deepEqual(logged.map((l) => l['lr']), [1, 2, 3, 4, 5, 6].map((n) => 0.01 / n));
    logged.length = 0;
    await train(model, linearData(3), { loss: mse, epochs: 1, learningRate: 0.01, callbacks: [batches] });
    assert.ok(logged.length === 3 && logged.every((l) => !('lr' in l) && Number.isFinite(l['loss'])), 'a per-epoch rate is logged per epoch only');
    model.dispose();
  });
});

describe('trainInPhases', () => {
  test('two phases are one run: one begin and end, continuous epochs, the first phase freezes layers', async () => {
    const model = linearModel();
    const hiddenBefore = Array.from(model.getLayer('hidden').getWeights()[0]!.dataSync());
    let hiddenAfterPhase1: number[] = [];
    const begins: number[] = [];
    const recorder = new (class extends Recorder {
      override async onTrainBegin(): Promise<void> {
        begins.push(1);
      }
      override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
        await super.onEpochEnd(epoch, logs);
        if (epoch === 1) hiddenAfterPhase1 = Array.from(model.getLayer('hidden').getWeights()[0]!.dataSync());
      }
    })();
    let tested = 0;
    const result = await trainInPhases(
      model,
      linearData(2),
      { loss: mse, learningRate: 0.05, callbacks: [recorder], test: async () => ({ test_x: ++tested }) },
      [
        { epochs: 2, trainableLayers: ['out'], name: 'head' },
        { epochs: 2, learningRate: 0.01, name: 'all' },
      ],
    );
    assert.equal(begins.length, 1);
    assert.equal(recorder.end?.status, 'finished');
    assert.equal(tested, 1, 'the test set is evaluated once, after the last phase');
    assert.deepEqual(recorder.epochs.map((l) => l['phase']), [1, 1, 2, 2]);
    assert.deepEqual(result.history.map((l) => l['lr']), [0.05, 0.05, 0.01, 0.01]);
    assert.equal(result.lastEpoch, 3);
    assert.deepEqual(hiddenAfterPhase1, hiddenBefore, 'phase 1 trains only the head');
    assert.notDeepEqual(Array.from(model.getLayer('hidden').getWeights()[0]!.dataSync()), hiddenBefore);
    model.dispose();
  });
});

describe('training helpers', () => {
  test('clipGradients scales to the global norm and clips values', () => {
    const grads = { a: tf.tensor1d([3, 0]), b: tf.tensor1d([0, 4]) };
    const byNorm = clipGradients(grads, 1);
    expectArraysClose(byNorm['a']!.dataSync(), [0.6, 0]);
    expectArraysClose(byNorm['b']!.dataSync(), [0, 0.8]);
    const small = clipGradients(grads, 10);
    expectArraysClose(small['b']!.dataSync(), [0, 4]);
    const byValue = clipGradients(grads, undefined, 2);
    expectArraysClose(byValue['b']!.dataSync(), [0, 2]);
    tf.dispose([grads, byNorm, small, byValue]);
  });

  test('metricMode (shared with the store) maximises accuracies and minimises losses and error rates', () => {
    assert.equal(metricMode('val_accuracy'), 'max');
    assert.equal(metricMode('val_f1'), 'max');
    assert.equal(metricMode('val_loss'), 'min');
    assert.equal(metricMode('val_cer'), 'min');
  });

  test('the learning rate of each optimizer can be read', () => {
    for (const name of ['adam', 'sgd', 'rmsprop'] as const) {
      const optimizer = createOptimizer(name, 0.02);
      assert.equal(getLearningRate(optimizer), 0.02, name);
      optimizer.dispose();
    }
  });
});

describe('train: divergence and signals', () => {
  before(async () => {
    await initBackend({ backend: 'cpu' });
  });

  test('a loss that climbs far above where it began fails the run with a DivergenceError naming the losses and the rate', async () => {
    const model = linearModel();
    const recorder = new Recorder();
    // Each batch's loss grows tenfold: the smoothed loss passes 10x its lowest within a few batches of the tenth.
    let batch = 0;
    const growing = (output: tf.Tensor | tf.Tensor[]): tf.Scalar => tf.mul(tf.sum(tf.mul(output as tf.Tensor, 0)), 0).add(10 ** Math.min(30, batch++)) as tf.Scalar;
    await assert.rejects(
      train(model, linearData(8), { loss: growing, epochs: 3, learningRate: 0.01, callbacks: [recorder] }),
      (e: unknown) => e instanceof DivergenceError && /the loss diverged at epoch \d+, batch \d+: its smoothed value rose to .*x its lowest .* above where it began \(1\.000\); lower the learning rate \(now 0\.01\)/.test(e.message),
    );
    assert.equal(recorder.end?.status, 'failed');
    model.dispose();
  });

  test('a healthy run, and a noisy one, is not called divergent; false turns the check off', async () => {
    const model = linearModel();
    const healthy = await train(model, linearData(8), { loss: mse, epochs: 3, learningRate: 0.05 });
    assert.equal(healthy.status, 'finished');
    // A loss that jumps between 1 and 5 every batch: noisy, never 10x its lowest smoothed value.
    let batch = 0;
    const noisy = (output: tf.Tensor | tf.Tensor[]): tf.Scalar => tf.mul(tf.sum(output as tf.Tensor), 0).add(batch++ % 2 === 0 ? 1 : 5) as tf.Scalar;
    assert.equal((await train(model, linearData(8), { loss: noisy, epochs: 3, learningRate: 0.01 })).status, 'finished');
    let growth = 0;
    const growing = (output: tf.Tensor | tf.Tensor[]): tf.Scalar => tf.mul(tf.sum(output as tf.Tensor), 0).add(10 ** Math.min(30, growth++)) as tf.Scalar;
    assert.equal((await train(model, linearData(8), { loss: growing, epochs: 2, learningRate: 0.01, divergence: false })).status, 'finished');
    model.dispose();
  });

  test('the loop installs no process signal handler: an abort of its signal is the one way to stop it', async () => {
    const model = linearModel();
    const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const seen: number[][] = [];
    const watcher = new (class extends Callback {
      override async onBatchEnd(): Promise<void> {
        seen.push([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]);
      }
    })();
    const controller = new AbortController();
    controller.abort('stopped by the test');
    const result = await train(model, linearData(2), { loss: mse, epochs: 2, callbacks: [watcher], signal: controller.signal });
    assert.equal(result.status, 'interrupted');
    const free = await train(model, linearData(2), { loss: mse, epochs: 1, callbacks: [watcher] });
    assert.equal(free.status, 'finished');
    assert.ok(seen.length > 0);
    for (const counts of seen) assert.deepEqual(counts, before);
    model.dispose();
  });
});

