/**
 * Readers: trained equation models kept by name, ready to read images and to start other runs
 * from, without the experiment store that made them. A reader is a folder
 * `data/readers/<name>/` holding the model's files (`model.json`, `weights.bin`) and
 * `reader.json`: what it reads (alphabet, input size), where it came from (the run, its commit, the
 * command that trained it, its data spec) and how well it reads (the run's test figures, and the
 * held-out styles scored when it was exported). The folder's `manifest.json` lists every file with
 * its size and SHA-256, checked when the reader loads.
 *
 * `glyphlab readers export RUN NAME` makes one ({@link exportReader}); `glyphlab predict --model
 * NAME` reads with one and `glyphlab train --init-from reader:NAME` starts from one.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError } from '../errors';
import { createBatchSource } from '../data/equations/batches';
import { loadLabeledImages } from '../data/equations/load';
import { EQUATION_ALPHABET } from '../labels/alphabet';
import { sequenceMetrics } from '../metrics/sequence';
import { loadModel, MODEL_JSON, MODEL_WEIGHTS, readModelMeta } from '../models/io';
import { readSavedFile, readSavedFolder, writeSavedFolder } from '../models/saved-folder';
import { getRun, type RunDetail } from '../tracker/query';
import type { TrackerStore } from '../tracker/store';
import { predictSequences } from '../training/sequence';
import { dataDir, runsDirFor } from '../util/paths';
import { findRunModelDir } from './run-model';

/** The file of a reader's description. */
export const READER_FILE = 'reader.json';

/** The version of {@link ReaderInfo}'s shape. */
export const READER_FORMAT = 1;

/** Exact-match and character error rate on one set of images. */
export interface ReaderScore {
  /** The set: 'test' (the run's own test split) or a held-out style's name. */
  set: string;
  images: number;
  accuracy: number;
  cer: number;
}

/** What `reader.json` holds. */
export interface ReaderInfo {
  format: typeof READER_FORMAT;
  name: string;
  /** The model family ('crnn', 'vgg19-crnn'). */
  model: string;
  /** The symbols the output classes stand for, in order (the CTC blank is the class after the last). */
  alphabet: string;
  /** The images it takes: height, width, channels. */
  input: { height: number; width: number; channels: number };
  /**
   * The builder's resolved config (a CRNN's `crnn` options, as the run's spec records them), or
   * null when the run saved none: a run that starts from this reader is built with it.
   */
  config: Record<string, unknown> | null;
  /** The run that trained it. */
  run: { id: string; experiment: string; name: string | null; commit: string | null; dirty: boolean; command: string | null; startedAt: string; endedAt: string | null; durationS: number | null };
  /** The run's data spec (its config's `data`), or null when it recorded none. */
  data: Record<string, unknown> | null;
  /** The run's test figures (as recorded) and each held-out style's (scored at export). */
  scores: ReaderScore[];
  /** Bytes of the model files. */
  modelBytes: number;
  exportedAt: string;
}

/** A reader loaded for reading or as a starting point. */
export interface LoadedReader {
  info: ReaderInfo;
  dir: string;
  model: tf.LayersModel;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reader names: a folder name of letters, digits, '.', '_' and '-'. */
const READER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function checkReaderName(name: string): void {
  if (!READER_NAME.test(name)) throw new ConfigError(`reader name ${JSON.stringify(name)} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
}

/** Where readers are kept: `<data>/readers` (`GLYPHLAB_DATA_DIR` moves it). */
export function readersDir(env: Record<string, string | undefined> = process.env): string {
  return join(dataDir(env), 'readers');
}

/** The folder of reader `name`: `<data>/readers/<name>`. */
export function readerDir(name: string, env: Record<string, string | undefined> = process.env): string {
  checkReaderName(name);
  return join(readersDir(env), name);
}

/** The names of the readers in `dir`: its folders with a `reader.json`. */
export function listReaders(dir: string = readersDir()): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, READER_FILE)))
    .map((entry) => entry.name)
    .sort();
}

/** Whether `nameOrDir` names a reader (a folder with `reader.json`, or a name under {@link readersDir}). */
export function isReader(nameOrDir: string): boolean {
  return existsSync(join(readerFolder(nameOrDir), READER_FILE));
}

/** A name (a plain word) under {@link readersDir}, or a path (with a slash) as given. */
function readerFolder(nameOrDir: string): string {
  return nameOrDir.includes('/') || nameOrDir.includes('\\') ? resolve(nameOrDir) : join(readersDir(), nameOrDir);
}

/** Reads `reader.json` of the reader folder `dir`, checked against the folder's manifest. */
export function readReaderInfo(dir: string): ReaderInfo {
  const bytes = readSavedFolder(dir, {}, (folder) => readSavedFile(folder, READER_FILE));
  if (bytes === undefined) throw new DataError(`${dir} has no ${READER_FILE}; a reader folder holds model.json, weights.bin and ${READER_FILE} (make one with glyphlab readers export RUN NAME)`);
  let info: ReaderInfo;
  try {
    info = JSON.parse(bytes.toString('utf8')) as ReaderInfo;
  } catch (error) {
    throw new DataError(`${join(dir, READER_FILE)} is not valid JSON`, { cause: error });
  }
  if (info.format !== READER_FORMAT) throw new DataError(`${join(dir, READER_FILE)} has format ${JSON.stringify(info.format)}; this glyphlab reads format ${READER_FORMAT}`);
  return info;
}

/**
 * Loads reader `nameOrDir` (a name under {@link readersDir}, or a folder path): its description
 * and its model. An unknown name is a ConfigError listing the readers there are.
 *
 * @example
 * const reader = await loadReader('equations-wide');
 * reader.info.input; // { height: 32, width: 150, channels: 1 }
 */
export async function loadReader(nameOrDir: string): Promise<LoadedReader> {
  const dir = readerFolder(nameOrDir);
  if (!existsSync(join(dir, READER_FILE))) {
    const known = listReaders();
    throw new ConfigError(`no reader ${JSON.stringify(nameOrDir)}: ${dir} has no ${READER_FILE}; readers in ${readersDir()}: ${known.length > 0 ? known.join(', ') : 'none'} (make one with glyphlab readers export RUN NAME)`);
  }
  const info = readReaderInfo(dir);
  return { info, dir, model: await loadModel(dir) };
}

/** Options of {@link exportReader}. */
export interface ExportReaderOptions {
  /**
   * Score the held-out styles rendered beside the run's data (`<data dir>/held-out/<style>/`,
   * as the synthesis stream's fixed sets and `bench:accuracy` leave them), and record the figures.
   * Defaults to true.
   */
  scoreHeldOut?: boolean;
  /** Progress messages. Defaults to none. */
  log?: (message: string) => void;
}

const metricLast = (run: RunDetail, key: string): number | undefined => run.metrics[key]?.last ?? undefined;

/** The run's recorded test figures, when it has them. */
function recordedTestScore(run: RunDetail): ReaderScore[] {
  const accuracy = metricLast(run, 'test_accuracy');
  const cer = metricLast(run, 'test_cer');
  const images = run.params['data.sizes.test'];
  if (accuracy === undefined || cer === undefined) return [];
  return [{ set: 'test', images: typeof images === 'number' ? images : Number.NaN, accuracy, cer }];
}

/** Exact-match and CER of `model` on each labelled folder of `<dataDir>/held-out/`. */
async function scoreHeldOutFolders(model: tf.LayersModel, dataDirOfRun: string, input: ReaderInfo['input'], log: (message: string) => void): Promise<ReaderScore[]> {
  const root = join(dataDirOfRun, 'held-out');
  if (!existsSync(root)) return [];
  const scores: ReaderScore[] = [];
  const names = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory() && existsSync(join(root, e.name, 'labels.csv'))).map((e) => e.name).sort();
  for (const name of names) {
    const { samples } = await loadLabeledImages(join(root, name), { check: 'header' });
    log(`scoring the held-out style ${name} (${samples.length} images)`);
    const source = createBatchSource(samples, { height: input.height, width: input.width, channels: input.channels as 1 | 3, batchSize: 64, shuffle: false });
    try {
      const predictions = await predictSequences(model, source, { loss: false });
      const metrics = sequenceMetrics(predictions.truths, predictions.predictions);
      scores.push({ set: `held-out ${name}`, images: metrics.samples, accuracy: metrics.accuracy, cer: metrics.characterErrorRate });
    } finally {
      await source.close();
    }
  }
  return scores;
}

/**
 * Writes run `runId`'s best weights (its final model, else its best checkpoint) as a reader into folder
 * `dir` (replaced whole when it exists; see the file comment for what goes in), and returns its
 * description. The model files are copied byte for byte.
 *
 * @example
 * const store = openStore(databasePath(), { readonly: true });
 * const info = await exportReader(store, '20261206-193159-6a527a', readerDir('equations-wide'));
 * closeStore(store);
 */
export async function exportReader(store: TrackerStore, runId: string, dir: string, options: ExportReaderOptions = {}): Promise<ReaderInfo> {
  const log = options.log ?? (() => {});
  const run = getRun(store, runId);
  // The best weights: the final model (the best restored), else the best checkpoint; never the last.
  const modelDir = findRunModelDir(run, runsDirFor(store.file), ['model', 'best']);
  const model = await loadModel(modelDir);
  try {
    const [, height, width, channels] = model.inputs[0]!.shape as [null, number, number, number];
    const input = { height, width, channels };
    const classes = model.outputs[0]!.shape[2];
    if (classes !== EQUATION_ALPHABET.length + 1) throw new ConfigError(`run ${run.id}'s model has ${classes} output classes; a reader of equations has ${EQUATION_ALPHABET.length + 1} (its alphabet and the blank)`);
    const files = readSavedFolder(modelDir, {}, (folder) => ({ json: readSavedFile(folder, MODEL_JSON), weights: readSavedFile(folder, MODEL_WEIGHTS) }));
    if (!files.json || !files.weights) throw new DataError(`${modelDir} lacks ${MODEL_JSON} or ${MODEL_WEIGHTS}`);
    const config = run.config;
    const meta = readModelMeta(modelDir);
    const data = config && typeof config['data'] === 'object' && config['data'] !== null ? (config['data'] as Record<string, unknown>) : null;
    const heldOut = options.scoreHeldOut !== false && typeof data?.['dir'] === 'string' ? await scoreHeldOutFolders(model, data['dir'], input, log) : [];
    const name = dir.split(/[\\/]/).filter(Boolean).pop() ?? dir;
    const info: ReaderInfo = {
      format: READER_FORMAT,
      name,
      model: typeof run.params['model'] === 'string' ? run.params['model'] : 'crnn',
      alphabet: EQUATION_ALPHABET,
      input,
      config: meta !== undefined && isRecord(meta['config']) ? meta['config'] : null,
      run: { id: run.id, experiment: run.experiment, name: run.name, commit: run.gitCommit, dirty: run.gitDirty ?? false, command: run.source, startedAt: run.startedAt, endedAt: run.endedAt, durationS: run.durationS },
      data,
      scores: [...recordedTestScore(run), ...heldOut],
      modelBytes: files.json.length + files.weights.length,
      exportedAt: new Date().toISOString(),
    };
    writeSavedFolder(dir, { [MODEL_JSON]: files.json, [MODEL_WEIGHTS]: files.weights, [READER_FILE]: `${JSON.stringify(info, null, 1)}\n` });
    return info;
  } finally {
    model.dispose();
  }
}

/** A reader's figures in words: `test 95.18% (CER 0.65%, 5000 images); held-out background 95.90% ...`. */
export function describeReaderScores(info: Pick<ReaderInfo, 'scores'>): string {
  const share = (value: number): string => `${(value * 100).toFixed(2)}%`;
  return info.scores.map((s) => `${s.set} ${share(s.accuracy)} (CER ${share(s.cer)}, ${s.images} images)`).join('; ') || 'no recorded figures';
}
