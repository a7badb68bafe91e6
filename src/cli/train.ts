/**
 * `glyphlab train`: train a recorded run, of the equation recogniser on a data folder (with a
 * recipe, any of whose fields a flag overrides) or of a character classifier on a data
 * specifier, or continue an interrupted one. The equation flags, their bounds and the defaults
 * their help states come from the run spec (`runs/spec/`): the help prints each recipe's resolved
 * value. Ctrl-C is handled here: the first stops the run cleanly, a second quits.
 */
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors';
import { type AugmentOptions, SHAPE_AUGMENT_LIMITS } from '../data/equations/augment';
import { loadCharDataset } from '../data/characters/source';
import { parseSynthDataArg } from '../data/equations/synth-sets';
import { type CharRunResult, runCharTraining } from '../runs/char-run';
import { Callback, type TrainEndEvent } from '../training/callbacks';
import { describeHeldOut, type EquationRunResult, resumeEquationTraining, runEquationSpec } from '../runs/equation-run';
import { CHAR_MODELS, CHAR_RUN_DEFAULTS, type CharModelName, type EquationModelName, MODEL_NAMES, type ModelName } from '../runs/models';
import {
  describeEquationSpec,
  describeFieldDefault,
  EQUATION_FIELDS,
  EQUATION_RECIPE_NAMES,
  EQUATION_RECIPES,
  type EquationRunOptions,
  LONG_RECIPE_FROM_MINUTES,
  resolveEquationRunSpec,
} from '../runs/spec/index';
import { parseStepSchedule } from '../training/schedule';
import { MAX_REPLICAS } from '../parallel/replicas';
import { databasePath } from '../util/paths';
import { announceBackend } from './backend';
import {
  choiceOption,
  type CliContext,
  type CommandGroup,
  DB_OPTION,
  experimentOption,
  flagOption,
  integerListOption,
  jsonOption,
  limitOption,
  numberOption,
  type OptionSpec,
  type ParsedArgs,
  requireOption,
  runOption,
  stringListOption,
  stringOption,
} from './command';
import { interruptible } from './interrupt';
import { ProgressCallback } from './progress';
import { percent } from '../util/format';

/** The character classifiers' defaults of the flags they share with the equation runs. */
const CHAR_SHARED: Record<string, string> = { epochs: String(CHAR_RUN_DEFAULTS.epochs), 'batch-size': String(CHAR_RUN_DEFAULTS.batchSize), lr: String(CHAR_RUN_DEFAULTS.learningRate), filters: 'cnn 32,64' };

/** The flags of the equation runs' plain fields (spec/fields.ts), with their defaults per recipe. */
const EQUATION_FIELD_OPTIONS: Record<string, OptionSpec> = Object.fromEntries(
  EQUATION_FIELDS.map((field) => {
    const only = field.models ? `${field.models.join('/')}: ` : '';
    const valueName = field.kind === 'choice' ? field.choices?.join('|') : field.valueName;
    const shared = CHAR_SHARED[field.flag];
    const description = `${only}${field.help} (${describeFieldDefault(field)}${shared === undefined ? '' : `; mlp, cnn ${shared.replace(/^cnn /, '')}`})`;
    const spec: OptionSpec = field.kind === 'boolean' ? { type: 'boolean', description } : { type: 'string', valueName, description };
    return [field.flag, spec];
  }),
);

/** Flags of the character classifiers' own (the equation fields they share keep their equation help). */
const CHAR_OPTIONS: Record<string, OptionSpec> = {
  dense: { type: 'string', valueName: 'A,B,...', description: 'cnn: dense units before the output (default 128); mlp: hidden units (default 512,512)' },
  kernel: { type: 'string', valueName: 'N', description: 'cnn: conv kernel size (default 5)' },
  'convs-per-block': { type: 'string', valueName: 'N', description: 'cnn: convs before each pool (default 1; 2 for VGG-style blocks)' },
  'batch-norm': { type: 'boolean', description: 'cnn: batch normalisation after each conv' },
  se: { type: 'boolean', description: 'cnn: a squeeze-and-excitation block after each conv block' },
  'lr-schedule': { type: 'string', valueName: 'RATExN,...', description: 'mlp/cnn: fixed rates per epoch instead of --lr with ReduceLROnPlateau, e.g. 0.002x6,0.001x2 (epochs default to its length)' },
  final: { type: 'boolean', description: 'mlp/cnn: train on train + validation, no validation, keep the last epoch (pick epochs and --lr-schedule on a run with validation first)' },
};

/** The equation fields a resume may change; every other one is the recorded run's. */
const RESUME_FIELDS = ['epochs', 'replicas', 'workers'] as const;

export const trainGroup: CommandGroup = {
  name: 'train',
  summary: 'train a model on a data folder and record the run',
  commands: [
    {
      name: '',
      summary: 'train the equation recogniser (custom CRNN or VGG19-CRNN) with a recipe, or a character classifier, and record the run',
      options: {
        data: { type: 'string', valueName: 'DIR|SPEC', description: 'equations: a folder with labels.csv + images (split.json used when present), or synth, synth:PRESET (wide, reference) or synth:SPEC.json to train on an endless synthesis stream (fixed val/test/held-out sets rendered once into data/synth/); mlp/cnn: mnist, idx:DIR or letters-csv:FILE (required)' },
        recipe: {
          type: 'string',
          valueName: EQUATION_RECIPE_NAMES.join('|'),
          description: `equations: what the other options start from (default quick, or long for --minutes ${LONG_RECIPE_FROM_MINUTES} or more; reference for vgg19-crnn); any option below overrides its value`,
        },
        model: { type: 'string', valueName: MODEL_NAMES.join('|'), description: "model (default the recipe's, crnn); mlp and cnn classify single characters" },
        ...EQUATION_FIELD_OPTIONS,
        patience: { type: 'string', valueName: 'N', description: `early stopping after N epochs without val_accuracy gain; 0 = off (quick, long off; reference 8; ${describeCharDefault((d) => d.patience)})` },
        limit: limitOption('use at most N training images (and N/8 for val and test)'),
        augment: { type: 'boolean', description: `augment training images (equations off; ${describeCharDefault((d) => d.augment)})` },
        'no-augment': { type: 'boolean', description: 'train without augmentation' },
        'augment-shear': { type: 'string', valueName: 'X', description: 'crnn/vgg19-crnn: augment with a random slant of up to X (shift per row, 0 to 2; implies --augment; default none)' },
        'augment-stretch': { type: 'string', valueName: 'X', description: 'crnn/vgg19-crnn: augment with a random horizontal stretch or squeeze of up to X (0 to 0.9; implies --augment)' },
        'augment-stroke': { type: 'string', valueName: 'X', description: 'crnn/vgg19-crnn: augment with strokes up to X of a 3x3 dilation bolder or erosion thinner (0 to 1; implies --augment)' },
        ...CHAR_OPTIONS,
        experiment: experimentOption(`experiment name (equations default equations; ${describeCharDefault((d) => d.experiment)})`),
        name: { type: 'string', valueName: 'NAME', description: 'run name (default the model name)' },
        tag: { type: 'string', multiple: true, valueName: 'TAG', description: 'tag the run (repeatable)' },
        db: DB_OPTION,
        resume: runOption(`continue an interrupted, failed or crashed run from its last checkpoint, as it was recorded (only ${RESUME_FIELDS.map((f) => `--${f}`).join(', ')} may change)`),
        json: jsonOption('the run id and test metrics at the end'),
      },
      details:
        'Recipes (docs/recipes.md):\n' +
        EQUATION_RECIPE_NAMES.map((name) => `  ${name.padEnd(9)} ${EQUATION_RECIPES[name].summary}`).join('\n') +
        '\n\nCtrl-C (or SIGTERM) finishes the current batch, saves experiments/runs/ID/last and records the run as interrupted;\n' +
        '`glyphlab train --resume ID` continues it. A second Ctrl-C quits at once, and so does the first before training\n' +
        'has begun (loading data, starting worker threads), when nothing is recorded yet.',
      async run(args, ctx) {
        const resumeId = stringOption(args, 'resume');
        if (resumeId !== undefined) return resumeRun(args, ctx, resumeId);
        const model = choiceOption<ModelName>(args, 'model', MODEL_NAMES);
        if (model === 'mlp' || model === 'cnn') return trainClassifier(args, ctx, model);
        return trainEquations(args, ctx, model);
      },
    },
  ],
};

/** The default of a character classifier's run, for the help of the options it shares. */
function describeCharDefault(pick: (defaults: typeof CHAR_RUN_DEFAULTS) => string | number | boolean): string {
  const value = pick(CHAR_RUN_DEFAULTS);
  return `mlp, cnn ${typeof value === 'boolean' ? (value ? 'on' : 'off') : value}`;
}

/** Sets `value` at a dotted path of `target` (`crnn.inputHeight`). */
function setAt(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[keys[keys.length - 1]!] = value;
}

/** The equation fields given on the command line, as run options; a field of another model family is refused. */
function equationFieldOptions(args: ParsedArgs, model: EquationModelName | undefined): Partial<EquationRunOptions> {
  const options: Record<string, unknown> = {};
  for (const field of EQUATION_FIELDS) {
    if (args.values[field.flag] === undefined) continue;
    if (field.models && !field.models.includes(model ?? 'crnn')) throw new ConfigError(`--${field.flag} applies to --model ${field.models.join('|')}; ${model ?? 'crnn'} has no such option`);
    const bounds = { min: field.min, max: field.max, integer: field.kind === 'integer' };
    const value =
      field.kind === 'boolean'
        ? flagOption(args, field.flag)
        : field.kind === 'choice'
          ? choiceOption(args, field.flag, field.choices ?? [])
          : field.kind === 'integer-list'
            ? integerListOption(args, field.flag)
            : field.kind === 'string'
              ? stringOption(args, field.flag)
              : numberOption(args, field.flag, bounds);
    setAt(options, field.option, value);
  }
  return options as Partial<EquationRunOptions>;
}

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

/** Keeps why the run stopped before its planned end, from the train-end event, for the report at the end. */
class StopReasonCallback extends Callback {
  reason: string | undefined;

  override async onTrainEnd(event: TrainEndEvent): Promise<void> {
    this.reason = event.stopReason;
  }
}

/**
 * Where and how a CLI training run is recorded, and its progress display, `begun` (see
 * `interruptible`) and `ending`, which hears why the run stopped.
 */
function recordingOptions(args: ParsedArgs, ctx: CliContext, begun: Callback, ending: StopReasonCallback) {
  return {
    dbPath: stringOption(args, 'db') ?? databasePath(),
    source: `glyphlab ${process.argv.slice(2).join(' ')}`,
    callbacks: [new ProgressCallback((line) => ctx.stderr.write(`${line}\n`)), begun, ending],
    log: (message: string) => void ctx.stderr.write(`${message}\n`),
    handleSignals: false,
  };
}

/** `glyphlab train --resume ID`: the run goes on as recorded; only the epochs and how it uses this machine may change. */
async function resumeRun(args: ParsedArgs, ctx: CliContext, runId: string): Promise<number> {
  const allowed = new Set<string>([...RESUME_FIELDS, 'resume', 'data', 'db', 'json', 'help', 'verbose']);
  const refused = Object.keys(args.values).filter((name) => args.values[name] !== undefined && !allowed.has(name));
  if (refused.length > 0) {
    throw new ConfigError(
      `${refused.map((name) => `--${name}`).join(', ')} cannot change a resumed run: it goes on with the spec it recorded (see \`glyphlab runs show ${runId}\`); ` +
        `give only ${RESUME_FIELDS.map((f) => `--${f}`).join(', ')}, or start a new run`,
    );
  }
  const fields = equationFieldOptions(args, undefined);
  await announceBackend(ctx);
  const ending = new StopReasonCallback();
  // runId may be short (c262b8, a name): the run is looked up as every command does (resolveRunRef).
  const resumed = await interruptible(ctx, (signal, begun) =>
    resumeEquationTraining(runId, { epochs: fields.epochs, replicas: fields.replicas, workers: fields.workers, dataDir: stringOption(args, 'data'), ...recordingOptions(args, ctx, begun, ending), signal }),
  );
  return reportEquationRun(ctx, args, resumed, ending.reason);
}

/** `glyphlab train [--recipe R] [--model crnn|vgg19-crnn]`: the equation recogniser on a data folder. */
async function trainEquations(args: ParsedArgs, ctx: CliContext, model: EquationModelName | undefined): Promise<number> {
  for (const name of Object.keys(CHAR_OPTIONS)) {
    if (args.values[name] !== undefined) throw new ConfigError(`--${name} applies to --model ${CHAR_MODELS.join('|')}; the equation models take --lr with --schedule plateau|warmup-cosine`);
  }
  const data = requireOption(args, 'data', '--data data/equations (a folder) or --data synth (the synthesis stream)');
  const synth = parseSynthDataArg(data);
  const limit = numberOption(args, 'limit', { min: 1, integer: true });
  const patience = numberOption(args, 'patience', { min: 0, integer: true });
  const augment = augmentFlag(args);
  const shapes = shapeAugment(args);
  if (shapes && augment === false) throw new ConfigError(`${shapes.given.join(', ')} turn augmentation on; give it or --no-augment, not both`);
  await announceBackend(ctx);
  const spec = resolveEquationRunSpec({
    ...equationFieldOptions(args, model),
    ...(synth ? { synth } : { dataDir: resolve(data) }),
    recipe: choiceOption(args, 'recipe', EQUATION_RECIPE_NAMES),
    model,
    earlyStopping: patience === undefined ? undefined : patience === 0 ? false : { patience },
    limit: limit === undefined ? undefined : { train: limit, val: Math.max(1, Math.ceil(limit / 8)), test: Math.max(1, Math.ceil(limit / 8)) },
    augment: shapes?.options ?? (augment === undefined ? undefined : augment ? {} : false),
    experiment: stringOption(args, 'experiment'),
    name: stringOption(args, 'name'),
    tags: stringListOption(args, 'tag'),
  });
  ctx.stderr.write(`recipe ${spec.recipe}: ${describeEquationSpec(spec)}\n`);
  const ending = new StopReasonCallback();
  const result = await interruptible(ctx, (signal, begun) => runEquationSpec(spec, { ...recordingOptions(args, ctx, begun, ending), signal }));
  return reportEquationRun(ctx, args, result, ending.reason);
}

/** `glyphlab train --model mlp|cnn`: a single-character classifier on a data specifier. */
async function trainClassifier(args: ParsedArgs, ctx: CliContext, model: CharModelName): Promise<number> {
  for (const name of ['recipe', 'schedule', 'warmup', 'minutes', 'weight-decay', 'optimizer', 'clip-norm', 'eval-batch-size', 'workers']) {
    if (args.values[name] !== undefined) throw new ConfigError(`--${name} applies to the equation models; --model ${model} uses --lr with ReduceLROnPlateau or --lr-schedule`);
  }
  for (const name of Object.keys(SHAPE_OPTIONS)) {
    if (args.values[name] !== undefined) throw new ConfigError(`--${name} applies to the equation models; --model ${model} has its own augmentation (--augment, --no-augment)`);
  }
  for (const field of EQUATION_FIELDS.filter((f) => f.option.startsWith('crnn.') || f.option.startsWith('vgg19.'))) {
    if (field.flag !== 'filters' && args.values[field.flag] !== undefined) throw new ConfigError(`--${field.flag} applies to the equation models; --model ${model} is built from its own defaults`);
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
  const ending = new StopReasonCallback();
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
      experiment: stringOption(args, 'experiment'),
      name: stringOption(args, 'name'),
      tags: stringListOption(args, 'tag'),
      ...recordingOptions(args, ctx, begun, ending),
      signal,
    }),
  );
  if (flagOption(args, 'json')) {
    ctx.printJson(runSummary(result, ending.reason));
  } else {
    ctx.print(`run ${result.runId}: ${result.status}; test accuracy ${percent(result.testMetrics?.['test_accuracy'])}, weighted F1 ${(result.testMetrics?.['test_weighted_f1'] ?? Number.NaN).toFixed(4)}`);
    if (ending.reason) ctx.print(`stopped: ${ending.reason}`);
    ctx.print(`files: ${result.runDir}`);
  }
  return result.status === 'interrupted' ? 130 : 0;
}

/** What `train --json` prints; `stopReason` is why training ended before its planned epochs (null when it ran them all). */
function runSummary(result: EquationRunResult | CharRunResult, stopReason: string | undefined): Record<string, unknown> {
  return { runId: result.runId, status: result.status, stopReason: stopReason ?? null, best: result.best ?? null, testMetrics: result.testMetrics ?? null, runDir: result.runDir };
}

/**
 * Prints how a training run ended, and why it stopped early when it did (`runs show` shows the
 * same, recorded as the param stop.reason); exit code 130 for an interrupted run, as after Ctrl-C.
 */
function reportEquationRun(ctx: CliContext, args: ParsedArgs, result: EquationRunResult, stopReason: string | undefined): number {
  if (flagOption(args, 'json')) {
    ctx.printJson(runSummary(result, stopReason));
  } else {
    ctx.print(`run ${result.runId}: ${result.status}`);
    if (stopReason) ctx.print(`stopped: ${stopReason}`);
    if (result.best) ctx.print(`best val_accuracy ${percent(result.best.value)} at epoch ${result.best.epoch + 1}`);
    if (result.testMetrics) {
      ctx.print(`test accuracy ${percent(result.testMetrics['test_accuracy'])}, CER ${percent(result.testMetrics['test_cer'])} (${result.splitSizes.test} images)`);
      const heldOut = describeHeldOut(result.testMetrics);
      if (heldOut) ctx.print(`held-out styles: ${heldOut}`);
    }
    ctx.print(`files: ${result.runDir}`);
    if (result.status === 'interrupted') ctx.print(`continue it: glyphlab train --resume ${result.runId}`);
    else ctx.print(`look at it: glyphlab runs show ${result.runId}; glyphlab eval --run ${result.runId} --data ${result.spec.data.synth ? join(result.dataDir, 'test') : `${result.dataDir} --split test`}`);
  }
  return result.status === 'interrupted' ? 130 : 0;
}
