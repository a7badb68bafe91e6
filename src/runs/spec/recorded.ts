/**
 * Reading a recorded equation run's spec back. A run recorded by this version keeps its spec as
 * its config, verbatim, and reads back as it is. Runs recorded before the spec existed kept
 * another shape (the builder's config under `model`, the data under `data`, the loop's settings
 * under `training`, written before `val` was the validation split's name in the oldest); they
 * are read once into the options they were trained with and resolved over the reference recipe,
 * whose defaults they ran with, so that every run can be resumed, evaluated and compared the same way.
 */
import type { AugmentOptions } from '../../data/equations/augment';
import { ConfigError } from '../../errors';
import type { EarlyStoppingOptions, OptimizerName, ReduceLrOptions } from '../../training/types';
import type { SplitName } from '../../types';
import { crnnOptionsOf, readArchitecture, type RecordedModel } from '../architecture';
import { EQUATION_MODELS, type EquationModelName } from '../models';
import { EQUATION_SPEC_VERSION, type EquationRunOptions, type EquationRunSpec, type EquationSchedule } from './options';
import { resolveEquationRunSpec, type EquationMachine } from './resolve';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Whether a recorded config is a spec of this version (else it is an older run's). */
export function isEquationRunSpec(config: unknown): config is EquationRunSpec {
  return isRecord(config) && config['specVersion'] === EQUATION_SPEC_VERSION && typeof config['model'] === 'string' && isRecord(config['training']);
}

/** The config of a run recorded before the spec (see the file comment). */
interface LegacyRecord {
  model?: Record<string, unknown>;
  data?: { dir?: string; seed?: number; limit?: Partial<Record<SplitName, number>> | null; augment?: AugmentOptions | false; imageCheck?: 'decode' | 'header' };
  batchSize?: number;
  evalBatchSize?: number;
  replicas?: number;
  schedule?: { name?: EquationSchedule; warmup?: number | null; minutes?: number | null };
  training?: { optimizer?: OptimizerName; learningRate?: number; clipNorm?: number | null; weightDecay?: number | null; earlyStopping?: EarlyStoppingOptions | null; reduceLrOnPlateau?: ReduceLrOptions | null };
  totalEpochs?: number;
  phases?: { epochs?: number }[];
}

/** A split-keyed record written before the validation split was called `val`. */
function withVal<T>(record: unknown): Partial<Record<SplitName, T>> | undefined {
  if (!isRecord(record)) return undefined;
  const { valid, ...rest } = record;
  return (valid === undefined || 'val' in rest ? rest : { ...rest, val: valid }) as Partial<Record<SplitName, T>>;
}

/** The options an older run was trained with, from its config and its architecture params. */
function legacyOptions(run: RecordedModel, record: LegacyRecord): EquationRunOptions {
  const family = run.params['model'];
  const model: EquationModelName = (EQUATION_MODELS as readonly unknown[]).includes(family) ? (family as EquationModelName) : 'crnn';
  const architecture = readArchitecture(run);
  const { data = {}, training = {}, schedule = {}, model: builder = {} } = record;
  if (typeof data.dir !== 'string') throw new ConfigError(`run ${describeRun(run)} recorded no data folder; it was not trained by a glyphlab equation run and cannot be read as one`);
  const phases = record.phases ?? [];
  const crnn = architecture ? crnnOptionsOf(architecture) : {};
  return {
    recipe: 'reference',
    dataDir: data.dir,
    model,
    crnn,
    vgg19:
      model === 'vgg19-crnn'
        ? {
            weights: builder['weights'] === 'random' ? 'random' : 'imagenet',
            weightsPath: typeof builder['weightsPath'] === 'string' ? builder['weightsPath'] : undefined,
            filterDivisor: typeof builder['filterDivisor'] === 'number' ? builder['filterDivisor'] : undefined,
            phase1Epochs: phases.length > 1 ? phases[0]?.epochs : 0,
          }
        : undefined,
    seed: data.seed,
    epochs: record.totalEpochs,
    batchSize: record.batchSize,
    evalBatchSize: record.evalBatchSize,
    optimizer: training.optimizer,
    learningRate: training.learningRate,
    clipNorm: training.clipNorm,
    weightDecay: training.weightDecay ?? 0,
    schedule: schedule.name ?? 'plateau',
    warmup: schedule.warmup ?? undefined,
    minutes: schedule.minutes ?? null,
    earlyStopping: training.earlyStopping ?? false,
    reduceLrOnPlateau: training.reduceLrOnPlateau ?? false,
    limit: (data.limit === null ? undefined : withVal<number>(data.limit)) ?? undefined,
    augment: data.augment ?? false,
    imageCheck: data.imageCheck ?? 'header',
    replicas: record.replicas ?? 1,
  };
}

function describeRun(run: RecordedModel): string {
  return typeof run.id === 'string' ? run.id : '(unnamed)';
}

/**
 * The spec of a recorded equation run: its config as recorded, or (for a run recorded before
 * the spec existed) the spec its recorded options resolve to. `machine` fills what older runs did
 * not record (the image-decoding workers). A config that is neither is a ConfigError.
 *
 * @example
 * const spec = readEquationRunSpec(getRun(store, runId));
 * spec.data.dir; spec.training.epochs; spec.crnn?.rnn;
 */
export function readEquationRunSpec(run: RecordedModel, machine?: EquationMachine): EquationRunSpec {
  const config = run.config;
  if (isEquationRunSpec(config)) return config;
  if (isRecord(config) && typeof config['specVersion'] === 'number') {
    throw new ConfigError(`run ${describeRun(run)} was recorded with spec version ${config['specVersion']}; this glyphlab reads version ${EQUATION_SPEC_VERSION}: update glyphlab`);
  }
  if (!isRecord(config)) throw new ConfigError(`run ${describeRun(run)} recorded no config; it was not trained by a glyphlab equation run`);
  const record = config as LegacyRecord;
  const options = legacyOptions(run, record);
  return resolveEquationRunSpec(options, machine);
}

/**
 * Where a recorded equation run's data was and the seed of its split: what evaluating or
 * fine-tuning from the run needs to split its folder as the run did. Reads a spec and the configs
 * recorded before it; fields a config lacks are absent.
 *
 * @example
 * recordedData(loadedRun.config).seed ?? 0;
 */
export function recordedData(config: Readonly<Record<string, unknown>> | null): { dir?: string; seed?: number } {
  if (isEquationRunSpec(config)) return { dir: config.data.dir, seed: config.seed };
  const data = isRecord(config) ? config['data'] : undefined;
  if (!isRecord(data)) return {};
  return { dir: typeof data['dir'] === 'string' ? data['dir'] : undefined, seed: typeof data['seed'] === 'number' ? data['seed'] : undefined };
}
