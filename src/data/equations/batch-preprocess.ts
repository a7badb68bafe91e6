/**
 * Decoding and preprocessing of one batch of images into a Float32Array `[n, h, w, c]` in
 * [-1, 1] (`x/255*2-1`). Runs in the batch workers or, without workers, on the calling thread.
 */
import { readFileSync } from 'node:fs';
import { DataError } from '../../errors';
import { decodeSimplePng, pngDimensions } from '../../image/png';
import { convertChannels, createRawImage, type RawImage } from '../../image/raw-image';
import { decodeImage } from '../../image/sharp-io';
import { createRng } from '../../util/rng';
import { type AugmentOptions, augmentImage } from './augment';

/** What a batch job needs besides the paths. */
export interface PreprocessParams {
  height: number;
  width: number;
  channels: 1 | 3;
  /** Augmentation, or false. */
  augment: AugmentOptions | false;
  /** Prefix of each image's augmentation seed (`${augmentSeed}:${sampleIndex}`). */
  augmentSeed: string;
}

/** Pads (white) or crops `image` to `width` columns. */
function fitWidth(image: RawImage, width: number): RawImage {
  if (image.width === width) return image;
  const out = createRawImage(width, image.height, image.channels, [255, 255, 255]);
  const copy = Math.min(width, image.width) * image.channels;
  for (let y = 0; y < image.height; y++) {
    out.data.set(image.data.subarray(y * image.width * image.channels, y * image.width * image.channels + copy), y * width * image.channels);
  }
  return out;
}

/**
 * Decodes one image file to a model input: resized to `height` keeping the aspect ratio,
 * padded (white, on the right) or cropped to `width`, grayscale or RGB, as 8-bit pixels.
 */
export async function loadModelInput(path: string, options: { height: number; width: number; channels: 1 | 3 }): Promise<RawImage> {
  let image: RawImage;
  try {
    // Fast path: a simple PNG already at the input height (the synthesised data) is decoded in
    // JavaScript; anything else (JPEG, palette, other sizes) goes through sharp.
    // Synchronous read: this runs in a batch worker, where blocking costs nothing and a thread hop per small file would.
    const bytes = readFileSync(path);
    // The header says whether the fast path applies; decoding first would decode twice when not.
    const png = pngDimensions(bytes)?.height === options.height ? decodeSimplePng(bytes) : undefined;
    if (png && png.height === options.height) image = convertChannels(png, options.channels);
    else image = await decodeImage(bytes, { channels: options.channels, height: options.height });
  } catch (error) {
    throw new DataError(`cannot decode ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (image.height !== options.height) {
    // `fit: inside` can round the height of extreme aspect ratios; pad or crop the rows.
    const rows = createRawImage(image.width, options.height, image.channels, [255, 255, 255]);
    rows.data.set(image.data.subarray(0, Math.min(image.height, options.height) * image.width * image.channels));
    image = rows;
  }
  return fitWidth(image, options.width);
}

/** Decodes, augments and normalises the images of one batch. */
export async function preprocessBatch(paths: readonly string[], sampleIndices: readonly number[], params: PreprocessParams): Promise<Float32Array> {
  const pixels = params.height * params.width * params.channels;
  const images = new Float32Array(paths.length * pixels);
  await Promise.all(
    paths.map(async (path, slot) => {
      let image = await loadModelInput(path, params);
      if (params.augment) image = augmentImage(image, createRng(`${params.augmentSeed}:${sampleIndices[slot]}`), params.augment);
      const offset = slot * pixels;
      const data = image.data;
      for (let i = 0; i < pixels; i++) images[offset + i] = data[i]! * (2 / 255) - 1;
    }),
  );
  return images;
}
