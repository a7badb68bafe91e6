/**
 * Seeded augmentation of single-character images: rotation, zoom, shifts,
 * elastic deformation, brightness and Gaussian noise, on float pixels in [0, 1] (ink bright on
 * a dark background, as in MNIST). The geometric parts compose into one inverse mapping sampled
 * bilinearly, so an image is resampled once however many of them apply.
 */
import type { Rng } from '../../util/rng';

export interface CharAugmentOptions {
  /** Largest rotation in degrees (uniform in +-). Defaults to 15. */
  maxRotationDegrees?: number;
  /** Zoom factor range [min, max]. Defaults to [0.9, 1.1]. */
  zoom?: readonly [number, number];
  /** Largest shift as a fraction of the image size, per axis (uniform in +-). Defaults to 0.1. */
  maxShift?: number;
  /** Standard deviation of additive Gaussian noise, in pixel units (0-1). Defaults to 0.05. */
  noise?: number;
  /** Largest relative brightness change (uniform in +-). Defaults to 0.2 (+-20%). */
  brightness?: number;
  /** Probability of an elastic deformation. Defaults to 0.5. */
  elasticProbability?: number;
  /** Elastic strength in pixels (Simard et al. 2003's alpha). Defaults to 34. */
  elasticAlpha?: number;
  /** Smoothness of the elastic field (Gaussian sigma in pixels). Defaults to 4. */
  elasticSigma?: number;
}

/** A 1-D Gaussian kernel of radius ceil(3 sigma), normalised to sum 1. */
function gaussianKernel(sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    kernel[i + radius] = v;
    sum += v;
  }
  for (let i = 0; i < kernel.length; i++) kernel[i]! /= sum;
  return kernel;
}

/** One pass of a 1-D convolution along rows or along columns, zero outside the image. */
function convolveAxis(field: Float32Array, width: number, height: number, kernel: Float32Array, alongRows: boolean): Float32Array {
  const radius = (kernel.length - 1) / 2;
  const out = new Float32Array(field.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = -radius; k <= radius; k++) {
        const xx = alongRows ? x + k : x;
        const yy = alongRows ? y : y + k;
        if (xx >= 0 && xx < width && yy >= 0 && yy < height) s += field[yy * width + xx]! * kernel[k + radius]!;
      }
      out[y * width + x] = s;
    }
  }
  return out;
}

/** Separable Gaussian blur with zero padding (the displacement field is zero outside). */
function blur(field: Float32Array, width: number, height: number, kernel: Float32Array): Float32Array {
  return convolveAxis(convolveAxis(field, width, height, kernel, true), width, height, kernel, false);
}

/**
 * A random smooth displacement field (Simard et al. 2003): uniform noise in [-1, 1] blurred by
 * a Gaussian of `sigma` and scaled by `alpha`. Blurring shrinks the noise a lot, which is why
 * alpha is large.
 */
export function elasticField(width: number, height: number, rng: Rng, alpha: number, sigma: number): { dx: Float32Array; dy: Float32Array } {
  const kernel = gaussianKernel(sigma);
  const random = (): Float32Array => {
    const field = new Float32Array(width * height);
    for (let i = 0; i < field.length; i++) field[i] = rng.uniform(-1, 1);
    const smooth = blur(field, width, height, kernel);
    for (let i = 0; i < smooth.length; i++) smooth[i]! *= alpha;
    return smooth;
  };
  return { dx: random(), dy: random() };
}

/** Bilinear sample of `image` at (x, y); 0 (background) outside. */
function sample(image: ArrayLike<number>, width: number, height: number, x: number, y: number): number {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const at = (xx: number, yy: number): number => (xx >= 0 && xx < width && yy >= 0 && yy < height ? (image[yy * width + xx] as number) : 0);
  return (
    at(x0, y0) * (1 - fx) * (1 - fy) + at(x0 + 1, y0) * fx * (1 - fy) + at(x0, y0 + 1) * (1 - fx) * fy + at(x0 + 1, y0 + 1) * fx * fy
  );
}

/**
 * Returns an augmented copy of one `width` x `height` grayscale image (values in [0, 1]; the
 * input is not changed). Each transform draws its parameters from `rng`; set an option to 0 to
 * turn that transform off.
 *
 * @example
 * const rng = createRng(1);
 * const augmented = augmentChar(charImage(train, 0), 28, 28, rng);
 */
export function augmentChar(image: ArrayLike<number>, width: number, height: number, rng: Rng, options: CharAugmentOptions = {}): Float32Array {
  const maxRotation = ((options.maxRotationDegrees ?? 15) * Math.PI) / 180;
  const [zoomMin, zoomMax] = options.zoom ?? [0.9, 1.1];
  const maxShift = options.maxShift ?? 0.1;
  const noise = options.noise ?? 0.05;
  const brightness = options.brightness ?? 0.2;
  const elasticProbability = options.elasticProbability ?? 0.5;
  const elasticAlpha = options.elasticAlpha ?? 34;
  const elasticSigma = options.elasticSigma ?? 4;

  const angle = rng.uniform(-maxRotation, maxRotation);
  const zoom = rng.uniform(zoomMin, zoomMax);
  const shiftX = rng.uniform(-maxShift, maxShift) * width;
  const shiftY = rng.uniform(-maxShift, maxShift) * height;
  const gain = 1 + rng.uniform(-brightness, brightness);
  const field = elasticProbability > 0 && rng.chance(elasticProbability) ? elasticField(width, height, rng, elasticAlpha, elasticSigma) : undefined;

  // Inverse mapping: for each output pixel, where in the input it comes from. Output = input
  // rotated by `angle` and scaled by `zoom` about the centre, then shifted.
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const cos = Math.cos(angle) / zoom;
  const sin = Math.sin(angle) / zoom;
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      let u = x - cx - shiftX;
      let v = y - cy - shiftY;
      if (field) {
        u += field.dx[i]!;
        v += field.dy[i]!;
      }
      const sx = cos * u + sin * v + cx;
      const sy = -sin * u + cos * v + cy;
      let value = sample(image, width, height, sx, sy) * gain;
      if (noise > 0) value += noise * rng.normal();
      out[i] = value < 0 ? 0 : value > 1 ? 1 : value;
    }
  }
  return out;
}
