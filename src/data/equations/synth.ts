/**
 * Synthesis of a captcha-style equation data set like the reference implementation's:
 * `DIR/images/*.png` (300x64 RGB) and `DIR/labels.csv` (`filename,label`).
 *
 * Every image `i` draws its label and its look from `createRng(`${seed}:${i}`)`, so the files are
 * byte-identical for the same seed and versions whatever the number of workers. Each image is
 * written to a temporary name and renamed, and `labels.csv` is written the same way at the end, so
 * an interrupted run leaves no half-written file; running again skips the complete images already
 * there.
 *
 * Synthesis only ever writes into a folder it made (marked by its `synth.json`) or an empty one:
 * a folder holding someone's own images and labels is refused, and even with `force` no file that
 * synthesis did not write is overwritten or deleted. A re-run with a smaller count would drop
 * labels from `labels.csv`, so it too needs `force` (which then deletes the images beyond it).
 *
 * What "synthesis wrote" means is recorded, not guessed from a name: `synth-images.sha256`
 * (`sha256sum` format, so `sha256sum -c` checks it) holds the SHA-256 of every image written,
 * appended in batches as they are written. A later run keeps, labels or deletes an image only
 * when its content is what synthesis wrote: its recorded hash, or, for one written but not yet
 * recorded when a run was interrupted, the bytes that rendering it again gives (rendering is
 * deterministic per seed and index). A file that is a beginning of those bytes (a write torn by
 * a crash) is rewritten. Anything else at a synthesis name (a user's image dropped there, an
 * image changed after it was written, a folder or link) is refused, naming it, before anything
 * in the folder changes.
 */
import { appendFileSync, existsSync, lstatSync, mkdirSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { ConfigError, DataError } from '../../errors';
import { encodePng, isCompletePng, pngDimensions } from '../../image/png';
import { fileKind, readRegularFileSync } from '../../image/read-file';
import { sha256 } from '../../util/hash';
import { createRng } from '../../util/rng';
import { DEFAULT_FORM_SHARES, type FormShares, type LabelDistributions, labelDistributions, randomEquationLabel } from './forms';
import { resolveFontNames } from '../fonts';
import { renderEquation, type TextPlacement, NOISE_STYLES, type NoiseStyle } from './synth-render';
import type { StyleSpace } from './synth-style';
import { MAX_WORKER_THREADS, startScriptWorker } from '../../util/script-worker';
import { labelsFileLimit } from './load';

export interface SynthesizeOptions {
  /** Output folder; `images/` and `labels.csv` go inside. */
  outDir: string;
  /** Number of images. */
  count: number;
  /** Seed of the whole data set. Defaults to 0. */
  seed?: number | string;
  /** Font names or groups (`print`, `handwriting`, `all`), one picked per image. Defaults to `['dejavu-sans']`. */
  fonts?: readonly string[];
  /** Text placement: `left` (seed-like) or `random`. Defaults to `left`. */
  placement?: TextPlacement;
  /** The noise's look: `crosses` (the reference implementation's) or `speckle` (a style to test on). Defaults to `crosses`. */
  noise?: NoiseStyle;
  /** Relative share of each equation form. Defaults to equal shares. */
  forms?: FormShares;
  /**
   * The style space to draw every image's look from (synth-style.ts: a preset such as
   * `stylePreset('wide')`, or a resolved spec); when set, `fonts`, `placement` and `noise` are not
   * read. Defaults to the reference preset with those three.
   */
  style?: StyleSpace;
  /** Worker threads; 0 or 1 renders on the calling thread. Defaults to the number of cores (at most 8). */
  workers?: number;
  /** Image size. Defaults to 300 x 64. */
  width?: number;
  height?: number;
  /** Called as images are finished (skipped ones included). */
  onProgress?: (done: number, total: number) => void;
  /**
   * Write beside files that synthesis did not write (in a folder it did not make), and cut an
   * earlier synthesis in the folder down to a smaller `count`, deleting its images beyond it.
   * Files synthesis did not write are never overwritten or deleted, even so: one in the way is
   * an error naming it. Defaults to false.
   */
  force?: boolean;
}

/** What a synthesis run did. */
export interface SynthesisResult {
  outDir: string;
  labelsPath: string;
  count: number;
  /** Images rendered by this run. */
  written: number;
  /** Complete images found from an earlier run and kept. */
  skipped: number;
  /** Images of an earlier, larger synthesis deleted because `force` cut it down to `count`. */
  removed: number;
  distributions: LabelDistributions;
  elapsedMs: number;
  /** Images per second rendered by this run. */
  imagesPerSecond: number;
}

/** Everything a worker needs to render image `i`; also stored as `DIR/synth.json`. */
export interface SynthJobConfig {
  imagesDir: string;
  seed: string;
  fonts: string[];
  placement: TextPlacement;
  /** Set only for a noise other than the default crosses (older folders' synth.json lack it). */
  noise?: NoiseStyle;
  forms: FormShares;
  width: number;
  height: number;
  nameWidth: number;
  /** The style space, when one was given (older folders' synth.json lack it). */
  style?: StyleSpace;
}

/** The file name of image `index`, zero-padded so that names sort in index order. */
export function synthImageName(index: number, nameWidth: number): string {
  return `${String(index).padStart(nameWidth, '0')}.png`;
}

/** The label of image `index`: the first draws of its generator. */
export function synthLabel(config: Pick<SynthJobConfig, 'seed' | 'forms'>, index: number): string {
  return randomEquationLabel(createRng(`${config.seed}:${index}`), config.forms);
}

/** The file beside `synth.json` that records the SHA-256 of each image synthesis wrote, in `sha256sum` format. */
export const SYNTH_HASHES_FILE = 'synth-images.sha256';

/** The PNG bytes of image `index`: byte-identical for the same options, seed and versions. */
export function renderSynthPng(config: SynthJobConfig, index: number): Buffer {
  const rng = createRng(`${config.seed}:${index}`);
  const label = randomEquationLabel(rng, config.forms);
  const image = renderEquation(label, rng, { width: config.width, height: config.height, fonts: config.fonts, placement: config.placement, noise: config.noise, style: config.style });
  // zlib level 3: as fast as level 1 here and 2% larger files than the default 6, which takes 1.6x as long.
  return encodePng(image, { level: 3 });
}

/** Renders image `index`, writes it atomically (temporary name, then rename) and returns the SHA-256 of the bytes written. */
export function writeSynthImage(config: SynthJobConfig, index: number): string {
  const bytes = renderSynthPng(config, index);
  const name = synthImageName(index, config.nameWidth);
  const temporary = join(config.imagesDir, `.${name}.tmp-${process.pid}-${index}`);
  writeFileSync(temporary, bytes);
  renameSync(temporary, join(config.imagesDir, name));
  return sha256(bytes);
}

/** Writes `text` to `path` atomically. */
function writeFileAtomic(path: string, text: string): void {
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

/** True when something (a file, a folder, a link, even a dangling one) is at `path`. */
function pathExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** The options a synthesis folder was made with, as `synth.json` records them (besides `count`). */
type RecordedSynthConfig = Omit<SynthJobConfig, 'imagesDir'>;

/** What `synth.json` says of the synthesis already in a folder. */
interface PreviousSynthesis {
  count: number;
  /** SHA-256 of the labels.csv that synthesis last wrote; absent before it finished once (or from older glyphlab). */
  labelsSha256?: string;
  /** True when the images' hashes are recorded in {@link SYNTH_HASHES_FILE}; false for a folder of a glyphlab that recorded none. */
  recordsHashes: boolean;
}

function manifestText(recorded: RecordedSynthConfig, count: number, labelsSha256: string | undefined): string {
  return `${JSON.stringify({ ...recorded, count, imageHashes: SYNTH_HASHES_FILE, ...(labelsSha256 ? { labelsSha256 } : {}) }, null, 2)}\n`;
}

/** Up to `max` names, quoted, with how many more there are. */
function nameSome(names: readonly string[], max = 5): string {
  const shown = names.slice(0, max).map((n) => JSON.stringify(n)).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

/** synth.json is a few hundred bytes; anything much larger was not written by synthesis. */
const SYNTH_MANIFEST_LIMIT = { maxBytes: 2 ** 20, what: 'synthesis manifest', advice: 'synthesis writes one of a few hundred bytes: remove it or use a new folder' };

/**
 * Checks that synthesis may write `count` images into `outDir`, and returns the synthesis already
 * there (undefined for a new or empty folder). Refuses, naming the files: a folder that holds
 * files synthesis did not write (unless `force`, and even then any file synthesis would write
 * over); other options than the earlier run's; a smaller count than the earlier run's (unless
 * `force`); and a labels.csv changed since synthesis wrote it. The images themselves are checked
 * by {@link inspectImages}.
 */
function checkOutputFolder(outDir: string, recorded: RecordedSynthConfig, count: number, force: boolean): PreviousSynthesis | undefined {
  if (!existsSync(outDir)) return undefined;
  if (!statSync(outDir).isDirectory()) throw new DataError(`${outDir} is a file; synthesis needs a folder to write images/ and labels.csv into`);
  const manifestPath = join(outDir, 'synth.json');
  const labelsPath = join(outDir, 'labels.csv');
  if (!pathExists(manifestPath)) {
    const entries = readdirSync(outDir);
    if (entries.length === 0) return undefined;
    if (!force) {
      throw new DataError(
        `${outDir} already holds files that glyphlab did not synthesise (${nameSome(entries)}) and no synth.json: ` +
          'synthesis writes images/NNNNNN.png and labels.csv and would overwrite or relabel them. ' +
          'Give a new or empty folder, or --force (force: true) to write beside those files (it never overwrites them)',
      );
    }
    const nameWidth = recorded.nameWidth;
    const ownNames = [labelsPath, join(outDir, SYNTH_HASHES_FILE), ...Array.from({ length: count }, (_, i) => join(outDir, 'images', synthImageName(i, nameWidth)))];
    const inTheWay = ownNames.filter(pathExists);
    if (inTheWay.length > 0) {
      throw new DataError(
        `${outDir}: synthesis would overwrite ${inTheWay.length} files it did not write (${nameSome(inTheWay.map((p) => relative(outDir, p)))}); ` +
          '--force never overwrites such files: move them aside or give a new folder',
      );
    }
    return undefined;
  }
  let manifest: unknown;
  const manifestBytes = readRegularFileSync(manifestPath, SYNTH_MANIFEST_LIMIT);
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8'));
  } catch (error) {
    throw new DataError(`${manifestPath} is not valid JSON; remove it or use a new folder`, { cause: error });
  }
  const { count: previousCount, labelsSha256, imageHashes, ...previousConfig } = (manifest ?? {}) as Record<string, unknown>;
  if (JSON.stringify(previousConfig) !== JSON.stringify(recorded)) {
    throw new DataError(
      `${outDir} holds a synthesis with other options (${JSON.stringify(previousConfig)}); ` +
        `resume with the same options (${JSON.stringify(recorded)} differs) or use a new folder`,
    );
  }
  if (typeof previousCount !== 'number' || !Number.isInteger(previousCount) || previousCount < 1) {
    throw new DataError(`${manifestPath} records count ${JSON.stringify(previousCount)}, not a whole number of images; remove it or use a new folder`);
  }
  if (count < previousCount && !force) {
    throw new DataError(
      `${outDir} holds a synthesis of ${previousCount} images (synth.json); --count ${count} would drop the labels of images ${count} to ${previousCount - 1} from labels.csv. ` +
        `Run with --count ${previousCount} (or more) to resume or extend it, give a new folder, or --force (force: true) to cut it to ${count} images (deleting the rest)`,
    );
  }
  if (typeof labelsSha256 === 'string' && pathExists(labelsPath) && sha256(readRegularFileSync(labelsPath, labelsFileLimit())) !== labelsSha256) {
    throw new DataError(
      `${labelsPath} was changed after synthesis wrote it; synthesis would overwrite those changes. ` +
        'Move it aside (or copy it under another name) and run again, or use a new folder',
    );
  }
  return { count: previousCount, labelsSha256: typeof labelsSha256 === 'string' ? labelsSha256 : undefined, recordsHashes: imageHashes === SYNTH_HASHES_FILE };
}

/** One line of the hashes file, as `sha256sum` writes it, so that `sha256sum -c` in the folder checks the images. */
function hashLine(name: string, hash: string): string {
  return `${hash}  images/${name}\n`;
}

/** The whole hashes file: a line for each image with a known hash, in index order. */
function hashesText(config: SynthJobConfig, hashes: readonly (string | undefined)[]): string {
  return hashes.map((hash, index) => (hash === undefined ? '' : hashLine(synthImageName(index, config.nameWidth), hash))).join('');
}

/**
 * The hashes recorded in `path`, by image name. A line that does not parse (the last one, torn
 * by a crash during an append) is skipped: an image without a record is checked by rendering it
 * again, so a lost record costs time, never safety. A later line for the same name wins.
 */
function readImageHashes(path: string, images: number): Map<string, string> {
  const hashes = new Map<string, string>();
  if (!pathExists(path)) return hashes;
  // Each image has a line of about 85 bytes, and an interrupted run appends each at most twice.
  const limit = { maxBytes: 256 * images + 65_536, what: `record of ${images} image hashes`, advice: 'remove it: the images are then checked by rendering them again' };
  for (const line of readRegularFileSync(path, limit).toString('utf8').split('\n')) {
    const match = /^([0-9a-f]{64}) [ *]images\/([^/]+)$/.exec(line);
    if (match) hashes.set(match[2] as string, match[1] as string);
  }
  return hashes;
}

/** What is at an image's name before synthesis writes: nothing, what it wrote, a torn write of it, or someone else's file. */
type ImageState = { kind: 'missing' } | { kind: 'ours'; hash: string } | { kind: 'torn' } | { kind: 'foreign'; why: string };

/** More bytes than any image synthesis writes could have: its raw pixels twice over (deflate grows nothing by more than a few bytes a block). */
function maxSynthImageBytes(config: SynthJobConfig): number {
  return 2 * (config.width * 3 + 1) * config.height + 4096;
}

/** A few words on what a file that is not synthesis's holds, for the message. */
function describeContent(bytes: Buffer): string {
  const size = pngDimensions(bytes);
  return size ? `a ${size.width}x${size.height} PNG` : `${bytes.length} bytes`;
}

/**
 * What is at image `index`'s name. `trustComplete` accepts a complete PNG of the synthesis's size
 * without rendering it again: for images within the count of a folder made by a glyphlab that
 * recorded no hashes (whose renderer may have differed in its bytes).
 */
function inspectImage(config: SynthJobConfig, index: number, recorded: ReadonlyMap<string, string>, trustComplete: boolean): ImageState {
  const name = synthImageName(index, config.nameWidth);
  const path = join(config.imagesDir, name);
  let stats;
  try {
    stats = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw error;
  }
  if (stats.isSymbolicLink()) return { kind: 'foreign', why: 'a symbolic link; synthesis writes none' };
  if (!stats.isFile()) return { kind: 'foreign', why: `${fileKind(stats)}; synthesis writes files` };
  const maxBytes = maxSynthImageBytes(config);
  if (stats.size > maxBytes) return { kind: 'foreign', why: `${stats.size} bytes, more than any image synthesis writes` };
  const bytes = readRegularFileSync(path, { maxBytes, what: 'synthesised image' });
  const hash = sha256(bytes);
  if (recorded.get(name) === hash) return { kind: 'ours', hash };
  if (trustComplete && isCompletePng(bytes)) {
    const size = pngDimensions(bytes);
    if (size && size.width === config.width && size.height === config.height) return { kind: 'ours', hash };
  }
  const expected = renderSynthPng(config, index);
  if (bytes.equals(expected)) return { kind: 'ours', hash };
  if (bytes.length < expected.length && expected.subarray(0, bytes.length).equals(bytes)) return { kind: 'torn' };
  return { kind: 'foreign', why: recorded.has(name) ? `changed since synthesis wrote it (now ${describeContent(bytes)})` : `not an image synthesis wrote (${describeContent(bytes)})` };
}

/**
 * Inspects every image name an earlier synthesis may have written (up to the larger of `count`
 * and its count) and returns what is at each. Any file there that synthesis did not write is a
 * DataError naming it, before anything in the folder changes: synthesis would label it (within
 * `count`) or delete it (beyond).
 */
function inspectImages(outDir: string, config: SynthJobConfig, count: number, previous: PreviousSynthesis): ImageState[] {
  const total = Math.max(count, previous.count);
  const recorded = previous.recordsHashes ? readImageHashes(join(outDir, SYNTH_HASHES_FILE), total) : new Map<string, string>();
  const states: ImageState[] = [];
  const foreign: string[] = [];
  for (let index = 0; index < total; index++) {
    const state = inspectImage(config, index, recorded, !previous.recordsHashes && index < previous.count);
    states.push(state);
    if (state.kind === 'foreign') foreign.push(`${JSON.stringify(`images/${synthImageName(index, config.nameWidth)}`)}: ${state.why}`);
  }
  if (foreign.length > 0) {
    const shown = foreign.slice(0, 5).join('; ') + (foreign.length > 5 ? `; and ${foreign.length - 5} more` : '');
    throw new DataError(
      `${outDir}: ${foreign.length} file${foreign.length === 1 ? '' : 's'} at names synthesis writes ${foreign.length === 1 ? 'is' : 'are'} not what it wrote there (${shown}). ` +
        `Synthesis never labels, overwrites or deletes a file it did not write: move ${foreign.length === 1 ? 'it' : 'them'} out of ${config.imagesDir} and run again, or give another folder`,
    );
  }
  return states;
}

/** Deletes the images from `count` on that an earlier, larger synthesis wrote (inspected as its own); returns how many there were. */
function removeImagesBeyond(config: SynthJobConfig, states: readonly ImageState[], count: number): number {
  let removed = 0;
  for (let index = count; index < states.length; index++) {
    const kind = states[index]?.kind;
    if (kind !== 'ours' && kind !== 'torn') continue;
    unlinkSync(join(config.imagesDir, synthImageName(index, config.nameWidth)));
    removed++;
  }
  return removed;
}

/**
 * Appends the hashes of images as they are written to the hashes file, a batch at a time: a
 * crash loses at most the records of one batch, whose images the next run renders again to
 * compare (see {@link readImageHashes}). `hashes` (by index) is filled in too.
 */
function createHashRecorder(path: string, config: SynthJobConfig, hashes: (string | undefined)[], batchSize = 64): { add(index: number, hash: string): void; flush(): void } {
  let pending = '';
  let lines = 0;
  const flush = (): void => {
    if (pending !== '') appendFileSync(path, pending);
    pending = '';
    lines = 0;
  };
  return {
    add(index: number, hash: string): void {
      hashes[index] = hash;
      pending += hashLine(synthImageName(index, config.nameWidth), hash);
      if (++lines >= batchSize) flush();
    },
    flush,
  };
}

/** What a synthesis worker reports: the images of a chunk it wrote, as `[index, sha256]`, or its error. */
export type SynthWorkerMessage = { written: [number, string][] } | { error: string };

async function runWorkers(config: SynthJobConfig, indices: number[], workerCount: number, onWritten: (written: readonly [number, string][]) => void): Promise<void> {
  const chunkSize = 32;
  let next = 0;
  const takeChunk = (): number[] => {
    const chunk = indices.slice(next, next + chunkSize);
    next += chunk.length;
    return chunk;
  };
  const workers: Worker[] = [];
  try {
    await Promise.all(
      Array.from({ length: Math.min(workerCount, Math.ceil(indices.length / chunkSize)) }, () =>
        new Promise<void>((resolve, reject) => {
          const worker = startScriptWorker(__dirname, 'synth-worker', __filename, config);
          workers.push(worker);
          let finished = false;
          const feed = (): void => {
            const chunk = takeChunk();
            if (chunk.length === 0) {
              finished = true;
              worker.postMessage({ stop: true });
              resolve();
            } else worker.postMessage({ indices: chunk });
          };
          worker.on('message', (message: SynthWorkerMessage) => {
            if ('error' in message) {
              finished = true;
              reject(new DataError(`synthesis worker failed: ${message.error}`));
              return;
            }
            onWritten(message.written);
            feed();
          });
          worker.on('error', (error) => {
            finished = true;
            reject(error);
          });
          worker.on('exit', (code) => {
            if (!finished) reject(new DataError(`synthesis worker exited early with code ${code}`));
          });
          feed();
        }),
      ),
    );
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

/**
 * Synthesises `count` captcha-style equation images with labels into `outDir`. Running again on
 * the same folder with the same options keeps the complete images and renders only the rest;
 * other options than `count` must match the earlier run (`synth.json`).
 *
 * @example
 * const result = await synthesizeEquations({ outDir: 'data/equations', count: 100_000, seed: 1 });
 * console.log(result.imagesPerSecond, result.distributions.lengthCounts);
 */
export async function synthesizeEquations(options: SynthesizeOptions): Promise<SynthesisResult> {
  const started = Date.now();
  const count = options.count;
  if (!Number.isInteger(count) || count < 1) throw new ConfigError(`count ${count} is not valid: expected an integer >= 1`);
  const config: SynthJobConfig = {
    imagesDir: join(options.outDir, 'images'),
    seed: String(options.seed ?? 0),
    fonts: options.style ? [...options.style.fonts] : resolveFontNames(options.fonts ?? ['dejavu-sans']),
    placement: options.placement ?? 'left',
    ...(options.noise !== undefined && options.noise !== 'crosses' ? { noise: options.noise } : {}),
    forms: { ...(options.forms ?? DEFAULT_FORM_SHARES) },
    width: options.width ?? 300,
    height: options.height ?? 64,
    nameWidth: Math.max(6, String(count - 1).length),
    ...(options.style ? { style: options.style } : {}),
  };
  if (config.placement !== 'left' && config.placement !== 'random') {
    throw new ConfigError(`placement ${JSON.stringify(config.placement)} is not valid: expected left or random`);
  }
  if (options.noise !== undefined && !NOISE_STYLES.includes(options.noise)) {
    throw new ConfigError(`noise ${JSON.stringify(options.noise)} is not valid: expected ${NOISE_STYLES.join(' or ')}`);
  }
  if (config.fonts.length === 0) throw new ConfigError('no fonts given: expected at least one font name');
  const workerCount = options.workers ?? Math.min(8, availableParallelism());
  if (!Number.isInteger(workerCount) || workerCount < 0 || workerCount > MAX_WORKER_THREADS) {
    throw new ConfigError(`workers ${workerCount} is not valid: expected an integer from 0 to ${MAX_WORKER_THREADS}`);
  }

  const { imagesDir: _ignored, ...recorded } = config;
  const manifestPath = join(options.outDir, 'synth.json');
  const labelsPath = join(options.outDir, 'labels.csv');
  const hashesPath = join(options.outDir, SYNTH_HASHES_FILE);
  const previous = checkOutputFolder(options.outDir, recorded, count, options.force ?? false);
  // Everything is checked before anything changes: a refusal leaves the folder as it was.
  const states = previous ? inspectImages(options.outDir, config, count, previous) : [];
  mkdirSync(config.imagesDir, { recursive: true });
  const removed = removeImagesBeyond(config, states, count);
  const hashes: (string | undefined)[] = Array.from({ length: count }, (_, index) => {
    const state = states[index];
    return state?.kind === 'ours' ? state.hash : undefined;
  });
  // The record first, then the manifest that says there is one: a crash in between leaves a
  // manifest without it, whose images are accepted only as an older glyphlab's were.
  writeFileAtomic(hashesPath, hashesText(config, hashes));
  writeFileAtomic(manifestPath, manifestText(recorded, count, previous?.labelsSha256));

  // Temporary files left by an interrupted run are ours (dot-names ending in .tmp-PID-INDEX); a
  // folder that synthesis did not make has none, and its files are not ours to delete.
  if (previous) {
    for (const entry of readdirSync(config.imagesDir)) {
      if (/^\..*\.png\.tmp-\d+-\d+$/.test(entry)) unlinkSync(join(config.imagesDir, entry));
    }
  }

  const labels: string[] = [];
  const todo: number[] = [];
  for (let index = 0; index < count; index++) {
    labels.push(synthLabel(config, index));
    if (hashes[index] === undefined) todo.push(index);
  }
  const skipped = count - todo.length;
  let done = skipped;
  options.onProgress?.(done, count);
  const renderStarted = Date.now();
  const recorder = createHashRecorder(hashesPath, config, hashes);
  try {
    if (workerCount <= 1 || todo.length < 64) {
      for (const index of todo) {
        recorder.add(index, writeSynthImage(config, index));
        done++;
        if (done % 16 === 0 || done === count) options.onProgress?.(done, count);
      }
    } else {
      await runWorkers(config, todo, workerCount, (written) => {
        for (const [index, hash] of written) recorder.add(index, hash);
        recorder.flush();
        done += written.length;
        options.onProgress?.(done, count);
      });
    }
  } finally {
    recorder.flush();
  }
  const renderMs = Date.now() - renderStarted;

  const lines = labels.map((label, index) => `images/${synthImageName(index, config.nameWidth)},${label}`);
  const labelsText = `filename,label\n${lines.join('\n')}\n`;
  writeFileAtomic(labelsPath, labelsText);
  // One line per image in index order, without the repeats of interrupted runs.
  writeFileAtomic(hashesPath, hashesText(config, hashes));
  // The hash tells a later run whether labels.csv is still the file written here.
  writeFileAtomic(manifestPath, manifestText(recorded, count, sha256(labelsText)));
  return {
    outDir: options.outDir,
    labelsPath,
    count,
    written: todo.length,
    skipped,
    removed,
    distributions: labelDistributions(labels),
    elapsedMs: Date.now() - started,
    imagesPerSecond: todo.length > 0 ? (todo.length * 1000) / Math.max(1, renderMs) : 0,
  };
}
