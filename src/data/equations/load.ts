/**
 * Loading a user's folder of labelled images: a `labels.csv` (`filename,label`) or a text file
 * of `filename label` lines, with images of any size. Everything is checked up front; bad rows
 * either fail the load with one DataError naming the first of them, or, with `skipInvalid`,
 * are dropped and reported with their reasons. Nothing is dropped silently.
 */
import { promises as fs, existsSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError, DataError } from '../../errors';
import { maxImagePixels } from '../../image/limits';
import { decodeSimplePng, pngDimensions } from '../../image/png';
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

interface RawRow {
  row: number;
  fields: string[];
}

/** Parses CSV text with RFC 4180 quoting (quoted fields may hold commas, quotes and newlines). */
export function parseCsv(text: string): RawRow[] {
  const rows: RawRow[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowStart = 1;
  let fieldStarted = false;
  const endRow = (): void => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '' && !fieldStarted)) rows.push({ row: rowStart, fields });
    fields = [];
    field = '';
    fieldStarted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"') {
      quoted = true;
      fieldStarted = true;
    } else if (ch === ',') {
      fields.push(field);
      field = '';
      fieldStarted = true;
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowStart = line;
    } else {
      field += ch;
      fieldStarted = true;
    }
  }
  if (field !== '' || fields.length > 0 || fieldStarted) endRow();
  return rows;
}

/** Parses `filename label` lines (whitespace-separated; the label is the rest of the line). */
function parseLines(text: string): RawRow[] {
  const rows: RawRow[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '') return;
    const match = /^(\S+)(?:\s+(.*))?$/.exec(trimmed);
    rows.push({ row: i + 1, fields: match ? [match[1] ?? '', (match[2] ?? '').trim()] : [trimmed] });
  });
  return rows;
}

function findLabelsFile(dir: string, given: string | undefined): string {
  const mustBeFile = (path: string): string => {
    if (!statSync(path).isFile()) {
      throw new DataError(`labels file ${path} is a folder, not a file: expected a file of filename,label rows (labels.csv) or filename label lines (labels.txt)`);
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

async function readLabelsFile(path: string): Promise<string> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (error) {
    throw new DataError(`cannot read labels file ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
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

/**
 * Checks one image file; `undefined` when it is fine. The size comes from the header first, in
 * every mode (a PNG's in JavaScript, others through sharp): it decides whether decoding is safe.
 * `decode` then decodes it the way the batch source will (`loadModelInput`: simple PNGs in
 * JavaScript, anything else through sharp, failing on any decoder error), so that an image that
 * passes cannot fail later, at the last epoch's test evaluation.
 */
async function checkImage(path: string, check: 'decode' | 'header', maxPixels: number): Promise<{ reason: InvalidRowReason; detail: string } | undefined> {
  let bytes: Buffer;
  try {
    const stat = await fs.stat(path);
    if (!stat.isFile()) return { reason: 'unreadable-image', detail: `${path} is not a file` };
    bytes = await fs.readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { reason: 'missing-image', detail: `no such file ${path}` };
    return { reason: 'unreadable-image', detail: `cannot read ${path} (${code ?? String(error)})` };
  }
  try {
    const { width, height } = pngDimensions(bytes) ?? (await readImageHeader(bytes));
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
  const text = await readLabelsFile(labelsPath);
  const isCsv = labelsPath.toLowerCase().endsWith('.csv');
  const rows = isCsv ? parseCsv(text.replace(/^\uFEFF/, '')) : parseLines(text.replace(/^\uFEFF/, ''));
  const first = rows[0];
  if (first && (first.fields[0] ?? '').trim().toLowerCase() === 'filename') rows.shift();

  const invalid: InvalidRow[] = [];
  const candidates: LabeledImage[] = [];
  const seen = new Map<string, number>();
  const allowed = new Set(alphabet);
  for (const { row, fields } of rows) {
    const filename = (fields[0] ?? '').trim();
    if (fields.length !== 2 || filename === '') {
      invalid.push({ row, filename, reason: 'malformed-row', detail: `expected 2 fields (filename${isCsv ? ',' : ' '}label), got ${fields.length}` });
      continue;
    }
    const label = (fields[1] ?? '').trim();
    if (label === '') {
      invalid.push({ row, filename, reason: 'empty-label', detail: 'the label is empty' });
      continue;
    }
    const badChar = Array.from(label).find((c) => !allowed.has(c));
    if (badChar !== undefined) {
      invalid.push({ row, filename, reason: 'bad-character', detail: `label ${JSON.stringify(label)} has ${JSON.stringify(badChar)}, not in the alphabet ${JSON.stringify(alphabet)}` });
      continue;
    }
    const path = isAbsolute(filename) ? filename : resolve(baseDir, filename);
    const earlier = seen.get(path);
    if (earlier !== undefined) {
      invalid.push({ row, filename, reason: 'duplicate-file', detail: `the same file as row ${earlier}` });
      continue;
    }
    seen.set(path, row);
    candidates.push({ path, filename, label, row });
  }

  const maxPixels = options.maxPixels ?? maxImagePixels();
  const problems = await mapLimit(candidates, options.concurrency ?? 16, (sample) => checkImage(sample.path, check, maxPixels));
  const samples: LabeledImage[] = [];
  candidates.forEach((sample, i) => {
    const problem = problems[i];
    if (problem) invalid.push({ row: sample.row, filename: sample.filename, ...problem });
    else samples.push(sample);
  });
  invalid.sort((a, b) => a.row - b.row);

  if (invalid.length > 0 && !options.skipInvalid) {
    throw new DataError(
      `${labelsPath}: ${invalid.length} of ${rows.length} rows are invalid: ${describeInvalidRows(invalid, maxReported)} ` +
        `(fix or remove those rows in ${labelsPath}; \`glyphlab data check ${root} --skip-invalid\` reports them and how many of each kind, and the API's skipInvalid option drops them)`,
    );
  }
  if (samples.length === 0) throw new DataError(`${labelsPath} lists no usable images (${rows.length} rows, ${invalid.length} invalid)`);
  const invalidCounts: Partial<Record<InvalidRowReason, number>> = {};
  for (const r of invalid) invalidCounts[r.reason] = (invalidCounts[r.reason] ?? 0) + 1;
  return { dir: root, labelsPath, samples, invalid, invalidCounts };
}
