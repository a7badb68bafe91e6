/**
 * The A-Z handwritten letters CSV (Kaggle's "A_Z Handwritten Data.csv",
 * about 370,000 rows, ~700 MB): one image a row, the label (0-25 for A-Z) then 784 pixel values
 * 0-255 of a 28x28 image. The file is read line by line so that it never sits in memory as text,
 * and no line may be much longer than a row can be, so that a file without line breaks is refused
 * rather than gathered into one string; a FIFO or a device is refused before it is read.
 *
 * The file cannot be downloaded here: put it at `data/letters/A_Z Handwritten Data.csv` (or pass
 * any path) and load it with `loadLettersCsv(path)` or the `letters-csv:FILE` data specifier.
 */
import { existsSync } from 'node:fs';
import { DataError, errorMessage } from '../../errors';
import { openRegularFile } from '../../image/read-file';
import { createCharDataset, type CharDataset } from './dataset';

/** The letter class names, label 0 = 'A'. */
export const LETTER_CLASSES: readonly string[] = Array.from({ length: 26 }, (_, i) => String.fromCharCode(65 + i));

export interface LoadLettersCsvOptions {
  /** Image side in pixels; each row has side*side pixel values after the label. Defaults to 28. */
  size?: number;
  /** Read at most this many images (for quick experiments on the large file). Defaults to all. */
  limit?: number;
  /** The first line is a header to skip. Defaults to false (the Kaggle file has none). */
  header?: boolean;
  /** Class names, label i = classes[i]. Defaults to A-Z. */
  classes?: readonly string[];
}

/** Grows a typed array by doubling, so streaming needs no row count up front. */
class GrowableBytes {
  data = new Uint8Array(1 << 16);
  length = 0;
  push(values: Uint8Array): void {
    if (this.length + values.length > this.data.length) {
      const next = new Uint8Array(Math.max(this.data.length * 2, this.length + values.length));
      next.set(this.data.subarray(0, this.length));
      this.data = next;
    }
    this.data.set(values, this.length);
    this.length += values.length;
  }
}

/**
 * The lines of a stream of text (ending in \n or \r\n), none longer than `maxLength` characters:
 * a longer one is a DataError naming `path`, its line and `why` the limit holds, before more of
 * it is gathered.
 */
async function* boundedLines(pieces: AsyncIterable<string>, maxLength: number, path: string, why: string): AsyncGenerator<string> {
  let carry = '';
  let yielded = 0;
  const line = (text: string): string => (text.endsWith('\r') ? text.slice(0, -1) : text);
  for await (const piece of pieces) {
    const parts = (carry + piece).split('\n');
    carry = parts.pop() ?? '';
    for (const part of parts) {
      yielded++;
      yield line(part);
    }
    if (carry.length > maxLength) throw new DataError(`${path}:${yielded + 1}: a line of more than ${maxLength} characters; ${why}`);
  }
  if (carry !== '') yield line(carry);
}

/**
 * Streams the letters CSV into a data set (pixels scaled to [0, 1]). Every row must have exactly
 * 1 + size*size numeric fields, a label in 0..classes-1 and pixels in 0-255; otherwise a
 * DataError names the file, the line and the field.
 *
 * @example
 * const letters = await loadLettersCsv('data/letters/A_Z Handwritten Data.csv', { limit: 20000 });
 */
export async function loadLettersCsv(path: string, options: LoadLettersCsvOptions = {}): Promise<CharDataset> {
  const size = options.size ?? 28;
  const limit = options.limit ?? Infinity;
  const classes = options.classes ?? LETTER_CLASSES;
  const pixelCount = size * size;
  if (!existsSync(path)) {
    throw new DataError(`${path}: letters CSV not found; expected a CSV of "label,pixel1,...,pixel${pixelCount}" rows (put the A-Z handwritten data at data/letters/)`);
  }
  // Pixels are stored as bytes while streaming (a quarter of float32's memory for the full file).
  const pixels = new GrowableBytes();
  const labels: number[] = [];
  const row = new Uint8Array(pixelCount);
  // No size limit: the real file is 700 MB, and memory grows with its rows, not its text. The
  // open refuses a FIFO (which would wait for a writer) or a device (which would never end).
  const { handle } = await openRegularFile(path, { maxBytes: Number.MAX_SAFE_INTEGER, what: 'letters CSV' });
  const stream = handle.createReadStream({ encoding: 'utf8' });
  // A row is a label and size*size values of up to 3 digits, with commas; 8 characters a field leaves room for spaces and decimals.
  const maxLineLength = (pixelCount + 1) * 8 + 1024;
  const lines = boundedLines(stream as AsyncIterable<string>, maxLineLength, path, `a row of a ${size}x${size} image (a label and ${pixelCount} pixel values) is far shorter`);
  let lineNumber = 0;
  try {
    for await (const line of lines) {
      lineNumber++;
      if (lineNumber === 1 && options.header) continue;
      if (line.trim() === '') continue;
      if (labels.length >= limit) break;
      const fields = line.split(',');
      if (fields.length !== pixelCount + 1) {
        throw new DataError(`${path}:${lineNumber}: ${fields.length} fields; expected ${pixelCount + 1} (a label then ${pixelCount} pixel values of a ${size}x${size} image)`);
      }
      const labelText = fields[0]!.trim();
      const label = Number(labelText);
      if (labelText === '' || !Number.isInteger(label) || label < 0 || label >= classes.length) {
        const hint = lineNumber === 1 && !Number.isFinite(label) ? ' (if this line is a header, pass header: true)' : '';
        throw new DataError(`${path}:${lineNumber}: label ${JSON.stringify(labelText)} in field 1 is not an integer in 0-${classes.length - 1} (${classes[0]}-${classes[classes.length - 1]})${hint}`);
      }
      for (let i = 0; i < pixelCount; i++) {
        const text = fields[i + 1]!;
        const value = Number(text);
        if (text.trim() === '' || !(value >= 0 && value <= 255)) {
          throw new DataError(`${path}:${lineNumber}: pixel value ${JSON.stringify(text)} in field ${i + 2} is not a number in 0-255`);
        }
        row[i] = Math.round(value);
      }
      pixels.push(row);
      labels.push(label);
    }
  } catch (error) {
    if (error instanceof DataError) throw error;
    throw new DataError(`${path}:${lineNumber}: cannot read the letters CSV (${errorMessage(error)})`, { cause: error });
  } finally {
    await lines.return(undefined);
    stream.destroy();
    await handle.close();
  }
  if (labels.length === 0) throw new DataError(`${path}: no data rows; expected "label,pixel1,...,pixel${pixelCount}" rows`);
  const images = new Float32Array(pixels.length);
  for (let i = 0; i < images.length; i++) images[i] = pixels.data[i]! / 255;
  return createCharDataset(images, Int32Array.from(labels), classes, { height: size, width: size, source: path });
}
