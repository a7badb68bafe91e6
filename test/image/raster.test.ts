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
  test('fillContours equals a brute-force reference: every pixel against every edge, winding by ray', () => {
    // A wobbly star and an inner contour of opposite winding, at offsets from thinning to bold.
    const star = new Float64Array(2 * 40);
    for (let k = 0; k < 40; k++) {
      const angle = (2 * Math.PI * k) / 40;
      const radius = k % 2 === 0 ? 9.3 : 4.1 + 0.37 * (k % 5);
      star[2 * k] = 15.2 + radius * Math.cos(angle);
      star[2 * k + 1] = 12.7 + radius * Math.sin(angle);
    }
    const hole = new Float64Array([14.1, 11.2, 14.1, 14.3, 16.6, 14.3, 16.6, 11.2]);
    for (const offset of [-0.45, 0, 0.8, 2.2]) {
      const fast = createCoverage(31, 26);
      fillContours(fast, [star, hole], offset);
      for (let y = 0; y < 26; y++) {
        for (let x = 0; x < 31; x++) {
          const px = x + 0.5;
          const py = y + 0.5;
          let best = Infinity;
          let winding = 0;
          for (const contour of [star, hole]) {
            const n = contour.length / 2;
            for (let k = 0; k < n; k++) {
              const ax = contour[2 * k] as number;
              const ay = contour[2 * k + 1] as number;
              const bx = contour[(2 * k + 2) % contour.length] as number;
              const by = contour[(2 * k + 3) % contour.length] as number;
              const dx = bx - ax;
              const dy = by - ay;
              const t = Math.min(1, Math.max(0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
              best = Math.min(best, Math.hypot(ax + t * dx - px, ay + t * dy - py));
              // Crossings of the ray to the left of the pixel centre.
              if (ay <= py !== by <= py && ax + ((py - ay) * dx) / dy < px) winding += by > ay ? 1 : -1;
            }
          }
          const expected = Math.min(1, Math.max(0, 0.5 + (winding !== 0 ? best : -best) + offset));
          assert.ok(Math.abs((fast.alpha[y * 31 + x] as number) - expected) < 1e-5, `offset ${offset}, pixel (${x}, ${y}): ${fast.alpha[y * 31 + x]} against ${expected}`);
        }
      }
    }
  });
});
