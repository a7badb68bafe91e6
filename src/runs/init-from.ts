/**
 * Where a run's weights start when they do not start random (`--init-from`): a recorded run's
 * best weights, or a reader's (`reader:NAME`, see readers.ts). The source is looked up when the
 * run begins, its weights copied into the run's freshly built model (models/transfer.ts: the same
 * architecture, or another alphabet, which re-initialises only the output layer), and what was
 * found recorded in the run's spec as `init` (its run, data spec, the layers loaded and
 * re-initialised): the lineage that `runs show`, `runs compare` and the dashboard read.
 */
import type * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors';
import { loadModel } from '../models/io';
import { transferWeights } from '../models/transfer';
import { loadReader } from './readers';
import { findRunModelDir, readRecordedRun } from './run-model';
import { builderConfig, type EquationInitSpec, isEquationRunSpec } from './spec/index';

/** The prefix of an `initFrom` that names a reader. */
export const READER_PREFIX = 'reader:';

/** A source of weights, loaded: its model and what the run records of it. */
export interface InitSource {
  model: tf.LayersModel;
  run: string;
  reader: string | null;
  modelDir: string;
  data: Record<string, unknown> | null;
  /** The builder config the source was built from (a run's spec, a reader's `config`), or null when unknown. */
  config: Record<string, unknown> | null;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Loads the source `from` names: `reader:NAME` (a reader of `data/readers/`, or a folder path
 * after the colon) or a run of the store at `dbPath` (id, short id or name), whose best weights
 * are its final model, else its best checkpoint (never its last). The caller disposes the model.
 *
 * @example
 * const source = await loadInitSource('reader:equations-wide', databasePath());
 * source.run; // '20261206-193159-6a527a'
 */
export async function loadInitSource(from: string, dbPath: string): Promise<InitSource> {
  if (from.startsWith(READER_PREFIX)) {
    const name = from.slice(READER_PREFIX.length);
    if (name === '') throw new ConfigError(`initFrom ${JSON.stringify(from)} names no reader: give reader:NAME (a folder of data/readers/)`);
    const reader = await loadReader(name);
    return { model: reader.model, run: reader.info.run.id, reader: reader.info.name, modelDir: reader.dir, data: reader.info.data, config: reader.info.config };
  }
  const { run, runsDir } = readRecordedRun(dbPath, from);
  const modelDir = findRunModelDir(run, runsDir, ['model', 'best']);
  const data = isRecord(run.config) && isRecord(run.config['data']) ? run.config['data'] : null;
  const spec = isEquationRunSpec(run.config) ? run.config : undefined;
  const config = spec ? ((builderConfig(spec) ?? null) as Record<string, unknown> | null) : null;
  return { model: await loadModel(modelDir), run: run.id, reader: null, modelDir, data, config };
}

/**
 * Builder options that leave every weight's shape alone but change what the model computes;
 * dropout, the batch-norm momentum and the classes (the alphabet) may differ from the source's,
 * and the name, seed and kernel choice say nothing of the architecture.
 */
const FREE_TO_DIFFER = new Set(['dropout', 'batchNormMomentum', 'numClasses', 'name', 'seed', 'fusedRnn']);

/**
 * The builder options in which `target` differs from `source` though the weights may still fit
 * (a strided stem instead of a pooled one, other pools, another gate activation), one
 * `key: source X, target Y` each.
 */
export function architectureDifferences(source: Readonly<Record<string, unknown>>, target: Readonly<Record<string, unknown>>): string[] {
  const keys = [...new Set([...Object.keys(source), ...Object.keys(target)])].filter((key) => !FREE_TO_DIFFER.has(key));
  return keys.filter((key) => JSON.stringify(source[key]) !== JSON.stringify(target[key])).map((key) => `${key}: source ${JSON.stringify(source[key])}, target ${JSON.stringify(target[key])}`);
}

/**
 * Puts the weights of `init.from` into `model` and returns `init` with what was found filled in
 * (see {@link EquationInitSpec}). A source of another architecture is a ConfigError naming the
 * weights that differ, or (given the target's builder `config`) the builder options that differ; another alphabet re-initialises the output layer, said in the log.
 *
 * @example
 * spec = { ...spec, init: await initWeights(model, spec.init, { dbPath, log: console.log }) };
 */
export async function initWeights(model: tf.LayersModel, init: EquationInitSpec, options: { dbPath: string; config?: Record<string, unknown>; log?: (message: string) => void }): Promise<EquationInitSpec> {
  const log = options.log ?? (() => {});
  const source = await loadInitSource(init.from, options.dbPath);
  try {
    let report;
    try {
      report = transferWeights(source.model, model);
      // Weights that fit can still compute otherwise (a strided stem where the source pooled): the run fails before it trains.
      const differences = source.config && options.config ? architectureDifferences(source.config, options.config) : [];
      if (differences.length > 0) throw new ConfigError(`the source was built otherwise: ${differences.join('; ')}; build the run with the source's options (its run's spec, or the reader's config in reader.json)`);
    } catch (error) {
      if (error instanceof ConfigError) throw new ConfigError(`--init-from ${init.from} (${source.modelDir}): ${error.message}`, { cause: error });
      throw error;
    }
    const origin = source.reader ? `reader ${source.reader} (run ${source.run})` : `run ${source.run}`;
    log(`weights from ${origin}: ${report.loaded.length} layers loaded`);
    if (report.reinitialised.length > 0) {
      const classes = (m: tf.LayersModel): number => m.outputs[0]!.shape[2] as number;
      log(`the output layer ${report.reinitialised.join(', ')} is re-initialised: the source reads ${classes(source.model)} classes, this model ${classes(model)} (another alphabet)`);
    }
    return { ...init, run: source.run, reader: source.reader, modelDir: source.modelDir, data: source.data, loaded: report.loaded, reinitialised: report.reinitialised };
  } finally {
    source.model.dispose();
  }
}

/** A run's init in words for `runs show` and notebooks: `reader equations-wide (run ...), 9 layers loaded, conv blocks frozen 1 epoch`. */
export function describeInit(init: EquationInitSpec | null | undefined): string | undefined {
  if (!init) return undefined;
  const origin = init.reader ? `reader ${init.reader} (run ${init.run ?? '?'})` : `run ${init.run ?? init.from}`;
  const parts = [origin];
  if (init.loaded) parts.push(`${init.loaded.length} layers loaded`);
  if (init.reinitialised && init.reinitialised.length > 0) parts.push(`${init.reinitialised.join(', ')} re-initialised (another alphabet)`);
  if (init.freezeEpochs > 0) parts.push(`convolution blocks frozen for ${init.freezeEpochs} epoch${init.freezeEpochs === 1 ? '' : 's'}`);
  const dataDir = init.data?.['dir'];
  if (typeof dataDir === 'string') parts.push(`source data ${dataDir}`);
  return parts.join(', ');
}
