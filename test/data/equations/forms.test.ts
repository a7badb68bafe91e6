import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../src/errors';
import { isValidEquation } from '../../../src/labels/equation-grammar';
import { labelDistributions, parseFormShares, randomEquationLabel } from '../../../src/data/equations/forms';
import { createRng } from '../../../src/util/rng';

describe('randomEquationLabel', () => {
  test('every label follows the grammar, is true and at most 11 long', () => {
    const rng = createRng('labels');
    const labels = Array.from({ length: 3000 }, () => randomEquationLabel(rng));
    for (const label of labels) {
      assert.ok(isValidEquation(label), label);
      assert.ok(label.length <= 11 && label.length >= 7, label);
    }
    const stats = labelDistributions(labels);
    assert.equal(stats.labelsWithChar.get('='), 3000);
    assert.ok((stats.lengthCounts.get(11) ?? 0) > 0);
    assert.ok((stats.lengthCounts.get(10) ?? 0) > (stats.lengthCounts.get(11) ?? 0));
  });

  test('form shares are honoured', () => {
    const rng = createRng('forms');
    const onlyPlain = Array.from({ length: 300 }, () => randomEquationLabel(rng, parseFormShares('plain:1')));
    assert.ok(onlyPlain.every((l) => !l.includes('(')));
    const onlyFirst = Array.from({ length: 300 }, () => randomEquationLabel(rng, parseFormShares('parens-first:1')));
    assert.ok(onlyFirst.every((l) => l.startsWith('(')));
    const mixed = Array.from({ length: 2000 }, () => randomEquationLabel(rng, parseFormShares('plain:3,parens-last:1')));
    const plainShare = mixed.filter((l) => !l.includes('(')).length / mixed.length;
    assert.ok(plainShare > 0.7 && plainShare < 0.8, `plain share ${plainShare}`);
  });

  test('bad form shares name the part and the accepted forms', () => {
    assert.throws(() => parseFormShares('plain:1,round:2'), (e: unknown) => e instanceof ConfigError && /round:2/.test(e.message) && /parens-first/.test(e.message));
    assert.throws(() => parseFormShares('plain:0'), ConfigError);
  });
});
