/**
 * The edge where glyphlab touches sharp: decoding files to {@link RawImage}, reading headers,
 * resizing and encoding. sharp runs its work on libuv threads, so several decodes in flight
 * use several cores. sharp is required lazily so that importing glyphlab stays cheap.
 */
import { promises as fs } from 'node:fs';
import type sharpFunction from 'sharp';
import { checkImageSize, maxImagePixels } from './limits';
import { checkRegularFile, imageFileLimit, readRegularFile } from './read-file';
import type { RawImage } from './raw-image';

type SharpModule = typeof sharpFunction;
let sharpModule: SharpModule | undefined;

/** The sharp module, loaded on first use. */
export function loadSharp(): SharpModule {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  if (!sharpModule) sharpModule = require('sharp') as SharpModule;
  return sharpModule;
}

export interface DecodeImageOptions {
  /** Channels wanted: 1 (grayscale) or 3 (RGB, alpha flattened onto white). Defaults to 3. */
  channels?: 1 | 3;
  /** Resize to this height keeping the aspect ratio. Defaults to no resize. */
  height?: number;
  /** Largest width x height decoded, checked in the header first. Defaults to `maxImagePixels()` (see `limits.ts`). */
  maxPixels?: number;
  /** Largest file read, when `input` is a path. Defaults to `maxImageBytes()` (see `limits.ts`). */
  maxBytes?: number;
}

/**
 * Decodes a PNG/JPEG/... file or buffer to 8-bit pixels. An image whose header declares more
 * than `maxPixels` pixels is a DataError, raised before any pixel is decoded; so is a path that
 * is no regular file (a FIFO, a device) or a file of more than `maxBytes`, before it is read.
 */
export async function decodeImage(input: string | Buffer, options: DecodeImageOptions = {}): Promise<RawImage> {
  const sharp = loadSharp();
  const channels = options.channels ?? 3;
  const maxPixels = options.maxPixels ?? maxImagePixels();
  const name = typeof input === 'string' ? input : 'the image';
  // Read here rather than by sharp, so that the file is checked before a byte of it is read.
  const bytes = typeof input === 'string' ? await readRegularFile(input, imageFileLimit(options.maxBytes)) : input;
  let pipeline = sharp(bytes, { failOn: 'error', limitInputPixels: maxPixels }).flatten({ background: '#ffffff' });
  if (options.height !== undefined) pipeline = pipeline.resize({ height: options.height, fit: 'inside', withoutEnlargement: false });
  pipeline = channels === 1 ? pipeline.grayscale() : pipeline.removeAlpha().toColourspace('srgb');
  let decoded: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    decoded = await pipeline.raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    // sharp checks the header against limitInputPixels; say so in glyphlab's words, with the size.
    if (error instanceof Error && /pixel limit/i.test(error.message)) {
      const { width, height } = await readImageHeader(bytes);
      checkImageSize(width, height, name, maxPixels);
    }
    throw error;
  }
  const { data, info } = decoded;
  if (info.channels !== channels) {
    throw new Error(`decoded ${info.channels} channels, expected ${channels}`);
  }
  return { width: info.width, height: info.height, channels, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/**
 * Width, height and format from a file's header, without decoding the pixels (check them with
 * `checkImageSize`). A path is checked first like {@link decodeImage}'s (a regular file of at
 * most `maxBytes`, default `maxImageBytes()`); sharp then reads only as much of it as the header takes.
 */
export async function readImageHeader(input: string | Buffer, options: { maxBytes?: number } = {}): Promise<{ width: number; height: number; format: string }> {
  if (typeof input === 'string') checkRegularFile(input, await fs.stat(input), imageFileLimit(options.maxBytes));
  // No pixel limit here: reading the header decodes no pixels, and its size is what callers check.
  const meta = await loadSharp()(input, { limitInputPixels: false }).metadata();
  if (!meta.width || !meta.height || !meta.format) throw new Error('no image size or format in the header');
  return { width: meta.width, height: meta.height, format: meta.format };
}

/** Encodes pixels as PNG through sharp (for reports; synthesis uses the JS encoder). */
export async function encodePngWithSharp(image: RawImage): Promise<Buffer> {
  return loadSharp()(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
    raw: { width: image.width, height: image.height, channels: image.channels },
  })
    .png()
    .toBuffer();
}
