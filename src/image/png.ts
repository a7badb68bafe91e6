/**
 * A minimal PNG encoder in plain JavaScript (node:zlib for deflate). Synthesis workers encode
 * here rather than through sharp so that the bytes depend only on zlib's version and level,
 * and so that a worker needs no native image library.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import { checkImageSize, maxImagePixels } from './limits';
import type { RawImage } from './raw-image';

const PNG_SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const IEND_CHUNK = Uint8Array.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

let crcTable: Uint32Array | undefined;

function crc32(bytes: Uint8Array, start: number, end: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = (crcTable[(crc ^ (bytes[i] ?? 0)) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, payload: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.write(type, 4, 'latin1');
  out.set(payload, 8);
  out.writeUInt32BE(crc32(out, 4, 8 + payload.length), 8 + payload.length);
  return out;
}

export interface EncodePngOptions {
  /** zlib level 0-9. Defaults to 6. */
  level?: number;
}

/**
 * Encodes 8-bit pixels as a PNG (grayscale, RGB or RGBA). Each row uses the Sub filter, which
 * suits flat backgrounds. The output is deterministic for a given zlib version.
 */
export function encodePng(image: RawImage, options: EncodePngOptions = {}): Buffer {
  const { width, height, channels, data } = image;
  const colorType = channels === 1 ? 0 : channels === 3 ? 2 : 6;
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = colorType;
  const stride = width * channels;
  const filtered = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const src = y * stride;
    const dst = y * (stride + 1);
    filtered[dst] = 1; // Sub
    for (let i = 0; i < channels; i++) filtered[dst + 1 + i] = data[src + i] as number;
    for (let i = channels; i < stride; i++) filtered[dst + 1 + i] = ((data[src + i] as number) - (data[src + i - channels] as number)) & 0xff;
  }
  const idat = deflateSync(filtered, { level: options.level ?? 6 });
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', header), chunk('IDAT', idat), IEND_CHUNK]);
}

/**
 * True when `bytes` start with the PNG signature and end with the IEND chunk: a cheap check
 * that a file was written completely (a torn write lacks the tail).
 */
export function isCompletePng(bytes: Uint8Array): boolean {
  if (bytes.length < PNG_SIGNATURE.length + IEND_CHUNK.length) return false;
  for (let i = 0; i < PNG_SIGNATURE.length; i++) if (bytes[i] !== PNG_SIGNATURE[i]) return false;
  const tail = bytes.length - IEND_CHUNK.length;
  for (let i = 0; i < IEND_CHUNK.length; i++) if (bytes[tail + i] !== IEND_CHUNK[i]) return false;
  return true;
}

/** Width and height from a PNG's IHDR chunk, without inflating anything; `undefined` when `bytes` is no PNG. */
export function pngDimensions(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.length < 24) return undefined;
  for (let i = 0; i < PNG_SIGNATURE.length; i++) if (bytes[i] !== PNG_SIGNATURE[i]) return undefined;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: view.readUInt32BE(16), height: view.readUInt32BE(20) };
}

/** Options of {@link decodeSimplePng}. */
export interface DecodePngOptions {
  /** Largest width x height decoded, checked in the header before inflating. Defaults to `maxImagePixels()` (see `limits.ts`). */
  maxPixels?: number;
}

/**
 * Decodes the common simple PNGs (8-bit grayscale, RGB or RGBA, not interlaced, no palette) in
 * JavaScript, with zlib's inflate. Returns `undefined` for anything else, so
 * that callers fall back to sharp. For small images this avoids most of sharp's per-call cost.
 * A PNG whose header declares more than `maxPixels` pixels is a DataError before anything is
 * inflated, and inflating stops at the size the header declares.
 */
export function decodeSimplePng(bytes: Uint8Array, options: DecodePngOptions = {}): RawImage | undefined {
  if (bytes.length < 33) return undefined;
  for (let i = 0; i < PNG_SIGNATURE.length; i++) if (bytes[i] !== PNG_SIGNATURE[i]) return undefined;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  const width = view.readUInt32BE(16);
  const height = view.readUInt32BE(20);
  checkImageSize(width, height, 'PNG', options.maxPixels ?? maxImagePixels());
  const bitDepth = view[24];
  const colorType = view[25];
  const interlace = view[28];
  const channels = colorType === 0 ? 1 : colorType === 2 ? 3 : colorType === 6 ? 4 : 0;
  if (bitDepth !== 8 || channels === 0 || interlace !== 0 || width === 0 || height === 0) return undefined;
  const parts: Buffer[] = [];
  let offset = 8;
  let ended = false;
  while (offset + 8 <= view.length) {
    const length = view.readUInt32BE(offset);
    const type = view.toString('latin1', offset + 4, offset + 8);
    if (offset + 12 + length > view.length) return undefined;
    if (type === 'IDAT') parts.push(view.subarray(offset + 8, offset + 8 + length));
    if (type === 'IEND') {
      ended = true;
      break;
    }
    offset += 12 + length;
  }
  if (!ended || parts.length === 0) return undefined;
  const stride = width * channels;
  let raw: Buffer;
  try {
    // Synchronous inflate: for small images the hop to a libuv thread costs more than inflating.
    // It stops at the size the header declares: more data than that is not a simple PNG.
    raw = inflateSync(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts), { maxOutputLength: (stride + 1) * height });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return undefined;
    throw error;
  }
  if (raw.length < (stride + 1) * height) return undefined;
  const data = new Uint8Array(stride * height);
  // One loop per filter type: a branch per byte would cost more than the inflate itself.
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    const prev = dst - stride;
    if (filter === 0 || (filter === 2 && y === 0)) {
      data.set(raw.subarray(src, src + stride), dst);
    } else if (filter === 1 || (filter === 4 && y === 0)) {
      for (let i = 0; i < channels; i++) data[dst + i] = raw[src + i]!;
      for (let i = channels; i < stride; i++) data[dst + i] = (raw[src + i]! + data[dst + i - channels]!) & 0xff;
    } else if (filter === 2) {
      for (let i = 0; i < stride; i++) data[dst + i] = (raw[src + i]! + data[prev + i]!) & 0xff;
    } else if (filter === 3) {
      for (let i = 0; i < stride; i++) {
        const a = i >= channels ? data[dst + i - channels]! : 0;
        const b = y > 0 ? data[prev + i]! : 0;
        data[dst + i] = (raw[src + i]! + ((a + b) >> 1)) & 0xff;
      }
    } else if (filter === 4) {
      for (let i = 0; i < stride; i++) {
        const a = i >= channels ? data[dst + i - channels]! : 0;
        const b = data[prev + i]!;
        const c = i >= channels ? data[prev + i - channels]! : 0;
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        data[dst + i] = (raw[src + i]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff;
      }
    } else return undefined;
  }
  return { width, height, channels: channels as 1 | 3 | 4, data };
}
