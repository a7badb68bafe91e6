/**
 * `glyphlab train`, `glyphlab eval` and `glyphlab predict`: train a recorded run on a data folder,
 * evaluate a run's model on any folder in the data layout, and read single images.
 */
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors';
import { describeBackend, initBackend } from '../backend/index';
import { createBatchSource } from '../data/equations/batches';
import { preprocessBatch } from '../data/equations/batch-preprocess';
import { type LabeledImage, loadLabeledImages } from '../data/equations/load';
import { loadEquationSplits } from '../data/equations/split';
import { SPLIT_NAMES, type SplitName } from '../types';
import { compareDecodedTexts } from '../decode/grammar';
import { databasePath } from '../util/paths';
import { Callback, type Logs, type TrainBeginEvent } from '../training/callbacks';
import { buildEvalReport, EQUATION_MODELS, type EquationModelName, type EquationRunResult, resumeEquationTraining, runEquationTraining } from '../runs/equation-run';
import { loadRunModel } from '../runs/run-model';
import { CHAR_MODELS, type CharModelName, runCharTraining } from '../runs/char-run';
import { parseStepSchedule } from '../training/schedule';
import { loadCharDataset } from '../data/characters/source';
import { decodeTexts, predictLogits, predictSequences, type SequenceDecoder } from '../training/sequence';
import { OPTIMIZER_NAMES } from '../training/train';
import type { OptimizerName } from '../training/types';
import { type CliContext, type CommandGroup, type OptionSpec, type ParsedArgs, flagOption, numberOption, stringListOption, stringOption } from './command';
import { createProgressBar, type ProgressBar } from './progress';

const dbOption: OptionSpec = { type: 'string', valueName: 'FILE', description: 'experiment database (default: GLYPHLAB_DB, else experiments/glyphlab.db)' };
const decoderOption: OptionSpec = { type: 'string', valueName: 'greedy|grammar', description: 'decoder: best path (the seed) or grammar-constrained beam search (default greedy)' };

/** Draws a progress bar per epoch and prints one summary line per epoch. */
export class ProgressCallback extends Callback {
  private bar: ProgressBar | undefined;
  private epochs = 0;
  private steps = 0;
  private done = 0;

  constructor(private readonly print: (line: string) => void) {
    super();
  }

  override async onTrainBegin(event: TrainBeginEvent): Promise<void> {
    this.epochs = event.epochs;
    this.steps = event.stepsPerEpoch ?? 0;
  }
  override async onEpochBegin(epoch: number): Promise<void> {
    this.done = 0;
    this.bar = createProgressBar(`epoch ${epoch + 1}/${this.epochs}`, this.steps);
  }
  override async onBatchEnd(_step: number, logs: Logs): Promise<void> {
    this.done++;
    this.bar?.update(this.done, this.steps, `loss ${(logs['loss'] ?? Number.NaN).toFixed(3)}`);
  }
  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    this.bar?.finish();
    this.bar = undefined;
    const parts = Object.entries(logs).map(([k, v]) => `${k} ${formatLog(k, v)}`);
    this.print(`epoch ${epoch + 1}/${this.epochs}: ${parts.join(', ')}`);
  }
}

function formatLog(key: string, value: number): string {
  if (key === 'lr') return value.toExponential(1);
  if (key.endsWith('_time_s')) return `${value.toFixed(1)}s`;
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(1) : value.toFixed(4);
}

function choice<T extends string>(args: ParsedArgs, name: string, allowed: readonly T[]): T | undefined {
  const value = stringOption(args, name);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new ConfigError(`--${name} ${JSON.stringify(value)} is not one of: ${allowed.join(', ')}`);
  return value as T;
}

/** A comma-separated list of positive integers, e.g. `--filters 16,32,64`. */
function integerListOption(args: ParsedArgs, name: string): number[] | undefined {
  return stringOption(args, name)?.split(',').map((f) => {
    const n = Number(f);
    if (!Number.isInteger(n) || n < 1) throw new ConfigError(`--${name} ${JSON.stringify(f)} is not valid: expected positive integers separated by commas, e.g. 16,32,64`);
    return n;
  });
}

export function requireOption(args: ParsedArgs, name: string, example: string): string {
  const value = stringOption(args, name);
  if (value === undefined) throw new ConfigError(`missing --${name}: e.g. ${example}`);
  return value;
}

function percent(value: number | undefined): string {
  return value === undefined ? '?' : `${(value * 100).toFixed(2)}%`;
}

export async function announceBackend(ctx: CliContext): Promise<void> {
  const info = await initBackend();
  ctx.stderr.write(`compute backend: ${describeBackend(info)}\n`);
}

export const trainGroup: CommandGroup = {
  name: 'train',
  summary: 'train a model on a data folder and record the run',
  commands: [
    {
      name: '',
      summary: 'train the equation recogniser (custom CRNN or VGG19-CRNN) and record the run in the experiment store',
      options: {
        model: { type: 'string', valueName: [...EQUATION_MODELS, ...CHAR_MODELS].join('|'), description: 'model (default crnn); mlp and cnn classify single characters' },
        data: { type: 'string', valueName: 'DIR|SPEC', description: 'equations: a folder with labels.csv + images (split.json used when present); mlp/cnn: mnist, idx:DIR or letters-csv:FILE (required)' },
        epochs: { type: 'string', valueName: 'N', description: 'epochs (default 10)' },
        'batch-size': { type: 'string', valueName: 'N', description: 'training batch size (default 32)' },
        'eval-batch-size': { type: 'string', valueName: 'N', description: 'validation/test batch size (default 64)' },
        lr: { type: 'string', valueName: 'RATE', description: 'learning rate (default 0.001)' },
        optimizer: { type: 'string', valueName: OPTIMIZER_NAMES.join('|'), description: 'optimizer (default adam)' },
        'clip-norm': { type: 'string', valueName: 'X', description: 'clip the global gradient norm (default 5)' },
        patience: { type: 'string', valueName: 'N', description: 'early stopping after N epochs without val_accuracy gain; 0 = off (default 8; mlp/cnn 5)' },
        'input-height': { type: 'string', valueName: 'PX', description: 'model input height (default 64; 32 is faster on a CPU)' },
        'input-width': { type: 'string', valueName: 'PX', description: 'model input width (default 300)' },
        rnn: { type: 'string', valueName: 'lstm|gru', description: 'recurrent cell (default lstm)' },
        'rnn-units': { type: 'string', valueName: 'N', description: 'units per direction (default 128)' },
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
        augment: { type: 'boolean', description: 'augment training images (small rotations, noise)' },
        workers: { type: 'string', valueName: 'N', description: 'image-decoding worker threads (default min(2, cores))' },
        experiment: { type: 'string', valueName: 'NAME', description: 'experiment name (default equations)' },
        name: { type: 'string', valueName: 'NAME', description: 'run name (default the model name)' },
        tag: { type: 'string', multiple: true, valueName: 'TAG', description: 'tag the run (repeatable)' },
        db: dbOption,
        resume: { type: 'string', valueName: 'ID', description: 'continue an interrupted, failed or crashed run from its last checkpoint (its recorded options; --epochs may raise the total)' },
        json: { type: 'boolean', description: 'end by printing the run id and test metrics as JSON' },
      },
      details: 'Ctrl-C finishes the current batch, saves experiments/runs/ID/last and records the run as interrupted;\n`glyphlab train --resume ID` continues it.',
      async run(args, ctx) {
        const resumeId = stringOption(args, 'resume');
        if (resumeId !== undefined) {
          await announceBackend(ctx);
          const resumed = await resumeEquationTraining(resumeId, {
            epochs: numberOption(args, 'epochs', { min: 1, integer: true }),
            dbPath: stringOption(args, 'db') ?? databasePath(),
            workers: numberOption(args, 'workers', { min: 0, integer: true }),
            callbacks: [new ProgressCallback((line) => ctx.stderr.write(`${line}\n`))],
            log: (message) => ctx.stderr.write(`${message}\n`),
          });
          return reportRun(ctx, args, resumed);
        }
        const charModel = choice<CharModelName | EquationModelName>(args, 'model', [...EQUATION_MODELS, ...CHAR_MODELS]);
        if (charModel === 'mlp' || charModel === 'cnn') return trainClassifier(args, ctx, charModel);
        for (const name of ['lr-schedule', 'final']) {
          if (args.values[name] !== undefined) throw new ConfigError(`--${name} applies to --model mlp|cnn; the equation models use --lr with ReduceLROnPlateau`);
        }
        const dataDir = resolve(requireOption(args, 'data', '--data data/equations'));
        const model = charModel;
        const optimizer = choice<OptimizerName>(args, 'optimizer', OPTIMIZER_NAMES);
        const rnn = choice(args, 'rnn', ['lstm', 'gru'] as const);
        const filters = integerListOption(args, 'filters');
        const limit = numberOption(args, 'limit', { min: 1, integer: true });
        const patience = numberOption(args, 'patience', { min: 0, integer: true });
        await announceBackend(ctx);
        const result = await runEquationTraining({
          dataDir,
          model,
          crnn: {
            inputHeight: numberOption(args, 'input-height', { min: 8, integer: true }),
            inputWidth: numberOption(args, 'input-width', { min: 8, integer: true }),
            rnn,
            rnnUnits: numberOption(args, 'rnn-units', { min: 1, integer: true }),
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
          earlyStopping: patience === 0 ? false : { patience: patience ?? 8 },
          seed: numberOption(args, 'seed', { integer: true }),
          limit: limit === undefined ? undefined : { train: limit, val: Math.max(1, Math.ceil(limit / 8)), test: Math.max(1, Math.ceil(limit / 8)) },
          augment: flagOption(args, 'augment') ? {} : false,
          workers: numberOption(args, 'workers', { min: 0, integer: true }),
          ...recordingOptions(args, ctx),
          log: (message) => ctx.stderr.write(`${message}\n`),
        });
        return reportRun(ctx, args, result);
      },
    },
  ],
};

/** Where and how a CLI training run is recorded, and its progress display. */
function recordingOptions(args: ParsedArgs, ctx: CliContext) {
  return {
    experiment: stringOption(args, 'experiment'),
    name: stringOption(args, 'name'),
    tags: stringListOption(args, 'tag'),
    dbPath: stringOption(args, 'db') ?? databasePath(),
    source: `glyphlab ${process.argv.slice(2).join(' ')}`,
    callbacks: [new ProgressCallback((line) => ctx.stderr.write(`${line}\n`))],
  };
}

/** What `train --json` prints. */
function runSummary(result: { runId: string; status: string; best?: { epoch: number; value: number }; testMetrics?: Logs; runDir: string }): Record<string, unknown> {
  return { runId: result.runId, status: result.status, best: result.best ?? null, testMetrics: result.testMetrics ?? null, runDir: result.runDir };
}

/** `glyphlab train --model mlp|cnn`: a single-character classifier on a data specifier. */
async function trainClassifier(args: ParsedArgs, ctx: CliContext, model: CharModelName): Promise<number> {
  const spec = requireOption(args, 'data', '--data mnist (or idx:DIR, letters-csv:FILE)');
  const seed = numberOption(args, 'seed', { integer: true }) ?? 0;
  const scheduleText = stringOption(args, 'lr-schedule');
  if (flagOption(args, 'final') && scheduleText === undefined && numberOption(args, 'epochs', { min: 1 }) === undefined) {
    throw new ConfigError('--final trains without validation, so it needs the epochs fixed in advance: give --lr-schedule (e.g. 0.002x6,0.001x2) or --epochs');
  }
  await announceBackend(ctx);
  const loaded = await loadCharDataset(spec, { seed, limit: numberOption(args, 'limit', { min: 10, integer: true }) });
  ctx.stderr.write(`${loaded.description}\n`);
  const result = await runCharTraining({
    splits: loaded.splits,
    dataName: spec,
    model,
    epochs: numberOption(args, 'epochs', { min: 1, integer: true }),
    batchSize: numberOption(args, 'batch-size', { min: 1, integer: true }),
    learningRate: numberOption(args, 'lr', { min: 1e-9 }),
    learningRateSchedule: scheduleText === undefined ? undefined : parseStepSchedule(scheduleText),
    final: flagOption(args, 'final'),
    patience: numberOption(args, 'patience', { min: 0, integer: true }),
    augment: flagOption(args, 'augment'),
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
    ...recordingOptions(args, ctx),
  });
  if (flagOption(args, 'json')) {
    ctx.printJson(runSummary(result));
  } else {
    ctx.print(`run ${result.runId}: ${result.status}; test accuracy ${percent(result.testMetrics?.['test_accuracy'])}, weighted F1 ${(result.testMetrics?.['test_weighted_f1'] ?? Number.NaN).toFixed(4)}`);
    ctx.print(`files: ${result.runDir}`);
  }
  return result.status === 'interrupted' ? 130 : 0;
}

/** Prints how a training run ended; exit code 130 for an interrupted run, as after Ctrl-C. */
function reportRun(ctx: CliContext, args: ParsedArgs, result: EquationRunResult): number {
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

async function evaluationSamples(dataDir: string, split: SplitName | undefined, seed: number): Promise<LabeledImage[]> {
  if (split === undefined) return (await loadLabeledImages(dataDir, { check: 'header' })).samples;
  return (await loadEquationSplits(dataDir, seed)).splits[split];
}

export const evalGroup: CommandGroup = {
  name: 'eval',
  summary: "evaluate a run's model on a data folder",
  commands: [
    {
      name: '',
      summary: "evaluate a run's model: exact-match accuracy, CER, accuracy by length, confusions",
      options: {
        run: { type: 'string', valueName: 'ID', description: 'the run (required)' },
        data: { type: 'string', valueName: 'DIR', description: 'data folder (required); evaluated whole unless --split' },
        split: { type: 'string', valueName: SPLIT_NAMES.join('|'), description: "only this split (the folder's split.json, else the run's seed)" },
        decoder: decoderOption,
        'compare-decoders': { type: 'boolean', description: 'also decode with the grammar and count the readings it fixes and breaks' },
        limit: { type: 'string', valueName: 'N', description: 'evaluate at most N images' },
        checkpoint: { type: 'string', valueName: 'model|best|last', description: 'which saved weights (default the final model)' },
        db: dbOption,
        json: { type: 'boolean', description: 'print the report as JSON' },
      },
      async run(args, ctx) {
        const runId = requireOption(args, 'run', '--run 20261122-101500-ab12');
        const dataDir = resolve(requireOption(args, 'data', '--data data/equations'));
        const split = choice<SplitName>(args, 'split', SPLIT_NAMES);
        const decoder = choice<SequenceDecoder>(args, 'decoder', ['greedy', 'grammar']);
        const checkpoint = choice(args, 'checkpoint', ['model', 'best', 'last'] as const);
        const limit = numberOption(args, 'limit', { min: 1, integer: true });
        await announceBackend(ctx);
        const loaded = await loadRunModel(runId, { dbPath: stringOption(args, 'db'), checkpoint });
        const seed = Number((loaded.config?.['data'] as { seed?: number } | undefined)?.seed ?? 0);
        let samples = await evaluationSamples(dataDir, split, seed);
        if (limit !== undefined) samples = samples.slice(0, limit);
        if (samples.length === 0) throw new ConfigError(`no images to evaluate in ${dataDir}${split ? ` (split ${split})` : ''}`);
        const [height, width, channels] = loaded.inputShape;
        const source = createBatchSource(samples, { height, width, channels, batchSize: 64, shuffle: false });
        const bar = createProgressBar('eval', samples.length);
        const predictions = await predictSequences(loaded.model, source, { decoder, withGrammar: flagOption(args, 'compare-decoders'), onBatch: (done) => bar.update(done) });
        bar.finish();
        await source.close();
        loaded.model.dispose();
        const report = buildEvalReport(predictions, split ?? 'all');
        const comparison = predictions.grammar ? compareDecodedTexts(predictions.truths, decoder === 'grammar' ? predictions.grammar : predictions.predictions, predictions.grammar) : undefined;
        if (flagOption(args, 'json')) {
          ctx.printJson({ runId: loaded.runId, data: dataDir, decoder: decoder ?? 'greedy', loss: predictions.loss, ...report, decoderComparison: comparison ?? null });
          return;
        }
        ctx.print(`run ${loaded.runId} on ${dataDir}${split ? ` (${split})` : ''}: ${report.samples} images, decoder ${decoder ?? 'greedy'}`);
        ctx.print(`exact-match accuracy ${percent(report.accuracy)}, CER ${percent(report.characterErrorRate)}, CTC loss ${predictions.loss.toFixed(4)}`);
        ctx.print('accuracy by label length:');
        for (const row of report.byLength) ctx.print(`  ${String(row.length).padStart(2)}: ${percent(row.accuracy)} (${row.correct}/${row.samples})`);
        if (report.confusions.length > 0) {
          ctx.print('most frequent confusions (truth -> read):');
          for (const c of report.confusions.slice(0, 8)) ctx.print(`  ${c.truth || '(none)'} -> ${c.predicted || '(none)'}: ${c.count}`);
        }
        if (comparison) {
          ctx.print(`grammar decoder: ${percent(comparison.grammarAccuracy)} vs greedy ${percent(comparison.greedyAccuracy)}; fixed ${comparison.fixed}, broke ${comparison.broken}, both wrong ${comparison.bothWrong}`);
        }
      },
    },
  ],
};

export const predictGroup: CommandGroup = {
  name: 'predict',
  summary: "read equation images with a run's model",
  commands: [
    {
      name: '',
      summary: 'print the text read from each image',
      args: 'IMAGE...',
      options: {
        run: { type: 'string', valueName: 'ID', description: 'the run (required)' },
        decoder: decoderOption,
        db: dbOption,
        json: { type: 'boolean', description: 'print [{image, text}] as JSON' },
      },
      async run(args, ctx) {
        const runId = requireOption(args, 'run', '--run 20261122-101500-ab12');
        if (args.positionals.length === 0) throw new ConfigError('no images given: usage `glyphlab predict --run ID IMAGE...`');
        const decoder = choice<SequenceDecoder>(args, 'decoder', ['greedy', 'grammar']) ?? 'greedy';
        await announceBackend(ctx);
        const loaded = await loadRunModel(runId, { dbPath: stringOption(args, 'db') });
        const [height, width, channels] = loaded.inputShape;
        const results: { image: string; text: string }[] = [];
        for (const image of args.positionals) {
          // The same decoding, fitting and scaling as training batches.
          const pixels = await preprocessBatch([resolve(image)], [0], { height, width, channels, augment: false, augmentSeed: '' });
          const x = tf.tensor4d(pixels, [1, height, width, channels]);
          const logits = predictLogits(loaded.model, x);
          const text = decodeTexts(logits, decoder)[0] ?? '';
          tf.dispose([x, logits]);
          results.push({ image, text });
          if (!flagOption(args, 'json')) ctx.print(`${image}\t${text}`);
        }
        loaded.model.dispose();
        if (flagOption(args, 'json')) ctx.printJson(results);
      },
    },
  ],
};
