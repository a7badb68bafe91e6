/**
 * `glyphlab classify`: the single-character classification tools beside training (which is
 * `glyphlab train --model mlp|cnn`): look at a data set and its augmentation, evaluate a
 * trained classifier, and quantise it for deployment.
 */
import { resolve } from 'node:path';
import { initBackend } from '../backend/index';
import { ConfigError } from '../errors';
import { charClassCounts, charImage, type CharDataset, type CharSplits } from '../data/characters/dataset';
import { augmentChar } from '../data/characters/augment';
import { loadQuantizedModel, saveQuantizedModel, type QuantizationDtype } from '../models/quantize';
import { evaluateClassifier, type ClassifierEvaluation } from '../training/classification';
import { createRng } from '../util/rng';
import { misclassifiedSamples, sampleGridPng } from '../viz/classification-charts';
import {
  checkOutputPath,
  type CliContext,
  type CommandGroup,
  flagOption,
  jsonOption,
  limitOption,
  numberOption,
  type OptionSpec,
  type ParsedArgs,
  seedOption,
  stringOption,
  writeOutputFile,
} from './command';
import { loadCharDataset, parseCharDataSpec, type LoadedCharDataset } from '../data/characters/source';
import { type OutputConflictOptions, outputConflict } from '../util/output-file';
import { percent } from '../util/format';

const dataOptions: Record<string, OptionSpec> = {
  data: { type: 'string', valueName: 'SPEC', description: 'mnist | idx:DIR | letters-csv:FILE (default mnist)' },
  seed: seedOption('seed of the train/val/test split (default 0)'),
  limit: limitOption('use at most about N images (default all)'),
  part: { type: 'string', valueName: 'train|val|test', description: 'which part of the split (default test)' },
};

async function loadForCli(args: ParsedArgs): Promise<LoadedCharDataset> {
  return loadCharDataset(stringOption(args, 'data') ?? 'mnist', {
    seed: numberOption(args, 'seed', { integer: true }) ?? 0,
    limit: numberOption(args, 'limit', { min: 1, integer: true }),
  });
}

function pickPart(splits: CharSplits, args: ParsedArgs): CharDataset {
  const part = stringOption(args, 'part') ?? 'test';
  if (part !== 'train' && part !== 'val' && part !== 'test') throw new ConfigError(`--part ${JSON.stringify(part)} is not one of: train, val, test`);
  const dataset = splits[part];
  if (dataset.labels.length === 0) throw new ConfigError(`the ${part} part is empty; choose another --part or more data`);
  return dataset;
}

function requireModelDir(args: ParsedArgs, command: string): string {
  const dir = args.positionals[0];
  if (dir === undefined) throw new ConfigError(`missing MODEL_DIR: expected a folder with model.json + weights.bin, e.g. \`glyphlab classify ${command} runs/1/best\``);
  return resolve(dir);
}

/** What an output must not replace: the data file or folder of --data, and `also` (the model being read). */
function outputGuard(args: ParsedArgs, also: OutputConflictOptions = {}): OutputConflictOptions {
  const spec = parseCharDataSpec(stringOption(args, 'data') ?? 'mnist');
  const inputs = [...(also.inputs ?? []), ...(spec.kind === 'letters-csv' ? [{ path: resolve(spec.file), what: 'the letters CSV being read (--data)' }] : [])];
  const inputFolders = [...(also.inputFolders ?? []), ...(spec.kind === 'idx' ? [{ path: resolve(spec.dir), what: 'the idx data folder being read (--data)' }] : [])];
  return { inputs, inputFolders };
}

function evaluationSummary(evaluation: ClassifierEvaluation): Record<string, unknown> {
  return {
    accuracy: evaluation.accuracy,
    weightedF1: evaluation.weightedF1,
    loss: evaluation.loss,
    errors: evaluation.misclassified.length,
    perClass: evaluation.perClass.map((m) => ({ class: m.name, support: m.support, accuracy: m.accuracy, f1: m.f1 })),
  };
}

function printEvaluation(ctx: CliContext, evaluation: ClassifierEvaluation, total: number): void {
  ctx.print(`accuracy ${percent(evaluation.accuracy)} (${evaluation.misclassified.length} of ${total} wrong), weighted F1 ${evaluation.weightedF1.toFixed(4)}, loss ${evaluation.loss.toFixed(4)}`);
  ctx.print(`per class: ${evaluation.perClass.map((m) => `${m.name} ${percent(m.accuracy, 1)}`).join(', ')}`);
}

export const classifyGroup: CommandGroup = {
  name: 'classify',
  summary: 'single-character classification: samples, evaluation, quantisation',
  commands: [
    {
      name: 'samples',
      summary: 'class counts of a data set and a PNG grid of its images (optionally augmented, to check augmentation by eye)',
      options: {
        ...dataOptions,
        out: { type: 'string', valueName: 'FILE', description: 'PNG grid to write (required)' },
        count: { type: 'string', valueName: 'N', description: 'images in the grid (default 32)' },
        augment: { type: 'boolean', description: 'show each image augmented (rotation, zoom, shift, elastic, brightness, noise)' },
        json: jsonOption(),
      },
      async run(args, ctx) {
        const out = stringOption(args, 'out');
        if (!out) throw new ConfigError('missing --out FILE: where to write the sample grid PNG');
        checkOutputPath('out', resolve(out), outputGuard(args));
        const loaded = await loadForCli(args);
        const dataset = pickPart(loaded.splits, args);
        const count = Math.min(numberOption(args, 'count', { min: 1, integer: true }) ?? 32, dataset.labels.length);
        const rng = createRng(`classify-samples:${numberOption(args, 'seed', { integer: true }) ?? 0}`);
        const images = Array.from({ length: count }, (_, i) =>
          flagOption(args, 'augment') ? augmentChar(charImage(dataset, i), dataset.width, dataset.height, rng) : charImage(dataset, i),
        );
        writeOutputFile('out', resolve(out), sampleGridPng(images, dataset, { columns: 8 }), outputGuard(args));
        const counts = charClassCounts(dataset);
        if (flagOption(args, 'json')) {
          ctx.printJson({ description: loaded.description, grid: resolve(out), classCounts: Object.fromEntries(dataset.classes.map((c, i) => [c, counts[i]])) });
          return;
        }
        ctx.print(loaded.description);
        ctx.print(`class counts: ${dataset.classes.map((c, i) => `${c} ${counts[i]}`).join(', ')}`);
        ctx.print(`wrote a grid of ${count} ${flagOption(args, 'augment') ? 'augmented ' : ''}images to ${resolve(out)}`);
      },
    },
    {
      name: 'evaluate',
      summary: 'accuracy, weighted F1 and per-class accuracy of a saved classifier (float or quantised)',
      args: 'MODEL_DIR',
      options: {
        ...dataOptions,
        errors: { type: 'string', valueName: 'FILE', description: 'write a PNG grid of the misclassified images (most confident first)' },
        json: jsonOption('the metrics'),
      },
      async run(args, ctx) {
        const modelDir = requireModelDir(args, 'evaluate');
        const errorsGuard = outputGuard(args, { inputFolders: [{ path: modelDir, what: 'the model folder being evaluated' }] });
        const errorsFile = stringOption(args, 'errors');
        if (errorsFile) checkOutputPath('errors', resolve(errorsFile), errorsGuard);
        await initBackend();
        const model = await loadQuantizedModel(modelDir);
        try {
          const loaded = await loadForCli(args);
          const dataset = pickPart(loaded.splits, args);
          const evaluation = evaluateClassifier(model, dataset);
          if (errorsFile) {
            const samples = misclassifiedSamples(dataset, evaluation.predictions, evaluation.misclassified, 64);
            writeOutputFile('errors', resolve(errorsFile), sampleGridPng(samples.map((s) => s.pixels), dataset, { columns: 8 }), errorsGuard);
          }
          if (flagOption(args, 'json')) {
            ctx.printJson({ description: loaded.description, ...evaluationSummary(evaluation) });
            return;
          }
          ctx.print(loaded.description);
          printEvaluation(ctx, evaluation, dataset.labels.length);
          if (errorsFile) ctx.print(`wrote the misclassified images to ${resolve(errorsFile)}`);
        } finally {
          model.dispose();
        }
      },
    },
    {
      name: 'quantize',
      summary: 'save a classifier with 8-bit (or 16-bit) weights; with --data, compare its accuracy to the float model',
      args: 'MODEL_DIR',
      options: {
        ...dataOptions,
        out: { type: 'string', valueName: 'DIR', description: 'folder for the quantised model (required)' },
        dtype: { type: 'string', valueName: 'uint8|int8|uint16', description: 'integer type of the weights (default uint8)' },
        'min-elements': { type: 'string', valueName: 'N', description: 'weights with fewer values (biases, batch-norm statistics) stay float32; 0 quantises all (default 1024)' },
        json: jsonOption(),
      },
      async run(args, ctx) {
        const out = stringOption(args, 'out');
        if (!out) throw new ConfigError('missing --out DIR: where to write the quantised model');
        const dtype = (stringOption(args, 'dtype') ?? 'uint8') as QuantizationDtype;
        const modelDir = requireModelDir(args, 'quantize');
        // --out is a folder: the model it would replace is the one being read, or a database in its place.
        const conflict = outputConflict(resolve(out), outputGuard(args, { inputs: [{ path: modelDir, what: 'the model folder being quantised' }] }));
        if (conflict) throw new ConfigError(`--out ${resolve(out)} ${conflict}: refusing to write over it; choose another folder`);
        await initBackend();
        const model = await loadQuantizedModel(modelDir);
        try {
          const saved = await saveQuantizedModel(model, resolve(out), { dtype, minElements: numberOption(args, 'min-elements', { min: 0, integer: true }) });
          const result: Record<string, unknown> = { ...saved, ratio: saved.floatWeightBytes / saved.weightBytes };
          if (stringOption(args, 'data') !== undefined) {
            const dataset = pickPart((await loadForCli(args)).splits, args);
            const quantized = await loadQuantizedModel(resolve(out));
            try {
              const before = evaluateClassifier(model, dataset).accuracy;
              const after = evaluateClassifier(quantized, dataset).accuracy;
              Object.assign(result, { floatAccuracy: before, quantizedAccuracy: after, accuracyChange: after - before });
            } finally {
              quantized.dispose();
            }
          }
          if (flagOption(args, 'json')) {
            ctx.printJson(result);
            return;
          }
          ctx.print(`wrote ${saved.modelPath}: ${dtype} weights ${saved.weightBytes} bytes (float32 ${saved.floatWeightBytes}, ${(result['ratio'] as number).toFixed(2)}x smaller), ${saved.totalBytes} bytes in all`);
          if (result['floatAccuracy'] !== undefined) {
            ctx.print(
              `accuracy: float ${percent(result['floatAccuracy'] as number)}, ${dtype} ${percent(result['quantizedAccuracy'] as number)} (change ${((result['accuracyChange'] as number) * 100).toFixed(2)} points)`,
            );
          }
        } finally {
          model.dispose();
        }
      },
    },
  ],
};
