import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index';
import { buildCrnn } from '../../src/models/crnn';
import { batchNorm } from '../../src/models/layers/batch-norm';
import { sampleDropout } from '../../src/models/layers/sample-dropout';
import { checkReplicaCount, createReplicaGroup, type ReplicaGroup } from '../../src/parallel/replicas';
import { clipGradients } from '../../src/training/train';
import { createRng } from '../../src/util/rng';
import { expectArraysClose } from '../support/tensors';

function randomTensor(seed: string, shape: number[]): tf.Tensor {
  const rng = createRng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
}

/** A tiny CRNN: conv + synchronised batch norm, a fused BiGRU, per-sample dropout; CTC. */
function tinyCrnn(): tf.LayersModel {
  return buildCrnn({ inputHeight: 8, inputWidth: 16, convFilters: [4, 6], pools: [[2, 2], [2, 1]], rnn: 'gru', rnnUnits: 5, rnnLayers: 1, dropout: 0.3, batchNormMomentum: 0.8 });
}

function sequenceBatch(size: number, seed: string): { x: tf.Tensor; size: number; labels: number[][] } {
  const rng = createRng(`${seed}-labels`);
  return { x: randomTensor(seed, [size, 8, 16, 1]), size, labels: Array.from({ length: size }, () => Array.from({ length: 1 + rng.int(4) }, () => rng.int(16))) };
}

/** A classifier with an L2 penalty, batch norm and dropout: the penalty must count once. */
function tinyClassifier(): tf.LayersModel {
  const input = tf.input({ shape: [6] });
  let x = tf.layers.dense({ units: 8, kernelRegularizer: tf.regularizers.l2({ l2: 0.05 }), name: 'hidden' }).apply(input) as tf.SymbolicTensor;
  x = batchNorm({ relu: true, name: 'bn' }).apply(x) as tf.SymbolicTensor;
  x = sampleDropout({ rate: 0.4, name: 'drop' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: tf.layers.dense({ units: 3, name: 'out' }).apply(x) as tf.SymbolicTensor });
}

async function gradientsWith(replicas: number, model: tf.LayersModel, loss: Parameters<typeof createReplicaGroup>[1]['loss'], batch: { x: tf.Tensor; size: number }, step: number): Promise<{ loss: number; grads: Record<string, Float32Array>; moving: Float32Array[] }> {
  const weights = model.getWeights().map((w) => w.clone());
  const group = await createReplicaGroup(model, { replicas, loss, seed: 7 });
  try {
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const result = await group.gradients(batch as never, variables, step);
    const clipped = clipGradients(result.grads, 0.5);
    const grads = Object.fromEntries(Object.entries(clipped).map(([name, g]) => [name, Float32Array.from(g.dataSync())]));
    // Moving statistics after the step: every replica saw the same (whole-batch) statistics.
    const moving = model.weights.filter((w) => !w.trainable).map((w) => Float32Array.from(w.read().dataSync()));
    tf.dispose([result.grads, clipped]);
    model.setWeights(weights);
    return { loss: result.loss, grads, moving };
  } finally {
    await group.close();
    tf.dispose(weights);
  }
}

function expectSameStep(a: Awaited<ReturnType<typeof gradientsWith>>, b: Awaited<ReturnType<typeof gradientsWith>>, label: string): void {
  assert.ok(Math.abs(a.loss - b.loss) <= 1e-4 * Math.max(1, Math.abs(b.loss)), `${label}: loss ${a.loss} vs ${b.loss}`);
  assert.deepEqual(Object.keys(a.grads).sort(), Object.keys(b.grads).sort());
  for (const [name, grad] of Object.entries(b.grads)) expectArraysClose(a.grads[name]!, grad, { atol: 2e-5, rtol: 1e-3, label: `${label} ${name}` });
  a.moving.forEach((m, i) => expectArraysClose(m, b.moving[i]!, { atol: 1e-5, label: `${label} moving statistics ${i}` }));
}

describe('data-parallel replicas on worker threads', () => {
  before(async () => {
    await initBackend({ backend: 'wasm' });
  });

  test('two replicas give the one-process step of a CRNN: batch-norm statistics, dropout and clipping included', async () => {
    const model = tinyCrnn();
    const batch = sequenceBatch(5, 'crnn');
    const one = await gradientsWith(1, model, { name: 'ctc' }, batch, 3);
    const two = await gradientsWith(2, model, { name: 'ctc' }, batch, 3);
    const three = await gradientsWith(3, model, { name: 'ctc' }, batch, 3);
    expectSameStep(two, one, '2 replicas');
    expectSameStep(three, one, '3 replicas (uneven shards 2, 2, 1)');
    // Another step draws other dropout masks: the comparison above is not vacuous.
    const otherStep = await gradientsWith(1, model, { name: 'ctc' }, batch, 4);
    assert.notDeepEqual(otherStep.grads, one.grads);
    tf.dispose(batch.x);
    model.dispose();
  });

  test('an L2 penalty counts once, whatever the replica count', async () => {
    const model = tinyClassifier();
    const rng = createRng('labels');
    const batch = { x: randomTensor('cls', [6, 6]), size: 6, labels: Array.from({ length: 6 }, () => rng.int(3)), numClasses: 3 };
    const one = await gradientsWith(1, model, { name: 'classification' }, batch, 0);
    const two = await gradientsWith(2, model, { name: 'classification' }, batch, 0);
    expectSameStep(two, one, 'classifier');
    tf.dispose(batch.x);
    model.dispose();
  });

  test('a batch smaller than the replica count runs on the main thread alone', async () => {
    const model = tinyCrnn();
    const batch = sequenceBatch(1, 'single');
    const one = await gradientsWith(1, model, { name: 'ctc' }, batch, 0);
    const two = await gradientsWith(2, model, { name: 'ctc' }, batch, 0);
    expectSameStep(two, one, 'batch of 1');
    tf.dispose(batch.x);
    model.dispose();
  });

  test('a worker that dies fails the step with its name, and nothing hangs', async () => {
    const model = tinyCrnn();
    // The barrier waits 120 s; the failure must come long before (half of it leaves a loaded
    // machine all the margin it needs), and with the worker's error, not the barrier's.
    const group: ReplicaGroup = await createReplicaGroup(model, { replicas: 2, loss: { name: 'ctc' }, timeoutMs: 120_000 });
    const batch = sequenceBatch(4, 'dies');
    // A label outside the alphabet fails the CTC loss in the worker's shard only.
    batch.labels[3] = [99];
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const started = Date.now();
    try {
      await assert.rejects(group.gradients(batch as never, variables, 0), /training replica 1 \(worker thread\) failed: .*99/);
      assert.ok(Date.now() - started < 60_000, 'the failure was reported without waiting for the barrier timeout');
    } finally {
      await group.close();
    }
    tf.dispose(batch.x);
    model.dispose();
  });

  test('replica counts are checked', () => {
    assert.throws(() => checkReplicaCount(0), /replicas 0 must be an integer from 1 to 64/);
    assert.throws(() => checkReplicaCount(999, '--replicas'), /--replicas 999 must be an integer from 1 to 64/);
    assert.equal(checkReplicaCount(2), 2);
  });
});
