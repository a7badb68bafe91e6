/**
 * A small value type for decoded pixels, so that synthesis, augmentation and preprocessing
 * work on plain typed arrays and only the edges (decode, encode, resize) touch sharp.
 */

/** Interleaved 8-bit pixels, row-major, `channels` values per pixel. */
export interface RawImage {
  width: number;
  height: number;
  /** 1 (grayscale), 3 (RGB) or 4 (RGBA). */
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

/** Creates a `width` x `height` image filled with `fill` (one value per channel). */
export function createRawImage(width: number, height: number, channels: 1 | 3 | 4, fill: readonly number[] = []): RawImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`createRawImage needs positive integer sizes, got ${width}x${height}`);
  }
  const data = new Uint8Array(width * height * channels);
  if (fill.length > 0) {
    for (let i = 0; i < data.length; i += channels) {
      for (let c = 0; c < channels; c++) data[i + c] = fill[c] ?? fill[0] ?? 0;
    }
  }
  return { width, height, channels, data };
}

/** The luminance (ITU-R BT.601, in 8-bit fixed point) of each pixel, as a one-channel image. */
export function toGrayscale(image: RawImage): RawImage {
  if (image.channels === 1) return image;
  const out = new Uint8Array(image.width * image.height);
  const { data, channels } = image;
  for (let p = 0, i = 0; p < out.length; p++, i += channels) {
    out[p] = (77 * data[i]! + 150 * data[i + 1]! + 29 * data[i + 2]! + 128) >> 8;
  }
  return { width: image.width, height: image.height, channels: 1, data: out };
}

/**
 * Mean ink of each column: darkness relative to the image's background, `(bg - gray) / bg`
 * clamped at 0 and averaged over the rows, where `bg` is the image's 75th-percentile
 * brightness (most pixels are background). Measuring against the background keeps a tinted
 * background from looking like ink spread evenly across the width.
 */
export function columnInkProfile(image: RawImage): Float64Array {
  const gray = toGrayscale(image);
  const histogram = new Uint32Array(256);
  for (let i = 0; i < gray.data.length; i++) histogram[gray.data[i]!]!++;
  let background = 255;
  for (let v = 0, seen = 0; v < 256; v++) {
    seen += histogram[v]!;
    if (seen >= gray.data.length * 0.75) {
      background = Math.max(1, v);
      break;
    }
  }
  const profile = new Float64Array(gray.width);
  for (let y = 0; y < gray.height; y++) {
    const row = y * gray.width;
    for (let x = 0; x < gray.width; x++) {
      const ink = (background - gray.data[row + x]!) / background;
      if (ink > 0) profile[x] = profile[x]! + ink;
    }
  }
  for (let x = 0; x < gray.width; x++) profile[x] = profile[x]! / gray.height;
  return profile;
}

/**
 * Converts to 1 (luminance) or 3 channels; alpha is composited onto white.
 */
export function convertChannels(image: RawImage, channels: 1 | 3): RawImage {
  if (image.channels === channels) return image;
  let rgb = image;
  if (image.channels === 4) {
    const out = new Uint8Array(image.width * image.height * 3);
    for (let p = 0, i = 0, o = 0; p < image.width * image.height; p++, i += 4, o += 3) {
      const a = (image.data[i + 3] ?? 255) / 255;
      for (let c = 0; c < 3; c++) out[o + c] = Math.round((image.data[i + c] ?? 0) * a + 255 * (1 - a));
    }
    rgb = { width: image.width, height: image.height, channels: 3, data: out };
  }
  if (channels === 1) return toGrayscale(rgb);
  if (rgb.channels === 3) return rgb;
  const out = new Uint8Array(rgb.width * rgb.height * 3);
  for (let p = 0; p < rgb.width * rgb.height; p++) out[3 * p] = out[3 * p + 1] = out[3 * p + 2] = rgb.data[p] ?? 0;
  return { width: rgb.width, height: rgb.height, channels: 3, data: out };
}

/**
 * Shrinks by a whole `factor` in both directions, each output pixel the rounded mean of a
 * `factor` x `factor` block (area averaging, per channel). The sizes must be multiples of
 * `factor`. For whole factors this is what a resampler's area filter gives, in a fraction of
 * the time a round trip through sharp takes for a small image.
 *
 * @example
 * shrinkByInteger(decodeSimplePng(bytes)!, 2) // a 300x64 image as 150x32
 */
export function shrinkByInteger(image: RawImage, factor: number): RawImage {
  if (!Number.isInteger(factor) || factor < 1) throw new RangeError(`shrinkByInteger needs a positive integer factor, got ${factor}`);
  if (image.width % factor !== 0 || image.height % factor !== 0) {
    throw new RangeError(`shrinkByInteger: ${image.width}x${image.height} is not a multiple of ${factor} in both directions`);
  }
  if (factor === 1) return image;
  const { channels, data } = image;
  const width = image.width / factor;
  const height = image.height / factor;
  const out = new Uint8Array(width * height * channels);
  const sums = new Uint32Array(width * channels);
  const area = factor * factor;
  const half = area >> 1;
  const rowLength = image.width * channels;
  for (let y = 0; y < height; y++) {
    sums.fill(0);
    for (let dy = 0; dy < factor; dy++) {
      const row = (y * factor + dy) * rowLength;
      for (let x = 0, i = row; x < width; x++) {
        const o = x * channels;
        for (let dx = 0; dx < factor; dx++) {
          for (let c = 0; c < channels; c++, i++) sums[o + c] = sums[o + c]! + data[i]!;
        }
      }
    }
    const base = y * width * channels;
    for (let k = 0; k < sums.length; k++) out[base + k] = Math.floor((sums[k]! + half) / area);
  }
  return { width, height, channels, data: out };
}
