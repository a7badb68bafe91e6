/**
 * A loader for the IAM Handwriting Database layout (the reference implementation's data). IAM
 * cannot be downloaded here (registration required at https://fki.tic.heia-fr.ch/databases/iam-handwriting-database);
 * a user unpacks it into one folder:
 *
 *     IAM_ROOT/ascii/forms.txt        (or IAM_ROOT/forms.txt)
 *     IAM_ROOT/ascii/lines.txt        (or IAM_ROOT/lines.txt)
 *     IAM_ROOT/lines/a01/a01-000u/a01-000u-00.png   (lines.tgz)
 *
 * `forms.txt` maps forms to writers, one form a line after `#` comments:
 * `a01-000u 000 2 prt 7 5 52 36` = form id, writer id, sentences, word segmentation (prt|all),
 * lines, lines correctly segmented, words, words correctly segmented.
 *
 * `lines.txt` lists the line images:
 * `a01-000u-00 ok 154 19 408 746 1661 89 A|MOVE|to|stop|Mr.|Gaitskell|from` = line id,
 * segmentation result (ok|err), gray level for binarising, components, bounding box x y w h,
 * transcription with `|` between words. A line belongs to the form named by its id without the
 * last `-NN`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, DataError } from '../errors';
import { decodeImage } from '../image/sharp-io';
import type { WriterLineImage } from './patches';

/** One form of forms.txt. */
export interface IamForm {
  formId: string;
  writerId: string;
  lineCount: number;
}

/** One line image of lines.txt with its writer. */
export interface IamLine {
  lineId: string;
  formId: string;
  writerId: string;
  /** `ok` or `err` (IAM's word-segmentation result for the line). */
  segmentation: 'ok' | 'err';
  /** Bounding box in the form image: x, y, width, height. */
  box: [number, number, number, number];
  /** The transcription with spaces between words. */
  text: string;
  /** The line image file. */
  path: string;
}

/** Options of {@link loadIamLines}. */
export interface LoadIamLinesOptions {
  /** Keep only the writers with the most lines, this many (the reference implementation used 50). Defaults to all. */
  topWriters?: number;
  /** Leave out lines whose segmentation is `err`. Defaults to false (the images are fine for writer ID). */
  skipSegmentationErrors?: boolean;
  /** Check that every line image exists. Defaults to true. */
  checkImages?: boolean;
}

/** The result of {@link loadIamLines}. */
export interface IamLineSet {
  root: string;
  lines: IamLine[];
  /** Writers kept, most lines first. */
  writers: string[];
  /** Lines per writer kept. */
  linesPerWriter: Map<string, number>;
  /** Lines left out by `skipSegmentationErrors` or `topWriters` (never silently). */
  excluded: { segmentation: number; otherWriters: number };
}

function findFile(root: string, name: string): string {
  for (const candidate of [join(root, 'ascii', name), join(root, name)]) if (existsSync(candidate)) return candidate;
  throw new DataError(`IAM: no ${name} in ${root}: expected ${join(root, 'ascii', name)} or ${join(root, name)} (from IAM's ascii.tgz)`);
}

/** Non-comment lines of a metadata file with their 1-based line numbers. */
function dataRows(path: string): { line: number; fields: string[] }[] {
  return readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .map((text, i) => ({ line: i + 1, text: text.trim() }))
    .filter((row) => row.text !== '' && !row.text.startsWith('#'))
    .map((row) => ({ line: row.line, fields: row.text.split(/\s+/) }));
}

const FORM_ID = /^[a-z]\d\d-\d{3}[a-z]?$/;
const LINE_ID = /^([a-z]\d\d)-(\d{3}[a-z]?)-(\d\d)$/;

/** Parses IAM's forms.txt. Throws a DataError naming the file and line of a malformed row. */
export function parseIamForms(path: string): Map<string, IamForm> {
  const forms = new Map<string, IamForm>();
  for (const { line, fields } of dataRows(path)) {
    const [formId, writerId, , segmentation, lineCount] = fields;
    const where = `${path}:${line}`;
    if (fields.length !== 8 || !formId || !FORM_ID.test(formId) || !writerId || !/^\d+$/.test(writerId) || (segmentation !== 'prt' && segmentation !== 'all')) {
      throw new DataError(
        `${where}: malformed forms.txt row ${JSON.stringify(fields.join(' '))}; expected 8 fields like "a01-000u 000 2 prt 7 5 52 36" (form id, writer id, sentences, prt|all, lines, ok lines, words, ok words)`,
      );
    }
    if (forms.has(formId)) throw new DataError(`${where}: form ${formId} is listed twice`);
    forms.set(formId, { formId, writerId, lineCount: Number(lineCount) });
  }
  return forms;
}

/**
 * Loads IAM line images with their writers from `root` (layout in the module comment).
 * Malformed rows, lines of unknown forms and missing images are DataErrors naming the file and
 * line (missing images: the first few paths and the count).
 *
 * @example
 * const { lines, writers } = loadIamLines('/data/iam', { topWriters: 50 });
 */
export function loadIamLines(root: string, options: LoadIamLinesOptions = {}): IamLineSet {
  if (!existsSync(root)) throw new DataError(`IAM folder ${root} does not exist; unpack ascii.tgz and lines.tgz of the IAM database there`);
  const topWriters = options.topWriters;
  if (topWriters !== undefined && (!Number.isInteger(topWriters) || topWriters < 1)) {
    throw new ConfigError(`topWriters ${topWriters} must be a positive integer`);
  }
  const formsPath = findFile(root, 'forms.txt');
  const linesPath = findFile(root, 'lines.txt');
  const forms = parseIamForms(formsPath);
  let lines: IamLine[] = [];
  let segmentationExcluded = 0;
  const seen = new Set<string>();
  for (const { line, fields } of dataRows(linesPath)) {
    const where = `${linesPath}:${line}`;
    const [lineId, segmentation, gray, components, x, y, w, h] = fields;
    const match = lineId ? LINE_ID.exec(lineId) : null;
    const numbers = [gray, components, x, y, w, h].map(Number);
    if (fields.length < 9 || !match || (segmentation !== 'ok' && segmentation !== 'err') || numbers.some((n) => !Number.isInteger(n))) {
      throw new DataError(
        `${where}: malformed lines.txt row ${JSON.stringify(fields.join(' '))}; expected "a01-000u-00 ok 154 19 408 746 1661 89 A|MOVE|to" (line id, ok|err, gray level, components, x y w h, words joined by |)`,
      );
    }
    const id = lineId as string;
    if (seen.has(id)) throw new DataError(`${where}: line ${id} is listed twice`);
    seen.add(id);
    const formId = `${match[1]}-${match[2]}`;
    const form = forms.get(formId);
    if (!form) throw new DataError(`${where}: line ${id} belongs to form ${formId}, which ${formsPath} does not list`);
    if (segmentation === 'err' && options.skipSegmentationErrors) {
      segmentationExcluded++;
      continue;
    }
    lines.push({
      lineId: id,
      formId,
      writerId: form.writerId,
      segmentation,
      box: numbers.slice(2) as [number, number, number, number],
      text: fields.slice(8).join(' ').split('|').join(' '),
      path: join(root, 'lines', match[1] as string, formId, `${id}.png`),
    });
  }
  if (options.checkImages ?? true) {
    const missing = lines.filter((l) => !existsSync(l.path));
    if (missing.length > 0) {
      throw new DataError(
        `IAM: ${missing.length} of ${lines.length} line images listed in ${linesPath} are missing, e.g. ${missing
          .slice(0, 3)
          .map((l) => l.path)
          .join(', ')}; unpack lines.tgz into ${join(root, 'lines')} or pass checkImages: false`,
      );
    }
  }
  const counts = new Map<string, number>();
  for (const l of lines) counts.set(l.writerId, (counts.get(l.writerId) ?? 0) + 1);
  // Most lines first; ties by writer id so the choice is stable.
  let writers = [...counts.keys()].sort((a, b) => (counts.get(b) as number) - (counts.get(a) as number) || a.localeCompare(b));
  let otherWriters = 0;
  if (topWriters !== undefined && writers.length > topWriters) {
    writers = writers.slice(0, topWriters);
    const keep = new Set(writers);
    const before = lines.length;
    lines = lines.filter((l) => keep.has(l.writerId));
    otherWriters = before - lines.length;
  }
  const linesPerWriter = new Map(writers.map((w) => [w, counts.get(w) as number]));
  return { root, lines, writers, linesPerWriter, excluded: { segmentation: segmentationExcluded, otherWriters } };
}

/**
 * Decodes IAM line images to grayscale for writer identification, optionally scaled to one height
 * (IAM lines are scanned at 300 dpi; the reference implementation cut 113x113 patches from them).
 * An image that cannot be decoded is a DataError naming its path and line id.
 */
export async function readIamLineImages(lines: readonly IamLine[], options: { height?: number } = {}): Promise<WriterLineImage[]> {
  const out: WriterLineImage[] = [];
  for (const line of lines) {
    try {
      out.push({ lineId: line.lineId, writerId: line.writerId, image: await decodeImage(line.path, { channels: 1, height: options.height }) });
    } catch (error) {
      throw new DataError(`IAM line ${line.lineId}: cannot decode ${line.path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
  return out;
}
