/**
 * `npm run bench:transfer`: does starting from a trained reader beat starting from scratch, at
 * equal cost? A small data set of a style the reader never saw (a held-out style of the synthesis
 * space: by default its twelve held-out font families, `held-out:fonts`), then three arms, each
 * trained for the same wall-clock minutes with the same optimiser and schedule (the long recipe's
 * AdamW, warm-up cosine over the minutes):
 *
 *   (a) scratch   the custom CRNN of the reader's architecture, from random weights;
 *   (b) finetune  the same, from the reader's weights (`--init-from reader:NAME`), the convolution
 *                 blocks frozen for the first epoch (`--freeze-epochs 1`), at a tenth of the
 *                 recipe's peak learning rate (`--finetune-lr`, 3e-4): at the recipe's 3e-3 the
 *                 first measured comparison (20261206-181301) read 91.19%, below the 95.40% the
 *                 reader read of the same test images before any training;
 *   (c) vgg19     the VGG19-CRNN at a width that trains on two cores (filters / `--vgg19-divisor`),
 *                 from ImageNet weights when the Keras file is present (only at divisor 1), else
 *                 from random weights; the run records which (`params.model.weights`).
 *
 * Before the arms, the reader as it is (no training) reads the same test split: the row every arm
 * must beat for training on the small set to have been worth its minutes.
 *
 * Each arm is a recorded run (experiment "transfer", tagged `transfer:<id>`, one id per call); the
 * table gives the test exact-match and CER of each arm's best weights, the wall time of the arm
 * (training, validation and the test), the training images seen, and the run ids. Notebook 04
 * draws the latest comparison by default.
 *
 *   node --import tsx scripts/bench/transfer.ts [--minutes 4] [--style held-out:fonts]
 *     [--train 3000] [--val 500] [--test 1000] [--reader equations-wide] [--seed 0]
 *     [--arms scratch,finetune,vgg19] [--vgg19-divisor 8] [--finetune-lr 3e-4] [--replicas N]
 *
 * The images go to data/transfer-<style>-<train>-<seed>/ (rendered once, with a split.json, at the
 * reader's input size) and are reused by later calls.
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeBackend, initBackend } from '../../src/backend/index';
import { createBatchSource } from '../../src/data/equations/batches';
import { loadEquationSplits } from '../../src/data/equations/split';
import { loadLabeledImages } from '../../src/data/equations/load';
import { readSplitManifest, stratifiedSplit, writeSplitManifest } from '../../src/data/equations/split';
import { synthesizeEquations } from '../../src/data/equations/synth';
import { styleFromArg } from '../../src/data/equations/synth-sets';
import { vgg19WeightsLocation } from '../../src/models/vgg19-crnn';
import { runEquationTraining, type EquationRunResult } from '../../src/runs/equation-run';
import { loadReader } from '../../src/runs/readers';
import type { EquationRunOptions } from '../../src/runs/spec/index';
import { Callback } from '../../src/training/callbacks';
import { characterErrorRate, sequenceAccuracy } from '../../src/metrics/index';
import { predictSequences } from '../../src/training/sequence';
import { percent } from '../../src/util/format';
import { dataDir } from '../../src/util/paths';

/** The arms, in the order of the table. */
const ARMS = ['scratch', 'finetune', 'vgg19'] as const;
type Arm = (typeof ARMS)[number];

/** Counts the training images an arm saw: every batch of every epoch, a last short batch counted as it was. */
class ImagesSeen extends Callback {
  private batches = 0;
  images = 0;
  constructor(private readonly batchSize: number, private readonly epochImages: number) {
    super();
  }
  override async onEpochBegin(): Promise<void> {
    this.batches = 0;
  }
  override async onBatchEnd(): Promise<void> {
    this.batches++;
    this.images += this.batchSize;
    // An epoch's last batch holds what is left of the split.
    if (this.batches * this.batchSize > this.epochImages) this.images -= this.batches * this.batchSize - this.epochImages;
  }
}

/** Renders the data set (once): `total` images of `style` at the reader's input size, with a split.json of train/val/test. */
async function ensureDataSet(dir: string, style: string, sizes: { train: number; val: number; test: number }, seed: number, input: { width: number; height: number }): Promise<void> {
  if (existsSync(join(dir, 'split.json'))) return;
  const count = sizes.train + sizes.val + sizes.test;
  console.log(`rendering ${count} images of the style ${style} into ${dir}`);
  const result = await synthesizeEquations({ outDir: dir, count, seed: `transfer:${seed}`, style: styleFromArg(style), width: input.width, height: input.height });
  console.log(`  ${(result.elapsedMs / 1000).toFixed(1)} s`);
  const { samples } = await loadLabeledImages(dir, { check: 'header' });
  // Stratified by label length in the ratios of the sizes asked for (each split within a few images of them).
  writeSplitManifest(dir, stratifiedSplit(samples, { ratios: [sizes.train, sizes.val, sizes.test], seed }));
}

/** The reader's exact-match and CER on the data set's test split, greedy, before any training. */
async function readTestSplit(model: import('@tensorflow/tfjs').LayersModel, dir: string, seed: number, input: { width: number; height: number; channels: number }): Promise<{ accuracy: number; cer: number; images: number }> {
  const samples = (await loadEquationSplits(dir, seed)).splits.test;
  const source = createBatchSource(samples, { height: input.height, width: input.width, channels: input.channels === 3 ? 3 : 1, batchSize: 64, shuffle: false });
  try {
    const { truths, predictions } = await predictSequences(model, source, { loss: false });
    return { accuracy: sequenceAccuracy(truths, predictions), cer: characterErrorRate(truths, predictions), images: truths.length };
  } finally {
    await source.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '4' },
      style: { type: 'string', default: 'held-out:fonts' },
      train: { type: 'string', default: '3000' },
      val: { type: 'string', default: '500' },
      test: { type: 'string', default: '1000' },
      reader: { type: 'string', default: 'equations-wide' },
      seed: { type: 'string', default: '0' },
      arms: { type: 'string', default: ARMS.join(',') },
      'vgg19-divisor': { type: 'string', default: '8' },
      'finetune-lr': { type: 'string', default: '3e-4' },
      replicas: { type: 'string' },
    },
  });
  const whole = (name: keyof typeof values, least: number): number => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < least) throw new Error(`--${name}: ${String(values[name])} is not a whole number >= ${least}`);
    return value;
  };
  const minutes = Number(values.minutes);
  if (!(minutes > 0)) throw new Error(`--minutes: ${values.minutes} is not a positive number of minutes`);
  const sizes = { train: whole('train', 1), val: whole('val', 1), test: whole('test', 1) };
  const seed = whole('seed', 0);
  const divisor = whole('vgg19-divisor', 1);
  const replicas = values.replicas === undefined ? undefined : whole('replicas', 1);
  const finetuneLr = Number(values['finetune-lr']);
  if (!(finetuneLr > 0)) throw new Error(`--finetune-lr: ${values['finetune-lr']} is not a positive learning rate`);
  const arms = String(values.arms).split(',').filter(Boolean) as Arm[];
  const unknown = arms.filter((arm) => !ARMS.includes(arm));
  if (unknown.length > 0) throw new Error(`--arms: ${unknown.join(', ')} is not one of ${ARMS.join(', ')}`);

  const info = await initBackend();
  const reader = await loadReader(String(values.reader));
  const { config, input } = reader.info;
  if (!config) throw new Error(`reader ${reader.info.name} recorded no builder config; re-export it with glyphlab readers export`);
  const comparison = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const tag = `transfer:${comparison}`;
  console.log(
    `bench:transfer ${comparison}: backend ${describeBackend(info)}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ` +
      `${minutes} min per arm; style ${values.style}; reader ${reader.info.name} (run ${reader.info.run.id})`,
  );
  const styleName = String(values.style).replace(/[^A-Za-z0-9-]+/g, '-');
  const dir = join(dataDir(), `transfer-${styleName}-${sizes.train}-${seed}`);
  await ensureDataSet(dir, String(values.style), sizes, seed, input);
  // The stratified split holds about the sizes asked for: the images an epoch sees are its own count.
  const epochImages = readSplitManifest(dir)?.files.train.length ?? sizes.train;
  const asItIs = await readTestSplit(reader.model, dir, seed, input);
  reader.model.dispose();
  console.log(`\n(0) the reader as it is: test ${percent(asItIs.accuracy)}, CER ${percent(asItIs.cer)} on ${asItIs.images} images`);

  // The reader's architecture for both custom arms; the run's seed is each arm's own.
  const { seed: _readerSeed, name: _name, ...crnn } = config;
  const weights = vgg19WeightsLocation();
  const imagenet = divisor === 1 && existsSync(weights.path);
  const shared: EquationRunOptions = {
    dataDir: dir,
    recipe: 'long',
    minutes,
    epochs: 1000,
    seed,
    replicas,
    imageCheck: 'header',
    experiment: 'transfer',
    tags: [tag, `transfer-style:${values.style}`],
  };
  const armOptions: Record<Arm, EquationRunOptions> = {
    scratch: { ...shared, crnn, name: 'scratch' },
    finetune: { ...shared, crnn, name: 'finetune', initFrom: `reader:${reader.info.name}`, freezeEpochs: 1, learningRate: finetuneLr },
    vgg19: {
      ...shared,
      model: 'vgg19-crnn',
      // 32 high like the reader's images; twice as wide, so that VGG19's pools leave 37 time steps.
      crnn: { inputHeight: 32, inputWidth: 300, rnn: 'gru', rnnUnits: 128, rnnLayers: 2, dropout: 0.2 },
      // ImageNet convolutions are the point of a first phase that trains the last layers; random ones are not.
      vgg19: { filterDivisor: divisor, weights: imagenet ? 'imagenet' : 'random', phase1Epochs: imagenet ? 1 : 0 },
      name: imagenet ? 'vgg19-imagenet' : `vgg19-random-div${divisor}`,
    },
  };
  if (arms.includes('vgg19')) {
    console.log(imagenet ? `vgg19: ImageNet weights from ${weights.path}` : `vgg19: random initialisation (${divisor === 1 ? `no weights file at ${weights.path}` : `filters divided by ${divisor}: ImageNet weights need divisor 1`})`);
  }

  const rows: { arm: Arm; result: EquationRunResult; wallS: number; images: number }[] = [];
  for (const arm of arms) {
    const options = armOptions[arm];
    const seen = new ImagesSeen(32, epochImages);
    console.log(`\n(${ARMS.indexOf(arm) + 1}) ${arm}: ${minutes} min`);
    const started = Date.now();
    const result = await runEquationTraining({ ...options, source: 'npm run bench:transfer', callbacks: [seen], log: (message) => console.log(`  ${message}`) });
    rows.push({ arm, result, wallS: (Date.now() - started) / 1000, images: seen.images });
    console.log(`  run ${result.runId}: ${result.status}, test ${percent(result.testMetrics?.['test_accuracy'])}`);
  }

  console.log(`\nbench:transfer ${comparison} (tag ${tag}): ${sizes.train} training images of ${values.style}, ${sizes.test} test images, ${minutes} min of training per arm`);
  const header = ['arm', 'test exact-match', 'test CER', 'wall', 'images seen', 'run'];
  const lines = [[`reader ${reader.info.name} as it is`, percent(asItIs.accuracy), percent(asItIs.cer), '0 s', '0', reader.info.run.id]];
  lines.push(...rows.map(({ arm, result, wallS, images }) => [
    armOptions[arm].name ?? arm,
    percent(result.testMetrics?.['test_accuracy']),
    percent(result.testMetrics?.['test_cer']),
    `${wallS.toFixed(0)} s`,
    images.toLocaleString('en-US'),
    result.runId,
  ]));
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  for (const line of [header, widths.map((w) => '-'.repeat(w)), ...lines]) console.log(`| ${line.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`);
  console.log(`\nglyphlab runs ls --where 'tags contains "${tag}"'; glyphlab runs compare ${rows.map((r) => r.result.runId).join(' ')}; notebook 04 draws the latest comparison`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
