import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracy, classificationReport, confusionMatrix, perClassAccuracy, weightedF1 } from '../../src/metrics/classification';

// 3 classes. True:      0 0 0 0 1 1 2 2 2 2
//            Predicted: 0 0 1 2 1 1 2 2 2 0
const labels = [0, 0, 0, 0, 1, 1, 2, 2, 2, 2];
const preds = [0, 0, 1, 2, 1, 1, 2, 2, 2, 0];

describe('classification metrics', () => {
  test('accuracy and confusion matrix (rows true, columns predicted)', () => {
    assert.equal(accuracy(labels, preds), 0.7);
    assert.deepEqual(confusionMatrix(labels, preds, 3), [
      [2, 1, 1],
      [0, 2, 0],
      [1, 0, 3],
    ]);
    assert.equal(accuracy([], []), 0);
    assert.throws(() => accuracy([1], []), /1 labels but 0 predictions/);
    assert.throws(() => confusionMatrix([0, 3], [0, 0], 3), /sample 1 has label 3/);
  });

  test('per-class accuracy is recall of each class', () => {
    assert.deepEqual(perClassAccuracy(labels, preds, 3), [0.5, 1, 0.75]);
  });

  test('weighted F1 matches a hand computation (scikit-learn average="weighted")', () => {
    // class 0: P 2/3, R 2/4 -> F1 4/7; class 1: P 2/3, R 1 -> 0.8; class 2: P 3/4, R 3/4 -> 0.75
    const expected = (4 * (4 / 7) + 2 * 0.8 + 4 * 0.75) / 10;
    assert.ok(Math.abs(weightedF1(labels, preds, 3) - expected) < 1e-12);
    const report = classificationReport(labels, preds, ['a', 'b', 'c']);
    assert.ok(Math.abs(report.weightedF1 - expected) < 1e-12);
    assert.equal(report.perClass[1]!.name, 'b');
    assert.equal(report.perClass[2]!.support, 4);
    assert.equal(weightedF1(labels, labels, 3), 1);
  });

  test('a class never predicted gets precision 0 instead of NaN', () => {
    const report = classificationReport([0, 1], [0, 0], ['a', 'b']);
    assert.equal(report.perClass[1]!.precision, 0);
    assert.equal(report.perClass[1]!.f1, 0);
    assert.ok(Number.isFinite(report.weightedF1));
  });
});
