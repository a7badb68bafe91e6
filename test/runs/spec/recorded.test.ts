/**
 * Reading a recorded run's spec back: a run recorded with a spec reads back identical, through a
 * real store, for every recipe; runs recorded by older versions (real records of 6fe60ea, and
 * the older shape with `valid`) read into the spec they ran.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/errors';
import { resolveCrnnOptions } from '../../../src/models/crnn';
import { architectureParams, type RecordedModel } from '../../../src/runs/architecture';
import { EQUATION_RECIPE_NAMES, type EquationMachine, readEquationRunSpec, recordedData, resolveEquationRunSpec } from '../../../src/runs/spec/index';
import { startRun } from '../../../src/tracker/record';
import { getRun } from '../../../src/tracker/query';
import { closeStore, openStore } from '../../../src/tracker/store';

const machine: EquationMachine = { cores: 2, backend: 'wasm', memoryBytes: 8 * 1024 ** 3 };
const dir = mkdtempSync(join(tmpdir(), 'glyphlab-spec-recorded-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Real records of runs trained by glyphlab at 6fe60ea (the version before the spec), data folder renamed. */
const OLD = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'runs-6fe60ea.json'), 'utf8')) as Record<'plateau-lstm' | 'quick-like', RecordedModel>;

describe('a recorded spec reads back', () => {
  test('identical, through a real store, for every recipe and for the VGG19-CRNN', () => {
    const store = openStore(join(dir, 'runs.db'));
    try {
      const specs = [...EQUATION_RECIPE_NAMES.map((recipe) => resolveEquationRunSpec({ dataDir: '/data/eq', recipe, tags: ['t'], limit: { val: 10 } }, machine)), resolveEquationRunSpec({ dataDir: '/data/eq', model: 'vgg19-crnn', vgg19: { weights: 'random', filterDivisor: 16 } }, machine)];
      for (const spec of specs) {
        const runId = startRun(store, { experiment: spec.record.experiment, config: spec as unknown as Record<string, unknown>, heartbeat: false, git: false });
        const run = getRun(store, runId);
        assert.deepEqual(readEquationRunSpec(run, machine), spec, spec.recipe);
        assert.equal(run.params['training.learningRate'], spec.training.learningRate, 'its fields are params, for --where');
      }
    } finally {
      closeStore(store);
    }
  });

  test('a run of 6fe60ea (plateau, LSTM) reads as the spec it ran: the reference recipe with its recorded values', () => {
    const spec = readEquationRunSpec(OLD['plateau-lstm'], machine);
    assert.equal(spec.recipe, 'reference');
    assert.equal(spec.data.dir, '/data/eq');
    assert.deepEqual(spec.crnn, resolveCrnnOptions({ inputHeight: 32, inputWidth: 128, convFilters: [8, 16, 16], rnn: 'lstm', rnnUnits: 8, rnnLayers: 1, seed: 0 }));
    assert.deepEqual([spec.training.epochs, spec.training.batchSize, spec.training.learningRate, spec.training.schedule, spec.training.minutes], [1, 8, 0.001, 'plateau', null]);
    assert.deepEqual(spec.training.earlyStopping, { patience: 8, minDelta: 0 });
    assert.deepEqual(spec.compute.replicas, 1);
  });

  test('a time-budgeted warm-up cosine run of 6fe60ea keeps its epochs, minutes, decay, limits and architecture', () => {
    const spec = readEquationRunSpec(OLD['quick-like'], machine);
    assert.deepEqual([spec.training.epochs, spec.training.minutes, spec.training.schedule, spec.training.warmup, spec.training.learningRate, spec.training.weightDecay], [1000, 0.05, 'warmup-cosine', 0.1, 0.003, 0.05]);
    assert.equal(spec.training.earlyStopping, null);
    assert.deepEqual(spec.data.limit, { train: null, val: 4, test: 3 });
    assert.deepEqual([spec.crnn?.stridedStem, spec.crnn?.dropout, spec.crnn?.batchNormMomentum, spec.crnn?.rnn], [true, 0, 0.9, 'gru']);
  });

  test('an older record with `valid` and without architecture params reads the same way', () => {
    const model = { ...resolveCrnnOptions({ inputHeight: 32, rnn: 'gru' }) };
    const training = { epochs: 12, optimizer: 'sgd', learningRate: 0.01, clipNorm: 5, clipValue: null, monitor: 'val_accuracy', mode: 'max', earlyStopping: { patience: 4, minDelta: 0 }, reduceLrOnPlateau: null };
    const config = { model, data: { dir: '/data/eq', sizes: { train: 8, valid: 1, test: 1 }, limit: { train: 8, valid: 1, test: 1 }, seed: 3, augment: {} }, batchSize: 16, training, totalEpochs: 12 };
    const spec = readEquationRunSpec({ params: { model: 'crnn' }, config }, machine);
    assert.deepEqual(spec.data.limit, { train: 8, val: 1, test: 1 });
    assert.deepEqual([spec.crnn?.inputHeight, spec.crnn?.rnn, spec.seed], [32, 'gru', 3]);
    assert.deepEqual([spec.training.optimizer, spec.training.epochs, spec.training.batchSize, spec.training.weightDecay, spec.training.reduceLrOnPlateau], ['sgd', 12, 16, 0, null]);
    assert.notEqual(spec.data.augment, null, 'augmented as recorded');
    assert.deepEqual(readEquationRunSpec({ params: { model: 'crnn', ...architectureParams('crnn', model) }, config }, machine).crnn?.rnn, 'gru');
  });

  test('what is no equation run, or a newer spec, is refused clearly; recordedData reads both shapes', () => {
    assert.throws(() => readEquationRunSpec({ id: 'r1', params: {}, config: null }, machine), (e: unknown) => e instanceof ConfigError && /run r1 recorded no config/.test(e.message));
    assert.throws(() => readEquationRunSpec({ id: 'r2', params: {}, config: { specVersion: 9 } }, machine), /spec version 9; this glyphlab reads version 1/);
    assert.throws(() => readEquationRunSpec({ id: 'r3', params: { model: 'mlp' }, config: { model: {} } }, machine), /run r3 recorded no data folder/);
    assert.deepEqual(recordedData(OLD['plateau-lstm'].config), { dir: '/data/eq', seed: 0 });
    assert.deepEqual(recordedData(resolveEquationRunSpec({ dataDir: '/data/x', seed: 4 }, machine) as never), { dir: '/data/x', seed: 4 });
    assert.deepEqual(recordedData(null), {});
  });
});
