import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { buildCrnn } from '../../src/models/crnn';
import { ctcLoss } from '../../src/losses/ctc';
import { renderEquation } from '../../src/data/equations/synth-render';
import { encodeLabel } from '../../src/labels/alphabet';
import { greedyDecode } from '../../src/decode/greedy';
import { toGrayscale } from '../../src/image/raw-image';
import { createRng } from '../../src/util/rng';
import { train } from '../../src/training/train';
import {
  alignBatch,
  centerStatistics,
  collectAlignedFeatures,
  combineEvaluators,
  createCenterLossObjective,
  heldOutCenterEvaluator,
  lookalikeMap,
  meanCenterDistance,
  trainWithCenterLoss,
  withFeatureOutput,
  type LabeledSequenceBatch,
} from '../../src/training/center-loss';
import { expectArraysClose } from '../support/tensors';

const CLASSES = 17;
const BLANK = 16;

/** Logits of one sample whose argmax follows `path` (one row per frame). */
function pathLogits(path: number[]): tf.Tensor3D {
  const data = new Float32Array(path.length * CLASSES);
  path.forEach((k, t) => (data[t * CLASSES + k] = 5));
  return tf.tensor3d(data, [1, path.length, CLASSES]);
}

function batchOf(labels: number[][]): LabeledSequenceBatch {
  return { x: tf.zeros([labels.length, 1]), size: labels.length, labels };
}

before(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('createCenterLossObjective', () => {
  test('loss = CTC + lambda * center loss; centers start at class means, then move at rate alpha', () => {
    const lambda = 0.25;
    const objective = createCenterLossObjective({ lambda, alpha: 0.5 });
    const logits = pathLogits([7, 7, BLANK, 13]);
    const labels = [[7, 13]];
    const batch = batchOf(labels);
    const features1 = tf.tensor3d([[[1, 0], [3, 0], [9, 9], [0, 2]]]);
    const loss1 = objective.loss([logits, features1], batch);
    const ctc = ctcLoss(logits, labels).dataSync()[0] as number;
    // centers: '1' (7) -> (2, 0), '7' (13) -> (0, 2); center loss 0.5 * (1 + 1 + 0) / 3
    assert.ok(Math.abs((loss1.dataSync()[0] as number) - (ctc + lambda / 3)) < 1e-4);
    const centers1 = objective.centers() as tf.Tensor2D;
    expectArraysClose(centers1.dataSync().slice(7 * 2, 7 * 2 + 2), [2, 0]);
    expectArraysClose(centers1.dataSync().slice(13 * 2, 13 * 2 + 2), [0, 2]);
    assert.deepEqual(objective.seenClasses(), [7, 13]);

    const features2 = tf.tensor3d([[[5, 0], [5, 0], [9, 9], [0, 2]]]);
    const loss2 = objective.loss([logits, features2], batch);
    // center loss against the old centers: 0.5 * (9 + 9 + 0) / 3 = 3
    assert.ok(Math.abs((loss2.dataSync()[0] as number) - (ctc + lambda * 3)) < 1e-4);
    const centers2 = objective.centers() as tf.Tensor2D;
    // class 7: n = 2, mean (5, 0): (2,0) + 0.5 * 2/3 * (3, 0) = (3, 0); class 13 unchanged
    expectArraysClose(centers2.dataSync().slice(14, 16), [3, 0]);
    expectArraysClose(centers2.dataSync().slice(26, 28), [0, 2]);

    const logs = objective.metrics();
    assert.equal(logs['center_frames'], 6);
    // distance between the two centers (3,0) and (0,2)
    assert.ok(Math.abs((logs['center_between'] as number) - Math.sqrt(13)) < 1e-5);
    // '1' and '7' are look-alikes: every frame has a look-alike center
    assert.ok(Number.isFinite(logs['center_lookalike']));
    assert.ok((logs['center_own_distance'] as number) > 0);
    assert.equal(objective.metrics()['center_frames'], 0, 'metrics reset after reading');
    objective.dispose();
    tf.dispose([logits, features1, features2, loss1, loss2, centers1, centers2, batch.x]);
  });

  test('lambda 0 is CTC alone but still moves the centers and keeps the statistics (the baseline arm)', () => {
    const objective = createCenterLossObjective({ lambda: 0, alpha: 0.5 });
    const logits = pathLogits([7, 7, BLANK, 13]);
    const labels = [[7, 13]];
    const features = tf.tensor3d([[[1, 0], [3, 0], [9, 9], [0, 2]]]);
    const batch = batchOf(labels);
    const loss = objective.loss([logits, features], batch);
    const ctc = ctcLoss(logits, labels);
    expectArraysClose(loss.dataSync(), ctc.dataSync());
    assert.deepEqual(objective.seenClasses(), [7, 13]);
    const logs = objective.metrics();
    assert.equal(logs['center_frames'], 3);
    assert.ok(Math.abs((logs['center_between'] as number) - Math.sqrt(8)) < 1e-5);
    objective.dispose();
    tf.dispose([logits, features, loss, ctc, batch.x]);
  });

  test('the gradient reaches the features only through the center term, not through the centers', () => {
    const objective = createCenterLossObjective({ lambda: 1, alpha: 0.5 });
    const logits = pathLogits([7, 7, BLANK, 13]);
    const batch = batchOf([[7, 13]]);
    const features = tf.tensor3d([[[1, 0], [3, 0], [9, 9], [0, 2]]]);
    const grad = tf.grad((f: tf.Tensor) => objective.loss([logits, f], batch))(features);
    // centers are (2,0) and (0,2) from this batch, held constant: d/df = (f - c) / 3 on aligned frames
    expectArraysClose(grad.dataSync(), [-1 / 3, 0, 1 / 3, 0, 0, 0, 0, 0]);
    objective.dispose();
    tf.dispose([logits, features, grad, batch.x]);
  });

  test('rejects a one-output model and bad options', () => {
    const objective = createCenterLossObjective();
    const logits = pathLogits([7]);
    assert.throws(() => objective.loss(logits, batchOf([[7]])), /withFeatureOutput/);
    assert.throws(() => createCenterLossObjective({ alpha: 2 }), /alpha 2 must be in \[0, 1\]/);
    assert.throws(() => createCenterLossObjective({ lookalikeGroups: ['1x'] }), /"x", which is not in the alphabet/);
    logits.dispose();
  });

  test('alignBatch offsets rows by sample', () => {
    const data = new Float32Array(2 * 3 * CLASSES);
    [[7, BLANK, 13], [BLANK, 9, 9]].forEach((path, b) => path.forEach((k, t) => (data[(b * 3 + t) * CLASSES + k] = 1)));
    const aligned = alignBatch(data, [2, 3, CLASSES], [[7, 13], [9]]);
    assert.deepEqual(aligned, { rows: [0, 2, 4, 5], classes: [7, 13, 9, 9] });
  });

  test('look-alike map and center distances', () => {
    const map = lookalikeMap(['17', '689', '08']);
    assert.deepEqual(map.get(14), [6, 12, 15]); // '8' -> '0', '6', '9'
    assert.deepEqual(map.get(7), [13]);
    assert.equal(meanCenterDistance([0, 0, 3, 4, 6, 8], 2, [0, 1, 2]), (5 + 10 + 5) / 3);
  });
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
    await train(model, data, { loss: objective.loss, epochs: 1, handleSignals: false, restoreBest: false });
    const before = tf.memory().numTensors;
    const result = await train(model, data, {
      loss: objective.loss,
      epochs: 2,
      handleSignals: false,
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

describe('collectAlignedFeatures', () => {
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
});

describe('trainWithCenterLoss', () => {
  test('trains a CRNN and logs the center statistics with the validation logs', async () => {
    const crnn = buildCrnn({ inputHeight: 16, inputWidth: 32, convFilters: [4, 8], pools: [[2, 2], [2, 2]], rnnUnits: 8, rnnLayers: 1 });
    const labels = [encodeLabel('1+7=8'), encodeLabel('6*9=54')];
    const data = { *batches() { yield { x: tf.randomUniform([2, 16, 32, 1]), size: 2, labels } as LabeledSequenceBatch; } };
    const { result, model, objective } = await trainWithCenterLoss(crnn, data, {
      epochs: 1,
      handleSignals: false,
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

describe('centerStatistics and heldOutCenterEvaluator', () => {
  test('measure distances to the held-out class means, look-alikes only where present', () => {
    // '1' at (0,0) and (2,0): mean (1,0); '7' at (1,3); '+' at (5,5) has no '*' to be confused with.
    const stats = centerStatistics([[0, 0], [2, 0], [1, 3], [5, 5]], ['1', '1', '7', '+']);
    assert.equal(stats.frames, 4);
    assert.equal(stats.classes, 3);
    assert.ok(Math.abs(stats.own - 0.5) < 1e-12);
    assert.ok(Math.abs(stats.between - (3 + Math.sqrt(41) + Math.sqrt(20)) / 3) < 1e-12);
    const lookalike = (2 * Math.sqrt(10) + 3) / 3;
    assert.ok(Math.abs(stats.lookalike - lookalike) < 1e-12);
    assert.ok(Math.abs(stats.lookalikeRatio - 0.5 / lookalike) < 1e-12);
    assert.throws(() => centerStatistics([[1, 2], [3]], ['1', '7']), /vector 1 has 1 values, the first has 2/);
    assert.throws(() => centerStatistics([[1, 2]], ['1', '7']), /1 vectors but 2 labels/);
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
