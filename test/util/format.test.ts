import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { percent } from '../../src/util/format';

describe('percent', () => {
  test('a share as a percentage with the decimals asked for, and a mark for what is missing', () => {
    assert.equal(percent(0.9525), '95.25%');
    assert.equal(percent(0.12345, 1), '12.3%');
    assert.equal(percent(1), '100.00%');
    assert.equal(percent(undefined), '?');
    assert.equal(percent(null, 2, '–'), '–');
    assert.equal(percent(Number.NaN, 2, ''), '');
    assert.equal(percent(Number.POSITIVE_INFINITY), '?');
  });
});
