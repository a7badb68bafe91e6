/**
 * One recorded training run of the equation recogniser, executed from its spec: build the
 * model, load and split the data folder (its `split.json`, or a stratified 8:1:1 split from the
 * seed), check that every label fits the model, start the replicas, open the run in the store,
 * train with validation decoding, evaluate the best weights on the test split, and save the
 * final model and an evaluation report. The CLI's `glyphlab train`, `npm start`, the
 * benchmarks and the training notebooks all come through here.
 *
 * The flow: options -> `resolveEquationRunSpec` (spec/) -> {@link runEquationSpec} -> the run;
 * a resume reads the recorded spec back (`readEquationRunSpec`) and goes the same way.
 */
import { dirname, join, resolve } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError } from '../errors';
import { readyBackend } from '../backend/index';
import { type BatchSource, createBatchSource } from '../data/equations/batches';
import { ensureSynthSets, type SynthDataSpec } from '../data/equations/synth-sets';
import { createSynthStream } from '../data/equations/synth-stream';
import { describeStyleSpace } from '../data/equations/synth-style';
import type { LabeledImage } from '../data/equations/load';
import { loadEquationSplits, spreadSubset } from '../data/equations/split';
import { ctcStepsNeeded } from '../labels/ctc-steps';
import { convolutionAndHeadLayers, trainableLayerNames } from '../models/freeze';
import { loadModel, loadOptimizerState, readModelMeta } from '../models/io';
import { RESUMABLE_STATUSES } from '../tracker/record';
import { type Logs, TimeBudget } from '../training/callbacks';
import { type TrainingPhase, trainInPhases } from '../training/phases';
import { warmupCosine } from '../training/schedule';
import { ctcLossFn, predictSequences, type SequenceBatch, sequenceEvaluator, sequenceLogs, sequenceTrainData } from '../training/sequence';
import { createOptimizer } from '../training/train';
import type { TrainResult } from '../training/types';
import { SPLIT_NAMES, type SplitName } from '../types';
import { databasePath, missingRunFolderHint, runsDirFor } from '../util/paths';
import { sequenceMetrics } from '../metrics/sequence';
import { buildEvalReport, type RunEvalReport } from './eval-report';
import { getModelBuilder } from './models';
import { initWeights } from './init-from';
import { readRecordedRun } from './run-model';
import { openRecordedRun, type RecordingOptions } from './recorded-run';
import { type RunReplicas, startRunReplicas } from './replicas';
import { withInterrupt } from './signals';
import { builderConfig, type EquationRunOptions, type EquationRunSpec, type EquationSpecRevision, readEquationRunSpec, resolveEquationRunSpec, reviseEquationRunSpec } from './spec/index';

/** How a run is executed and watched: nothing here is part of the run's spec. */
export interface RunHooks extends RecordingOptions {
  /** Stop cleanly (finish the batch, save `last/`, end as interrupted) when this aborts. Defaults to none. */
  signal?: AbortSignal;
  /**
   * Turn this process's Ctrl-C and SIGTERM into that stop (see `runs/signals.ts`); the CLI,
   * which handles them itself, passes false. Defaults to true.
   */
  handleSignals?: boolean;
  /** Called with progress messages (data loading, evaluation). Defaults to none. */
  log?: (message: string) => void;
}

/** What a recorded run produced. */
export interface EquationRunResult {
  runId: string;
  runDir: string;
  /** The spec the run executed (as recorded). */
  spec: EquationRunSpec;
  status: TrainResult['status'];
  history: Logs[];
  best?: { epoch: number; value: number };
  /** Test metrics of the best weights, e.g. `{ test_accuracy, test_cer, test_loss }`. */
  testMetrics?: Logs;
  /** The full test evaluation (by length, confusions, misreads). */
  testReport?: RunEvalReport;
  /** The saved final (best) model's folder. */
  modelDir?: string;
  /** Samples per split. */
  splitSizes: Record<SplitName, number>;
  /** The data folder trained on. */
  dataDir: string;
}

/** What resuming a run restores from its `last/` checkpoint. */
interface ResumeState {
  runId: string;
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  /** The first epoch still to train. */
  initialEpoch: number;
  best?: { epoch: number; value: number };
  /** Training time the run spent before. */
  spentMs: number;
  /** The fingerprint of the data the run trained on, when recorded. */
  dataFingerprint: string | null;
  /** The run's `best/` checkpoint, loaded when nothing is left to train. */
  bestDir: string;
}

/**
 * Trains and records one run from `options` (over their recipe: see `resolveEquationRunSpec`),
 * on the backend in use (initialised as `initBackend()` picks it when none is yet). Returns after the test evaluation (or after an interruption, with `status: 'interrupted'` and
 * the `last/` checkpoint saved).
 *
 * @example
 * const run = await runEquationTraining({ dataDir: 'data/equations', recipe: 'quick', minutes: 5 });
 * console.log(run.runId, run.testMetrics?.test_accuracy);
 */
export async function runEquationTraining(options: EquationRunOptions & RunHooks): Promise<EquationRunResult> {
  // The backend first: the spec's default replicas depend on it.
  await readyBackend();
  return runEquationSpec(resolveEquationRunSpec(options), options);
}

/**
 * Trains and records the run `spec` describes, exactly (the store records the spec as the run's
 * config).
 *
 * @example
 * const spec = resolveEquationRunSpec({ dataDir: 'data/equations', recipe: 'long' });
 * await runEquationSpec(spec, { log: console.log });
 */
export async function runEquationSpec(spec: EquationRunSpec, hooks: RunHooks = {}): Promise<EquationRunResult> {
  await readyBackend();
  return withInterrupt(hooks, (signal) => executeRun(spec, { ...hooks, signal }));
}

/**
 * Resumes an interrupted, failed or crashed run from its `last/` checkpoint (weights, optimizer
 * state, learning rate, best value and training time so far) with the spec it recorded, into the
 * same run. `revision` may raise the epochs or change the replicas and workers; anything it does
 * not set stays as recorded. `dataDir`, when given, must be the run's own folder, and the folder
 * must still hold the images the run trained on (the same fingerprint).
 *
 * @example
 * const run = await resumeEquationTraining('20261122-101500-ab12cd', { epochs: 40 });
 */
export async function resumeEquationTraining(runId: string, revision: EquationSpecRevision & RunHooks & { dataDir?: string } = {}): Promise<EquationRunResult> {
  await readyBackend();
  const dbPath = revision.dbPath ?? databasePath();
  const { run } = readRecordedRun(dbPath, runId);
  if (!RESUMABLE_STATUSES.includes(run.status)) {
    throw new ConfigError(`run ${run.id} is ${run.status}; only ${RESUMABLE_STATUSES.join(', ')} runs can be resumed`);
  }
  const recorded = readEquationRunSpec(run);
  if (revision.dataDir !== undefined && resolve(revision.dataDir) !== recorded.data.dir) {
    throw new ConfigError(`run ${run.id} trained on ${recorded.data.dir}; a resume goes on with the run's own data, not ${resolve(revision.dataDir)} (start a new run for other data)`);
  }
  const spec = reviseEquationRunSpec(recorded, revision);
  const runDir = join(resolve(revision.runsDir ?? runsDirFor(dbPath)), run.id);
  const lastDir = join(runDir, 'last');
  const meta = readModelMeta(lastDir);
  if (!meta) throw new ConfigError(`run ${run.id} has no last checkpoint with metadata in ${lastDir}; it cannot be resumed${missingRunFolderHint(run.id, dirname(runDir))}`);
  const model = await loadModel(lastDir);
  try {
    const input = model.inputs[0]!.shape.slice(1).join('x');
    const head = builderConfig(spec);
    const expected = head && [head.inputHeight, head.inputWidth, spec.crnn?.channels ?? 3].join('x');
    if (input !== expected) throw new ConfigError(`the checkpoint in ${lastDir} takes ${input} images, but run ${run.id} recorded a ${expected} model; it is not this run's checkpoint`);
  } catch (error) {
    model.dispose();
    throw error;
  }
  const optimizer = createOptimizer(spec.training.optimizer, Number(meta['learningRate'] ?? spec.training.learningRate));
  await loadOptimizerState(lastDir, optimizer);
  const best = meta['best'] as { epoch: number; value: number } | null | undefined;
  const state: ResumeState = {
    runId: run.id,
    model,
    optimizer,
    initialEpoch: Number(meta['epoch']) + 1,
    best: best ?? undefined,
    spentMs: typeof meta['elapsedMs'] === 'number' ? meta['elapsedMs'] : 0,
    dataFingerprint: run.dataFingerprint,
    bestDir: join(runDir, 'best'),
  };
  return withInterrupt(revision, (signal) => executeRun(spec, { ...revision, runsDir: revision.runsDir ?? runsDirFor(dbPath), dbPath, signal }, state));
}

/** The splits of the spec's folder, cut to its limits; an empty train or val split is a DataError. */
async function loadSpecSplits(spec: EquationRunSpec) {
  const { data } = spec;
  const loaded = await loadEquationSplits(data.dir, spec.seed, { check: data.imageCheck });
  const splits = Object.fromEntries(SPLIT_NAMES.map((name) => [name, spreadSubset(loaded.splits[name], data.limit[name] ?? undefined)])) as Record<SplitName, LabeledImage[]>;
  for (const name of ['train', 'val'] as const) {
    if (splits[name].length === 0) throw new DataError(`the ${name} split of ${data.dir} is empty; the folder needs more images (or a larger limit)`);
  }
  const sizes = { train: splits.train.length, val: splits.val.length, test: splits.test.length };
  const splitText = loaded.fromManifest ? 'split.json' : 'stratified 8:1:1';
  return { splits, sizes, fingerprint: loaded.fingerprint, splitText, logText: `split ${loaded.fromManifest ? 'from split.json' : `8:1:1 (seed ${spec.seed})`}`, heldOut: [] as HeldOutSet[] };
}

/** A held-out style's fixed images, scored after the test split. */
interface HeldOutSet {
  name: string;
  samples: LabeledImage[];
}

/**
 * The data of a run on the synthesis stream: its fixed sets (rendered into the spec's folder the
 * first time), cut to the limits; the training "split" is the stream, `epochImages` an epoch.
 */
async function loadSynthSplits(spec: EquationRunSpec, synth: SynthDataSpec, log: (message: string) => void) {
  const sets = await ensureSynthSets(spec.data.dir, synth, log);
  const { limit } = spec.data;
  const splits: Record<SplitName, LabeledImage[]> = { train: [], val: spreadSubset(sets.val, limit.val ?? undefined), test: spreadSubset(sets.test, limit.test ?? undefined) };
  const sizes = { train: synth.epochImages, val: splits.val.length, test: splits.test.length };
  return { splits, sizes, fingerprint: sets.fingerprint, splitText: 'synthesis stream', logText: `synthesis stream (${describeStyleSpace(synth.style)})`, heldOut: sets.heldOut };
}

/** Refuses labels the model cannot emit (more characters, and blanks between repeats, than it has time steps), naming them. */
function checkLabelsFit(splits: Record<SplitName, LabeledImage[]>, steps: number, dataDir: string): void {
  const tooLong = SPLIT_NAMES.flatMap((name) => splits[name]).filter((sample) => ctcStepsNeeded(sample.label) > steps);
  if (tooLong.length === 0) return;
  const named = tooLong.slice(0, 5).map((s) => `row ${s.row} (${s.filename}: ${[...s.label].length} characters, needs ${ctcStepsNeeded(s.label)} steps)`);
  throw new DataError(
    `${tooLong.length} label${tooLong.length === 1 ? '' : 's'} of ${dataDir} need more time steps than the model's ${steps}: ${named.join(', ')}${tooLong.length > 5 ? ', ...' : ''}; ` +
      'widen the input (--input-width), pool less along the width, or remove those rows',
  );
}

/** A resume must see the images the run trained on. */
function checkSameData(resume: ResumeState, fingerprint: string, dataDir: string): void {
  if (resume.dataFingerprint === null || resume.dataFingerprint === fingerprint) return;
  throw new DataError(
    `the data in ${dataDir} is not what run ${resume.runId} trained on (its images, labels or split changed: fingerprint ${fingerprint.slice(0, 12)}, recorded ${resume.dataFingerprint.slice(0, 12)}); ` +
      'a resume must go on with the same data: restore the folder, or start a new run',
  );
}

/** The spec's model, built from its resolved config, with the layers of a first phase. */
async function buildSpecModel(spec: EquationRunSpec, log: (message: string) => void) {
  const builder = getModelBuilder(spec.model, 'equations');
  if (spec.vgg19) {
    const { config, weights, weightsPath, lastN } = spec.vgg19;
    return builder.build({ crnn: config, vgg19: { weights, weightsPath: weightsPath ?? undefined, lastN, filterDivisor: config.filterDivisor }, log });
  }
  return builder.build({ crnn: spec.crnn ?? undefined, log });
}

/** Puts the weights of a `best/` checkpoint into `model` (the last weights stay when there is none). */
async function restoreBest(model: tf.LayersModel, bestDir: string, log: (message: string) => void): Promise<void> {
  if (readModelMeta(bestDir) === undefined) {
    log(`no best checkpoint in ${bestDir}: testing the last weights`);
    return;
  }
  const best = await loadModel(bestDir);
  try {
    model.setWeights(best.getWeights());
  } finally {
    best.dispose();
  }
}

/** The per-batch rate of a warm-up cosine schedule over the run's clock, or undefined for 'plateau'. */
function batchRateOf(spec: EquationRunSpec, clock: TimeBudget, batchesPerEpoch: number): ((progress: { step: number }) => number) | undefined {
  const { training } = spec;
  if (training.schedule !== 'warmup-cosine') return undefined;
  const rate = warmupCosine({
    peak: training.learningRate,
    warmup: training.warmup,
    budgetMs: training.minutes !== null ? training.minutes * 60_000 : undefined,
    totalSteps: training.epochs * batchesPerEpoch,
  });
  return ({ step }) => rate({ step, elapsedMs: clock.elapsedMs() });
}

/**
 * Exact-match and character error rate on each held-out style, as `heldout_NAME_accuracy` and
 * `heldout_NAME_cer`, and over all of them as `heldout_accuracy` (images pooled).
 */
async function scoreHeldOut(model: tf.LayersModel, sets: readonly { name: string; size: number; source: BatchSource }[], log: (message: string) => void): Promise<Logs> {
  const logs: Logs = {};
  let correct = 0;
  let total = 0;
  for (const set of sets) {
    log(`evaluating the best weights on ${set.size} images of the held-out style ${set.name}`);
    const predictions = await predictSequences(model, set.source);
    const metrics = sequenceMetrics(predictions.truths, predictions.predictions);
    Object.assign(logs, sequenceLogs(metrics, Number.NaN, `heldout_${set.name}`));
    correct += metrics.accuracy * set.size;
    total += set.size;
  }
  if (total > 0) logs['heldout_accuracy'] = correct / total;
  return logs;
}

/**
 * The held-out figures of a run's test metrics in words (`fonts 96.2%, noise 97.0%, ...; all
 * 96.8%`), or undefined when it scored none.
 */
export function describeHeldOut(metrics: Logs): string | undefined {
  const names = Object.keys(metrics).filter((key) => /^heldout_.+_accuracy$/.test(key)).map((key) => key.slice('heldout_'.length, -'_accuracy'.length));
  if (names.length === 0) return undefined;
  const share = (value: number | undefined): string => (value === undefined ? '-' : `${(value * 100).toFixed(2)}%`);
  return `${names.map((name) => `${name} ${share(metrics[`heldout_${name}_accuracy`])}`).join(', ')}; all ${share(metrics['heldout_accuracy'])}`;
}

/**
 * The phases of the epochs from `initialEpoch` to `trainUntil`: a first phase that trains only
 * some layers (with `init.freezeEpochs`, the sequence head, the convolution blocks frozen; else a
 * VGG19-CRNN's last `lastN` layers for `phase1Epochs`), then every layer; a resume within the
 * first phase trains what is left of it. Frozen layers are left out of the loop's variables
 * (`trainableLayers`): no gradient, no update, no weight decay; their batch norms' moving
 * statistics still follow the new data.
 */
function trainingPhases(spec: EquationRunSpec, model: tf.LayersModel, initialEpoch: number, trainUntil: number, log: (message: string) => void): TrainingPhase<SequenceBatch>[] {
  const epochs = trainUntil - initialEpoch;
  const freeze = spec.init?.freezeEpochs ?? 0;
  const firstEnd = freeze > 0 ? freeze : (spec.vgg19?.phase1Epochs ?? 0);
  if (firstEnd === 0) return [{ epochs }];
  const left = Math.min(Math.max(0, firstEnd - initialEpoch), epochs);
  // Every layer trains after the first phase with an optimizer of its own, as a new phase starts
  // one; a resume's restored optimizer, saved in the first phase, holds only its layers' state.
  const allLayers: TrainingPhase<SequenceBatch> = { epochs: epochs - left, name: 'all layers', ...(initialEpoch <= firstEnd && { optimizerInstance: undefined, learningRate: spec.training.learningRate }) };
  if (left === 0) return [allLayers];
  if (freeze > 0) {
    const { convolution, head } = convolutionAndHeadLayers(model);
    log(`the first ${left} epoch${left === 1 ? '' : 's'} train the sequence head only (${head.join(', ')}); the convolution blocks (${convolution.join(', ')}) are frozen until then`);
    return [{ epochs: left, trainableLayers: head, name: 'head (convolutions frozen)' }, allLayers];
  }
  return [{ epochs: left, trainableLayers: trainableLayerNames(model, { lastN: spec.vgg19!.lastN }), name: 'last layers' }, allLayers];
}

/** Trains and records `spec`: a new run, or the rest of `resume`'s. */
async function executeRun(asked: EquationRunSpec, hooks: RunHooks, resume?: ResumeState): Promise<EquationRunResult> {
  const log = hooks.log ?? (() => {});
  const built = resume ? undefined : await buildSpecModel(asked, log);
  const model = resume?.model ?? built!.model;
  const sources: BatchSource[] = [];
  let parallel: RunReplicas<SequenceBatch> | undefined;
  try {
    // A new run starting from trained weights loads them once, and records what it found; a
    // resume goes on from its own checkpoint and never loads them again.
    const spec: EquationRunSpec = !resume && asked.init ? { ...asked, init: await initWeights(model, asked.init, { dbPath: hooks.dbPath ?? databasePath(), config: builderConfig(asked) as Record<string, unknown> | undefined, log }) } : asked;
    const [, height, width, channels] = model.inputs[0]!.shape as [null, number, number, number];
    const synth = spec.data.synth ?? null;
    log(synth ? `fixed sets of the synthesis stream in ${spec.data.dir}` : `loading ${spec.data.dir}`);
    const data = synth ? await loadSynthSplits(spec, synth, log) : await loadSpecSplits(spec);
    const { splits, sizes } = data;
    log(`${data.logText}: train ${synth ? `${sizes.train} images an epoch, never one twice` : sizes.train}, val ${sizes.val}, test ${sizes.test}${data.heldOut.length > 0 ? `, held-out styles ${data.heldOut.map((h) => `${h.name} ${h.samples.length}`).join(', ')}` : ''}`);
    if (resume) checkSameData(resume, data.fingerprint, spec.data.dir);
    checkLabelsFit(splits, model.outputs[0]!.shape[1] as number, spec.data.dir);

    const { training, compute } = spec;
    const sourceOptions = { height, width, channels: channels as 1 | 3, workers: compute.workers };
    const trainSource = synth
      ? createSynthStream({ style: synth.style, forms: synth.forms, seed: `${synth.seed}:train:${spec.seed}`, epochImages: synth.epochImages, batchSize: training.batchSize, height, width, channels: channels as 1 | 3, workers: compute.workers })
      : createBatchSource(splits.train, { ...sourceOptions, batchSize: training.batchSize, seed: spec.seed, augment: spec.data.augment ?? false });
    const heldOutSources = data.heldOut.map((set) => ({ name: set.name, size: set.samples.length, source: createBatchSource(set.samples, { ...sourceOptions, batchSize: training.evalBatchSize, shuffle: false }) }));
    const valSource = createBatchSource(splits.val, { ...sourceOptions, batchSize: training.evalBatchSize, shuffle: false });
    const testSource = splits.test.length > 0 ? createBatchSource(splits.test, { ...sourceOptions, batchSize: training.evalBatchSize, shuffle: false }) : undefined;
    sources.push(trainSource, valSource, ...(testSource ? [testSource] : []), ...heldOutSources.map((h) => h.source));

    const loss = ctcLossFn();
    const replicaGroup = await startRunReplicas(model, { replicas: compute.replicas, loss: { name: 'ctc' }, lossFn: loss, seed: spec.seed });
    parallel = replicaGroup;
    if (compute.replicas > 1) log(`training on ${compute.replicas} replicas (worker threads splitting every batch)`);

    const clock = new TimeBudget(training.minutes ?? Number.POSITIVE_INFINITY, { spentMs: resume?.spentMs });
    const initialEpoch = resume?.initialEpoch ?? 0;
    // A resumed run whose epochs or minutes are spent goes straight to the test of its best weights.
    const nothingLeft = resume !== undefined && (initialEpoch >= training.epochs || clock.spent);
    if (nothingLeft && resume) await restoreBest(model, resume.bestDir, log);
    const trainUntil = nothingLeft ? initialEpoch : training.epochs;
    const phases = trainingPhases(spec, model, initialEpoch, trainUntil, log);

    const run = await openRecordedRun(hooks, {
      ...spec.record,
      config: spec as unknown as Record<string, unknown>,
      params: {
        ...(built ? built.architecture : {}),
        model: spec.model,
        epochs: training.epochs,
        parameter_count: model.countParams(),
        steps_per_epoch: trainSource.batchesPerEpoch,
        'data.split': data.splitText,
        'data.sizes': sizes,
      },
      dataFingerprint: data.fingerprint,
      resumeRunId: resume?.runId,
      logBatches: true,
    });
    let testReport: RunEvalReport | undefined;
    return await run.during(async () => {
      const result = await trainInPhases(
        model,
        sequenceTrainData(trainSource),
        {
          loss,
          gradients: replicaGroup.gradients,
          evaluate: sequenceEvaluator(valSource),
          test: testSource
            ? async (m) => {
                log(`evaluating the best weights on ${sizes.test} test images`);
                const predictions = await predictSequences(m, testSource);
                testReport = buildEvalReport(predictions, 'test');
                return { ...sequenceLogs(testReport, predictions.loss, 'test'), ...(await scoreHeldOut(m, heldOutSources, log)) };
              }
            : undefined,
          optimizer: training.optimizer,
          learningRate: resume ? undefined : training.learningRate,
          batchLearningRate: batchRateOf(spec, clock, trainSource.batchesPerEpoch),
          optimizerInstance: resume?.optimizer,
          initialEpoch,
          initialBest: resume?.best,
          clipNorm: training.clipNorm ?? undefined,
          weightDecay: training.weightDecay,
          monitor: 'val_accuracy',
          earlyStopping: training.earlyStopping ?? false,
          reduceLrOnPlateau: training.reduceLrOnPlateau ?? false,
          runDir: run.runDir,
          checkpointMeta: () => ({ elapsedMs: clock.elapsedMs() }),
          finalize: async (m) => [await run.saveFinalModel(m, { model: spec.model, config: builderConfig(spec) }), ...(testReport ? [run.saveEvalReport(testReport)] : [])],
          callbacks: [clock, ...run.callbacks],
          signal: hooks.signal,
          describe: { model: spec.model, dataFingerprint: data.fingerprint, config: spec as unknown as Record<string, unknown> },
        },
        phases,
      );
      const modelDir = result.status === 'finished' ? join(run.runDir, 'model') : undefined;
      return { runId: run.runId, runDir: run.runDir, spec, status: result.status, history: result.history, best: result.best, testMetrics: result.testMetrics, testReport, modelDir, splitSizes: sizes, dataDir: spec.data.dir };
    });
  } finally {
    await parallel?.close();
    await Promise.all(sources.map((s) => s.close()));
    model.dispose();
    resume?.optimizer.dispose();
  }
}

