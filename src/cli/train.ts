/**
 * `glyphlab train`: train a recorded run, of the equation recogniser on a data folder or of a
 * character classifier on a data specifier, or continue an interrupted one. The defaults the
 * help states come from the model registry (`getModelBuilder(name).defaults`), which the run
 * functions use too. Ctrl-C is handled here: the first stops the run cleanly, a second quits.
 */
import { resolve } from 'node:path';
import { ConfigError } from '../errors';
import { type AugmentOptions, SHAPE_AUGMENT_LIMITS } from '../data/equations/augment';
import { loadCharDataset } from '../data/characters/source';
import { type CharRunResult, runCharTraining } from '../runs/char-run';
import type { Callback } from '../training/callbacks';
import { type EquationRunResult, resumeEquationTraining, runEquationTraining } from '../runs/equation-run';
import { CHAR_MODELS, type CharModelName, describeDefault, type EquationModelName, MODEL_NAMES, type ModelName } from '../runs/models';
import { parseStepSchedule } from '../training/schedule';
import { OPTIMIZER_NAMES } from '../training/train';
import type { OptimizerName } from '../training/types';
import { defaultReplicas, MAX_REPLICAS } from '../parallel/replicas';
import { databasePath } from '../util/paths';
import { MAX_WORKER_THREADS as MAX_WORKERS } from '../util/script-worker';
import { announceBackend } from './backend';
import {
  type CliContext,
  type CommandGroup,
  choiceOption,
  DB_OPTION,
  flagOption,
  integerListOption,
  numberOption,
  type ParsedArgs,
  requireOption,
  stringListOption,
  stringOption,
} from './command';
import { interruptible } from './interrupt';
import { ProgressCallback } from './progress';

export const trainGroup: CommandGroup = {
  name: 'train',
  summary: 'train a model on a data folder and record the run',
  commands: [
    {
      name: '',
      summary: 'train the equation recogniser (custom CRNN or VGG19-CRNN) and record the run in the experiment store',
      options: {
        model: { type: 'string', valueName: MODEL_NAMES.join('|'), description: 'model (default crnn); mlp and cnn classify single characters' },
        data: { type: 'string', valueName: 'DIR|SPEC', description: 'equations: a folder with labels.csv + images (split.json used when present); mlp/cnn: mnist, idx:DIR or letters-csv:FILE (required)' },
        epochs: { type: 'string', valueName: 'N', description: `epochs (${describeDefault((d) => d.epochs)})` },
        'batch-size': { type: 'string', valueName: 'N', description: `training batch size (${describeDefault((d) => d.batchSize)})` },
        'eval-batch-size': { type: 'string', valueName: 'N', description: 'validation/test batch size (default 64)' },
        lr: { type: 'string', valueName: 'RATE', description: `learning rate (${describeDefault((d) => d.learningRate)})` },
        optimizer: { type: 'string', valueName: OPTIMIZER_NAMES.join('|'), description: 'optimizer (default adam)' },
        'clip-norm': { type: 'string', valueName: 'X', description: `clip the global gradient norm (${describeDefault((d) => d.clipNorm)})` },
        'weight-decay': { type: 'string', valueName: 'X', description: 'equations: decoupled weight decay, AdamW-style: each step weights shrink by lr x X (default 0; the recipes use 0.05)' },
        schedule: { type: 'string', valueName: 'plateau|warmup-cosine', description: 'equations: learning-rate schedule: halve on plateaus, or warm up then a cosine per batch (default plateau)' },
        warmup: { type: 'string', valueName: 'SHARE', description: 'equations: share of training warming up with warmup-cosine (default 0.1)' },
        minutes: { type: 'string', valueName: 'M', description: 'equations: stop after M minutes of training (the cosine spans them)' },
        patience: { type: 'string', valueName: 'N', description: `early stopping after N epochs without val_accuracy gain; 0 = off (${describeDefault((d) => d.patience)})` },
        'input-height': { type: 'string', valueName: 'PX', description: 'model input height (default 64; 32 is faster on a CPU)' },
        'input-width': { type: 'string', valueName: 'PX', description: 'model input width (default 300)' },
        rnn: { type: 'string', valueName: 'lstm|gru', description: 'recurrent cell (default lstm)' },
        'rnn-units': { type: 'string', valueName: 'N', description: 'units per direction (default 128)' },
        'rnn-layers': { type: 'string', valueName: 'N', description: 'bidirectional recurrent layers (default 2)' },
        'bn-momentum': { type: 'string', valueName: 'X', description: 'crnn: momentum of the batch-norm moving statistics (default 0.99; 0.9 for runs of a few thousand steps, as npm start)' },
        'strided-stem': { type: 'boolean', description: 'crnn: the first conv block downsamples by a strided convolution instead of a max-pool (faster; as npm start)' },
        dropout: { type: 'string', valueName: 'RATE', description: 'crnn: dropout before the output layer (default 0.2; npm start uses 0)' },
        filters: { type: 'string', valueName: 'A,B,...', description: 'conv filters per block (crnn default 32,64,128,128; cnn 32,64)' },
        dense: { type: 'string', valueName: 'A,B,...', description: 'cnn: dense units before the output (default 128); mlp: hidden units (default 512,512)' },
        kernel: { type: 'string', valueName: 'N', description: 'cnn: conv kernel size (default 5)' },
        'convs-per-block': { type: 'string', valueName: 'N', description: 'cnn: convs before each pool (default 1; 2 for VGG-style blocks)' },
        'batch-norm': { type: 'boolean', description: 'cnn: batch normalisation after each conv' },
        se: { type: 'boolean', description: 'cnn: a squeeze-and-excitation block after each conv block' },
        weights: { type: 'string', valueName: 'FILE', description: 'vgg19-crnn: ImageNet weights (.h5 or tfjs folder; default GLYPHLAB_VGG19_WEIGHTS, else experiments/weights/, else random init)' },
        'phase1-epochs': { type: 'string', valueName: 'N', description: 'vgg19-crnn: epochs training only the last 5 layers before all layers (default 2)' },
        'filter-divisor': { type: 'string', valueName: 'N', description: 'vgg19-crnn: divide every block\'s filters, for quick trials (ImageNet weights need 1)' },
        'lr-schedule': { type: 'string', valueName: 'RATExN,...', description: 'mlp/cnn: fixed rates per epoch instead of --lr with ReduceLROnPlateau, e.g. 0.002x6,0.001x2 (epochs default to its length)' },
        final: { type: 'boolean', description: 'mlp/cnn: train on train + validation, no validation, keep the last epoch (pick epochs and --lr-schedule on a run with validation first)' },
        seed: { type: 'string', valueName: 'N', description: 'split and shuffle seed (default 0)' },
        limit: { type: 'string', valueName: 'N', description: 'use at most N training images (and N/8 for val and test)' },
        augment: { type: 'boolean', description: `augment training images (${describeDefault((d) => d.augment)})` },
        'no-augment': { type: 'boolean', description: 'train without augmentation' },
        'augment-shear': { type: 'string', valueName: 'X', description: 'crnn/vgg19-crnn: augment with a random slant of up to X (shift per row, 0 to 2; implies --augment; default none)' },
        'augment-stretch': { type: 'string', valueName: 'X', description: 'crnn/vgg19-crnn: augment with a random horizontal stretch or squeeze of up to X (0 to 0.9; implies --augment)' },
        'augment-stroke': { type: 'string', valueName: 'X', description: 'crnn/vgg19-crnn: augment with strokes up to X of a 3x3 dilation bolder or erosion thinner (0 to 1; implies --augment)' },
        workers: { type: 'string', valueName: 'N', description: `image-decoding worker threads, at most ${MAX_WORKERS} (default min(2, cores))` },
        replicas: { type: 'string', valueName: 'N', description: `data-parallel training replicas: threads that each hold the model and split every batch, at most ${MAX_REPLICAS} (default one per core, ${defaultReplicas()} here; not --workers)` },
        experiment: { type: 'string', valueName: 'NAME', description: `experiment name (${describeDefault((d) => d.experiment)})` },
        name: { type: 'string', valueName: 'NAME', description: 'run name (default the model name)' },
        tag: { type: 'string', multiple: true, valueName: 'TAG', description: 'tag the run (repeatable)' },
        db: DB_OPTION,
        resume: { type: 'string', valueName: 'ID', description: 'continue an interrupted, failed or crashed run from its last checkpoint (its recorded options; --epochs may raise the total)' },
        json: { type: 'boolean', description: 'end by printing the run id and test metrics as JSON' },
      },
      details:
        'Ctrl-C (or SIGTERM) finishes the current batch, saves experiments/runs/ID/last and records the run as interrupted;\n' +
        '`glyphlab train --resume ID` continues it. A second Ctrl-C quits at once, and so does the first before training\n' +
        'has begun (loading data, starting worker threads), when nothing is recorded yet.',
      async run(args, ctx) {
        const resumeId = stringOption(args, 'resume');
        if (resumeId !== undefined) return resumeRun(args, ctx, resumeId);
        const model = choiceOption<ModelName>(args, 'model', MODEL_NAMES) ?? 'crnn';
        if (model === 'mlp' || model === 'cnn') return trainClassifier(args, ctx, model);
        return trainEquations(args, ctx, model);
      },
    },
  ],
};

/** The shape-augmentation options (the glyph shapes of other fonts; equation models only) and their keys. */
const SHAPE_OPTIONS = { 'augment-shear': 'maxShear', 'augment-stretch': 'maxStretch', 'augment-stroke': 'maxStroke' } as const;

/** `--augment-shear/-stretch/-stroke` as augmentation options with the names given, or undefined when none is. */
function shapeAugment(args: ParsedArgs): { options: AugmentOptions; given: string[] } | undefined {
  const options: AugmentOptions = {};
  const given: string[] = [];
  for (const [name, key] of Object.entries(SHAPE_OPTIONS) as [keyof typeof SHAPE_OPTIONS, keyof typeof SHAPE_AUGMENT_LIMITS][]) {
    const value = numberOption(args, name, { min: 0, max: SHAPE_AUGMENT_LIMITS[key] });
    if (value === undefined) continue;
    options[key] = value;
    given.push(`--${name}`);
  }
  return given.length > 0 ? { options, given } : undefined;
}

/** `--augment` and `--no-augment`; neither leaves the model family's default. */
function augmentFlag(args: ParsedArgs): boolean | undefined {
  if (flagOption(args, 'augment') && flagOption(args, 'no-augment')) throw new ConfigError('--augment and --no-augment contradict each other; give one');
  return flagOption(args, 'augment') ? true : flagOption(args, 'no-augment') ? false : undefined;
}

/** Where and how a CLI training run is recorded, its progress display and `begun` (see `interruptible`). */
function recordingOptions(args: ParsedArgs, ctx: CliContext, begun: Callback) {
  return {
    experiment: stringOption(args, 'experiment'),
    name: stringOption(args, 'name'),
    tags: stringListOption(args, 'tag'),
    dbPath: stringOption(args, 'db') ?? databasePath(),
    source: `glyphlab ${process.argv.slice(2).join(' ')}`,
    callbacks: [new ProgressCallback((line) => ctx.stderr.write(`${line}\n`)), begun],
  };
}

/** `glyphlab train --resume ID`. */
async function resumeRun(args: ParsedArgs, ctx: CliContext, runId: string): Promise<number> {
  await announceBackend(ctx);
  const resumed = await interruptible(ctx, (signal, begun) =>
    resumeEquationTraining(runId, {
      epochs: numberOption(args, 'epochs', { min: 1, integer: true }),
      dbPath: stringOption(args, 'db') ?? databasePath(),
      workers: numberOption(args, 'workers', { min: 0, max: MAX_WORKERS, integer: true }),
      replicas: numberOption(args, 'replicas', { min: 1, max: MAX_REPLICAS, integer: true }),
      callbacks: [new ProgressCallback((line) => ctx.stderr.write(`${line}\n`)), begun],
      log: (message) => ctx.stderr.write(`${message}\n`),
      signal,
      handleSignals: false,
    }),
  );
  return reportEquationRun(ctx, args, resumed);
}

/** `glyphlab train [--model crnn|vgg19-crnn]`: the equation recogniser on a data folder. */
async function trainEquations(args: ParsedArgs, ctx: CliContext, model: EquationModelName): Promise<number> {
  for (const name of ['lr-schedule', 'final']) {
    if (args.values[name] !== undefined) throw new ConfigError(`--${name} applies to --model ${CHAR_MODELS.join('|')}; the equation models take --lr with --schedule plateau|warmup-cosine`);
  }
  if (model !== 'crnn' && args.values['bn-momentum'] !== undefined) throw new ConfigError(`--bn-momentum applies to --model crnn; ${model} has no batch normalisation of its own`);
  if (model !== 'crnn' && args.values['strided-stem'] !== undefined) throw new ConfigError(`--strided-stem applies to --model crnn; ${model} has no conv stem of its own`);
  if (model !== 'crnn' && args.values['dropout'] !== undefined) throw new ConfigError(`--dropout applies to --model crnn; ${model} keeps its own`);
  const dataDir = resolve(requireOption(args, 'data', '--data data/equations'));
  const optimizer = choiceOption<OptimizerName>(args, 'optimizer', OPTIMIZER_NAMES);
  const rnn = choiceOption(args, 'rnn', ['lstm', 'gru'] as const);
  const filters = integerListOption(args, 'filters');
  const limit = numberOption(args, 'limit', { min: 1, integer: true });
  const patience = numberOption(args, 'patience', { min: 0, integer: true });
  const augment = augmentFlag(args);
  const shapes = shapeAugment(args);
  if (shapes && augment === false) throw new ConfigError(`${shapes.given.join(', ')} turn augmentation on; give it or --no-augment, not both`);
  await announceBackend(ctx);
  const result = await interruptible(ctx, (signal, begun) =>
    runEquationTraining({
      dataDir,
      model,
      crnn: {
        inputHeight: numberOption(args, 'input-height', { min: 8, integer: true }),
        inputWidth: numberOption(args, 'input-width', { min: 8, integer: true }),
        rnn,
        rnnUnits: numberOption(args, 'rnn-units', { min: 1, integer: true }),
        rnnLayers: numberOption(args, 'rnn-layers', { min: 1, integer: true }),
        batchNormMomentum: numberOption(args, 'bn-momentum', { min: 0, max: 0.9999 }),
        stridedStem: args.values['strided-stem'] === true ? true : undefined,
        dropout: numberOption(args, 'dropout', { min: 0, max: 0.99 }),
        convFilters: filters,
      },
      vgg19: {
        weightsPath: stringOption(args, 'weights'),
        phase1Epochs: numberOption(args, 'phase1-epochs', { min: 0, integer: true }),
        filterDivisor: numberOption(args, 'filter-divisor', { min: 1, integer: true }),
      },
      epochs: numberOption(args, 'epochs', { min: 1, integer: true }),
      batchSize: numberOption(args, 'batch-size', { min: 1, integer: true }),
      evalBatchSize: numberOption(args, 'eval-batch-size', { min: 1, integer: true }),
      learningRate: numberOption(args, 'lr', { min: 1e-9 }),
      optimizer,
      clipNorm: numberOption(args, 'clip-norm', { min: 1e-9 }),
      weightDecay: numberOption(args, 'weight-decay', { min: 0 }),
      earlyStopping: patience === undefined ? undefined : patience === 0 ? false : { patience },
      schedule: choiceOption(args, 'schedule', ['plateau', 'warmup-cosine'] as const),
      warmup: numberOption(args, 'warmup', { min: 0, max: 0.99 }),
      minutes: numberOption(args, 'minutes', { min: 0.01 }),
      seed: numberOption(args, 'seed', { integer: true }),
      limit: limit === undefined ? undefined : { train: limit, val: Math.max(1, Math.ceil(limit / 8)), test: Math.max(1, Math.ceil(limit / 8)) },
      augment: shapes?.options ?? (augment === undefined ? undefined : augment ? {} : false),
      workers: numberOption(args, 'workers', { min: 0, max: MAX_WORKERS, integer: true }),
      replicas: numberOption(args, 'replicas', { min: 1, max: MAX_REPLICAS, integer: true }),
      ...recordingOptions(args, ctx, begun),
      log: (message) => ctx.stderr.write(`${message}\n`),
      signal,
      handleSignals: false,
    }),
  );
  return reportEquationRun(ctx, args, result);
}

/** `glyphlab train --model mlp|cnn`: a single-character classifier on a data specifier. */
async function trainClassifier(args: ParsedArgs, ctx: CliContext, model: CharModelName): Promise<number> {
  for (const name of ['schedule', 'warmup', 'minutes', 'weight-decay']) {
    if (args.values[name] !== undefined) throw new ConfigError(`--${name} applies to the equation models; --model ${model} uses --lr with ReduceLROnPlateau or --lr-schedule`);
  }
  for (const name of Object.keys(SHAPE_OPTIONS)) {
    if (args.values[name] !== undefined) throw new ConfigError(`--${name} applies to the equation models; --model ${model} has its own augmentation (--augment, --no-augment)`);
  }
  for (const name of ['bn-momentum', 'strided-stem', 'dropout']) {
    if (args.values[name] !== undefined) throw new ConfigError(`--${name} applies to --model crnn; --model ${model} is built from its own defaults`);
  }
  const spec = requireOption(args, 'data', '--data mnist (or idx:DIR, letters-csv:FILE)');
  const seed = numberOption(args, 'seed', { integer: true }) ?? 0;
  const scheduleText = stringOption(args, 'lr-schedule');
  if (flagOption(args, 'final') && scheduleText === undefined && numberOption(args, 'epochs', { min: 1 }) === undefined) {
    throw new ConfigError('--final trains without validation, so it needs the epochs fixed in advance: give --lr-schedule (e.g. 0.002x6,0.001x2) or --epochs');
  }
  const augment = augmentFlag(args);
  await announceBackend(ctx);
  const loaded = await loadCharDataset(spec, { seed, limit: numberOption(args, 'limit', { min: 10, integer: true }) });
  ctx.stderr.write(`${loaded.description}\n`);
  const result = await interruptible(ctx, (signal, begun) =>
    runCharTraining({
      splits: loaded.splits,
      dataName: spec,
      model,
      epochs: numberOption(args, 'epochs', { min: 1, integer: true }),
      batchSize: numberOption(args, 'batch-size', { min: 1, integer: true }),
      learningRate: numberOption(args, 'lr', { min: 1e-9 }),
      learningRateSchedule: scheduleText === undefined ? undefined : parseStepSchedule(scheduleText),
      final: flagOption(args, 'final'),
      patience: numberOption(args, 'patience', { min: 0, integer: true }),
      augment,
      seed,
      lenet: {
        convFilters: integerListOption(args, 'filters'),
        denseUnits: integerListOption(args, 'dense'),
        kernelSize: numberOption(args, 'kernel', { min: 1, integer: true }),
        convsPerBlock: numberOption(args, 'convs-per-block', { min: 1, integer: true }),
        batchNorm: flagOption(args, 'batch-norm') || undefined,
        squeezeExcitation: flagOption(args, 'se') || undefined,
      },
      mlp: { hiddenUnits: integerListOption(args, 'dense') },
      replicas: numberOption(args, 'replicas', { min: 1, max: MAX_REPLICAS, integer: true }),
      ...recordingOptions(args, ctx, begun),
      signal,
      handleSignals: false,
    }),
  );
  if (flagOption(args, 'json')) {
    ctx.printJson(runSummary(result));
  } else {
    ctx.print(`run ${result.runId}: ${result.status}; test accuracy ${percent(result.testMetrics?.['test_accuracy'])}, weighted F1 ${(result.testMetrics?.['test_weighted_f1'] ?? Number.NaN).toFixed(4)}`);
    ctx.print(`files: ${result.runDir}`);
  }
  return result.status === 'interrupted' ? 130 : 0;
}

function percent(value: number | undefined): string {
  return value === undefined ? '?' : `${(value * 100).toFixed(2)}%`;
}

/** What `train --json` prints. */
function runSummary(result: EquationRunResult | CharRunResult): Record<string, unknown> {
  return { runId: result.runId, status: result.status, best: result.best ?? null, testMetrics: result.testMetrics ?? null, runDir: result.runDir };
}

/** Prints how a training run ended; exit code 130 for an interrupted run, as after Ctrl-C. */
function reportEquationRun(ctx: CliContext, args: ParsedArgs, result: EquationRunResult): number {
  if (flagOption(args, 'json')) {
    ctx.printJson(runSummary(result));
  } else {
    ctx.print(`run ${result.runId}: ${result.status}`);
    if (result.best) ctx.print(`best val_accuracy ${percent(result.best.value)} at epoch ${result.best.epoch + 1}`);
    if (result.testMetrics) {
      ctx.print(`test accuracy ${percent(result.testMetrics['test_accuracy'])}, CER ${percent(result.testMetrics['test_cer'])} (${result.splitSizes.test} images)`);
    }
    ctx.print(`files: ${result.runDir}`);
    if (result.status === 'interrupted') ctx.print(`continue it: glyphlab train --resume ${result.runId}`);
    else ctx.print(`look at it: glyphlab runs show ${result.runId}; glyphlab eval --run ${result.runId} --data ${result.dataDir} --split test`);
  }
  return result.status === 'interrupted' ? 130 : 0;
}
