import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { BLANK_INDEX, EQUATION_ALPHABET, NUM_CLASSES, decodeLabel, encodeLabel } from '../../src/labels/alphabet';
import { DataError } from '../../src/errors';

describe('equation alphabet', () => {
  test('has the 16 symbols in class order and the blank after them', () => {
    assert.equal(EQUATION_ALPHABET, '+-*=()0123456789');
    assert.equal(BLANK_INDEX, 16);
    assert.equal(NUM_CLASSES, 17);
  });

  test('encodes and decodes labels', () => {
    assert.deepEqual(encodeLabel('(1-8)*4=-28'), [4, 7, 1, 14, 5, 2, 10, 3, 1, 8, 14]);
    for (const text of ['(0+0)+9=9', '9-(7-4)=6', '7+8*2=23', '']) {
      assert.equal(decodeLabel(encodeLabel(text)), text);
    }
  });

  test('names the bad character and index', () => {
    assert.throws(() => encodeLabel('1+x=3'), (error: unknown) => {
      assert.ok(error instanceof DataError);
      assert.match(error.message, /"x" at position 2/);
      return true;
    });
    assert.throws(() => decodeLabel([0, 16]), /index 16 at position 1/);
    assert.throws(() => decodeLabel([1.5]), DataError);
  });
});
