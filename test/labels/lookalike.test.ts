import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lookalikeCount, lookalikeShare } from '../../src/labels/lookalike';

describe('look-alike characters', () => {
  test('counts look-alike characters', () => {
    assert.equal(lookalikeCount('(1-8)*4=-28'), 6); // ( 1 8 ) * 8
    assert.equal(lookalikeCount('2-3=-1'), 1);
    assert.equal(lookalikeShare(['17', '23']), 0.5);
  });
});
