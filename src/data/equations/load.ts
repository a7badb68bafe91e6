/**
 * Loading a user's folder of labelled images: a `labels.csv` (`filename,label`) or a text file
 * of `filename label` lines, with images of any size. Everything is checked up front; bad rows
 * either fail the load with one DataError naming the first of them, or, with `skipInvalid`,
 * are dropped and reported with their reasons. Nothing is dropped silently.
 */
import { existsSync, promises as fs, statSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError, DataError } from '../../errors';
import { describeBytes, maxImagePixels, positiveIntegerFromEnv } from '../../image/limits';
import { decodeSimplePng, pngDimensions } from '../../image/png';
import { type FileReadLimit, fileKind, imageFileLimit, openRegularFile, readRegularFile, readRegularFileHead } from '../../image/read-file';
import { loadSharp, readImageHeader } from '../../image/sharp-io';
import { EQUATION_ALPHABET } from '../../labels/alphabet';

/** One labelled image of a data set. */
export interface LabeledImage {
  /** Absolute path of the image. */
  path: string;
  /** The file name as written in the labels file. */
  filename: string;
  label: string;
  /** 1-based line of the labels file. */
  row: number;
}

/** Why a row was rejected. */
export type InvalidRowReason =
  | 'malformed-row'
  | 'empty-label'
  | 'bad-character'
  | 'duplicate-file'
  | 'missing-image'
  | 'unreadable-image'
  | 'corrupt-image'
  | 'image-too-large';

/** A rejected row: where, which file, and why. */
export interface InvalidRow {
  row: number;
  filename: string;
  reason: InvalidRowReason;
  detail: string;
}

export interface LoadLabeledImagesOptions {
  /** The labels file. Defaults to `labels.csv` in the folder, else `labels.txt`. */
  labelsFile?: string;
  /** Drop bad rows (reported in the result) instead of failing. Defaults to false. */
  skipInvalid?: boolean;
  /** How images are checked: `decode` (every pixel) or `header` (format and size only, faster). Defaults to `decode`. */
  check?: 'decode' | 'header';
  /** Characters labels may use. Defaults to the 16 equation symbols. */
  alphabet?: string;
  /**
   * Largest width x height of an image, read from its header before anything is decoded; larger
   * ones are invalid rows (`image-too-large`). Defaults to `maxImagePixels()`: GLYPHLAB_MAX_IMAGE_PIXELS, else 50 megapixels.
   */
  maxPixels?: number;
  /** Largest image file read, in bytes. Defaults to `maxImageBytes()`: GLYPHLAB_MAX_IMAGE_BYTES, else 64 MiB. */
  maxBytes?: number;
  /** Largest labels file read, in bytes. Defaults to `maxLabelsBytes()`: GLYPHLAB_MAX_LABELS_BYTES, else 64 MiB. */
  maxLabelsBytes?: number;
  /** Images checked at once (sharp decodes on libuv threads). Defaults to 16. */
  concurrency?: number;
  /** How many bad rows an error message names. Defaults to 8. */
  maxReported?: number;
}

/** A loaded data set. */
export interface LabeledImageSet {
  dir: string;
  labelsPath: string;
  samples: LabeledImage[];
  /** Rows dropped because of `skipInvalid` (empty otherwise). */
  invalid: InvalidRow[];
  /** Number of dropped rows per reason. */
  invalidCounts: Partial<Record<InvalidRowReason, number>>;
}

export interface RawRow {
  row: number;
  fields: string[];
}

/** A parser fed text in pieces, which hands over each row as soon as it ends. */
export interface RowParser {
  push(text: string): void;
  end(): void;
}

/**
 * An incremental RFC 4180 parser (quoted fields may hold commas, quotes and newlines): the same
 * rows whatever the pieces the text comes in, so that a labels file is parsed as it streams.
 */
export function createCsvParser(onRow: (row: RawRow) => void): RowParser {
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  // A quote inside a quoted field: the next character says whether it was "" or the closing one.
  let quotePending = false;
  // The row ended at a \r: a \n right after it belongs to the same line break.
  let afterCr = false;
  let line = 1;
  let rowStart = 1;
  let fieldStarted = false;
  const endRow = (): void => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '' && !fieldStarted)) onRow({ row: rowStart, fields });
    fields = [];
    field = '';
    fieldStarted = false;
  };
  return {
    push(text: string): void {
      let i = 0;
      while (i < text.length) {
        const ch = text[i] as string;
        if (afterCr) {
          afterCr = false;
          if (ch === '\n') {
            i++;
            continue;
          }
        }
        if (quotePending) {
          quotePending = false;
          if (ch === '"') {
            field += '"';
            i++;
            continue;
          }
          quoted = false;
        }
        if (quoted) {
          if (ch === '"') quotePending = true;
          else {
            if (ch === '\n') line++;
            field += ch;
          }
          i++;
          continue;
        }
        if (ch === '"') {
          quoted = true;
          fieldStarted = true;
        } else if (ch === ',') {
          fields.push(field);
          field = '';
          fieldStarted = true;
        } else if (ch === '\n' || ch === '\r') {
          afterCr = ch === '\r';
          endRow();
          line++;
          rowStart = line;
        } else {
          // A run of plain characters in one slice: a string built a character at a time costs
          // far more on a labels file of millions of rows.
          let stop = i + 1;
          while (stop < text.length && !'",\r\n'.includes(text[stop] as string)) stop++;
          field += text.slice(i, stop);
          fieldStarted = true;
          i = stop;
          continue;
        }
        i++;
      }
    },
    end(): void {
      if (quotePending) quoted = false;
      if (field !== '' || fields.length > 0 || fieldStarted) endRow();
    },
  };
}

/** Parses CSV text with RFC 4180 quoting (quoted fields may hold commas, quotes and newlines). */
export function parseCsv(text: string): RawRow[] {
  const rows: RawRow[] = [];
  const parser = createCsvParser((row) => rows.push(row));
  parser.push(text);
  parser.end();
  return rows;
}

/** An incremental parser of `filename label` lines (whitespace-separated; the label is the rest of the line). */
export function createLineParser(onRow: (row: RawRow) => void): RowParser {
  let carry = '';
  let line = 0;
  const take = (text: string): void => {
    line++;
    const trimmed = text.trim();
    if (trimmed === '') return;
    const match = /^(\S+)(?:\s+(.*))?$/.exec(trimmed);
    onRow({ row: line, fields: match ? [match[1] ?? '', (match[2] ?? '').trim()] : [trimmed] });
  };
  return {
    push(text: string): void {
      const lines = (carry + text).split(/\r?\n/);
      carry = lines.pop() ?? '';
      for (const text of lines) take(text);
    },
    end(): void {
      // A \r at the very end of a piece may have been half of a \r\n; at the end of the file it is whitespace.
      if (carry !== '') take(carry);
      carry = '';
    },
  };
}

/**
 * Bytes a labels file may have unless `GLYPHLAB_MAX_LABELS_BYTES` says otherwise: 64 MiB, about
 * 2.4 million rows of synthesised names (eight times the largest set glyphlab's recipes use).
 * Measured: the rows of a 128 MiB file took 1.8 GB of heap, so 64 MiB stays within the 2 GB
 * that Node gives its heap on a machine of 8 GB.
 */
export const DEFAULT_MAX_LABELS_BYTES = 64 * 2 ** 20;

/**
 * The byte limit of a labels file in force: `GLYPHLAB_MAX_LABELS_BYTES` when set (a positive
 * integer; anything else is a ConfigError naming it), else {@link DEFAULT_MAX_LABELS_BYTES}.
 * Every row becomes a few hundred bytes of memory, so the limit keeps a load within Node's
 * default heap; a larger file needs a larger heap too (`NODE_OPTIONS=--max-old-space-size=MB`).
 */
export function maxLabelsBytes(env: Record<string, string | undefined> = process.env): number {
  return positiveIntegerFromEnv(env, 'GLYPHLAB_MAX_LABELS_BYTES', DEFAULT_MAX_LABELS_BYTES, 'bytes', '536870912');
}

/** The limit of a labels file, for the bounded readers of `image/read-file.ts`. */
export function labelsFileLimit(maxBytes: number = maxLabelsBytes()): FileReadLimit {
  return {
    maxBytes,
    what: 'labels file',
    limitVariable: 'GLYPHLAB_MAX_LABELS_BYTES',
    advice: 'each row takes a few hundred bytes of memory, so a much larger file also needs NODE_OPTIONS=--max-old-space-size=MB',
  };
}

function findLabelsFile(dir: string, given: string | undefined): string {
  const mustBeFile = (path: string): string => {
    const stats = statSync(path);
    if (!stats.isFile()) {
      throw new DataError(`labels file ${path} is ${fileKind(stats)}, not a file: expected a file of filename,label rows (labels.csv) or filename label lines (labels.txt)`);
    }
    return path;
  };
  if (given !== undefined) {
    const path = isAbsolute(given) ? given : resolve(dir, given);
    if (!existsSync(path)) throw new DataError(`labels file ${path} does not exist`);
    return mustBeFile(path);
  }
  for (const name of ['labels.csv', 'labels.txt']) {
    const path = join(dir, name);
    if (existsSync(path)) return mustBeFile(path);
  }
  throw new DataError(`no labels file in ${dir}: expected labels.csv (filename,label) or labels.txt (filename label lines)`);
}

/**
 * Streams a labels file through `parser` without ever holding its text: refused up front when it
 * is no regular file or larger than `limit` (a DataError naming it and the limit), and read only
 * up to the size it had then, so that a file still growing cannot run on.
 */
async function streamLabelsFile(path: string, limit: FileReadLimit, parser: RowParser): Promise<void> {
  let opened: { handle: FileHandle; size: number };
  try {
    opened = await openRegularFile(path, limit);
  } catch (error) {
    if (error instanceof DataError) throw error;
    throw new DataError(`cannot read labels file ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
  }
  const { handle, size } = opened;
  try {
    if (size === 0) return;
    let first = true;
    const stream = handle.createReadStream({ encoding: 'utf8', start: 0, end: size - 1, autoClose: false, highWaterMark: 1 << 20 });
    for await (const piece of stream as AsyncIterable<string>) {
      parser.push(first ? piece.replace(/^\uFEFF/, '') : piece);
      first = false;
    }
    parser.end();
  } catch (error) {
    if (error instanceof DataError) throw error;
    throw new DataError(`cannot read labels file ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
  } finally {
    await handle.close();
  }
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const run = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, run));
  return results;
}

/** Bytes of a PNG up to the end of its IHDR chunk's size fields: all that `pngDimensions` reads. */
const PNG_HEADER_BYTES = 24;

/**
 * Checks one image file; `undefined` when it is fine. A path that is no regular file (a FIFO, a
 * device, a folder) or a file above the byte limit is refused before anything is read. The size
 * comes from the header first, in every mode (a PNG's in JavaScript, others through sharp): it
 * decides whether decoding is safe; `header` reads no more of the file than that. `decode` then
 * decodes it the way the batch source will (`loadModelInput`: simple PNGs in JavaScript,
 * anything else through sharp, failing on any decoder error), so that an image that passes
 * cannot fail later, at the last epoch's test evaluation.
 */
async function checkImage(path: string, check: 'decode' | 'header', maxPixels: number, limit: FileReadLimit): Promise<{ reason: InvalidRowReason; detail: string } | undefined> {
  let bytes: Buffer;
  try {
    // stat, not open: opening a FIFO would wait for a writer.
    const stats = await fs.stat(path);
    if (!stats.isFile()) return { reason: 'unreadable-image', detail: `${path} is ${fileKind(stats)}, not a regular file` };
    if (stats.size > limit.maxBytes) {
      return {
        reason: 'image-too-large',
        detail: `${describeBytes(stats.size)}, more than the limit of ${describeBytes(limit.maxBytes)} for an image file (GLYPHLAB_MAX_IMAGE_BYTES=N raises it)`,
      };
    }
    bytes = check === 'header' ? await readRegularFileHead(path, PNG_HEADER_BYTES, limit) : await readRegularFile(path, limit);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { reason: 'missing-image', detail: `no such file ${path}` };
    // The file changed between stat and open: the reader's own message says how.
    if (error instanceof DataError) return { reason: 'unreadable-image', detail: error.message };
    return { reason: 'unreadable-image', detail: `cannot read ${path} (${code ?? String(error)})` };
  }
  try {
    // Not a PNG: sharp reads the header of whatever format it is from the file, and no further.
    const { width, height } = pngDimensions(bytes) ?? (await readImageHeader(check === 'header' ? path : bytes, { maxBytes: limit.maxBytes }));
    if (width * height > maxPixels) {
      return {
        reason: 'image-too-large',
        detail: `${width}x${height} = ${width * height} pixels, more than the limit of ${maxPixels} (GLYPHLAB_MAX_IMAGE_PIXELS=N raises it)`,
      };
    }
    if (check === 'decode' && !decodeSimplePng(bytes, { maxPixels })) {
      await loadSharp()(bytes, { failOn: 'error', limitInputPixels: maxPixels }).raw().toBuffer();
    }
    return undefined;
  } catch (error) {
    return { reason: 'corrupt-image', detail: `${basename(path)} is not a readable PNG/JPEG image: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` };
  }
}

/** One line naming the first invalid rows, for errors and reports. */
export function describeInvalidRows(invalid: readonly InvalidRow[], maxReported = 8): string {
  const shown = invalid.slice(0, maxReported).map((r) => `row ${r.row} (${r.filename || '?'}): ${r.reason}: ${r.detail}`);
  const more = invalid.length > maxReported ? `; and ${invalid.length - maxReported} more` : '';
  return `${shown.join('; ')}${more}`;
}

/**
 * Loads and checks a folder of labelled images. File names in the labels file are relative to
 * the labels file's folder (or absolute).
 *
 * @example
 * const set = await loadLabeledImages('data/my-equations', { skipInvalid: true });
 * console.log(set.samples.length, set.invalidCounts);
 */
export async function loadLabeledImages(dir: string, options: LoadLabeledImagesOptions = {}): Promise<LabeledImageSet> {
  const alphabet = options.alphabet ?? EQUATION_ALPHABET;
  const check = options.check ?? 'decode';
  if (check !== 'decode' && check !== 'header') throw new ConfigError(`check ${JSON.stringify(check)} is not valid: expected decode or header`);
  const maxReported = options.maxReported ?? 8;
  const root = resolve(dir);
  if (!existsSync(root)) throw new DataError(`data folder ${root} does not exist`);
  if (!statSync(root).isDirectory()) throw new DataError(`data folder ${root} is a file; give the folder that holds labels.csv (or labels.txt) and the images`);
  const labelsPath = findLabelsFile(root, options.labelsFile);
  const baseDir = dirname(labelsPath);
  const isCsv = labelsPath.toLowerCase().endsWith('.csv');

  const invalid: InvalidRow[] = [];
  const candidates: LabeledImage[] = [];
  const seen = new Map<string, number>();
  const allowed = new Set(alphabet);
  let rowCount = 0;
  let firstRow = true;
  // Rows are checked as the file streams in, so that only the samples are ever held, not its text.
  const takeRow = ({ row, fields }: RawRow): void => {
    // Only the file's first row may be the header.
    const mayBeHeader = firstRow;
    firstRow = false;
    if (mayBeHeader && (fields[0] ?? '').trim().toLowerCase() === 'filename') return;
    rowCount++;
    const filename = (fields[0] ?? '').trim();
    if (fields.length !== 2 || filename === '') {
      invalid.push({ row, filename, reason: 'malformed-row', detail: `expected 2 fields (filename${isCsv ? ',' : ' '}label), got ${fields.length}` });
      return;
    }
    const label = (fields[1] ?? '').trim();
    if (label === '') {
      invalid.push({ row, filename, reason: 'empty-label', detail: 'the label is empty' });
      return;
    }
    const badChar = Array.from(label).find((c) => !allowed.has(c));
    if (badChar !== undefined) {
      invalid.push({ row, filename, reason: 'bad-character', detail: `label ${JSON.stringify(label)} has ${JSON.stringify(badChar)}, not in the alphabet ${JSON.stringify(alphabet)}` });
      return;
    }
    const path = isAbsolute(filename) ? filename : resolve(baseDir, filename);
    const earlier = seen.get(path);
    if (earlier !== undefined) {
      invalid.push({ row, filename, reason: 'duplicate-file', detail: `the same file as row ${earlier}` });
      return;
    }
    seen.set(path, row);
    candidates.push({ path, filename, label, row });
  };
  await streamLabelsFile(labelsPath, labelsFileLimit(options.maxLabelsBytes), isCsv ? createCsvParser(takeRow) : createLineParser(takeRow));
  seen.clear();

  const maxPixels = options.maxPixels ?? maxImagePixels();
  const imageLimit = imageFileLimit(options.maxBytes);
  const problems = await mapLimit(candidates, options.concurrency ?? 16, (sample) => checkImage(sample.path, check, maxPixels, imageLimit));
  const samples: LabeledImage[] = [];
  candidates.forEach((sample, i) => {
    const problem = problems[i];
    if (problem) invalid.push({ row: sample.row, filename: sample.filename, ...problem });
    else samples.push(sample);
  });
  invalid.sort((a, b) => a.row - b.row);

  if (invalid.length > 0 && !options.skipInvalid) {
    throw new DataError(
      `${labelsPath}: ${invalid.length} of ${rowCount} rows are invalid: ${describeInvalidRows(invalid, maxReported)} ` +
        `(fix or remove those rows in ${labelsPath}; \`glyphlab data check ${root} --skip-invalid\` reports them and how many of each kind, and the API's skipInvalid option drops them)`,
    );
  }
  if (samples.length === 0) throw new DataError(`${labelsPath} lists no usable images (${rowCount} rows, ${invalid.length} invalid)`);
  const invalidCounts: Partial<Record<InvalidRowReason, number>> = {};
  for (const r of invalid) invalidCounts[r.reason] = (invalidCounts[r.reason] ?? 0) + 1;
  return { dir: root, labelsPath, samples, invalid, invalidCounts };
}
