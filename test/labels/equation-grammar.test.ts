import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  equationLabel,
  equationResult,
  evaluateEquation,
  isValidEquation,
  isWellFormedEquation,
  parseEquation,
} from '../../src/labels/equation-grammar';
import { DataError } from '../../src/errors';

describe('equation grammar', () => {
  test('evaluates the examples of the write-up', () => {
    assert.equal(equationResult('(1-8)*4'), -28);
    assert.equal(equationResult('9-(7-4)'), 6);
    assert.equal(equationResult('7+8*2'), 23);
    assert.equal(equationResult('(0+0)+9'), 9);
    assert.equal(equationLabel('(1-8)*4'), '(1-8)*4=-28');
  });

  test('agrees with JavaScript arithmetic on every left side of the grammar', () => {
    // JavaScript's own precedence is an independent oracle for `*` before `+ -`.
    const operators = ['+', '-', '*'];
    let checked = 0;
    for (let a = 0; a < 10; a++)
      for (let b = 0; b < 10; b++)
        for (let c = 0; c < 10; c++)
          for (const p of operators)
            for (const q of operators)
              for (const left of [`${a}${p}${b}${q}${c}`, `(${a}${p}${b})${q}${c}`, `${a}${p}(${b}${q}${c})`]) {
                const expected = Function(`return ${left}`)() as number;
                assert.equal(equationResult(left), expected, left);
                assert.ok(isValidEquation(`${left}=${expected}`), left);
                assert.ok(!isValidEquation(`${left}=${expected + 1}`), left);
                checked++;
              }
    assert.equal(checked, 27000);
  });

  test('tells grammar from truth', () => {
    assert.ok(isWellFormedEquation('1+1+1=4'));
    assert.ok(!isValidEquation('1+1+1=4'));
    assert.deepEqual(parseEquation('9-(7-4)=6'), {
      digits: [9, 7, 4],
      operators: ['-', '-'],
      parens: 'last',
      leftSide: '9-(7-4)',
      statedResult: 6,
      trueResult: 6,
      isTrue: true,
    });
    for (const text of ['', '1+2', '1+2=', '1+2=03', '1+2=+3', '(1+2=3', '1+2+3+4=10', '12+3=15', '1+2=3=3', '(1+2+3)=6', '1/2+3=3', '1+2=3.0']) {
      assert.equal(parseEquation(text), undefined, text);
      assert.ok(!isValidEquation(text), text);
    }
    assert.ok(!isValidEquation('0*0+0=-0'));
  });

  test('errors name the text and show an accepted example', () => {
    assert.throws(() => equationResult('1+2+3+4'), (error: unknown) => error instanceof DataError && /"1\+2\+3\+4"/.test(error.message));
    assert.throws(() => evaluateEquation('1+2'), /e\.g\. "\(1-8\)\*4=-28"/);
  });
});
