import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSeconds } from '../../src/cli/progress';

describe('formatSeconds', () => {
  test('rounds before splitting minutes and seconds', () => {
    assert.equal(formatSeconds(119.6), '2m00s');
    assert.equal(formatSeconds(59.6), '1m00s');
    assert.equal(formatSeconds(3599.6), '1h00m');
  });

  test('seconds, minutes and hours', () => {
    assert.equal(formatSeconds(0.4), '0s');
    assert.equal(formatSeconds(42.2), '42s');
    assert.equal(formatSeconds(125), '2m05s');
    assert.equal(formatSeconds(3780), '1h03m');
  });

  test('an unknown duration is a question mark', () => {
    assert.equal(formatSeconds(Number.NaN), '?');
    assert.equal(formatSeconds(Number.POSITIVE_INFINITY), '?');
  });
});
