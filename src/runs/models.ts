/**
 * The model families a recorded run can train, looked up by name: how to build one and, for the
 * character classifiers, what a run of it does unless told otherwise. (An equation run's defaults
 * are its recipe's: `runs/spec/`.)
 */
import type * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors';
import { buildCrnn, type CrnnOptions, resolveCrnnOptions } from '../models/crnn';
import { trainableLayerNames } from '../models/freeze';
import { buildLenet, type LenetOptions, resolveLenetOptions } from '../models/lenet';
import { buildMlp, type MlpOptions, resolveMlpOptions } from '../models/mlp';
import { createVgg19Crnn } from '../models/vgg19-crnn';
import { architectureParams, type ModelArchitecture } from './architecture';

/** Models of the equation recogniser (CTC over the equation alphabet). */
export const EQUATION_MODELS = ['crnn', 'vgg19-crnn'] as const;
export type EquationModelName = (typeof EQUATION_MODELS)[number];

/** Single-character classifiers (digits, letters). */
export const CHAR_MODELS = ['mlp', 'cnn'] as const;
export type CharModelName = (typeof CHAR_MODELS)[number];

/** Every model a recorded run can train. */
export const MODEL_NAMES = [...EQUATION_MODELS, ...CHAR_MODELS] as const;
export type ModelName = EquationModelName | CharModelName;

/** What a character classifier's run does unless told otherwise. */
export interface RunDefaults {
  /** Experiment the run is recorded in. */
  experiment: string;
  epochs: number;
  /** Training batch size. */
  batchSize: number;
  learningRate: number;
  /** Epochs without a validation-accuracy gain before early stopping. */
  patience: number;
  /** Whether training images are augmented. */
  augment: boolean;
  /** Global gradient-norm clipping. */
  clipNorm: number;
}

/** The character classifiers' defaults. */
export const CHAR_RUN_DEFAULTS: Readonly<RunDefaults> = { experiment: 'characters', epochs: 10, batchSize: 64, learningRate: 0.002, patience: 5, augment: true, clipNorm: 5 };

/** A built model, the resolved config it was built from, and that config's architecture params. */
export interface BuiltModel {
  model: tf.LayersModel;
  /** The builder's resolved config, recorded in the run's config as `model`. */
  config: Record<string, unknown>;
  architecture: ModelArchitecture;
  /** Layers that train in a first phase (the VGG19's last layers); undefined: one phase. */
  phase1Layers?: string[];
}

/** What the equation models are built from. */
export interface EquationModelOptions {
  /**
   * Input size and head (both families read `inputHeight`, `inputWidth`, `rnn`, `rnnUnits`,
   * `rnnLayers`, `dropout`; the conv options only the custom CRNN). Defaults to each builder's.
   */
  crnn?: CrnnOptions;
  /** VGG19-CRNN specifics: the weights file, `weights: 'random'`, `filterDivisor`, and `lastN` layers of phase 1 (default 5). */
  vgg19?: { weightsPath?: string; weights?: 'imagenet' | 'random'; lastN?: number; filterDivisor?: number };
  /** Where messages about the build go (which weights were loaded). Defaults to none. */
  log?: (message: string) => void;
}

/** What the character classifiers are built from. */
export interface CharModelOptions {
  /** Classes and input shape, from the data. */
  numClasses: number;
  inputShape: [number, number, number];
  /** LeNet options for `cnn`, over glyphlab's CNN defaults (conv 32 and 64 of 5x5, dense 128, dropout 0.5, L2 0.0005). */
  lenet?: LenetOptions;
  /** MLP options for `mlp`, over the reference implementation's (hidden 512 and 512, dropout 0.2). */
  mlp?: MlpOptions;
}

/** A model family of the equation recogniser. */
export interface EquationModelBuilder {
  name: EquationModelName;
  task: 'equations';
  build(options: EquationModelOptions): Promise<BuiltModel>;
}

/** A model family of the character classifiers. */
export interface CharModelBuilder {
  name: CharModelName;
  task: 'characters';
  defaults: Readonly<RunDefaults>;
  build(options: CharModelOptions): BuiltModel;
}

export type ModelBuilder = EquationModelBuilder | CharModelBuilder;

/** glyphlab's CNN for characters, over LeNet-5's defaults: wider convs, one dense layer. */
const CNN_DEFAULTS: LenetOptions = { convFilters: [32, 64], kernelSize: 5, denseUnits: [128], dropout: 0.5, l2: 0.0005 };

/** The fields that are set: `{ a: undefined }` must not hide a default when spread over it. */
function definedOnly<T extends object>(options: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(options ?? {}).filter(([, value]) => value !== undefined)) as Partial<T>;
}

const BUILDERS: Readonly<Record<ModelName, ModelBuilder>> = {
  crnn: {
    name: 'crnn',
    task: 'equations',
    async build({ crnn }) {
      const config = resolveCrnnOptions(crnn);
      return { model: buildCrnn(config), config: { ...config }, architecture: architectureParams('crnn', config) };
    },
  },
  'vgg19-crnn': {
    name: 'vgg19-crnn',
    task: 'equations',
    async build({ crnn = {}, vgg19 = {}, log = () => {} }) {
      const built = await createVgg19Crnn({
        inputHeight: crnn.inputHeight,
        inputWidth: crnn.inputWidth,
        rnn: crnn.rnn,
        rnnUnits: crnn.rnnUnits,
        rnnLayers: crnn.rnnLayers,
        dropout: crnn.dropout,
        filterDivisor: vgg19.filterDivisor,
        path: vgg19.weightsPath,
        weights: vgg19.weights,
      });
      if (built.message) log(built.message);
      log(`VGG19-CRNN: ${built.weights === 'imagenet' ? `ImageNet weights from ${built.weightsPath}` : 'random initialisation'}`);
      const config = { ...built.config, weights: built.weights, weightsPath: built.weightsPath ?? null };
      return { model: built.model, config, architecture: architectureParams('vgg19-crnn', config), phase1Layers: trainableLayerNames(built.model, { lastN: vgg19.lastN ?? 5 }) };
    },
  },
  mlp: {
    name: 'mlp',
    task: 'characters',
    defaults: CHAR_RUN_DEFAULTS,
    build({ mlp, numClasses, inputShape }) {
      const config = resolveMlpOptions({ ...definedOnly(mlp), numClasses, inputShape });
      return { model: buildMlp(config), config: { ...config }, architecture: architectureParams('mlp', config) };
    },
  },
  cnn: {
    name: 'cnn',
    task: 'characters',
    defaults: CHAR_RUN_DEFAULTS,
    build({ lenet, numClasses, inputShape }) {
      const config = resolveLenetOptions({ ...CNN_DEFAULTS, ...definedOnly(lenet), numClasses, inputShape });
      return { model: buildLenet(config), config: { ...config }, architecture: architectureParams('cnn', config) };
    },
  },
};

/**
 * The builder of model `name`. An unknown name, or (given `task`) a model of another task, is a
 * ConfigError listing the models that would do.
 *
 * @example
 * const { model, architecture } = await getModelBuilder('crnn').build({ crnn: { rnn: 'gru' } });
 * getModelBuilder('cnn').defaults.learningRate; // 0.002
 */
export function getModelBuilder(name: EquationModelName, task?: 'equations'): EquationModelBuilder;
export function getModelBuilder(name: CharModelName, task?: 'characters'): CharModelBuilder;
export function getModelBuilder(name: string, task: 'equations'): EquationModelBuilder;
export function getModelBuilder(name: string, task: 'characters'): CharModelBuilder;
export function getModelBuilder(name: string, task?: ModelBuilder['task']): ModelBuilder;
export function getModelBuilder(name: string, task?: ModelBuilder['task']): ModelBuilder {
  const builder = (BUILDERS as Readonly<Record<string, ModelBuilder>>)[name];
  if (!builder || (task !== undefined && builder.task !== task)) {
    const names = task === undefined ? MODEL_NAMES : MODEL_NAMES.filter((n) => BUILDERS[n].task === task);
    throw new ConfigError(`model ${JSON.stringify(name)} is not one of: ${names.join(', ')}`);
  }
  return builder;
}
