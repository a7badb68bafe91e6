import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index';
import { createCharDataset, splitCharDataset } from '../../src/data/characters/dataset';
import { loadMnistDigits } from '../../src/data/characters/mnist';
import { buildMlp } from '../../src/models/mlp';
import { charTrainData, classificationEvaluator, classificationLoss, evaluateClassifier, evaluateEnsemble, predictClasses, type ClassificationBatch } from '../../src/training/classification';
import { train } from '../../src/training/train';

function batchOf(labels: number[], numClasses: number): ClassificationBatch {
  return { x: tf.zeros([labels.length, 1, 1, 1]) as tf.Tensor4D, size: labels.length, labels: Int32Array.from(labels), numClasses };
}

describe('classificationLoss', () => {
  before(async () => {
    await initBackend({ backend: 'cpu' });
  });

  test('is the mean softmax cross-entropy, with label smoothing as in Keras', () => {
    const logits = tf.tensor2d([
      [2, 0, 0],
      [0, 1, 3],
    ]);
    const batch = batchOf([0, 1], 3);
    const logSoftmax = (row: number[]): number[] => {
      const lse = Math.log(row.reduce((a, v) => a + Math.exp(v), 0));
      return row.map((v) => v - lse);
    };
    const rows = [logSoftmax([2, 0, 0]), logSoftmax([0, 1, 3])];
    const plain = -(rows[0]![0]! + rows[1]![1]!) / 2;
    const s = 0.1;
    const smoothTarget = (label: number) => [0, 1, 2].map((c) => (c === label ? 1 - s : 0) + s / 3);
    const smoothed = -[0, 1].reduce((acc, i) => acc + smoothTarget(i === 0 ? 0 : 1).reduce((a, t, c) => a + t * rows[i]![c]!, 0), 0) / 2;
    const before = tf.memory().numTensors;
    const lossPlain = classificationLoss()(logits, batch);
    const lossSmooth = classificationLoss({ labelSmoothing: s })(logits, batch);
    assert.ok(Math.abs(lossPlain.dataSync()[0]! - plain) < 1e-5, `${lossPlain.dataSync()[0]} vs ${plain}`);
    assert.ok(Math.abs(lossSmooth.dataSync()[0]! - smoothed) < 1e-5, `${lossSmooth.dataSync()[0]} vs ${smoothed}`);
    assert.equal(tf.memory().numTensors, before + 2, 'only the two loss scalars remain');
    tf.dispose([logits, lossPlain, lossSmooth, batch.x]);
    assert.throws(() => classificationLoss({ labelSmoothing: 1 }), /labelSmoothing must be in \[0, 1\)/);
  });

  test("adds the model's L2 penalties when given the model", () => {
    const model = buildMlp({ inputShape: [1, 1, 1], hiddenUnits: [4], numClasses: 3, l2: 0.5, dropout: 0 });
    const logits = tf.tensor2d([[1, 0, 0]]);
    const batch = batchOf([0], 3);
    const without = classificationLoss()(logits, batch);
    const withL2 = classificationLoss({ model })(logits, batch);
    const penaltyTensors = model.calculateLosses();
    const penalty = penaltyTensors.reduce((a, t) => a + t.dataSync()[0]!, 0);
    tf.dispose(penaltyTensors);
    assert.ok(penalty > 0);
    assert.ok(Math.abs(withL2.dataSync()[0]! - without.dataSync()[0]! - penalty) < 1e-4);
    tf.dispose([logits, batch.x, without, withL2]);
    model.dispose();
  });
});

describe('training a classifier on real MNIST digits', () => {
  before(async () => {
    await initBackend({ backend: 'cpu' });
  });

  const digits = loadMnistDigits({ perClass: 25 });
  const { train: trainSet, val } = splitCharDataset(digits, { seed: 2, ratios: [0.8, 0.2, 0] });

  test('a tiny MLP trained by hand with the loss beats chance clearly, and the evaluator reports it', async () => {
    const model = buildMlp({ hiddenUnits: [32], dropout: 0 });
    const optimizer = tf.train.adam(0.01);
    const loss = classificationLoss({ labelSmoothing: 0.05, model });
    const data = charTrainData(trainSet, { batchSize: 20, seed: 1 });
    const evaluate = classificationEvaluator(val);
    const before = await evaluate(model);
    const tensorsBefore = tf.memory().numTensors;
    for (let epoch = 0; epoch < 8; epoch++) {
      for (const batch of data.batches(epoch) as Iterable<ClassificationBatch>) {
        const value = optimizer.minimize(() => loss(model.apply(batch.x, { training: true }) as tf.Tensor, batch), true);
        value?.dispose();
        batch.x.dispose();
      }
    }
    // Adam's moment variables are created on the first step; nothing else may remain.
    const adamSlots = model.trainableWeights.length * 2 + 1;
    assert.ok(tf.memory().numTensors <= tensorsBefore + adamSlots + 1, `${tf.memory().numTensors - tensorsBefore} tensors left after training`);
    const after = await evaluate(model);
    assert.deepEqual(Object.keys(after).sort(), ['val_accuracy', 'val_loss', 'val_weighted_f1']);
    assert.ok(after['val_accuracy']! > 0.6, `val accuracy ${after['val_accuracy']} (chance 0.1)`);
    assert.ok(after['val_loss']! < before['val_loss']!, `val loss fell from ${before['val_loss']} to ${after['val_loss']}`);
    const evaluation = evaluateClassifier(model, val, { batchSize: 7 });
    assert.equal(evaluation.accuracy, after['val_accuracy']);
    assert.equal(evaluation.misclassified.length, Math.round((1 - evaluation.accuracy) * val.labels.length));
    assert.ok(evaluation.misclassified.every((i) => evaluation.predictions[i] !== val.labels[i]));
    const probs = predictClasses(model, val).probabilities;
    const conf = (i: number) => probs[i * 10 + evaluation.predictions[i]!]!;
    for (let j = 1; j < evaluation.misclassified.length; j++) assert.ok(conf(evaluation.misclassified[j - 1]!) >= conf(evaluation.misclassified[j]!), 'most confident mistakes first');
    optimizer.dispose();
    model.dispose();
  });

  test('trains through the shared training loop, test metrics on held-out data', async () => {
    const model = buildMlp({ hiddenUnits: [32], dropout: 0.1 });
    const result = await train(model, charTrainData(trainSet, { batchSize: 20, seed: 3 }), {
      loss: classificationLoss(),
      evaluate: classificationEvaluator(val),
      test: classificationEvaluator(val, { prefix: 'test_' }),
      epochs: 6,
      learningRate: 0.01,
      clipNorm: 5,
    });
    assert.equal(result.status, 'finished');
    assert.equal(result.history.length, 6);
    assert.ok(result.best && result.best.value > 0.6, `best val accuracy ${result.best?.value}`);
    assert.ok(result.testMetrics && result.testMetrics['test_accuracy']! > 0.6);
    model.dispose();
  });

  test('the evaluator rejects a model whose outputs do not match the classes', async () => {
    const model = buildMlp({ hiddenUnits: [4], numClasses: 3 });
    const data = createCharDataset(new Float32Array(784), Int32Array.from([0]), ['0', '1', '2', '3'], {});
    await assert.rejects(classificationEvaluator(data)(model), /the model has 3 outputs but the data set has 4 classes/);
    model.dispose();
  });
});

/** n 4x4 images; image i is filled with i / n; label i % k. */
function toy(n: number, k: number) {
  const images = new Float32Array(n * 16);
  for (let i = 0; i < n; i++) images.fill(i / n, i * 16, (i + 1) * 16);
  return createCharDataset(images, Int32Array.from({ length: n }, (_, i) => i % k), Array.from({ length: k }, (_, c) => `c${c}`), { height: 4, width: 4 });
}

describe('evaluateEnsemble', () => {
  before(async () => {
    await initBackend({ backend: 'cpu' });
  });

  /** A one-pixel classifier: logits = bias + pixel * kernel. */
  function onePixelModel(kernel: number[], bias: number[]): tf.LayersModel {
    const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [1, 1, 1] }), tf.layers.dense({ units: 2 })] });
    const weights = [tf.tensor2d([kernel]), tf.tensor1d(bias)];
    model.setWeights(weights);
    tf.dispose(weights);
    return model;
  }

  test('averages the members\' probabilities: two members each wrong once, weakly, make a correct ensemble', () => {
    // Sample 0 (pixel 0, label 0) and sample 1 (pixel 1, label 1).
    const data = createCharDataset(Float32Array.from([0, 1]), Int32Array.from([0, 1]), ['a', 'b'], { height: 1, width: 1 });
    // A: [0.4, 0.6] on sample 0 (wrong), [0.1, 0.9] on sample 1. B: [0.9, 0.1] on sample 0, [0.6, 0.4] on sample 1 (wrong).
    const a = onePixelModel([0, Math.log(6)], [0, Math.log(1.5)]);
    const b = onePixelModel([-Math.log(6), 0], [Math.log(9), 0]);
    const { ensemble, members } = evaluateEnsemble([a, b], data);
    assert.deepEqual(members.map((m) => m.accuracy), [0.5, 0.5]);
    assert.deepEqual(members.map((m) => m.misclassified), [[0], [1]]);
    assert.equal(ensemble.accuracy, 1);
    assert.deepEqual(Array.from(ensemble.predictions), [0, 1]);
    // Mean probabilities of the true class: 0.65 on both samples.
    assert.ok(Math.abs(ensemble.loss + Math.log(0.65)) < 1e-5, `ensemble loss ${ensemble.loss}`);
    const single = evaluateEnsemble([a], data).ensemble;
    assert.deepEqual(single.predictions, evaluateClassifier(a, data).predictions);
    assert.throws(() => evaluateEnsemble([], data), /at least one model/);
    a.dispose();
    b.dispose();
  });
});

describe('charTrainData', () => {
  before(async () => {
    await initBackend({ backend: 'cpu' });
  });

  test('yields every sample once per epoch in a seeded order, as [b, h, w, 1] tensors', async () => {
    const data = toy(10, 2);
    const source = charTrainData(data, { batchSize: 4, seed: 1 });
    assert.equal(source.stepsPerEpoch, 3);
    const seen = (epoch: number): number[] => {
      const order: number[] = [];
      for (const batch of source.batches(epoch) as Iterable<ClassificationBatch>) {
        assert.deepEqual(batch.x.shape, [batch.size, 4, 4, 1]);
        assert.equal(batch.numClasses, 2);
        const values = batch.x.dataSync();
        for (let i = 0; i < batch.size; i++) {
          const id = Math.round(values[i * 16]! * 10);
          assert.equal(batch.labels[i], id % 2, 'label travels with its image');
          order.push(id);
        }
        batch.x.dispose();
      }
      return order;
    };
    const e0 = seen(0);
    assert.deepEqual([...e0].sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => i));
    assert.deepEqual(seen(0), e0, 'same epoch, same order');
    assert.notDeepEqual(seen(1), e0, 'next epoch reshuffles');
    assert.equal(tf.memory().numTensors, 0);
  });

  test('augment changes the pixels but keeps labels and shapes', () => {
    const data = toy(4, 2);
    const plain = [...charTrainData(data, { batchSize: 4, seed: 2 }).batches(0) as Iterable<ClassificationBatch>][0]!;
    const augmented = [...charTrainData(data, { batchSize: 4, seed: 2, augment: true }).batches(0) as Iterable<ClassificationBatch>][0]!;
    assert.deepEqual([...plain.labels], [...augmented.labels]);
    assert.notDeepEqual([...plain.x.dataSync()], [...augmented.x.dataSync()]);
    tf.dispose([plain.x, augmented.x]);
  });
});
