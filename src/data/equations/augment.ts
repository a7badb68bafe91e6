/**
 * Seeded augmentation of equation images, on {@link RawImage} pixels after resizing: random
 * horizontal placement (the reference implementation's data is all left-aligned), a small rotation,
 * pixel noise and smudges (dark blurred blots, as in the reference implementation's robustness
 * probe). Three more, off by default, vary the glyphs' shapes the way other fonts do: a slant
 * (horizontal shear), a horizontal stretch, and bolder or thinner strokes.
 */
import { ConfigError } from '../../errors';
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
  /** Largest slant, as horizontal shift per row of height (uniform in +-; 0.3 is about 17 degrees). Defaults to 0 (none). */
  maxShear?: number;
  /** Largest horizontal stretch or squeeze, as a fraction (uniform in +-; never stretched past the image's width). Defaults to 0 (none). */
  maxStretch?: number;
  /** Largest stroke change, as the share (0 to 1) of a 3x3 dilation (bolder) or erosion (thinner) blended in. Defaults to 0 (none). */
  maxStroke?: number;
}

/** The largest value each shape option accepts (the least is 0). */
export const SHAPE_AUGMENT_LIMITS = { maxShear: 2, maxStretch: 0.9, maxStroke: 1 } as const;

/** Every option of {@link augmentImage} with its default; throws on a shape option out of range. */
export function resolveAugment(options: AugmentOptions): Required<AugmentOptions> {
  for (const [name, most] of Object.entries(SHAPE_AUGMENT_LIMITS) as [keyof typeof SHAPE_AUGMENT_LIMITS, number][]) {
    const value = options[name];
    if (value !== undefined && !(Number.isFinite(value) && value >= 0 && value <= most)) {
      throw new ConfigError(`augmentation ${name} ${value} must be a number from 0 to ${most}`);
    }
  }
  return {
    placement: options.placement ?? 0.5,
    maxRotationDegrees: options.maxRotationDegrees ?? 3,
    noise: options.noise ?? 6,
    smudge: options.smudge ?? 0.2,
    maxShear: options.maxShear ?? 0,
    maxStretch: options.maxStretch ?? 0,
    maxStroke: options.maxStroke ?? 0,
  };
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

/** How {@link resampleAffine} maps: rotation (radians), then slant and horizontal stretch, about (cx, cy). */
interface AffineParams {
  angle: number;
  shear: number;
  stretch: number;
  cx: number;
  cy: number;
}

/**
 * The image rotated by `angle`, slanted by `shear` (rows above the centre move right for a
 * positive shear) and stretched horizontally by `stretch`, about (cx, cy): each output pixel
 * samples the source bilinearly at its inverse position; outside the source is white.
 */
function resampleAffine(image: RawImage, { angle, shear, stretch, cx, cy }: AffineParams): Uint8Array {
  const { width, height, channels, data } = image;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const out = new Uint8Array(data.length);
  const at = (xx: number, yy: number, c: number): number => (xx < 0 || yy < 0 || xx >= width || yy >= height ? 255 : (data[(yy * width + xx) * channels + c] as number));
  for (let y = 0; y < height; y++) {
    const v = y - cy;
    for (let x = 0; x < width; x++) {
      // Undo the stretch, then the slant, then the rotation.
      const u = (x - cx) / stretch + shear * v;
      const sx = cos * u + sin * v + cx;
      const sy = -sin * u + cos * v + cy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let c = 0; c < channels; c++) {
        const top = at(x0, y0, c) * (1 - fx) + at(x0 + 1, y0, c) * fx;
        const bottom = at(x0, y0 + 1, c) * (1 - fx) + at(x0 + 1, y0 + 1, c) * fx;
        out[(y * width + x) * channels + c] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return out;
}

/**
 * Bolder (`amount` > 0) or thinner (< 0) strokes: each pixel moves the share |amount| of the way
 * to the darkest (bolder) or lightest (thinner) value of its 3x3 neighbourhood. Ink is dark.
 */
function changeStrokes(image: RawImage, amount: number): Uint8Array {
  const { width, height, channels, data } = image;
  const out = new Uint8Array(data.length);
  const share = Math.min(1, Math.abs(amount));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        let extreme = amount > 0 ? 255 : 0;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = Math.min(height - 1, Math.max(0, y + dy));
          for (let dx = -1; dx <= 1; dx++) {
            const xx = Math.min(width - 1, Math.max(0, x + dx));
            const value = data[(yy * width + xx) * channels + c] ?? 255;
            extreme = amount > 0 ? Math.min(extreme, value) : Math.max(extreme, value);
          }
        }
        const i = (y * width + x) * channels + c;
        out[i] = Math.round((data[i] ?? 255) * (1 - share) + extreme * share);
      }
    }
  }
  return out;
}

/** Returns an augmented copy of `image` (the input is not changed). */
export function augmentImage(image: RawImage, rng: Rng, options: AugmentOptions = {}): RawImage {
  const { width, height, channels } = image;
  let data = new Uint8Array(image.data);
  const o = resolveAugment(options);
  const { placement, noise, smudge } = o;
  const maxRotation = (o.maxRotationDegrees * Math.PI) / 180;

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
  // Rotation, slant and stretch as one inverse mapping about the ink's centre (the image's
  // centre when it has no ink), sampled bilinearly; outside the source is white.
  const angle = maxRotation > 0 ? rng.uniform(-maxRotation, maxRotation) : 0;
  const shear = o.maxShear > 0 ? rng.uniform(-o.maxShear, o.maxShear) : 0;
  let stretch = 1;
  const ink = o.maxStretch > 0 ? inkColumns({ width, height, channels, data }) : undefined;
  if (ink) {
    const widest = ink.first >= 0 ? (width - 2) / (ink.last - ink.first + 1) : 1;
    stretch = Math.min(rng.uniform(1 - o.maxStretch, 1 + o.maxStretch), Math.max(1, widest));
  }
  if (angle !== 0 || shear !== 0 || stretch !== 1) {
    const cx = ink && ink.first >= 0 ? (ink.first + ink.last + 1) / 2 : width / 2;
    data = resampleAffine({ width, height, channels, data }, { angle, shear, stretch, cx, cy: height / 2 });
  }
  if (o.maxStroke > 0) data = changeStrokes({ width, height, channels, data }, rng.uniform(-o.maxStroke, o.maxStroke));
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
