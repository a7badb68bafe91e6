/**
 * Decompression bombs for tests: valid PNGs of one flat colour whose pixels take far more memory
 * than their bytes (20000 x 20000 grayscale is 1.7 MB of PNG, 400 MB of pixels). Deflated as a
 * stream, so making one never holds the pixels in memory.
 */
import { writeFileSync } from 'node:fs';
import { createDeflate, crc32 } from 'node:zlib';

function chunk(type: string, payload: Buffer): Buffer {
  const out = Buffer.alloc(12 + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.write(type, 4, 'latin1');
  payload.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + payload.length)), 8 + payload.length);
  return out;
}

/** Writes a `width` x `height` all-black 8-bit grayscale PNG to `path` and returns its size in bytes. */
export async function writePngBomb(path: string, width: number, height: number): Promise<number> {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // grayscale
  const deflate = createDeflate({ level: 1 });
  const parts: Buffer[] = [];
  deflate.on('data', (part: Buffer) => parts.push(part));
  const done = new Promise<void>((resolve, reject) => deflate.on('end', resolve).on('error', reject));
  const rowsPerWrite = Math.max(1, Math.floor(4_000_000 / (width + 1)));
  const block = Buffer.alloc(rowsPerWrite * (width + 1)); // filter byte 0 and black pixels
  for (let row = 0; row < height; row += rowsPerWrite) {
    const rows = Math.min(rowsPerWrite, height - row);
    if (!deflate.write(block.subarray(0, rows * (width + 1)))) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  deflate.end();
  await done;
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const png = Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', Buffer.concat(parts)), chunk('IEND', Buffer.alloc(0))]);
  writeFileSync(path, png);
  return png.length;
}
