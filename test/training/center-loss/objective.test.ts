import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../src/backend';
import * as tf from '@tensorflow/tfjs';
import { ctcLoss } from '../../../src/losses/ctc';
import { createCenterLossObjective } from '../../../src/training/center-loss/objective';
import { expectArraysClose } from '../../support/tensors';
import { BLANK, pathLogits, batchOf } from './fixtures';

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
});
