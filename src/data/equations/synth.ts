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
 */
import { existsSync, mkdirSync, openSync, readSync, closeSync, fstatSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { ConfigError, DataError } from '../../errors';
import { encodePng, isCompletePng } from '../../image/png';
import { sha256 } from '../../util/hash';
import { createRng } from '../../util/rng';
import { DEFAULT_FORM_SHARES, type FormShares, type LabelDistributions, labelDistributions, randomEquationLabel } from './forms';
import { resolveFontNames } from '../fonts';
import { renderEquation, type TextPlacement, NOISE_STYLES, type NoiseStyle } from './synth-render';
import { MAX_WORKER_THREADS, startScriptWorker } from '../../util/script-worker';

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
}

/** The file name of image `index`, zero-padded so that names sort in index order. */
export function synthImageName(index: number, nameWidth: number): string {
  return `${String(index).padStart(nameWidth, '0')}.png`;
}

/** The label of image `index`: the first draws of its generator. */
export function synthLabel(config: Pick<SynthJobConfig, 'seed' | 'forms'>, index: number): string {
  return randomEquationLabel(createRng(`${config.seed}:${index}`), config.forms);
}

/** Renders image `index` and writes it atomically (temporary name, then rename). */
export function writeSynthImage(config: SynthJobConfig, index: number): void {
  const rng = createRng(`${config.seed}:${index}`);
  const label = randomEquationLabel(rng, config.forms);
  const image = renderEquation(label, rng, { width: config.width, height: config.height, fonts: config.fonts, placement: config.placement, noise: config.noise });
  const name = synthImageName(index, config.nameWidth);
  const temporary = join(config.imagesDir, `.${name}.tmp-${process.pid}-${index}`);
  // zlib level 3: as fast as level 1 here and 2% larger files than the default 6, which takes 1.6x as long.
  writeFileSync(temporary, encodePng(image, { level: 3 }));
  renameSync(temporary, join(config.imagesDir, name));
}

/** True when `path` holds a complete PNG (signature and IEND tail present). */
function isCompletePngFile(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    if (size < 20) return false;
    const head = Buffer.alloc(8);
    const tail = Buffer.alloc(12);
    readSync(fd, head, 0, 8, 0);
    readSync(fd, tail, 0, 12, size - 12);
    return isCompletePng(Buffer.concat([head, tail]));
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes `text` to `path` atomically. */
function writeFileAtomic(path: string, text: string): void {
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

/** The options a synthesis folder was made with, as `synth.json` records them (besides `count`). */
type RecordedSynthConfig = Omit<SynthJobConfig, 'imagesDir'>;

/** What `synth.json` says of the synthesis already in a folder. */
interface PreviousSynthesis {
  count: number;
  /** SHA-256 of the labels.csv that synthesis last wrote; absent before it finished once (or from older glyphlab). */
  labelsSha256?: string;
}

function manifestText(recorded: RecordedSynthConfig, count: number, labelsSha256: string | undefined): string {
  return `${JSON.stringify({ ...recorded, count, ...(labelsSha256 ? { labelsSha256 } : {}) }, null, 2)}\n`;
}

/** Up to `max` names, quoted, with how many more there are. */
function nameSome(names: readonly string[], max = 5): string {
  const shown = names.slice(0, max).map((n) => JSON.stringify(n)).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

/**
 * Checks that synthesis may write `count` images into `outDir`, and returns the synthesis already
 * there (undefined for a new or empty folder). Refuses, naming the files: a folder that holds
 * files synthesis did not write (unless `force`, and even then any file synthesis would write
 * over); other options than the earlier run's; a smaller count than the earlier run's (unless
 * `force`); and a labels.csv changed since synthesis wrote it.
 */
function checkOutputFolder(outDir: string, recorded: RecordedSynthConfig, count: number, force: boolean): PreviousSynthesis | undefined {
  if (!existsSync(outDir)) return undefined;
  if (!statSync(outDir).isDirectory()) throw new DataError(`${outDir} is a file; synthesis needs a folder to write images/ and labels.csv into`);
  const manifestPath = join(outDir, 'synth.json');
  const labelsPath = join(outDir, 'labels.csv');
  if (!existsSync(manifestPath)) {
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
    const inTheWay = [labelsPath, ...Array.from({ length: count }, (_, i) => join(outDir, 'images', synthImageName(i, nameWidth)))].filter((path) => existsSync(path));
    if (inTheWay.length > 0) {
      throw new DataError(
        `${outDir}: synthesis would overwrite ${inTheWay.length} files it did not write (${nameSome(inTheWay.map((p) => relative(outDir, p)))}); ` +
          '--force never overwrites such files: move them aside or give a new folder',
      );
    }
    return undefined;
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (error) {
    throw new DataError(`${manifestPath} is not valid JSON; remove it or use a new folder`, { cause: error });
  }
  const { count: previousCount, labelsSha256, ...previousConfig } = (manifest ?? {}) as Record<string, unknown>;
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
  if (typeof labelsSha256 === 'string' && existsSync(labelsPath) && sha256(readFileSync(labelsPath)) !== labelsSha256) {
    throw new DataError(
      `${labelsPath} was changed after synthesis wrote it; synthesis would overwrite those changes. ` +
        'Move it aside (or copy it under another name) and run again, or use a new folder',
    );
  }
  return { count: previousCount, labelsSha256: typeof labelsSha256 === 'string' ? labelsSha256 : undefined };
}

/** Deletes the images `count` to `previousCount - 1` of an earlier, larger synthesis; returns how many existed. */
function removeImagesBeyond(config: SynthJobConfig, count: number, previousCount: number): number {
  let removed = 0;
  for (let index = count; index < previousCount; index++) {
    const path = join(config.imagesDir, synthImageName(index, config.nameWidth));
    if (!existsSync(path)) continue;
    unlinkSync(path);
    removed++;
  }
  return removed;
}

async function runWorkers(config: SynthJobConfig, indices: number[], workerCount: number, onDone: (n: number) => void): Promise<void> {
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
          worker.on('message', (message: { done?: number; error?: string }) => {
            if (message.error !== undefined) {
              finished = true;
              reject(new DataError(`synthesis worker failed: ${message.error}`));
              return;
            }
            onDone(message.done ?? 0);
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
    fonts: resolveFontNames(options.fonts ?? ['dejavu-sans']),
    placement: options.placement ?? 'left',
    ...(options.noise !== undefined && options.noise !== 'crosses' ? { noise: options.noise } : {}),
    forms: { ...(options.forms ?? DEFAULT_FORM_SHARES) },
    width: options.width ?? 300,
    height: options.height ?? 64,
    nameWidth: Math.max(6, String(count - 1).length),
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
  const previous = checkOutputFolder(options.outDir, recorded, count, options.force ?? false);
  mkdirSync(config.imagesDir, { recursive: true });
  const removed = previous ? removeImagesBeyond(config, count, previous.count) : 0;
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
    if (!isCompletePngFile(join(config.imagesDir, synthImageName(index, config.nameWidth)))) todo.push(index);
  }
  const skipped = count - todo.length;
  let done = skipped;
  options.onProgress?.(done, count);
  const renderStarted = Date.now();
  if (workerCount <= 1 || todo.length < 64) {
    for (const index of todo) {
      writeSynthImage(config, index);
      done++;
      if (done % 16 === 0 || done === count) options.onProgress?.(done, count);
    }
  } else {
    await runWorkers(config, todo, workerCount, (n) => {
      done += n;
      options.onProgress?.(done, count);
    });
  }
  const renderMs = Date.now() - renderStarted;

  const lines = labels.map((label, index) => `images/${synthImageName(index, config.nameWidth)},${label}`);
  const labelsText = `filename,label\n${lines.join('\n')}\n`;
  writeFileAtomic(labelsPath, labelsText);
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
