import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { augmentChar, elasticField } from '../../../src/data/characters/augment';
import { createRng } from '../../../src/util/rng';

const OFF = { maxRotationDegrees: 0, zoom: [1, 1] as [number, number], maxShift: 0, noise: 0, brightness: 0, elasticProbability: 0 };

/** A 28x28 image with a vertical bar at columns 12-15, rows 4-23. */
function bar(): Float32Array {
  const image = new Float32Array(784);
  for (let y = 4; y < 24; y++) for (let x = 12; x < 16; x++) image[y * 28 + x] = 1;
  return image;
}

function centroid(image: Float32Array): { x: number; y: number; mass: number } {
  let mass = 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < image.length; i++) {
    mass += image[i]!;
    sx += (i % 28) * image[i]!;
    sy += Math.floor(i / 28) * image[i]!;
  }
  return { x: sx / mass, y: sy / mass, mass };
}

describe('augmentChar', () => {
  test('with every transform off it returns an equal copy', () => {
    const image = bar();
    const out = augmentChar(image, 28, 28, createRng(1), OFF);
    assert.notEqual(out, image);
    assert.deepEqual([...out], [...image]);
  });

  test('the same seed gives the same result, another seed a different one', () => {
    const a = augmentChar(bar(), 28, 28, createRng(3));
    const b = augmentChar(bar(), 28, 28, createRng(3));
    const c = augmentChar(bar(), 28, 28, createRng(4));
    assert.deepEqual([...a], [...b]);
    assert.notDeepEqual([...a], [...c]);
    assert.ok(a.every((v) => v >= 0 && v <= 1), 'stays in [0, 1]');
  });

  test('shifts move the ink by at most 10% of the size; zoom changes its amount within 0.9-1.1 squared', () => {
    for (let seed = 0; seed < 20; seed++) {
      const shifted = centroid(augmentChar(bar(), 28, 28, createRng(seed), { ...OFF, maxShift: 0.1 }));
      assert.ok(Math.abs(shifted.x - 13.5) <= 2.81 && Math.abs(shifted.y - 13.5) <= 2.81, `seed ${seed}: centroid ${shifted.x}, ${shifted.y}`);
      const zoomed = centroid(augmentChar(bar(), 28, 28, createRng(seed), { ...OFF, zoom: [0.9, 1.1] }));
      assert.ok(zoomed.mass >= 80 * 0.81 - 1 && zoomed.mass <= 80 * 1.21 + 1, `seed ${seed}: mass ${zoomed.mass}`);
    }
  });

  test('a rotation of up to 15 degrees tilts the bar by that much at most', () => {
    let tilted = 0;
    for (let seed = 0; seed < 10; seed++) {
      const out = augmentChar(bar(), 28, 28, createRng(seed), { ...OFF, maxRotationDegrees: 15 });
      // Horizontal centroid of the top and bottom rows of the bar: their offset gives the tilt.
      const rowCentroid = (y: number): number => {
        let m = 0;
        let s = 0;
        for (let x = 0; x < 28; x++) {
          m += out[y * 28 + x]!;
          s += x * out[y * 28 + x]!;
        }
        return s / m;
      };
      const angle = (Math.atan2(Math.abs(rowCentroid(6) - rowCentroid(21)), 15) * 180) / Math.PI;
      assert.ok(angle <= 15.5, `seed ${seed}: tilt ${angle}`);
      if (angle > 2) tilted++;
    }
    assert.ok(tilted >= 5, `most seeds tilt visibly (${tilted}/10)`);
  });

  test('brightness scales the ink by at most 20% and noise has sigma about 0.05', () => {
    const bright = augmentChar(bar(), 28, 28, createRng(9), { ...OFF, brightness: 0.2 });
    const gray = new Float32Array(784).fill(0.5);
    const gains = Array.from({ length: 20 }, (_, s) => augmentChar(gray, 28, 28, createRng(s), { ...OFF, brightness: 0.2 })[0]! / 0.5);
    assert.ok(gains.every((g) => g >= 0.8 - 1e-6 && g <= 1.2 + 1e-6) && Math.max(...gains) - Math.min(...gains) > 0.1, gains.join(', '));
    assert.equal(bright[0], 0, 'background stays dark');
    const noisy = augmentChar(gray, 28, 28, createRng(1), { ...OFF, noise: 0.05 });
    let sq = 0;
    for (const v of noisy) sq += (v - 0.5) ** 2;
    const sigma = Math.sqrt(sq / 784);
    assert.ok(sigma > 0.04 && sigma < 0.06, `sigma ${sigma}`);
  });

  test('elastic deformation bends the bar smoothly', () => {
    const field = elasticField(28, 28, createRng(2), 34, 4);
    let maxJump = 0;
    let maxAbs = 0;
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 27; x++) {
        maxJump = Math.max(maxJump, Math.abs(field.dx[y * 28 + x + 1]! - field.dx[y * 28 + x]!));
        maxAbs = Math.max(maxAbs, Math.abs(field.dx[y * 28 + x]!));
      }
    }
    assert.ok(maxAbs > 0.5, `displacements reach ${maxAbs} px`);
    assert.ok(maxJump < maxAbs / 2, `neighbours move together (jump ${maxJump} vs ${maxAbs})`);
    const out = augmentChar(bar(), 28, 28, createRng(2), { ...OFF, elasticProbability: 1 });
    assert.notDeepEqual([...out], [...bar()]);
  });
});
