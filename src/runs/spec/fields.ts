/**
 * The plain fields of {@link EquationRunOptions}, described once: where each goes, what values it
 * takes, its command-line flag and one line of help. `resolveEquationRunSpec` checks every field
 * against these bounds, `glyphlab train` builds its flags and `--help` from them (the defaults it
 * prints are read from each recipe's resolved spec), so a new CRNN knob is a line here and its
 * code in the builder, nothing else. Options with more structure than a value (`--patience`,
 * `--limit`, augmentation, the recipe itself) are read by the CLI by hand.
 */
import { MAX_WORKER_THREADS } from '../../util/script-worker';
import { OPTIMIZER_NAMES } from '../../training/train';
import type { EquationModelName } from '../models';
import { builderConfig, type EquationRunSpec } from './options';

/** One plain field of the run options. */
export interface EquationField {
  /** The command-line flag, without dashes. */
  flag: string;
  /** Where the value goes in `EquationRunOptions`, dotted (`crnn.inputHeight`). */
  option: string;
  kind: 'number' | 'integer' | 'integer-list' | 'boolean' | 'choice' | 'string';
  /** The values a choice accepts. */
  choices?: readonly string[];
  /** Bounds of a number (of every element of a list). */
  min?: number;
  max?: number;
  /** Placeholder of the value in `--help`. */
  valueName?: string;
  /** What it is, for `--help`. */
  help: string;
  /** Its value in a resolved spec (for the defaults `--help` prints). */
  inSpec: (spec: EquationRunSpec) => unknown;
  /** The model families that read it. Defaults to every equation model. */
  models?: readonly EquationModelName[];
  /** The default in words, where it depends on the machine rather than the recipe. Defaults to the recipes' values. */
  defaultText?: string;
}

const crnnOnly: readonly EquationModelName[] = ['crnn'];
const vgg19Only: readonly EquationModelName[] = ['vgg19-crnn'];
/** The input size and head, which both families read. */
const head = builderConfig;

export const EQUATION_FIELDS: readonly EquationField[] = [
  { flag: 'epochs', option: 'epochs', kind: 'integer', min: 1, valueName: 'N', help: 'epochs (with --minutes, the most)', inSpec: (s) => s.training.epochs },
  { flag: 'minutes', option: 'minutes', kind: 'number', min: 0.0001, valueName: 'M', help: 'stop training after M minutes (a warm-up cosine spans them)', inSpec: (s) => s.training.minutes ?? 'none' },
  { flag: 'batch-size', option: 'batchSize', kind: 'integer', min: 1, valueName: 'N', help: 'training batch size', inSpec: (s) => s.training.batchSize },
  { flag: 'eval-batch-size', option: 'evalBatchSize', kind: 'integer', min: 1, valueName: 'N', help: 'validation and test batch size', inSpec: (s) => s.training.evalBatchSize },
  { flag: 'lr', option: 'learningRate', kind: 'number', min: 1e-9, max: 100, valueName: 'RATE', help: 'learning rate (the peak, with warmup-cosine)', inSpec: (s) => s.training.learningRate },
  { flag: 'optimizer', option: 'optimizer', kind: 'choice', choices: OPTIMIZER_NAMES, help: 'optimizer', inSpec: (s) => s.training.optimizer },
  { flag: 'clip-norm', option: 'clipNorm', kind: 'number', min: 1e-9, valueName: 'X', help: 'clip the global gradient norm', inSpec: (s) => s.training.clipNorm ?? 'none' },
  { flag: 'weight-decay', option: 'weightDecay', kind: 'number', min: 0, max: 10, valueName: 'X', help: 'decoupled weight decay, AdamW-style: each step weights shrink by lr x X', inSpec: (s) => s.training.weightDecay },
  { flag: 'schedule', option: 'schedule', kind: 'choice', choices: ['plateau', 'warmup-cosine'], help: 'learning-rate schedule: halve on plateaus, or warm up then a cosine per batch', inSpec: (s) => s.training.schedule },
  { flag: 'warmup', option: 'warmup', kind: 'number', min: 0, max: 0.99, valueName: 'SHARE', help: 'share of training warming up, with warmup-cosine', inSpec: (s) => s.training.warmup },
  { flag: 'seed', option: 'seed', kind: 'integer', min: 0, max: 2 ** 31 - 1, valueName: 'N', help: 'seed of the split (without split.json), shuffles, initial weights and dropout', inSpec: (s) => s.seed },
  { flag: 'input-height', option: 'crnn.inputHeight', kind: 'integer', min: 8, max: 1024, valueName: 'PX', help: 'model input height', inSpec: (s) => head(s)?.inputHeight },
  { flag: 'input-width', option: 'crnn.inputWidth', kind: 'integer', min: 8, max: 8192, valueName: 'PX', help: 'model input width', inSpec: (s) => head(s)?.inputWidth },
  { flag: 'rnn', option: 'crnn.rnn', kind: 'choice', choices: ['lstm', 'gru'], help: 'recurrent cell', inSpec: (s) => head(s)?.rnn },
  { flag: 'rnn-units', option: 'crnn.rnnUnits', kind: 'integer', min: 1, max: 4096, valueName: 'N', help: 'units per direction', inSpec: (s) => head(s)?.rnnUnits },
  { flag: 'rnn-layers', option: 'crnn.rnnLayers', kind: 'integer', min: 1, max: 16, valueName: 'N', help: 'bidirectional recurrent layers', inSpec: (s) => head(s)?.rnnLayers },
  { flag: 'dropout', option: 'crnn.dropout', kind: 'number', min: 0, max: 0.99, valueName: 'RATE', help: 'dropout before the output layer', inSpec: (s) => head(s)?.dropout },
  { flag: 'filters', option: 'crnn.convFilters', kind: 'integer-list', min: 1, max: 4096, valueName: 'A,B,...', help: 'conv filters per block', inSpec: (s) => s.crnn?.convFilters.join(','), models: crnnOnly },
  { flag: 'conv-kernel', option: 'crnn.convKernel', kind: 'integer', min: 1, max: 15, valueName: 'N', help: 'kernel height and width of every convolution (odd)', inSpec: (s) => s.crnn?.convKernel, models: crnnOnly },
  { flag: 'bn-momentum', option: 'crnn.batchNormMomentum', kind: 'number', min: 0, max: 0.9999, valueName: 'X', help: 'momentum of the batch-norm moving statistics', inSpec: (s) => s.crnn?.batchNormMomentum, models: crnnOnly },
  { flag: 'strided-stem', option: 'crnn.stridedStem', kind: 'boolean', help: 'the first conv block downsamples by a strided convolution instead of a max-pool', inSpec: (s) => s.crnn?.stridedStem, models: crnnOnly },
  { flag: 'weights', option: 'vgg19.weightsPath', kind: 'string', valueName: 'FILE', help: "Keras VGG19 ImageNet weights (.h5) or a tfjs layers folder (default GLYPHLAB_VGG19_WEIGHTS, else experiments/weights/...; random init, recorded, when absent)", inSpec: () => undefined, models: vgg19Only },
  { flag: 'phase1-epochs', option: 'vgg19.phase1Epochs', kind: 'integer', min: 0, valueName: 'N', help: 'epochs training only the last 5 layers before all layers', inSpec: (s) => s.vgg19?.phase1Epochs, models: vgg19Only },
  { flag: 'filter-divisor', option: 'vgg19.filterDivisor', kind: 'integer', min: 1, max: 64, valueName: 'N', help: "divide every block's filters, for quick trials (ImageNet weights need 1)", inSpec: (s) => s.vgg19?.config.filterDivisor, models: vgg19Only },
  { flag: 'init-from', option: 'initFrom', kind: 'string', valueName: 'RUN|reader:NAME', help: "start from trained weights: a run's best weights (same architecture; another alphabet re-initialises only the output layer) or a reader of data/readers/", inSpec: () => undefined, defaultText: 'default none: random initialisation' },
  { flag: 'freeze-epochs', option: 'freezeEpochs', kind: 'integer', min: 0, valueName: 'N', help: 'with --init-from: the first N epochs train only the sequence head, the convolution blocks frozen', inSpec: (s) => s.init?.freezeEpochs ?? 0 },
  { flag: 'replicas', option: 'replicas', kind: 'integer', min: 1, max: MAX_WORKER_THREADS, valueName: 'N', help: 'data-parallel training replicas: threads that each hold the model and split every batch (not --workers)', inSpec: (s) => s.compute.replicas, defaultText: 'default one per core on the wasm backend, 1 elsewhere' },
  { flag: 'workers', option: 'workers', kind: 'integer', min: 0, max: MAX_WORKER_THREADS, valueName: 'N', help: 'image-decoding worker threads; 0 decodes on the main thread', inSpec: (s) => s.compute.workers, defaultText: 'default min(2, cores)' },
];

/** The field whose value goes to `option`, if any: `--help` names its flag, errors name both. */
export function fieldOf(option: string): EquationField | undefined {
  return EQUATION_FIELDS.find((field) => field.option === option);
}
