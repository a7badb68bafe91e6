import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { augmentImage } from '../../../src/data/equations/augment';
import type { RawImage } from '../../../src/image/raw-image';
import { createRng } from '../../../src/util/rng';

/** A white image with dark columns [x0, x1] from row 2 to the third-last row. */
function bars(width: number, height: number, x0: number, x1: number): RawImage {
  const data = new Uint8Array(width * height).fill(255);
  for (let y = 2; y < height - 2; y++) for (let x = x0; x <= x1; x++) data[y * width + x] = 0;
  return { width, height, channels: 1, data };
}

/** The mean column of the dark pixels (< 128) of row y, or NaN when it has none. */
function inkCentre(image: RawImage, y: number): number {
  let sum = 0;
  let count = 0;
  for (let x = 0; x < image.width; x++) {
    if ((image.data[y * image.width + x] as number) < 128) {
      sum += x;
      count++;
    }
  }
  return count ? sum / count : Number.NaN;
}

function darkPixels(image: RawImage): number {
  return image.data.reduce((n, v) => n + (v < 128 ? 1 : 0), 0);
}

/** The first and last column holding a dark pixel. */
function inkSpan(image: RawImage): [number, number] {
  let first = -1;
  let last = -1;
  for (let x = 0; x < image.width; x++) {
    for (let y = 0; y < image.height; y++) {
      if ((image.data[y * image.width + x] as number) < 128) {
        if (first < 0) first = x;
        last = x;
        break;
      }
    }
  }
  return [first, last];
}

/** Only the option under test: no placement, rotation, noise or smudges. */
const quiet = { placement: 0, maxRotationDegrees: 0, noise: 0, smudge: 0 };

describe('equation augmentation: shapes of other fonts', () => {
  test('off by default: the shape options at 0 change nothing, and explicit zeros draw as the defaults', () => {
    const image = bars(60, 20, 29, 31);
    assert.deepEqual(augmentImage(image, createRng('a'), quiet).data, image.data);
    assert.deepEqual(augmentImage(image, createRng('a'), { ...quiet, maxShear: 0, maxStretch: 0, maxStroke: 0 }).data, image.data);
    // The default augmentation draws the same for the same seed, with or without explicit zeros.
    assert.deepEqual(augmentImage(image, createRng('b')).data, augmentImage(image, createRng('b'), { maxShear: 0, maxStretch: 0, maxStroke: 0 }).data);
  });

  test('a slant moves rows above and below the centre in opposite directions, by at most the shear per row', () => {
    const image = bars(60, 20, 29, 31);
    let largest = 0;
    for (let seed = 0; seed < 8; seed++) {
      const out = augmentImage(image, createRng(`shear-${seed}`), { ...quiet, maxShear: 0.5 });
      const top = inkCentre(out, 3) - 30;
      const bottom = inkCentre(out, 16) - 30;
      assert.ok(top * bottom <= 0.01, `seed ${seed}: top moved ${top}, bottom ${bottom}`);
      assert.ok(Math.abs(top - bottom) <= 0.5 * 13 + 1, `seed ${seed}: slant ${top - bottom} over 13 rows`);
      largest = Math.max(largest, Math.abs(top - bottom));
    }
    assert.ok(largest >= 2, `the largest slant over 8 seeds was only ${largest} px`);
  });

  test('a stretch changes the ink width within its range and never pushes ink out of the image', () => {
    const narrow = bars(80, 20, 30, 49);
    const widths = new Set<number>();
    for (let seed = 0; seed < 8; seed++) {
      const [first, last] = inkSpan(augmentImage(narrow, createRng(`stretch-${seed}`), { ...quiet, maxStretch: 0.3 }));
      const width = last - first + 1;
      assert.ok(width >= 20 * 0.7 - 1 && width <= 20 * 1.3 + 1, `seed ${seed}: ink ${width} px wide from 20`);
      widths.add(width);
    }
    assert.ok(widths.size > 1, 'every seed gave the same width');
    const wide = bars(80, 20, 2, 77);
    for (let seed = 0; seed < 8; seed++) {
      const out = augmentImage(wide, createRng(`wide-${seed}`), { ...quiet, maxStretch: 0.3 });
      const [first, last] = inkSpan(out);
      assert.ok(first >= 1 && last <= 78, `seed ${seed}: ink from ${first} to ${last} in 80 columns`);
      assert.ok(last - first >= 75 * 0.7 - 1, `seed ${seed}: ink shrank to ${last - first + 1} columns`);
    }
  });

  test('strokes get bolder or thinner, both across seeds', () => {
    const image = bars(60, 20, 28, 31);
    const before = darkPixels(image);
    let bolder = 0;
    let thinner = 0;
    for (let seed = 0; seed < 12; seed++) {
      const after = darkPixels(augmentImage(image, createRng(`stroke-${seed}`), { ...quiet, maxStroke: 1 }));
      if (after > before) bolder++;
      if (after < before) thinner++;
    }
    assert.ok(bolder > 0 && thinner > 0, `bolder ${bolder}, thinner ${thinner} of 12`);
  });

  test('shape options out of range are refused with the accepted range', () => {
    const image = bars(20, 10, 5, 6);
    assert.throws(() => augmentImage(image, createRng('x'), { maxShear: -0.1 }), /maxShear -0.1 must be a number from 0 to 2/);
    assert.throws(() => augmentImage(image, createRng('x'), { maxStretch: 1 }), /maxStretch 1 must be a number from 0 to 0.9/);
    assert.throws(() => augmentImage(image, createRng('x'), { maxStroke: Number.NaN }), /maxStroke NaN must be a number from 0 to 1/);
  });
});
