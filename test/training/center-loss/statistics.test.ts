import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { centerStatistics, lookalikeMap, meanCenterDistance } from '../../../src/training/center-loss/statistics';

describe('center statistics', () => {
  test('look-alike map and center distances', () => {
    const map = lookalikeMap(['17', '689', '08']);
    assert.deepEqual(map.get(14), [6, 12, 15]); // '8' -> '0', '6', '9'
    assert.deepEqual(map.get(7), [13]);
    assert.equal(meanCenterDistance([0, 0, 3, 4, 6, 8], 2, [0, 1, 2]), (5 + 10 + 5) / 3);
  });

  test('measure distances to the held-out class means, look-alikes only where present', () => {
    // '1' at (0,0) and (2,0): mean (1,0); '7' at (1,3); '+' at (5,5) has no '*' to be confused with.
    const stats = centerStatistics([[0, 0], [2, 0], [1, 3], [5, 5]], ['1', '1', '7', '+']);
    assert.equal(stats.frames, 4);
    assert.equal(stats.classes, 3);
    assert.ok(Math.abs(stats.own - 0.5) < 1e-12);
    assert.ok(Math.abs(stats.between - (3 + Math.sqrt(41) + Math.sqrt(20)) / 3) < 1e-12);
    const lookalike = (2 * Math.sqrt(10) + 3) / 3;
    assert.ok(Math.abs(stats.lookalike - lookalike) < 1e-12);
    assert.ok(Math.abs(stats.lookalikeRatio - 0.5 / lookalike) < 1e-12);
    assert.throws(() => centerStatistics([[1, 2], [3]], ['1', '7']), /vector 1 has 1 values, the first has 2/);
    assert.throws(() => centerStatistics([[1, 2]], ['1', '7']), /1 vectors but 2 labels/);
  });
});
