/**
 * What an equation run records besides its metrics, and reading it back. The run's config (the
 * store's `config_json`) has one shape, {@link EquationRunRecord}: `runEquationTraining` writes
 * it, the training loop adds `training`, and {@link recordedEquationOptions} turns it, with the
 * run's architecture params, into the options that continue the run. `glyphlab eval` and the
 * center-loss comparison read its `data` through {@link readEquationRecord} to split a folder as
 * the run did.
 */
import type { AugmentOptions } from '../data/equations/augment';
import type { CrnnOptions } from '../models/crnn';
import type { EarlyStoppingOptions, OptimizerName, ReduceLrOptions, TrainingConfig } from '../training/types';
import type { SplitName } from '../types';
import { type ModelArchitecture, readArchitecture, type RecordedModel } from './architecture';
import { EQUATION_MODELS, type EquationModelName } from './models';

/** The data an equation run trained on. */
export interface RecordedData {
  /** The data folder, absolute. */
  dir: string;
  /** Where the split came from. */
  split: 'split.json' | 'stratified 8:1:1';
  sizes: Record<SplitName, number>;
  /** The per-split limits of a quick run, or null. */
  limit: Partial<Record<SplitName, number>> | null;
  /** Seed of the split (without split.json) and of the shuffles. */
  seed: number;
  augment: AugmentOptions | false;
  /**
   * How the images were checked before training: `decode`, every one decoded as the batches
   * will, so none can fail the run later. Absent in runs recorded before: only headers were
   * read, and an unreadable image failed the run at its test evaluation.
   */
  imageCheck?: 'decode' | 'header';
}

/** The config an equation run records. */
export interface EquationRunRecord {
  /** The model builder's resolved config. */
  model: Record<string, unknown>;
  data: RecordedData;
  batchSize: number;
  evalBatchSize: number;
  /** Data-parallel replicas the run trained on (absent in runs recorded before replicas existed: 1). */
  replicas?: number;
  /** The learning-rate schedule and time budget (absent in older runs: 'plateau', no budget). */
  schedule?: { name: 'plateau' | 'warmup-cosine'; warmup: number | null; minutes: number | null };
  /** Added by the training loop: how it trained. */
  training?: TrainingConfig;
  /** Added by `trainInPhases`: the epochs of all phases together. */
  totalEpochs?: number;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A split-keyed record written before the validation split was called `val`. */
function withVal<T>(record: unknown): Partial<Record<SplitName, T>> | undefined {
  if (!isRecord(record)) return undefined;
  const { valid, ...rest } = record;
  return (valid === undefined || 'val' in rest ? rest : { ...rest, val: valid }) as Partial<Record<SplitName, T>>;
}

/**
 * The parts of a run's config that are there, typed: the record of an equation run, or of a
 * run recorded before `val` was the validation split's name (its `data.limit` and `data.sizes`
 * read with `val`). Fields a run did not record are absent.
 */
export function readEquationRecord(config: Readonly<Record<string, unknown>> | null): Omit<Partial<EquationRunRecord>, 'data'> & { data?: Partial<RecordedData> } {
  if (!config) return {};
  const { data, ...rest } = config as Partial<EquationRunRecord> & Record<string, unknown>;
  if (!isRecord(data)) return rest;
  const limit = data['limit'] === null ? null : withVal<number>(data['limit']);
  const sizes = withVal<number>(data['sizes']) as Record<SplitName, number> | undefined;
  return { ...rest, data: { ...(data as Partial<RecordedData>), ...(limit !== undefined ? { limit } : {}), ...(sizes ? { sizes } : {}) } };
}

/** The CRNN options that rebuild the recorded architecture's input and head. */
export function crnnOptionsOf(architecture: ModelArchitecture): CrnnOptions {
  return {
    inputHeight: architecture['input.height'],
    inputWidth: architecture['input.width'],
    channels: architecture['input.channels'],
    convFilters: architecture['model.filters'],
    pools: architecture['model.pools'],
    rnn: architecture['model.rnn'],
    rnnUnits: architecture['model.rnnUnits'],
    rnnLayers: architecture['model.rnnLayers'],
    dropout: architecture['model.dropout'],
    batchNormMomentum: architecture['model.bnMomentum'],
    stridedStem: architecture['model.stridedStem'],
  };
}

/** The options of an equation run as recorded, to continue it (see `resumeEquationTraining`). */
export interface RecordedEquationOptions {
  dataDir?: string;
  model: EquationModelName;
  /** The recorded architecture, as builder options. */
  crnn?: CrnnOptions;
  architecture?: ModelArchitecture;
  /** The builder's config, saved again with the final model. */
  modelConfig: Record<string, unknown>;
  /** The total epochs planned (all phases). */
  epochs?: number;
  batchSize?: number;
  evalBatchSize?: number;
  optimizer: OptimizerName;
  /** The run's (initial or peak) learning rate. */
  learningRate?: number;
  clipNorm?: number;
  weightDecay?: number;
  earlyStopping: EarlyStoppingOptions | false;
  reduceLrOnPlateau: ReduceLrOptions | false;
  seed?: number;
  limit?: Partial<Record<SplitName, number>>;
  augment?: AugmentOptions | false;
  /** The learning-rate schedule; a resumed warm-up cosine goes on from the batch it reached (its time budget does not carry over). */
  schedule?: 'plateau' | 'warmup-cosine';
  warmup?: number;
}

/**
 * The options a recorded equation run was trained with, read from its config and its
 * architecture params: what a resume needs to go on as the run began.
 *
 * @example
 * const options = recordedEquationOptions(getRun(store, runId));
 * options.dataDir; options.crnn?.rnn; options.epochs;
 */
export function recordedEquationOptions(run: RecordedModel): RecordedEquationOptions {
  const record = readEquationRecord(run.config);
  const family = run.params['model'];
  const architecture = readArchitecture(run);
  const training = record.training;
  return {
    dataDir: record.data?.dir,
    model: (EQUATION_MODELS as readonly unknown[]).includes(family) ? (family as EquationModelName) : 'crnn',
    crnn: architecture ? crnnOptionsOf(architecture) : undefined,
    architecture,
    modelConfig: record.model ?? {},
    epochs: record.totalEpochs,
    batchSize: record.batchSize,
    evalBatchSize: record.evalBatchSize,
    optimizer: training?.optimizer ?? 'adam',
    learningRate: training?.learningRate,
    clipNorm: training?.clipNorm ?? undefined,
    weightDecay: training?.weightDecay ?? undefined,
    earlyStopping: training?.earlyStopping ?? false,
    reduceLrOnPlateau: training?.reduceLrOnPlateau ?? false,
    seed: record.data?.seed,
    limit: record.data?.limit ?? undefined,
    augment: record.data?.augment,
    schedule: record.schedule?.name,
    warmup: record.schedule?.warmup ?? undefined,
  };
}
