import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ctcStepsNeeded } from '../../src/labels/ctc-steps';

describe('ctcStepsNeeded', () => {
  test('one step per character, and a blank between two equal neighbours', () => {
    assert.equal(ctcStepsNeeded('1+2=3'), 5);
    assert.equal(ctcStepsNeeded('11=11'), 7);
    assert.equal(ctcStepsNeeded('(1-8)*4=-28'), 11);
    assert.equal(ctcStepsNeeded('111'), 5);
    assert.equal(ctcStepsNeeded(''), 0);
  });
});
