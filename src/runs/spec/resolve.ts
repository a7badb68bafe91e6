/**
 * `resolveEquationRunSpec`: the one place where an equation run's defaults are resolved. The
 * user's options go over their recipe's, the recipe's over {@link EQUATION_RUN_BASE}, and the
 * model's builder fills its own architecture defaults; the result is checked once and is
 * complete. Pure: what depends on the machine (cores, backend) comes in as an argument.
 */
import { availableParallelism, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError } from '../../errors';
import { getBackendInfo } from '../../backend/index';
import { resolveAugment } from '../../data/equations/augment';
import { resolveSynthData, synthDataId } from '../../data/equations/synth-sets';
import { dataDir } from '../../util/paths';
import { resolveCrnnOptions } from '../../models/crnn';
import { resolveVgg19CrnnOptions } from '../../models/vgg19-crnn';
import { MAX_WORKER_THREADS } from '../../util/script-worker';
import { EQUATION_MODELS } from '../models';
import { EQUATION_FIELDS } from './fields';
import { checkStepFits } from './memory';
import { builderConfig, EQUATION_SPEC_VERSION, type EquationRecipeOptions, type EquationRecipeRequired, type EquationRunOptions, type EquationRunSpec } from './options';
import { defaultRecipeName, getRecipe } from './recipes';

/** The machine a spec is resolved for: the defaults of `replicas` and `workers` depend on it. */
export interface EquationMachine {
  cores: number;
  /** The TensorFlow.js backend in use ('wasm', 'tensorflow', 'cpu'), if one is initialised. */
  backend: string | undefined;
  /** Memory, in bytes (what a step of a native backend may use at most). */
  memoryBytes: number;
}

/** This machine, with the backend initialised so far. */
export function currentMachine(): EquationMachine {
  return { cores: availableParallelism(), backend: getBackendInfo()?.name, memoryBytes: totalmem() };
}

/** What every recipe starts from: the run-level defaults that no recipe changes. */
export const EQUATION_RUN_BASE = {
  seed: 0,
  batchSize: 32,
  evalBatchSize: 64,
  optimizer: 'adam',
  clipNorm: 5,
  warmup: 0.1,
  reduceLrOnPlateau: { factor: 0.5, patience: 3, minLr: 1e-6 },
  earlyStoppingMinDelta: 0,
  augment: false,
  imageCheck: 'decode',
  experiment: 'equations',
  vgg19: { weights: 'imagenet', lastN: 5, phase1Epochs: 2 },
} as const;

/** The fields of `options` that are set: `{ a: undefined }` must not hide a recipe's value. */
function definedOnly<T extends object>(options: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(options ?? {}).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** The recipe's options under the user's (the CRNN and VGG19 options merge field by field). */
function mergeOptions(recipe: Readonly<EquationRecipeOptions>, options: EquationRunOptions): EquationRunOptions & Required<Pick<EquationRunOptions, EquationRecipeRequired>> {
  return {
    ...recipe,
    ...definedOnly(options),
    dataDir: options.dataDir,
    crnn: { ...recipe.crnn, ...definedOnly(options.crnn) },
    vgg19: { ...recipe.vgg19, ...definedOnly(options.vgg19) },
  };
}

/** The value at a dotted path of the options (`crnn.inputHeight`). */
function valueAt(options: EquationRunOptions, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => (value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), options);
}

/** Checks every plain field against its bounds (fields.ts): the error names the option and its flag. */
function checkFields(options: EquationRunOptions): void {
  for (const field of EQUATION_FIELDS) {
    const value = valueAt(options, field.option);
    if (value === undefined || value === null) continue;
    const name = `${field.option} (--${field.flag})`;
    if (field.kind === 'choice') {
      if (!field.choices?.includes(value as string)) throw new ConfigError(`${name} ${JSON.stringify(value)} is not one of: ${field.choices?.join(', ')}`);
      continue;
    }
    if (field.kind === 'boolean' || field.kind === 'string') {
      if (typeof value !== field.kind) throw new ConfigError(`${name} ${JSON.stringify(value)} must be a ${field.kind}`);
      continue;
    }
    const list = field.kind === 'integer-list';
    const values = list && Array.isArray(value) ? value : [value];
    if (list && (!Array.isArray(value) || value.length === 0)) throw new ConfigError(`${name} ${JSON.stringify(value)} must be a non-empty list of whole numbers`);
    for (const v of values) {
      const whole = field.kind !== 'number';
      const ok = typeof v === 'number' && Number.isFinite(v) && (!whole || Number.isInteger(v)) && (field.min === undefined || v >= field.min) && (field.max === undefined || v <= field.max);
      if (!ok) {
        const range = [field.min !== undefined ? `>= ${field.min}` : '', field.max !== undefined ? `<= ${field.max}` : ''].filter(Boolean).join(' and ');
        throw new ConfigError(`${name} ${JSON.stringify(value)} must be ${whole ? 'a whole number' : 'a number'}${list ? ' each' : ''}${range ? ` ${range}` : ''}`);
      }
    }
  }
}

/** A positive whole number of samples, or null for all. */
function limitOf(value: number | undefined, split: string): number | null {
  if (value === undefined) return null;
  if (!Number.isInteger(value) || value < 1) throw new ConfigError(`limit.${split} ${value} must be a positive whole number (or absent for the whole split)`);
  return value;
}

/** The checks that involve more than one field, and whether a step fits the machine. */
function checkSpec(spec: EquationRunSpec, machine: EquationMachine): void {
  const { training, compute } = spec;
  if (compute.replicas > training.batchSize) {
    throw new ConfigError(
      `replicas ${compute.replicas} (--replicas) is more than the batch size ${training.batchSize} (--batch-size): every replica needs at least one image of each batch; use at most ${training.batchSize} replicas or a larger batch`,
    );
  }
  if (!(1 - training.learningRate * training.weightDecay > 0)) {
    throw new ConfigError(`weightDecay ${training.weightDecay} at learning rate ${training.learningRate} would scale the weights by ${1 - training.learningRate * training.weightDecay}; learning rate x weight decay must stay below 1`);
  }
  if (spec.record.experiment.trim() === '') throw new ConfigError('experiment name is empty; give a name such as "equations"');
  if (spec.record.name.trim() === '') throw new ConfigError('run name is empty; give a name or leave it out (the model name)');
  checkStepFits(spec, machine);
}

/**
 * The complete spec of the run `options` ask for: see the file comment. Throws a ConfigError
 * naming the option (and its flag) when a value is out of bounds or two values contradict.
 *
 * @example
 * const spec = resolveEquationRunSpec({ dataDir: 'data/equations' });      // the quick recipe
 * spec.crnn?.rnn;                                                           // 'gru'
 * resolveEquationRunSpec({ dataDir: 'd', recipe: 'reference', epochs: 3 }).training.learningRate; // 0.001
 */
export function resolveEquationRunSpec(options: EquationRunOptions, machine: EquationMachine = currentMachine()): EquationRunSpec {
  if (!options.synth && (typeof options.dataDir !== 'string' || options.dataDir.trim() === '')) {
    throw new ConfigError('dataDir is required: the folder with labels.csv and images/ (--data DIR), or a synthesis stream (synth, --data synth)');
  }
  const recipe = getRecipe(defaultRecipeName(options));
  const merged = mergeOptions(recipe.options, options);
  checkFields(merged);
  const { model, epochs, schedule } = merged;
  if (!EQUATION_MODELS.includes(model)) throw new ConfigError(`model ${JSON.stringify(model)} is not one of: ${EQUATION_MODELS.join(', ')}`);
  const seed = merged.seed ?? EQUATION_RUN_BASE.seed;
  const base = EQUATION_RUN_BASE;
  const early = merged.earlyStopping;
  const plateau = merged.reduceLrOnPlateau;
  const vgg19 = merged.vgg19 ?? {};
  const augment = merged.augment ?? base.augment;
  const replicas = merged.replicas ?? (machine.backend === 'wasm' ? Math.min(MAX_WORKER_THREADS, machine.cores) : 1);
  const spec: EquationRunSpec = {
    specVersion: EQUATION_SPEC_VERSION,
    recipe: recipe.name,
    seed,
    model,
    crnn: model === 'crnn' ? resolveCrnnOptions({ ...merged.crnn, seed }) : null,
    vgg19:
      model === 'vgg19-crnn'
        ? {
            config: resolveVgg19CrnnOptions({ ...pickHead(merged.crnn), filterDivisor: vgg19.filterDivisor }),
            weights: vgg19.weights ?? base.vgg19.weights,
            weightsPath: vgg19.weightsPath ?? null,
            lastN: vgg19.lastN ?? base.vgg19.lastN,
            phase1Epochs: Math.max(0, Math.min(vgg19.phase1Epochs ?? base.vgg19.phase1Epochs, epochs - 1)),
          }
        : null,
    data: {
      dir: '',
      synth: null,
      limit: { train: limitOf(merged.limit?.train, 'train'), val: limitOf(merged.limit?.val, 'val'), test: limitOf(merged.limit?.test, 'test') },
      augment: augment === false ? null : resolveAugment(augment),
      imageCheck: merged.imageCheck ?? base.imageCheck,
    },
    training: {
      epochs,
      batchSize: merged.batchSize ?? base.batchSize,
      evalBatchSize: merged.evalBatchSize ?? base.evalBatchSize,
      optimizer: merged.optimizer ?? base.optimizer,
      learningRate: merged.learningRate,
      clipNorm: merged.clipNorm === undefined ? base.clipNorm : merged.clipNorm,
      weightDecay: merged.weightDecay,
      schedule,
      warmup: merged.warmup ?? base.warmup,
      minutes: merged.minutes,
      earlyStopping: early ? { patience: early.patience ?? 8, minDelta: early.minDelta ?? base.earlyStoppingMinDelta } : null,
      // A warm-up cosine sets every batch's rate itself.
      reduceLrOnPlateau: schedule === 'plateau' && plateau !== false ? { ...base.reduceLrOnPlateau, ...definedOnly(plateau) } : null,
    },
    compute: { replicas, workers: merged.workers ?? Math.min(2, machine.cores) },
    record: { experiment: merged.experiment ?? base.experiment, name: merged.name ?? model, tags: [...(merged.tags ?? [])] },
    init: resolveInit(merged.initFrom, merged.freezeEpochs, epochs),
  };
  const head = builderConfig(spec)!;
  spec.data.synth = options.synth ? resolveSynthData(options.synth, { width: head.inputWidth, height: head.inputHeight }) : null;
  spec.data.dir = resolve(options.dataDir ?? join(dataDir(), 'synth', synthDataId(spec.data.synth!)));
  checkSpec(spec, machine);
  return spec;
}

/** The init part of a spec: the source as asked, its facts left for the run to fill when it starts. */
function resolveInit(initFrom: string | undefined, freezeEpochs: number | undefined, epochs: number): EquationRunSpec['init'] {
  if (initFrom === undefined || initFrom.trim() === '') {
    if (freezeEpochs !== undefined && freezeEpochs > 0) throw new ConfigError(`freezeEpochs ${freezeEpochs} (--freeze-epochs) freezes trained convolution blocks: give initFrom (--init-from RUN or reader:NAME) too`);
    return null;
  }
  const freeze = freezeEpochs ?? 0;
  if (freeze >= epochs) throw new ConfigError(`freezeEpochs ${freeze} (--freeze-epochs) must be less than the epochs ${epochs} (--epochs): every layer trains after the frozen epochs`);
  return { from: initFrom.trim(), freezeEpochs: freeze, run: null, reader: null, modelDir: null, data: null, loaded: null, reinitialised: null };
}

/** What a resume may change of a recorded spec: more epochs, and how it uses this machine. */
export interface EquationSpecRevision {
  /** Epochs in all (more than the run trained, to go on). */
  epochs?: number;
  replicas?: number;
  workers?: number;
}

/**
 * A recorded spec with a resume's changes, checked as a new spec is. Unset fields keep the
 * recorded values: a resume trains to the epochs the run was started with.
 *
 * @example
 * reviseEquationRunSpec(readEquationRunSpec(run), { epochs: 40 }).training.epochs; // 40
 */
export function reviseEquationRunSpec(spec: EquationRunSpec, revision: EquationSpecRevision, machine: EquationMachine = currentMachine()): EquationRunSpec {
  const changes = definedOnly(revision);
  checkFields({ dataDir: spec.data.dir, ...changes });
  const revised: EquationRunSpec = {
    ...spec,
    training: { ...spec.training, epochs: changes.epochs ?? spec.training.epochs },
    compute: { replicas: changes.replicas ?? spec.compute.replicas, workers: changes.workers ?? spec.compute.workers },
  };
  checkSpec(revised, machine);
  return revised;
}

/** The options of the sequence head and input that the VGG19-CRNN shares with the CRNN. */
function pickHead(crnn: NonNullable<EquationRunOptions['crnn']>) {
  const { inputHeight, inputWidth, rnn, rnnUnits, rnnLayers, dropout } = crnn;
  return definedOnly({ inputHeight, inputWidth, rnn, rnnUnits, rnnLayers, dropout });
}
