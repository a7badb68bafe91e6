import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index';
import { alignGreedyPath, centerLoss, centerLossAt, framewiseArgmax, updateCenters } from '../../src/losses/center';
import { expectArraysClose } from '../support/tensors';

const B = 16; // blank

before(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('centerLoss', () => {
  test('value and gradient match a hand computation', () => {
    const features = tf.tensor2d([[1, 2], [3, 0], [0, -1]]);
    const centers = tf.tensor2d([[0, 0], [1, 1], [2, 2]]);
    const classes = [1, 2, 1];
    // ||(0,1)||^2 = 1, ||(1,-2)||^2 = 5, ||(-1,-2)||^2 = 5 -> 0.5 * 11 / 3
    const value = centerLoss(features, centers, classes);
    assert.ok(Math.abs((value.dataSync()[0] as number) - 11 / 6) < 1e-6);
    const grad = tf.grad((f: tf.Tensor) => centerLoss(f as tf.Tensor2D, centers, classes))(features);
    // d/df_i = (f_i - c_{y_i}) / N
    expectArraysClose(grad.dataSync(), [0, 1 / 3, 1 / 3, -2 / 3, -1 / 3, -2 / 3]);
    tf.dispose([features, centers, value, grad]);
  });

  test('no rows gives zero; bad classes are a DataError naming the row', () => {
    const centers = tf.zeros([2, 3]) as tf.Tensor2D;
    const empty = tf.zeros([0, 3]) as tf.Tensor2D;
    assert.equal(centerLoss(empty, centers, []).dataSync()[0], 0);
    const one = tf.ones([1, 3]) as tf.Tensor2D;
    assert.throws(() => centerLoss(one, centers, [5]), /class 5 of row 0 is not a center index 0\.\.1/);
    tf.dispose([centers, empty, one]);
  });
});

describe('centerLossAt', () => {
  test('equals centerLoss of the gathered rows, in value and in gradient', () => {
    const features = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8], [0, 1]]);
    const centers = tf.tensor2d([[0, 0], [4, 4], [1, 1]]);
    const rows = [3, 0, 2];
    const classes = [1, 2, 1];
    const viaGather = (f: tf.Tensor) => centerLoss(tf.gather(f, tf.tensor1d(rows, 'int32')) as tf.Tensor2D, centers, classes);
    const masked = (f: tf.Tensor) => centerLossAt(f as tf.Tensor2D, centers, rows, classes);
    expectArraysClose(masked(features).dataSync(), viaGather(features).dataSync());
    expectArraysClose(tf.grad(masked)(features).dataSync(), tf.grad(viaGather)(features).dataSync());
    // rows not aligned get no gradient
    assert.deepEqual(Array.from(tf.grad(masked)(features).dataSync().slice(2, 4)), [0, 0]);
    assert.equal(centerLossAt(features, centers, [], []).dataSync()[0], 0);
    assert.throws(() => centerLossAt(features, centers, [1, 1], [0, 2]), /row 1 is given twice/);
    assert.throws(() => centerLossAt(features, centers, [9], [0]), /row 9 is not a feature row 0\.\.4/);
    assert.throws(() => centerLossAt(features, centers, [1], [3]), /class 3 of row 1 is not a center index 0\.\.2/);
  });
});

describe('updateCenters', () => {
  test('moves each seen center alpha * n / (1 + n) of the way to its batch mean', () => {
    const centers = tf.tensor2d([[0, 0], [10, 10], [5, 5]]);
    const features = tf.tensor2d([[2, 4], [4, 8], [0, 0]]);
    const alpha = 0.5;
    const updated = updateCenters(centers, features, [0, 0, 1], alpha);
    const got = updated.dataSync();
    // class 0: n=2, mean (3,6): 0 + 0.5 * 2/3 * (3,6) = (1,2)
    // class 1: n=1, mean (0,0): 10 + 0.5 * 1/2 * (0-10) = 7.5
    // class 2: unseen, unchanged
    expectArraysClose(got, [1, 2, 7.5, 7.5, 5, 5]);
    const still = updateCenters(centers, features, [0, 0, 1], 0);
    expectArraysClose(still.dataSync(), centers.dataSync());
    assert.throws(() => updateCenters(centers, features, [0, 0, 1], 1.5), /alpha 1.5 must be in \[0, 1\]/);
    tf.dispose([centers, features, updated, still]);
  });
});

describe('alignGreedyPath', () => {
  test('repeated frames collapse into one character and all its frames are kept', () => {
    // label 1 7 3 (indices 7, 13, 9)
    const aligned = alignGreedyPath([7, 7, B, 13, 13, B, B, 9], [7, 13, 9], { blank: B });
    assert.deepEqual(aligned.map((a) => [a.frame, a.classIndex, a.labelPosition]), [[0, 7, 0], [1, 7, 0], [3, 13, 1], [4, 13, 1], [7, 9, 2]]);
  });

  test('a doubled label character needs a blank between its runs', () => {
    // label 1 1 (7, 7): the path 7 _ 7 emits two characters
    const aligned = alignGreedyPath([7, B, 7, 7], [7, 7], { blank: B });
    assert.deepEqual(aligned.map((a) => [a.frame, a.labelPosition]), [[0, 0], [2, 1], [3, 1]]);
  });

  test('a missed character does not shift the frames of the following ones', () => {
    // label 1 + 7 (7, 0, 13): '+' is missed
    const aligned = alignGreedyPath([7, B, B, 13], [7, 0, 13], { blank: B });
    assert.deepEqual(aligned.map((a) => [a.frame, a.classIndex, a.labelPosition]), [[0, 7, 0], [3, 13, 2]]);
  });

  test('an extra emission is skipped; substitutions only when asked', () => {
    // label 1 7: path emits 1, 4 (extra), 7
    const extra = alignGreedyPath([7, 4, 13], [7, 13], { blank: B });
    assert.deepEqual(extra.map((a) => [a.frame, a.classIndex]), [[0, 7], [2, 13]]);
    // label 1 7 read as 1 1 (a 7 read as 1): substitution
    const path = [7, B, 7];
    assert.deepEqual(alignGreedyPath(path, [7, 13], { blank: B }).map((a) => a.frame), [0]);
    const withSub = alignGreedyPath(path, [7, 13], { blank: B, includeSubstitutions: true });
    assert.deepEqual(withSub.map((a) => [a.frame, a.classIndex]), [[0, 7], [2, 13]]);
  });

  test('peak mode keeps the most confident frame of each run', () => {
    const classes = 17;
    const scores = new Float32Array(3 * classes);
    const path = [7, 7, 7];
    scores[0 * classes + 7] = 0.5;
    scores[1 * classes + 7] = 0.9;
    scores[2 * classes + 7] = 0.6;
    const aligned = alignGreedyPath(path, [7], { blank: B, frames: 'peak', scores, classes });
    assert.deepEqual(aligned.map((a) => a.frame), [1]);
    assert.throws(() => alignGreedyPath(path, [7], { frames: 'peak' }), /needs the per-frame scores/);
  });

  test('framewiseArgmax reads one sample out of a batch', () => {
    const scores = [0, 1, 0, 2, 0, 0, /* sample 2 */ 0, 0, 3, 1, 0, 0];
    assert.deepEqual(framewiseArgmax(scores, 2, 3, 0), [1, 0]);
    assert.deepEqual(framewiseArgmax(scores, 2, 3, 6), [2, 0]);
  });
});
