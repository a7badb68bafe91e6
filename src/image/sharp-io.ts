/**
 * The edge where glyphlab touches sharp: decoding files to {@link RawImage}, reading headers,
 * resizing and encoding. sharp runs its work on libuv threads, so several decodes in flight
 * use several cores. sharp is required lazily so that importing glyphlab stays cheap.
 */
import type sharpFunction from 'sharp';
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
}

/** Decodes a PNG/JPEG/... file or buffer to 8-bit pixels. */
export async function decodeImage(input: string | Buffer, options: DecodeImageOptions = {}): Promise<RawImage> {
  const sharp = loadSharp();
  const channels = options.channels ?? 3;
  let pipeline = sharp(input, { failOn: 'error' }).flatten({ background: '#ffffff' });
  if (options.height !== undefined) pipeline = pipeline.resize({ height: options.height, fit: 'inside', withoutEnlargement: false });
  pipeline = channels === 1 ? pipeline.grayscale() : pipeline.removeAlpha().toColourspace('srgb');
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== channels) {
    throw new Error(`decoded ${info.channels} channels, expected ${channels}`);
  }
  return { width: info.width, height: info.height, channels, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** Width, height and format from a file's header, without decoding the pixels. */
export async function readImageHeader(input: string | Buffer): Promise<{ width: number; height: number; format: string }> {
  const meta = await loadSharp()(input).metadata();
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
