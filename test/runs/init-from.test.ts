/**
 * Runs that start from trained weights (`initFrom`, `--init-from`): tiny CRNN runs on 30 real
 * synthetic images, recorded in a real store in a temp folder. The source's weights load, the
 * convolution blocks stay frozen through the frozen epochs and train after them, the lineage is
 * recorded and shown, and a resume never loads the source again.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index';
import { ConfigError } from '../../src/errors';
import { buildCrnn } from '../../src/models/crnn';
import { loadModel } from '../../src/models/io';
import { resumeEquationTraining, runEquationTraining } from '../../src/runs/equation-run';
import type { EquationInitSpec } from '../../src/runs/spec/index';
import { describeEquationSpec, resolveEquationRunSpec } from '../../src/runs/spec/index';
import { getRun } from '../../src/tracker/query';
import { closeStore, openStore } from '../../src/tracker/store';
import { Callback, type TrainBeginEvent } from '../../src/training/callbacks';
import { cli } from '../support/cli';
import { trainTinyBaseRun, TINY_CRNN, writeReaderFolder } from '../support/equation-run';

/** The trainable weights (kernels, batch-norm scale and offset) of a layer; its moving statistics left out. */
function trainableOf(model: tf.LayersModel, name: string): number[][] {
  return model.getLayer(name).trainableWeights.map((w) => Array.from(w.read().dataSync()));
}

const CONV = ['conv1', 'bn1', 'conv2', 'bn2', 'conv3', 'bn3'];
const HEAD = ['bidirectional_1', 'logits'];

/** Keeps, at the start of epoch `epoch`, the trainable weights of the `last/` checkpoint saved after the epoch before. */
class LastCheckpointAt extends Callback {
  runDir = '';
  weights: Record<string, number[][]> = {};
  constructor(private readonly epoch: number) {
    super();
  }
  override async onTrainBegin(event: TrainBeginEvent): Promise<void> {
    this.runDir = event.runDir ?? '';
  }
  override async onEpochBegin(epoch: number): Promise<void> {
    if (epoch !== this.epoch) return;
    const model = await loadModel(join(this.runDir, 'last'));
    try {
      this.weights = Object.fromEntries([...CONV, ...HEAD].map((name) => [name, trainableOf(model, name)]));
    } finally {
      model.dispose();
    }
  }
}

/** Stops the run cleanly (an interrupt) at the end of epoch `epoch`. */
class StopAfter extends Callback {
  constructor(private readonly epoch: number, private readonly controller: AbortController) {
    super();
  }
  override async onEpochEnd(epoch: number): Promise<void> {
    if (epoch === this.epoch) this.controller.abort();
  }
}

describe('runs that start from trained weights', () => {
  let dir: string;
  let dbPath: string;
  let baseRun: string;
  let baseModelDir: string;
  const tinyRun = (extra: Parameters<typeof runEquationTraining>[0]) =>
    runEquationTraining({ dataDir: join(dir, 'data'), recipe: 'reference', batchSize: 8, workers: 0, replicas: 1, dbPath, crnn: TINY_CRNN, logBatches: false, handleSignals: false, ...extra });

  before(async () => {
    await initBackend({ backend: 'wasm' });
    dir = mkdtempSync(join(tmpdir(), 'glyphlab-init-from-'));
    dbPath = join(dir, 'glyphlab.db');
    const base = await trainTinyBaseRun(dir, dbPath);
    baseRun = base.runId;
    baseModelDir = base.modelDir!;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('freezing: the convolution blocks keep the source\'s weights through the frozen epoch and change after it; the head trains from the start', async () => {
    const atSecondEpoch = new LastCheckpointAt(1);
    const logs: string[] = [];
    const run = await tinyRun({ initFrom: baseRun, freezeEpochs: 1, epochs: 2, seed: 3, callbacks: [atSecondEpoch], log: (m) => logs.push(m) });
    assert.equal(run.status, 'finished');
    assert.ok(logs.some((m) => /weights from run .*: 8 layers loaded/.test(m)), logs.join('\n'));
    assert.ok(logs.some((m) => /the first 1 epoch train the sequence head only \(bidirectional_1, logits\)/.test(m)), logs.join('\n'));
    const source = await loadModel(baseModelDir);
    try {
      for (const name of CONV) assert.deepEqual(atSecondEpoch.weights[name], trainableOf(source, name), `${name} is frozen in epoch 1`);
      for (const name of HEAD) assert.notDeepEqual(atSecondEpoch.weights[name], trainableOf(source, name), `${name} trains in epoch 1`);
      const last = await loadModel(join(run.runDir, 'last'));
      try {
        for (const name of ['conv1', 'conv3']) assert.notDeepEqual(trainableOf(last, name), trainableOf(source, name), `${name} trains in epoch 2`);
      } finally {
        last.dispose();
      }
    } finally {
      source.dispose();
    }
  });

  test('the lineage is recorded (init.run, what was loaded, the source\'s data spec) and shown by runs show and runs compare', async () => {
    const run = await tinyRun({ initFrom: baseRun.slice(-6), epochs: 1, seed: 4 });
    const store = openStore(dbPath, { readonly: true });
    let recorded;
    try {
      recorded = getRun(store, run.runId);
    } finally {
      closeStore(store);
    }
    const init = recorded.config?.['init'] as EquationInitSpec;
    assert.equal(init.from, baseRun.slice(-6));
    assert.equal(init.run, baseRun, 'a short id is recorded as the run it named');
    assert.equal(init.reader, null);
    assert.deepEqual(init.loaded, [...CONV, ...HEAD]);
    assert.deepEqual(init.reinitialised, []);
    assert.equal((init.data as { dir: string }).dir, join(dir, 'data'));
    assert.equal(recorded.params['init.run'], baseRun, 'flattened into params, so --where and runs compare see it');

    const shown = await cli(['runs', 'show', run.runId, '--db', dbPath]);
    assert.equal(shown.code, 0, shown.err);
    assert.match(shown.out, new RegExp(`^ {2}from +run ${baseRun}, 8 layers loaded, source data ${join(dir, 'data')}$`, 'm'));
    assert.match(shown.out, new RegExp(`^ {2}init\\.run = ${baseRun}$`, 'm'));
    const compared = await cli(['runs', 'compare', baseRun, run.runId, '--db', dbPath, '--wide']);
    assert.equal(compared.code, 0, compared.err);
    assert.match(compared.out, new RegExp(`^ {2}init\\.run +- +${baseRun}$`, 'm'));
  });

  test('a source of another alphabet re-initialises the output layer, recorded; another architecture is refused naming the weights', async () => {
    // A reader of 17 symbols and the blank: the equation pipeline itself trains only its own alphabet.
    const wider = buildCrnn({ ...TINY_CRNN, numClasses: 18, seed: 1 });
    const readerPath = join(dir, 'readers', 'eighteen');
    try {
      await writeReaderFolder(readerPath, wider, { name: 'eighteen', runId: baseRun });
    } finally {
      wider.dispose();
    }
    const logs: string[] = [];
    const run = await tinyRun({ initFrom: `reader:${readerPath}`, epochs: 1, seed: 5, log: (m) => logs.push(m) });
    const init = run.spec.init!;
    assert.equal(init.reader, 'eighteen');
    assert.equal(init.run, baseRun, "a reader's run is recorded as the source run");
    assert.deepEqual(init.reinitialised, ['logits']);
    assert.deepEqual(init.loaded, [...CONV, 'bidirectional_1']);
    assert.ok(logs.some((m) => /the output layer logits is re-initialised: the source reads 18 classes, this model 17/.test(m)), logs.join('\n'));

    // Weights of the same shapes, another computation: a strided stem is refused by its option.
    await assert.rejects(
      tinyRun({ initFrom: baseRun, epochs: 1, crnn: { ...TINY_CRNN, stridedStem: true } }),
      (error: unknown) => error instanceof ConfigError && /stridedStem: source false, target true/.test(error.message),
    );
    await assert.rejects(
      tinyRun({ initFrom: baseRun, epochs: 1, crnn: { ...TINY_CRNN, rnnUnits: 6 } }),
      (error: unknown) => error instanceof ConfigError && /bidirectional_1\/.*: source \[\d+, 24\], target \[\d+, 18\]/.test(error.message) && error.message.includes(`--init-from ${baseRun}`),
    );
  });

  test('the spec in words says where the weights start; freezeEpochs without initFrom, or as many as the epochs, is refused', () => {
    assert.match(describeEquationSpec(resolveEquationRunSpec({ dataDir: dir, initFrom: 'reader:equations-wide', freezeEpochs: 1 })), /; from reader:equations-wide, convolutions frozen 1 epoch$/);
    assert.throws(() => resolveEquationRunSpec({ dataDir: dir, freezeEpochs: 1 }), (e: unknown) => e instanceof ConfigError && /--init-from/.test(e.message));
    assert.throws(() => resolveEquationRunSpec({ dataDir: dir, initFrom: baseRun, freezeEpochs: 3, epochs: 3 }), (e: unknown) => e instanceof ConfigError && /freezeEpochs 3 .* less than the epochs 3/.test(e.message));
  });

  test('a resume of a run started from trained weights goes on from its own checkpoint and never loads the source again', async () => {
    const source = await trainTinyBaseRun(dir, dbPath, 30);
    const controller = new AbortController();
    const first = await tinyRun({ initFrom: source.runId, freezeEpochs: 1, epochs: 2, seed: 6, signal: controller.signal, callbacks: [new StopAfter(0, controller)] });
    assert.equal(first.status, 'interrupted');
    // The source's saved models are gone: a resume that tried to load them would fail.
    rmSync(source.runDir, { recursive: true, force: true });
    const logs: string[] = [];
    const resumed = await resumeEquationTraining(first.runId, { dbPath, handleSignals: false, log: (m) => logs.push(m) });
    assert.equal(resumed.status, 'finished');
    assert.ok(!logs.some((m) => /weights from/.test(m)), logs.join('\n'));
    assert.ok(!logs.some((m) => /sequence head only/.test(m)), 'the frozen epoch is done: every layer trains');
    assert.equal(resumed.spec.init?.run, source.runId, 'the recorded lineage is kept');
  });

  test('a VGG19-CRNN run interrupted after its first phase resumes with every layer training, as it would have gone on', async () => {
    const controller = new AbortController();
    const vgg = { model: 'vgg19-crnn' as const, crnn: { inputHeight: 32, inputWidth: 300, rnnUnits: 4, rnnLayers: 1, dropout: 0 }, vgg19: { weights: 'random' as const, filterDivisor: 64, phase1Epochs: 1 } };
    const first = await tinyRun({ ...vgg, epochs: 2, seed: 8, signal: controller.signal, callbacks: [new StopAfter(0, controller)] });
    assert.equal(first.status, 'interrupted');
    assert.deepEqual(first.history.map((h) => h['phase']), [1]);
    // Its last/ optimizer holds the state of the last layers only: the second phase needs its own.
    const resumed = await resumeEquationTraining(first.runId, { dbPath, handleSignals: false });
    assert.equal(resumed.status, 'finished');
    assert.equal(resumed.history.length, 1);
  });
});
