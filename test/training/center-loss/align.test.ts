import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { alignBatch } from '../../../src/training/center-loss/align';
import { CLASSES, BLANK } from './fixtures';

describe('alignBatch', () => {
  test('alignBatch offsets rows by sample', () => {
    const data = new Float32Array(2 * 3 * CLASSES);
    [[7, BLANK, 13], [BLANK, 9, 9]].forEach((path, b) => path.forEach((k, t) => (data[(b * 3 + t) * CLASSES + k] = 1)));
    const aligned = alignBatch(data, [2, 3, CLASSES], [[7, 13], [9]]);
    assert.deepEqual(aligned, { rows: [0, 2, 4, 5], classes: [7, 13, 9, 9] });
  });
});
