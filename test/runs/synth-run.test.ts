/**
 * A run that trains on the synthesis stream: the spec it records (the whole style space and the
 * fixed sets), the fixed sets rendered once, the held-out styles scored after the test split, and
 * a resume that goes on with the recorded stream.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/index';
import { DataError } from '../../src/errors';
import { resumeEquationTraining, runEquationTraining, type EquationRunResult } from '../../src/runs/equation-run';
import { readEquationRunSpec } from '../../src/runs/spec/index';
import { getRun } from '../../src/tracker/query';
import { closeStore, openStore } from '../../src/tracker/store';
import { finishRun } from '../../src/tracker/record';
import { cli } from '../support/cli';

const tinyCrnn = { inputHeight: 16, inputWidth: 96, convFilters: [8, 16, 16], rnn: 'gru' as const, rnnUnits: 8, rnnLayers: 1, dropout: 0 };

describe('a run on the synthesis stream', () => {
  let dir: string;
  let dbPath: string;
  let run: EquationRunResult;
  const synth = { style: 'wide', epochImages: 16, val: 8, test: 6, heldOut: 4 };
  before(async () => {
    await initBackend({ backend: 'wasm' });
    dir = mkdtempSync(join(tmpdir(), 'glyphlab-synth-run-'));
    dbPath = join(dir, 'glyphlab.db');
    run = await runEquationTraining({
      synth,
      dataDir: join(dir, 'sets'),
      recipe: 'reference',
      epochs: 2,
      batchSize: 8,
      workers: 1,
      replicas: 1,
      dbPath,
      crnn: tinyCrnn,
      logBatches: false,
      handleSignals: false,
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('records the whole stream in its spec, renders the fixed sets once at the model input size, and scores every held-out style', () => {
    assert.equal(run.status, 'finished');
    const store = openStore(dbPath, { readonly: true });
    try {
      const recorded = getRun(store, run.runId);
      const spec = readEquationRunSpec(recorded);
      assert.equal(spec.data.synth?.style.preset, 'wide');
      assert.ok(spec.data.synth!.style.fonts.length >= 100, `the wide space lists its faces (${spec.data.synth!.style.fonts.length})`);
      assert.deepEqual(spec.data.synth?.sets, { val: 8, test: 6, heldOut: 4 });
      assert.deepEqual(spec.data.synth?.size, { width: 96, height: 16 });
      assert.deepEqual(spec.data.synth?.heldOut.map((h) => h.name), ['fonts', 'noise', 'background']);
      assert.equal(recorded.params['data.split'], 'synthesis stream');
      for (const name of ['heldout_fonts_accuracy', 'heldout_noise_accuracy', 'heldout_background_accuracy', 'heldout_accuracy', 'test_accuracy']) {
        assert.equal(typeof recorded.metrics[name]?.last, 'number', `${name} recorded`);
      }
    } finally {
      closeStore(store);
    }
    assert.deepEqual(run.splitSizes, { train: 16, val: 8, test: 6 });
    for (const sub of ['val', 'test', 'held-out/fonts', 'held-out/noise', 'held-out/background']) {
      const manifest = JSON.parse(readFileSync(join(dir, 'sets', sub, 'synth.json'), 'utf8'));
      assert.equal(manifest.width, 96);
      assert.equal(manifest.height, 16);
    }
    assert.equal(readFileSync(join(dir, 'sets', 'val', 'labels.csv'), 'utf8').trim().split('\n').length, 9);
  });

  test('the CLI prints the held-out figures, and eval reads the fixed test set', async () => {
    const shown = await cli(['runs', 'show', run.runId, '--db', dbPath]);
    assert.match(shown.out, /heldout_fonts_accuracy/);
    const evaluated = await cli(['eval', '--run', run.runId, '--data', join(dir, 'sets', 'test'), '--db', dbPath]);
    assert.equal(evaluated.code, 0, evaluated.err);
    assert.match(evaluated.out, /6 images|accuracy/);
  });

  test('a resume goes on with the recorded stream, and refuses fixed sets that changed', async () => {
    const store = openStore(dbPath);
    try {
      finishRun(store, run.runId, 'interrupted');
    } finally {
      closeStore(store);
    }
    const resumed = await resumeEquationTraining(run.runId, { epochs: 3, dbPath, handleSignals: false, workers: 0 });
    assert.equal(resumed.status, 'finished');
    assert.equal(resumed.history.length, 1, 'only the third epoch trained');
    assert.equal(resumed.spec.data.synth?.epochImages, 16);

    // A changed fixed set is not the run's: synthesis refuses an image it did not write.
    const image = join(dir, 'sets', 'val', 'images', '000000.png');
    assert.ok(existsSync(image));
    writeFileSync(image, readFileSync(join(dir, 'sets', 'val', 'images', '000001.png')));
    const store2 = openStore(dbPath);
    try {
      finishRun(store2, run.runId, 'interrupted');
    } finally {
      closeStore(store2);
    }
    await assert.rejects(resumeEquationTraining(run.runId, { epochs: 4, dbPath, handleSignals: false, workers: 0 }), (e: unknown) => e instanceof DataError && /000000\.png/.test(e.message));
  });
});
