/**
 * A recorded run's model architecture as flat params, so that the experiment store can filter
 * and compare runs by it: `glyphlab runs ls --where 'params.model.rnn = "gru"'`, and
 * `glyphlab runs compare` lists the keys that differ. The model family itself is `params.model`
 * (e.g. `crnn`); the builder's whole resolved config stays in the run's config (`model`).
 *
 * | key                  | what                                          | families                  |
 * | -------------------- | --------------------------------------------- | ------------------------- |
 * | `input.height`       | input height in pixels                        | all                       |
 * | `input.width`        | input width in pixels                         | all                       |
 * | `input.channels`     | input channels (1 grayscale, 3 RGB)           | all                       |
 * | `model.classes`      | output classes (the CTC blank included)       | all                       |
 * | `model.filters`      | conv filters per block                        | crnn, cnn                 |
 * | `model.rnn`          | recurrent cell, `lstm` or `gru`               | crnn, vgg19-crnn          |
 * | `model.rnnUnits`     | units per direction                           | crnn, vgg19-crnn          |
 * | `model.rnnLayers`    | bidirectional recurrent layers                | crnn, vgg19-crnn          |
 * | `model.bnMomentum`   | momentum of the batch-norm moving statistics  | crnn                      |
 * | `model.pools`        | each conv block's [height, width] pool, or null | crnn                    |
 * | `model.stridedStem`  | first block downsamples by a strided conv     | crnn                      |
 * | `model.filterDivisor`| VGG19 filters divided by                      | vgg19-crnn                |
 * | `model.weights`      | initial weights, `imagenet` or `random`       | vgg19-crnn                |
 * | `model.kernel`       | conv kernel size                              | cnn                       |
 * | `model.convsPerBlock`| convs before each pool                        | cnn                       |
 * | `model.batchNorm`    | batch normalisation after each conv           | cnn                       |
 * | `model.se`           | squeeze-and-excitation after each block       | cnn                       |
 * | `model.dense`        | dense units before the output (MLP: hidden)   | cnn, mlp                  |
 * | `model.dropout`      | dropout before the output                     | all                       |
 * | `model.l2`           | L2 penalty on the kernels                     | cnn, mlp                  |
 *
 * A CRNN records every key of its builder config this way, `model.<key>` unless the table
 * names it otherwise (`name`, `seed` and `fusedRnn` say nothing of the architecture and are left
 * out), so a knob added to the builder becomes a param with no change here.
 *
 * Written once, by {@link architectureParams} when a run's model is built; read back by
 * {@link readArchitecture}, which also reads runs recorded before these params existed (from
 * the builder config they kept in their config).
 */
import { ConfigError } from '../errors';
import type { CrnnOptions } from '../models/crnn';
import type { ParamValue } from '../tracker/query';

/** The flat architecture params of a run; see the file comment for the keys. */
export interface ModelArchitecture {
  'input.height': number;
  'input.width': number;
  'input.channels': number;
  'model.classes': number;
  'model.filters'?: number[];
  'model.rnn'?: 'lstm' | 'gru';
  'model.rnnUnits'?: number;
  'model.rnnLayers'?: number;
  'model.bnMomentum'?: number;
  'model.pools'?: ([number, number] | null)[];
  'model.stridedStem'?: boolean;
  'model.filterDivisor'?: number;
  'model.weights'?: 'imagenet' | 'random';
  'model.kernel'?: number;
  'model.convsPerBlock'?: number;
  'model.batchNorm'?: boolean;
  'model.se'?: boolean;
  'model.dense'?: number[];
  'model.dropout'?: number;
  'model.l2'?: number;
  /** Any other key of a CRNN's builder config (e.g. `model.recurrentActivation`). */
  [key: `model.${string}`]: ParamValue | undefined;
}

/** Every key of {@link ModelArchitecture}, in the order the table above lists them. */
export const ARCHITECTURE_KEYS: readonly (keyof ModelArchitecture)[] = [
  'input.height',
  'input.width',
  'input.channels',
  'model.classes',
  'model.filters',
  'model.rnn',
  'model.rnnUnits',
  'model.rnnLayers',
  'model.bnMomentum',
  'model.pools',
  'model.stridedStem',
  'model.filterDivisor',
  'model.weights',
  'model.kernel',
  'model.convsPerBlock',
  'model.batchNorm',
  'model.se',
  'model.dense',
  'model.dropout',
  'model.l2',
];

/** A builder's resolved config, as the run's config records it (`CrnnConfig`, `LenetConfig`, ...). */
type BuilderConfig = Readonly<Record<string, unknown>>;

const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);
const numbers = (value: unknown): number[] | undefined => (Array.isArray(value) && value.every((v) => typeof v === 'number') ? [...value] : undefined);
/** A list of [height, width] pools or nulls, or undefined when `value` is not one. */
const poolList = (value: unknown): ([number, number] | null)[] | undefined =>
  Array.isArray(value) && value.every((p) => p === null || (numbers(p)?.length === 2)) ? value.map((p) => (p === null ? null : ([p[0], p[1]] as [number, number]))) : undefined;
const bool = (value: unknown): boolean | undefined => (typeof value === 'boolean' ? value : undefined);
const isRecord = (value: unknown): value is BuilderConfig => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Leaves out the keys a family does not have. */
function defined(architecture: ModelArchitecture): ModelArchitecture {
  return Object.fromEntries(Object.entries(architecture).filter(([, value]) => value !== undefined)) as unknown as ModelArchitecture;
}

/** Keys of a CRNN's builder config with a param name of their own, and keys that are not architecture. */
const CRNN_RENAMED = new Set(['inputHeight', 'inputWidth', 'channels', 'numClasses', 'convFilters', 'batchNormMomentum']);
const NOT_ARCHITECTURE = new Set(['name', 'seed', 'fusedRnn']);

/** Every other key of a CRNN's builder config as `model.<key>`, when its value is a param value. */
function crnnKeys(config: BuilderConfig): ModelArchitecture {
  const keys = Object.entries(config).filter(([key, value]) => !CRNN_RENAMED.has(key) && !NOT_ARCHITECTURE.has(key) && isParamValue(value));
  return Object.fromEntries(keys.map(([key, value]) => [`model.${key}`, value])) as unknown as ModelArchitecture;
}

function isParamValue(value: unknown): value is ParamValue {
  return ['number', 'string', 'boolean'].includes(typeof value) || Array.isArray(value);
}

/** Input size from a sequence model's config (`inputHeight`, `inputWidth`, `channels`) or a classifier's (`inputShape`). */
function inputOf(config: BuilderConfig, channels: number): Pick<ModelArchitecture, 'input.height' | 'input.width' | 'input.channels'> {
  const shape = numbers(config['inputShape']);
  return {
    'input.height': num(config['inputHeight']) ?? shape?.[0] ?? Number.NaN,
    'input.width': num(config['inputWidth']) ?? shape?.[1] ?? Number.NaN,
    'input.channels': num(config['channels']) ?? shape?.[2] ?? channels,
  };
}

/**
 * The flat architecture params of a model of `family` built from `config` (the builder's
 * resolved config; for the VGG19-CRNN with the `weights` it started from).
 *
 * @example
 * architectureParams('crnn', resolveCrnnOptions({ rnn: 'gru' }))['model.rnn']; // 'gru'
 */
export function architectureParams(family: string, config: BuilderConfig): ModelArchitecture {
  const common = { 'model.classes': num(config['numClasses']) ?? Number.NaN, 'model.dropout': num(config['dropout']) };
  const rnn = config['rnn'];
  const recurrent: Pick<ModelArchitecture, 'model.rnn' | 'model.rnnUnits' | 'model.rnnLayers'> = { 'model.rnn': rnn === 'gru' || rnn === 'lstm' ? rnn : undefined, 'model.rnnUnits': num(config['rnnUnits']), 'model.rnnLayers': num(config['rnnLayers']) };
  switch (family) {
    case 'crnn':
      return defined({
        ...crnnKeys(config),
        ...inputOf(config, 1),
        ...common,
        'model.filters': numbers(config['convFilters']),
        ...recurrent,
        'model.bnMomentum': num(config['batchNormMomentum']),
        'model.pools': poolList(config['pools']),
        'model.stridedStem': bool(config['stridedStem']),
      });
    case 'vgg19-crnn':
      return defined({
        ...inputOf(config, 3),
        ...common,
        ...recurrent,
        'model.filterDivisor': num(config['filterDivisor']),
        'model.weights': config['weights'] === 'imagenet' || config['weights'] === 'random' ? config['weights'] : undefined,
      });
    case 'cnn':
      return defined({
        ...inputOf(config, 1),
        ...common,
        'model.filters': numbers(config['convFilters']),
        'model.kernel': num(config['kernelSize']),
        'model.convsPerBlock': num(config['convsPerBlock']),
        'model.batchNorm': bool(config['batchNorm']),
        'model.se': bool(config['squeezeExcitation']),
        'model.dense': numbers(config['denseUnits']),
        'model.l2': num(config['l2']),
      });
    case 'mlp':
      return defined({ ...inputOf(config, 1), ...common, 'model.dense': numbers(config['hiddenUnits']), 'model.l2': num(config['l2']) });
    default:
      throw new ConfigError(`no architecture params for model ${JSON.stringify(family)}; known are crnn, vgg19-crnn, cnn, mlp`);
  }
}

/** What {@link readArchitecture} reads of a recorded run (a `RunDetail` has both). */
export interface RecordedModel {
  /** The run's id, for messages. */
  id?: string;
  params: Readonly<Record<string, ParamValue>>;
  config: Readonly<Record<string, unknown>> | null;
}

/**
 * The architecture of a recorded run: its flat params (any key added since it was recorded taken
 * from its builder config), or, for a run recorded before they were written, the same params
 * derived from the builder config its config kept (`model` for the
 * equation models, `architecture` for the character classifiers). Undefined when the run has
 * neither (e.g. not trained by a glyphlab run function).
 *
 * @example
 * readArchitecture(getRun(store, runId))?.['model.rnn']; // 'lstm'
 */
export function readArchitecture(run: RecordedModel): ModelArchitecture | undefined {
  const fromConfig = configArchitecture(run);
  if (typeof run.params['input.height'] !== 'number') return fromConfig;
  // A run recorded with a spec wrote every architecture key it has; older runs' params also hold their flattened builder config, so only the listed keys count.
  const keys: readonly string[] = isRecord(run.config) && 'specVersion' in run.config ? Object.keys(run.params).filter((key) => key.startsWith('model.') || key.startsWith('input.')) : ARCHITECTURE_KEYS;
  const recorded = Object.fromEntries(keys.filter((key) => run.params[key] !== undefined && run.params[key] !== null).map((key) => [key, run.params[key]]));
  // A key added after the run was recorded (e.g. `model.bnMomentum`) comes from the builder config it kept.
  const added = Object.entries(fromConfig ?? {}).filter(([key, value]) => !(key in recorded) && !Number.isNaN(value));
  return { ...Object.fromEntries(added), ...recorded } as unknown as ModelArchitecture;
}

/** The architecture params derived from the builder config a run kept (`model` or `architecture`). */
function configArchitecture(run: RecordedModel): ModelArchitecture | undefined {
  const family = run.params['model'];
  const config = run.config?.['model'] ?? run.config?.['architecture'];
  if (typeof family !== 'string' || !isRecord(config)) return undefined;
  try {
    return architectureParams(family, config);
  } catch {
    return undefined;
  }
}

/** The CRNN options that rebuild a recorded architecture (the input and head of a VGG19-CRNN too). */
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
