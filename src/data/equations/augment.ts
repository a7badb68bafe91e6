/**
 * Seeded augmentation of equation images, on {@link RawImage} pixels after resizing: random
 * horizontal placement (the reference implementation's data is all left-aligned), a small rotation,
 * pixel noise and smudges (dark blurred blots, as in the reference implementation's robustness
 * probe).
 */
import type { RawImage } from '../../image/raw-image';
import type { Rng } from '../../util/rng';

export interface AugmentOptions {
  /** Probability of moving the text to a random horizontal position. Defaults to 0.5. */
  placement?: number;
  /** Largest rotation in degrees (uniform in +-). Defaults to 3. */
  maxRotationDegrees?: number;
  /** Standard deviation of Gaussian pixel noise, in 0-255 units. Defaults to 6. */
  noise?: number;
  /** Probability of adding smudges. Defaults to 0.2. */
  smudge?: number;
}

function inkColumns(image: RawImage): { first: number; last: number } {
  const { width, height, channels, data } = image;
  let first = -1;
  let last = -1;
  for (let x = 0; x < width; x++) {
    let dark = 0;
    for (let y = 0; y < height; y++) if ((data[(y * width + x) * channels] ?? 255) < 128) dark++;
    if (dark >= 2) {
      if (first < 0) first = x;
      last = x;
    }
  }
  return { first, last };
}

/** Returns an augmented copy of `image` (the input is not changed). */
export function augmentImage(image: RawImage, rng: Rng, options: AugmentOptions = {}): RawImage {
  const { width, height, channels } = image;
  let data = new Uint8Array(image.data);
  const placement = options.placement ?? 0.5;
  const maxRotation = ((options.maxRotationDegrees ?? 3) * Math.PI) / 180;
  const noise = options.noise ?? 6;
  const smudge = options.smudge ?? 0.2;

  if (rng.chance(placement)) {
    const { first, last } = inkColumns(image);
    if (first >= 0) {
      const shift = Math.round(rng.uniform(-first, width - 1 - last));
      const shifted = new Uint8Array(data.length).fill(255);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const sx = x - shift;
          if (sx < 0 || sx >= width) continue;
          for (let c = 0; c < channels; c++) shifted[(y * width + x) * channels + c] = data[(y * width + sx) * channels + c] ?? 255;
        }
      }
      data = shifted;
    }
  }
  if (maxRotation > 0) {
    const angle = rng.uniform(-maxRotation, maxRotation);
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const cx = width / 2;
    const cy = height / 2;
    const rotated = new Uint8Array(data.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        // Inverse mapping with bilinear sampling; outside the source is white.
        const sx = cos * (x - cx) + sin * (y - cy) + cx;
        const sy = -sin * (x - cx) + cos * (y - cy) + cy;
        const x0 = Math.floor(sx);
        const y0 = Math.floor(sy);
        const fx = sx - x0;
        const fy = sy - y0;
        for (let c = 0; c < channels; c++) {
          const at = (xx: number, yy: number): number => (xx < 0 || yy < 0 || xx >= width || yy >= height ? 255 : (data[(yy * width + xx) * channels + c] ?? 255));
          const top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx;
          const bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx;
          rotated[(y * width + x) * channels + c] = Math.round(top * (1 - fy) + bottom * fy);
        }
      }
    }
    data = rotated;
  }
  if (rng.chance(smudge)) {
    const blots = 1 + rng.int(3);
    for (let b = 0; b < blots; b++) {
      const bx = rng.uniform(0, width);
      const by = rng.uniform(0, height);
      const rx = rng.uniform(4, 16);
      const ry = rng.uniform(3, 10);
      const strength = rng.uniform(0.3, 0.8);
      for (let y = Math.max(0, Math.floor(by - 2 * ry)); y < Math.min(height, Math.ceil(by + 2 * ry)); y++) {
        for (let x = Math.max(0, Math.floor(bx - 2 * rx)); x < Math.min(width, Math.ceil(bx + 2 * rx)); x++) {
          const d = ((x - bx) / rx) ** 2 + ((y - by) / ry) ** 2;
          const darken = 1 - strength * Math.exp(-d);
          for (let c = 0; c < channels; c++) {
            const i = (y * width + x) * channels + c;
            data[i] = Math.round((data[i] ?? 0) * darken);
          }
        }
      }
    }
  }
  if (noise > 0) {
    for (let i = 0; i < data.length; i++) {
      const v = (data[i] ?? 0) + noise * rng.normal();
      data[i] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
    }
  }
  return { width, height, channels, data };
}
