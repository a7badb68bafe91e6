import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCoverage, fillContours, strokePolyline } from '../../src/image/raster';

const sum = (a: Float32Array): number => a.reduce((s, v) => s + v, 0);

describe('fillContours', () => {
  test('a square covers its area, and an offset grows or thins it', () => {
    const square = [Float64Array.from([5, 5, 15, 5, 15, 15, 5, 15])];
    const plain = createCoverage(20, 20);
    fillContours(plain, square);
    assert.ok(Math.abs(sum(plain.alpha) - 100) < 1, `area ${sum(plain.alpha)}`);
    assert.equal(plain.alpha[10 * 20 + 10], 1);
    assert.equal(plain.alpha[0], 0);
    const bold = createCoverage(20, 20);
    fillContours(bold, square, 1);
    assert.ok(sum(bold.alpha) > 135, `bold area ${sum(bold.alpha)}`);
    const thin = createCoverage(20, 20);
    fillContours(thin, square, -1);
    assert.ok(sum(thin.alpha) < 70, `thin area ${sum(thin.alpha)}`);
  });

  test('a hole with opposite winding stays empty', () => {
    const outer = Float64Array.from([2, 2, 18, 2, 18, 18, 2, 18]);
    const hole = Float64Array.from([6, 6, 6, 14, 14, 14, 14, 6]);
    const c = createCoverage(20, 20);
    fillContours(c, [outer, hole]);
    assert.equal(c.alpha[10 * 20 + 10], 0);
    assert.equal(c.alpha[3 * 20 + 3], 1);
  });

  test('strokePolyline draws a line of about its width', () => {
    const c = createCoverage(30, 10);
    strokePolyline(c, [5, 5, 25, 5], 1);
    assert.ok(Math.abs(sum(c.alpha) - 20 * 2 - Math.PI) < 4, `ink ${sum(c.alpha)}`);
  });
});
