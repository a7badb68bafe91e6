/**
 * The two shapes of an equation run's configuration, and nothing else:
 *
 * - {@link EquationRunOptions}: what a user asks for. Every field but the data folder is
 *   optional; a recipe (`quick`, `long`, `reference`: see `recipes.ts`) fills the rest.
 * - {@link EquationRunSpec}: what a run executes. Complete and JSON-able, with no optional field
 *   (`null` where a feature is off). `resolveEquationRunSpec` (resolve.ts) makes one from the
 *   other, the only place where run-level defaults are resolved; the runner executes the spec,
 *   the experiment store records it verbatim as the run's config, and `--resume` reads it back.
 */
import type { AugmentOptions } from '../../data/equations/augment';
import type { SynthDataOptions, SynthDataSpec } from '../../data/equations/synth-sets';
import type { CrnnConfig, CrnnOptions } from '../../models/crnn';
import type { Vgg19CrnnConfig } from '../../models/vgg19-crnn';
import type { EarlyStoppingOptions, OptimizerName, ReduceLrOptions } from '../../training/types';
import type { SplitName } from '../../types';
import type { EquationModelName } from '../models';

/** The version of the spec's shape, recorded in every spec (`specVersion`). */
export const EQUATION_SPEC_VERSION = 1;

/** The recipes of the equation reader (see `recipes.ts`). */
export const EQUATION_RECIPE_NAMES = ['quick', 'long', 'reference'] as const;
export type EquationRecipeName = (typeof EQUATION_RECIPE_NAMES)[number];

/**
 * How the learning rate moves: 'warmup-cosine' (a linear warm-up over the first `warmup` share of
 * training to `learningRate`, then a half cosine down to a hundredth of it, per batch, over
 * `minutes` or over all epochs) or 'plateau' (`learningRate`, halved when val_accuracy stops
 * improving).
 */
export type EquationSchedule = 'plateau' | 'warmup-cosine';

/** How images are checked before training: every pixel decoded, or only the headers read. */
export type ImageCheck = 'decode' | 'header';

/** VGG19-CRNN specifics of {@link EquationRunOptions}. */
export interface Vgg19RunOptions {
  /** 'imagenet' loads the weights file when there is one (random otherwise, recorded as such); 'random' skips it. Defaults to 'imagenet'. */
  weights?: 'imagenet' | 'random';
  /** The Keras weights file. Defaults to GLYPHLAB_VGG19_WEIGHTS, else experiments/weights/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5. */
  weightsPath?: string;
  /** Layers (from the output) that train in the first phase. Defaults to 5, the reference implementation's. */
  lastN?: number;
  /** Epochs of the first phase, before all layers train. Defaults to 2 (at most the epochs less one). */
  phase1Epochs?: number;
  /** Divides every block's filters, for quick trials (ImageNet weights need 1). Defaults to 1. */
  filterDivisor?: number;
}

/**
 * What a user asks of an equation run. Unset fields come from the recipe (`recipe`), and what
 * the recipe leaves open from the run-level defaults of resolve.ts; `glyphlab train --help` prints
 * both. Every field set here wins over the recipe's.
 */
export interface EquationRunOptions {
  /**
   * Data folder with `labels.csv` (or `labels.txt`) and images; `split.json` is used when present.
   * With `synth`, the folder the fixed validation, test and held-out sets are rendered into
   * (default `data/synth/<preset>-<hash>`). Required without `synth`.
   */
  dataDir?: string;
  /**
   * Train on an endless synthesis stream instead of the folder's images (synth-sets.ts): every
   * training image is rendered as the steps consume it, never the same twice; validation, test and
   * held-out styles are fixed sets. Defaults to none (train on the folder).
   */
  synth?: SynthDataOptions;
  /**
   * The recipe the other fields start from. Defaults to the best known for the budget: 'quick'
   * (about 13 minutes) unless `minutes` is 30 or more ('long'); 'reference' for `model: 'vgg19-crnn'`.
   */
  recipe?: EquationRecipeName;
  /** Model family. Defaults to the recipe's ('crnn'). */
  model?: EquationModelName;
  /**
   * The CRNN's options over the recipe's (the VGG19-CRNN reads the input size and the sequence
   * head from here: `inputHeight`, `inputWidth`, `rnn`, `rnnUnits`, `rnnLayers`, `dropout`).
   * Fields neither sets take the builder's defaults (`resolveCrnnOptions`). `seed` is the run's.
   */
  crnn?: Omit<CrnnOptions, 'seed'>;
  /** VGG19-CRNN specifics. */
  vgg19?: Vgg19RunOptions;
  /** Seed of the split (when the folder has no split.json), the shuffles, the initial weights and dropout. Defaults to 0. */
  seed?: number;
  /** Epochs (with `minutes`, the most). Defaults to the recipe's. */
  epochs?: number;
  /** Training batch size. Defaults to 32. */
  batchSize?: number;
  /** Validation and test batch size. Defaults to 64. */
  evalBatchSize?: number;
  /** Optimizer. Defaults to 'adam'. */
  optimizer?: OptimizerName;
  /** Learning rate (the peak, with 'warmup-cosine'). Defaults to the recipe's. */
  learningRate?: number;
  /** Global gradient-norm clipping, or null for none. Defaults to 5. */
  clipNorm?: number | null;
  /** Decoupled weight decay, AdamW-style (see `TrainOptions.weightDecay`). Defaults to the recipe's. */
  weightDecay?: number;
  /** The learning-rate schedule. Defaults to the recipe's. */
  schedule?: EquationSchedule;
  /** Share of training spent warming up, with 'warmup-cosine'. Defaults to 0.1. */
  warmup?: number;
  /**
   * A time budget: training stops after this many minutes (after the batch in flight; the epoch
   * is then evaluated as usual), and a 'warmup-cosine' schedule spans it; null for none. Defaults
   * to the recipe's.
   */
  minutes?: number | null;
  /** Early stopping on val_accuracy, or false. Defaults to the recipe's. */
  earlyStopping?: EarlyStoppingOptions | false;
  /** Learning-rate reduction on plateaus of val_accuracy (with 'plateau'), or false. Defaults to factor 0.5, patience 3. */
  reduceLrOnPlateau?: ReduceLrOptions | false;
  /** Use at most this many samples of each split (quick runs). Defaults to all. */
  limit?: Partial<Record<SplitName, number>>;
  /** Training-time augmentation, or false. Defaults to the recipe's (off). */
  augment?: AugmentOptions | false;
  /**
   * How the folder's images are checked before training: 'decode' reads every pixel, so that an
   * unreadable image stops the run before the first epoch; 'header' reads only sizes (for a
   * folder just synthesised). Defaults to 'decode'.
   */
  imageCheck?: ImageCheck;
  /**
   * Data-parallel training replicas (threads, each with its own copy of the model, splitting
   * every batch); not `workers`, which decode images. Defaults to one per core on the wasm
   * backend, 1 elsewhere.
   */
  replicas?: number;
  /** Worker threads decoding images; 0 decodes on the main thread. Defaults to min(2, cores). */
  workers?: number;
  /** Experiment name. Defaults to 'equations'. */
  experiment?: string;
  /** Run name. Defaults to the model name. */
  name?: string;
  /** Tags. Defaults to none. */
  tags?: string[];
  /**
   * Start from trained weights instead of random ones: a recorded run (its id, short id or name:
   * its best weights) or `reader:NAME` (a reader of `data/readers/`, see `runs/readers.ts`). The
   * model must have the same architecture; a source with another alphabet leaves only the output
   * layer freshly initialised. Defaults to none (random initialisation).
   */
  initFrom?: string;
  /**
   * With `initFrom`: epochs at the start that train only the sequence head, the convolution blocks
   * frozen; then every layer trains. Defaults to 0 (every layer from the start).
   */
  freezeEpochs?: number;
}

/** The fields every recipe must set: those with no run-level default. */
export type EquationRecipeRequired = 'model' | 'crnn' | 'epochs' | 'learningRate' | 'weightDecay' | 'schedule' | 'minutes' | 'earlyStopping';

/** The fields a recipe sets: everything about training, nothing about where or how it is recorded or computed. */
export type EquationRecipeOptions = Omit<EquationRunOptions, 'dataDir' | 'synth' | 'recipe' | 'limit' | 'imageCheck' | 'replicas' | 'workers' | 'experiment' | 'name' | 'tags' | 'initFrom' | 'freezeEpochs'> &
  Required<Pick<EquationRunOptions, EquationRecipeRequired>>;

/** The VGG19-CRNN part of a spec. */
export interface Vgg19RunSpec {
  /** The builder's resolved config. */
  config: Vgg19CrnnConfig;
  weights: 'imagenet' | 'random';
  /** The weights file asked for, or null for the default location (the run records the file it read as `model.weights`). */
  weightsPath: string | null;
  /** Layers (from the output) that train in the first phase. */
  lastN: number;
  /** Epochs of the first phase (0: one phase). */
  phase1Epochs: number;
}

/** The data part of a spec. */
export interface EquationDataSpec {
  /** The data folder, absolute (with `synth`, the folder of the fixed sets). */
  dir: string;
  /**
   * The synthesis stream the run trains on, or null for the folder's training split. Absent
   * (read as null) in runs recorded before the stream existed.
   */
  synth?: SynthDataSpec | null;
  /** Samples used per split, or null for all. */
  limit: Record<SplitName, number | null>;
  /** Every augmentation option resolved, or null for none. */
  augment: Required<AugmentOptions> | null;
  imageCheck: ImageCheck;
}

/** The training part of a spec. */
export interface EquationTrainingSpec {
  epochs: number;
  batchSize: number;
  evalBatchSize: number;
  optimizer: OptimizerName;
  learningRate: number;
  clipNorm: number | null;
  weightDecay: number;
  schedule: EquationSchedule;
  /** Warm-up share (read with 'warmup-cosine'). */
  warmup: number;
  minutes: number | null;
  earlyStopping: Required<EarlyStoppingOptions> | null;
  /** Null with 'warmup-cosine', which sets every batch's rate itself. */
  reduceLrOnPlateau: Required<ReduceLrOptions> | null;
}

/**
 * Where a run's weights started: the source asked for (resolved), and what the run found there
 * when it began (null until then: these are facts of the source, read from the store or the
 * reader's folder when the run starts, and recorded with the run; a resume reads them back and
 * loads nothing again).
 */
export interface EquationInitSpec {
  /** What was asked: a run reference, or `reader:NAME`. */
  from: string;
  /** Epochs training only the sequence head, the convolution blocks frozen (0: none). */
  freezeEpochs: number;
  /** The run whose weights were loaded (a reader's: the run that trained it). */
  run: string | null;
  /** The reader's name, when the weights came from one. */
  reader: string | null;
  /** The folder the weights were read from. */
  modelDir: string | null;
  /** The source run's data spec (its config's `data`), or null when it recorded none. */
  data: Record<string, unknown> | null;
  /** Layers whose weights were loaded. */
  loaded: string[] | null;
  /** Layers left freshly initialised (the output layer, for another alphabet). */
  reinitialised: string[] | null;
}

/** A complete equation run: see the file comment. */
export interface EquationRunSpec {
  specVersion: typeof EQUATION_SPEC_VERSION;
  /** The recipe the defaults came from. */
  recipe: EquationRecipeName;
  seed: number;
  model: EquationModelName;
  /** The CRNN builder's resolved config (its `seed` is the run's), or null for another family. */
  crnn: CrnnConfig | null;
  /** The VGG19-CRNN's, or null for another family. */
  vgg19: Vgg19RunSpec | null;
  data: EquationDataSpec;
  training: EquationTrainingSpec;
  /** How the run uses this machine: its result does not depend on these (beyond float rounding). */
  compute: { replicas: number; workers: number };
  /** Where the run is recorded. */
  record: { experiment: string; name: string; tags: string[] };
  /** The weights it started from, or null for random initialisation. Absent (read as null) in runs recorded before. */
  init?: EquationInitSpec | null;
}

/**
 * The builder config of `spec`'s model: the CRNN's, or the VGG19-CRNN's (both hold the input size
 * and the sequence head), or undefined for a spec that has neither.
 *
 * @example
 * builderConfig(spec)?.inputWidth; // 150
 */
export function builderConfig(spec: Pick<EquationRunSpec, 'crnn' | 'vgg19'>): CrnnConfig | Vgg19CrnnConfig | undefined {
  return spec.crnn ?? spec.vgg19?.config;
}
