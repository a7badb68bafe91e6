import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  addPixelNoise,
  BACKGROUND_KINDS,
  blurImage,
  compositeInk,
  drawInkNoise,
  INK_NOISE_KINDS,
  type InkNoiseKind,
  jpegArtefacts,
  paintBackground,
  warpImage,
} from '../../../src/data/equations/synth-effects';
import { ConfigError } from '../../../src/errors';
import { type CoverageBuffer, createCoverage } from '../../../src/image/raster';
import { type RawImage, toGrayscale } from '../../../src/image/raw-image';
import { createRng } from '../../../src/util/rng';

const BASE: [number, number, number] = [236, 232, 226];

function inkSum(coverage: CoverageBuffer): number {
  return coverage.alpha.reduce((sum, a) => sum + a, 0);
}

function noise(kind: InkNoiseKind, density: number, seed: string | number, width = 150, height = 32): CoverageBuffer {
  const coverage = createCoverage(width, height);
  drawInkNoise(coverage, kind, density, createRng(seed));
  return coverage;
}

function stats(values: ArrayLike<number>): { mean: number; std: number; min: number; max: number } {
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += ((values[i] as number) - mean) ** 2;
  return { mean, std: Math.sqrt(squares / values.length), min, max };
}

function grey(width: number, height: number, level: number): RawImage {
  return { width, height, channels: 3, data: new Uint8Array(width * height * 3).fill(level) };
}

/** A one-channel checkerboard of single pixels, 40 and 220. */
function checkerboard(width: number, height: number): RawImage {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = (x + y) % 2 ? 220 : 40;
  return { width, height, channels: 1, data };
}

function maxDifference(a: RawImage, b: RawImage): number {
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs((a.data[i] as number) - (b.data[i] as number)));
  return max;
}

describe('synthesis effects: ink noise', () => {
  test('the same seed draws the same coverage, another seed another', () => {
    for (const kind of INK_NOISE_KINDS) {
      assert.deepEqual(noise(kind, 0.6, 'a').alpha, noise(kind, 0.6, 'a').alpha, kind);
      assert.notDeepEqual(noise(kind, 0.6, 'a').alpha, noise(kind, 0.6, 'b').alpha, kind);
    }
  });

  test('density 0 draws nothing, and a higher density draws more ink for every kind', () => {
    for (const kind of INK_NOISE_KINDS) {
      assert.equal(inkSum(noise(kind, 0, 'a')), 0, kind);
      let low = 0;
      let high = 0;
      for (let seed = 0; seed < 10; seed++) {
        low += inkSum(noise(kind, 0.2, seed));
        high += inkSum(noise(kind, 1, seed));
      }
      assert.ok(low > 0, `${kind} draws something at 0.2`);
      assert.ok(high > low * 1.3, `${kind}: ${high} at density 1 against ${low} at 0.2`);
    }
  });

  test('every kind draws inside the image, its ink spread over it, on tiny and small images', () => {
    for (const [width, height] of [[40, 16], [150, 32]] as const) {
      for (const kind of INK_NOISE_KINDS) {
        const coverage = noise(kind, 1, 'spread', width, height);
        assert.ok(coverage.alpha.every((a) => a >= 0 && a <= 1), `${kind}: coverage in [0, 1]`);
        // Ink in both halves of the width across a few seeds: nothing drawn off to one side only.
        let left = 0;
        let right = 0;
        for (let seed = 0; seed < 6; seed++) {
          const c = noise(kind, 1, seed, width, height);
          for (let y = 0; y < height; y++) {
            for (let x = 0; x < width; x++) {
              if (x < width / 2) left += c.alpha[y * width + x] as number;
              else right += c.alpha[y * width + x] as number;
            }
          }
        }
        assert.ok(left > 0 && right > 0, `${kind} at ${width}x${height}: ${left} left, ${right} right`);
      }
    }
  });

  test('sizes scale with the height: crosses cover the same share of 150x32 as of 300x64', () => {
    let small = 0;
    let large = 0;
    for (let seed = 0; seed < 8; seed++) {
      small += inkSum(noise('crosses', 1, seed, 150, 32)) / (150 * 32);
      large += inkSum(noise('crosses', 1, seed, 300, 64)) / (300 * 64);
    }
    assert.ok(Math.abs(small - large) < 0.25 * large, `share of ink ${small / 8} at 150x32 against ${large / 8} at 300x64`);
  });

  test('lines strike through the middle of the text in some share of images, not in all', () => {
    const width = 150;
    const height = 32;
    let struck = 0;
    const seeds = 60;
    for (let seed = 0; seed < seeds; seed++) {
      const c = noise('lines', 0.3, seed, width, height);
      // A strike-through: ink in the middle band (35-65% of the height) in most columns.
      let columns = 0;
      for (let x = 0; x < width; x++) {
        for (let y = Math.floor(height * 0.35); y < Math.ceil(height * 0.65); y++) {
          if ((c.alpha[y * width + x] as number) > 0.1) {
            columns++;
            break;
          }
        }
      }
      if (columns > 0.7 * width) struck++;
    }
    assert.ok(struck > seeds * 0.2 && struck < seeds * 0.95, `${struck} of ${seeds} images struck through`);
  });

  test('lines and curves follow a given text box', () => {
    const width = 150;
    const height = 32;
    const textBox = { left: 10, top: 4, right: 60, bottom: 14 };
    let inside = 0;
    let outside = 0;
    for (let seed = 0; seed < 10; seed++) {
      for (const kind of ['lines', 'curves'] as const) {
        const c = createCoverage(width, height);
        drawInkNoise(c, kind, 0.5, createRng(seed), { textBox });
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++) {
            const a = c.alpha[y * width + x] as number;
            if (x < 90) inside += a;
            else outside += a;
          }
        }
      }
    }
    assert.ok(inside > 0 && outside === 0, `${inside} ink near the box, ${outside} far right of it`);
  });
});

describe('synthesis effects: backgrounds and compositing', () => {
  test('the same seed paints the same background; another seed another, except flat', () => {
    for (const kind of BACKGROUND_KINDS) {
      const a = paintBackground(kind, BASE, 40, 16, createRng(1));
      assert.deepEqual(a, paintBackground(kind, BASE, 40, 16, createRng(1)), kind);
      const b = paintBackground(kind, BASE, 40, 16, createRng(2));
      if (kind === 'flat') assert.deepEqual(a, b);
      else assert.notDeepEqual(a.data, b.data, kind);
      assert.equal(a.channels, 3);
      assert.equal(a.data.length, 40 * 16 * 3);
    }
  });

  test('flat is the base colour everywhere; a gradient spans 12 to 40 levels end to end', () => {
    const flat = paintBackground('flat', BASE, 40, 16, createRng(1));
    for (let i = 0; i < flat.data.length; i += 3) assert.deepEqual([...flat.data.subarray(i, i + 3)], BASE);
    for (let seed = 0; seed < 10; seed++) {
      const { min, max } = stats(toGrayscale(paintBackground('gradient', BASE, 150, 32, createRng(seed))).data);
      assert.ok(max - min >= 8 && max - min <= 48, `gradient seed ${seed}: ${min}..${max}`);
      assert.ok(max <= 236, `the base is the light end: max ${max}`);
    }
  });

  test('texture varies but stays light', () => {
    for (const [width, height] of [[40, 16], [150, 32], [300, 64]] as const) {
      for (let seed = 0; seed < 5; seed++) {
        const { std, min } = stats(toGrayscale(paintBackground('texture', BASE, width, height, createRng(seed))).data);
        assert.ok(std > 1, `texture ${width}x${height} seed ${seed} varies: std ${std}`);
        assert.ok(min > 185, `texture ${width}x${height} seed ${seed} stays light: min ${min}`);
      }
    }
  });

  test('compositeInk: no coverage gives the background, full coverage the text colour, half between', () => {
    const background = paintBackground('texture', BASE, 40, 16, createRng(3));
    const coverage = createCoverage(40, 16);
    assert.deepEqual(compositeInk(background, coverage, [10, 20, 30]), background);
    coverage.alpha.fill(1);
    const full = compositeInk(background, coverage, [10, 20, 30]);
    for (let i = 0; i < full.data.length; i += 3) assert.deepEqual([...full.data.subarray(i, i + 3)], [10, 20, 30]);
    coverage.alpha.fill(0.5);
    const half = compositeInk(paintBackground('flat', [200, 200, 200], 40, 16, createRng(1)), coverage, [100, 100, 100]);
    assert.ok(half.data.every((v) => v === 150));
    assert.equal(background.data[0], paintBackground('texture', BASE, 40, 16, createRng(3)).data[0], 'the background is not changed');
  });
});

describe('synthesis effects: pixel noise', () => {
  test('gaussian: amount 0 leaves the image, amount 1 has a standard deviation near 40, the same seed the same noise', () => {
    const image = grey(150, 32, 128);
    addPixelNoise(image, 'gaussian', 0, createRng(1));
    assert.ok(image.data.every((v) => v === 128));
    addPixelNoise(image, 'gaussian', 1, createRng(1));
    const { mean, std } = stats(image.data);
    assert.ok(Math.abs(std - 40) < 2, `std ${std}`);
    assert.ok(Math.abs(mean - 128) < 2, `mean ${mean}`);
    const again = grey(150, 32, 128);
    addPixelNoise(again, 'gaussian', 1, createRng(1));
    assert.deepEqual(again, image);
    const other = grey(150, 32, 128);
    addPixelNoise(other, 'gaussian', 1, createRng(2));
    assert.notDeepEqual(other.data, image.data);
    const half = grey(150, 32, 128);
    addPixelNoise(half, 'gaussian', 0.5, createRng(1));
    assert.ok(Math.abs(stats(half.data).std - 20) < 1.5);
  });

  test('salt-and-pepper changes about amount * 8% of pixels to near-black or near-white', () => {
    for (const amount of [0.25, 1]) {
      let changed = 0;
      let pixels = 0;
      for (let seed = 0; seed < 5; seed++) {
        const image = grey(150, 32, 128);
        addPixelNoise(image, 'salt-pepper', amount, createRng(seed));
        for (let i = 0; i < image.data.length; i += 3) {
          const v = image.data[i] as number;
          if (v !== 128) {
            changed++;
            assert.ok(v < 40 || v > 215, `a flipped pixel is near black or white: ${v}`);
            assert.ok(image.data[i + 1] === v && image.data[i + 2] === v);
          }
          pixels++;
        }
      }
      const share = changed / pixels;
      // Drawn with replacement, so a little under the nominal share.
      assert.ok(share > amount * 0.08 * 0.85 && share <= amount * 0.08 * 1.05, `amount ${amount}: share ${share}`);
    }
  });
});

describe('synthesis effects: blur, JPEG, warp', () => {
  test('blur of sigma 0 is the image itself (a copy); blur keeps the mean and lowers the variance of a checkerboard', () => {
    const board = checkerboard(40, 16);
    const same = blurImage(board, 0);
    assert.deepEqual(same, board);
    assert.notEqual(same.data, board.data);
    const before = stats(board.data);
    for (const sigma of [0.5, 1, 2]) {
      const after = stats(blurImage(board, sigma).data);
      assert.ok(Math.abs(after.mean - before.mean) < 1, `sigma ${sigma}: mean ${after.mean} against ${before.mean}`);
      assert.ok(after.std < before.std * 0.6, `sigma ${sigma}: std ${after.std} against ${before.std}`);
    }
    assert.ok(stats(blurImage(board, 2).data).std < stats(blurImage(board, 0.5).data).std);
    // Colour images blur per channel: a grey image stays that grey.
    assert.deepEqual(blurImage(grey(40, 16, 77), 1.3), grey(40, 16, 77));
  });

  test('blur spreads a line with the standard deviation asked, on both sides of 2.1 (three-tap passes and a sampled kernel)', () => {
    const size = 41;
    /** The measured standard deviation across a one-pixel line through the middle, vertical or horizontal. */
    const spreadOf = (sigma: number, vertical: boolean): number => {
      const line: RawImage = { width: size, height: size, channels: 1, data: new Uint8Array(size * size) };
      for (let k = 0; k < size; k++) line.data[vertical ? k * size + 20 : 20 * size + k] = 255;
      const blurred = blurImage(line, sigma);
      let total = 0;
      let variance = 0;
      for (let k = 0; k < size; k++) {
        const v = blurred.data[vertical ? 20 * size + k : k * size + 20] as number;
        total += v;
        variance += v * (k - 20) ** 2;
      }
      return Math.sqrt(variance / total);
    };
    for (const sigma of [0.4, 0.7, 1, 1.4, 2, 2.5, 3]) {
      // Rounding each pixel to a byte loses the faint tails, hence the tolerance.
      assert.ok(Math.abs(spreadOf(sigma, true) - sigma) < 0.06 * sigma + 0.03, `sigma ${sigma}: measured ${spreadOf(sigma, true)} across`);
      assert.ok(Math.abs(spreadOf(sigma, false) - sigma) < 0.06 * sigma + 0.03, `sigma ${sigma}: measured ${spreadOf(sigma, false)} down`);
    }
  });

  test('JPEG at quality 100 is nearly the image; at 10 it shows 8x8 blocks and keeps the mean', () => {
    const width = 48;
    const height = 16;
    const background = paintBackground('texture', BASE, width, height, createRng(5));
    const coverage = createCoverage(width, height);
    drawInkNoise(coverage, 'curves', 1, createRng(5));
    const image = compositeInk(background, coverage, [30, 60, 120]);
    const best = jpegArtefacts(image, 100, { subsampleChroma: false });
    assert.ok(maxDifference(best, image) <= 3, `quality 100 differs by ${maxDifference(best, image)}`);
    // Half-resolution chroma smears the colour of thin strokes, but leaves the luma nearly as it was.
    const subsampled = jpegArtefacts(image, 100);
    assert.ok(maxDifference(subsampled, image) > maxDifference(best, image));
    assert.ok(maxDifference(toGrayscale(subsampled), toGrayscale(image)) <= 8, `luma differs by ${maxDifference(toGrayscale(subsampled), toGrayscale(image))}`);

    // A smooth horizontal ramp: at low quality each block flattens, so steps sit at block edges.
    const ramp = toGrayscale(image);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) ramp.data[y * width + x] = 60 + 1.5 * x;
    const low = jpegArtefacts(ramp, 10);
    let edgeSteps = 0;
    let innerSteps = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x + 1 < width; x++) {
        const step = Math.abs((low.data[y * width + x + 1] as number) - (low.data[y * width + x] as number));
        if (x % 8 === 7) edgeSteps += step / 5;
        else innerSteps += step / 42;
      }
    }
    assert.ok(edgeSteps > 2 * innerSteps, `mean step ${edgeSteps / height} at block edges against ${innerSteps / height} inside`);
    assert.ok(Math.abs(stats(low.data).mean - stats(ramp.data).mean) < 2);
    assert.ok(Math.abs(stats(jpegArtefacts(image, 10).data).mean - stats(image.data).mean) < 3);
    assert.ok(maxDifference(jpegArtefacts(image, 10), image) > maxDifference(jpegArtefacts(image, 90), image));
    assert.deepEqual(jpegArtefacts(image, 30), jpegArtefacts(image, 30));
  });

  test('a warp of amplitude 0 is the image; a horizontal warp bends a vertical line, edges clamped', () => {
    const image = compositeInk(paintBackground('texture', BASE, 40, 16, createRng(1)), noise('speckle', 1, 1, 40, 16), [0, 0, 0]);
    assert.deepEqual(warpImage(image, { amplitudeX: 0, amplitudeY: 0, period: 10, phase: 1 }), image);

    const line = grey(40, 16, 255);
    for (let y = 0; y < 16; y++) line.data.fill(0, (y * 40 + 20) * 3, (y * 40 + 21) * 3);
    const warped = warpImage(line, { amplitudeX: 3, amplitudeY: 0, period: 16, phase: 0 });
    const darkest = (y: number): number => {
      let best = 0;
      for (let x = 1; x < 40; x++) if ((warped.data[(y * 40 + x) * 3] as number) < (warped.data[(y * 40 + best) * 3] as number)) best = x;
      return best;
    };
    const columns = Array.from({ length: 16 }, (_, y) => darkest(y));
    // Read from x + 3 sin(2 pi y / 16): row 4 reads 3 columns right, so the line appears 3 left.
    assert.equal(columns[0], 20);
    assert.equal(columns[4], 17);
    assert.equal(columns[12], 23);
    const vertical = warpImage(line, { amplitudeX: 0, amplitudeY: 2, period: 8, phase: 0 });
    assert.ok(maxDifference(vertical, line) <= 1, 'a vertical shift leaves a vertical line (near) where it was');
  });
});

describe('synthesis effects: argument checks', () => {
  const coverage = createCoverage(40, 16);
  const image = grey(40, 16, 128);
  const rng = createRng(1);
  test('bad densities, amounts, qualities, sigmas and kinds name the value and what is accepted', () => {
    assert.throws(() => drawInkNoise(coverage, 'crosses', 1.5, rng), (e: unknown) => e instanceof ConfigError && /1\.5.*\[0, 1\]/.test(e.message));
    assert.throws(() => drawInkNoise(coverage, 'crosses', -0.1, rng), ConfigError);
    assert.throws(() => drawInkNoise(coverage, 'stars' as InkNoiseKind, 0.5, rng), (e: unknown) => e instanceof ConfigError && /stars.*crosses, dots, lines, curves, speckle/.test(e.message));
    assert.throws(() => addPixelNoise(image, 'gaussian', Number.NaN, rng), (e: unknown) => e instanceof ConfigError && /NaN.*\[0, 1\]/.test(e.message));
    assert.throws(() => addPixelNoise(image, 'poisson' as 'gaussian', 0.5, rng), (e: unknown) => e instanceof ConfigError && /poisson.*gaussian, salt-pepper/.test(e.message));
    assert.throws(() => paintBackground('marble' as 'flat', BASE, 40, 16, rng), (e: unknown) => e instanceof ConfigError && /marble.*flat, gradient, texture/.test(e.message));
    assert.throws(() => paintBackground('flat', [300, 0, 0], 40, 16, rng), (e: unknown) => e instanceof ConfigError && /300.*\[0, 255\]/.test(e.message));
    assert.throws(() => paintBackground('flat', BASE, 0, 16, rng), (e: unknown) => e instanceof ConfigError && /0x16/.test(e.message));
    assert.throws(() => jpegArtefacts(image, 0), (e: unknown) => e instanceof ConfigError && /quality 0.*1 to 100/.test(e.message));
    assert.throws(() => jpegArtefacts(image, 101), ConfigError);
    assert.throws(() => blurImage(image, -1), (e: unknown) => e instanceof ConfigError && /sigma -1.*>= 0/.test(e.message));
    assert.throws(() => warpImage(image, { amplitudeX: 1, amplitudeY: 1, period: 0, phase: 0 }), (e: unknown) => e instanceof ConfigError && /period 0/.test(e.message));
    assert.throws(() => compositeInk(grey(20, 16, 128), coverage, [0, 0, 0]), (e: unknown) => e instanceof ConfigError && /40x16.*20x16/.test(e.message));
  });
});
