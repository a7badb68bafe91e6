import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { editAlignment, editDistance } from '../../src/metrics/edit-distance';
import {
  accuracyByLength,
  characterErrorRate,
  confusionPairs,
  sequenceAccuracy,
  sequenceMetrics,
} from '../../src/metrics/sequence';
import { createRng } from '../../src/util/rng';
import { DataError } from '../../src/errors';

describe('edit distance', () => {
  test('known distances', () => {
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('abc', ''), 3);
    assert.equal(editDistance('1+2=3', '1+2=3'), 0);
    assert.equal(editDistance('(1-8)*4=-28', '1-8*4=-28'), 2);
  });

  test('alignments rebuild both strings and count the distance (random strings)', () => {
    const rng = createRng('edit-alignment');
    const symbols = '+-*=0123';
    const randomText = (): string => Array.from({ length: rng.int(8) }, () => rng.pick([...symbols])).join('');
    for (let trial = 0; trial < 300; trial++) {
      const truth = randomText();
      const predicted = randomText();
      const steps = editAlignment(truth, predicted);
      assert.equal(steps.map((s) => s.truth).join(''), truth);
      assert.equal(steps.map((s) => s.predicted).join(''), predicted);
      assert.equal(steps.filter((s) => s.op !== 'match').length, editDistance(truth, predicted));
      assert.equal(editDistance(truth, predicted), editDistance(predicted, truth));
    }
  });
});

describe('sequence metrics', () => {
  const truths = ['1+2=3', '(1-8)*4=-28', '7+8*2=23', '9-9-9=-9'];
  const predictions = ['1+2=8', '(1-8)*4=-28', '7+8*2=2', '9-9-9=-9'];

  test('accuracy, CER and accuracy per length', () => {
    assert.equal(sequenceAccuracy(truths, predictions), 0.5);
    assert.equal(characterErrorRate(truths, predictions), 2 / (5 + 11 + 8 + 8));
    assert.deepEqual(accuracyByLength(truths, predictions), [
      { length: 5, samples: 1, correct: 0, accuracy: 0 },
      { length: 8, samples: 2, correct: 1, accuracy: 0.5 },
      { length: 11, samples: 1, correct: 1, accuracy: 1 },
    ]);
    assert.equal(sequenceAccuracy([], []), 0);
  });

  test('confusion pairs count substitutions, deletions and insertions', () => {
    assert.deepEqual(confusionPairs(['1+2=3', '4=4', '5=5', '6*6'], ['1+2=8', '4=', '5=55', '6+6']), [
      { truth: '', predicted: '5', count: 1 },
      { truth: '*', predicted: '+', count: 1 },
      { truth: '3', predicted: '8', count: 1 },
      { truth: '4', predicted: '', count: 1 },
    ]);
    assert.deepEqual(confusionPairs(['3=3', '3'], ['8=8', '8']), [{ truth: '3', predicted: '8', count: 3 }]);
    const all = sequenceMetrics(truths, predictions);
    assert.equal(all.samples, 4);
    assert.deepEqual(all.confusions, [
      { truth: '3', predicted: '', count: 1 },
      { truth: '3', predicted: '8', count: 1 },
    ]);
  });

  test('mismatched lists are a DataError naming both counts', () => {
    assert.throws(() => sequenceAccuracy(['a'], []), (error: unknown) => error instanceof DataError && /1 truths and 0 predictions/.test(error.message));
  });
});
