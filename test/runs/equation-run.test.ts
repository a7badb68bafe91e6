/**
 * Recorded equation runs and their architecture params: two tiny CRNN runs that differ only in
 * the recurrent cell, found and told apart through the store's query API and the CLI.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/index';
import { ConfigError } from '../../src/errors';
import { buildCrnn } from '../../src/models/crnn';
import { saveModel } from '../../src/models/io';
import { readArchitecture } from '../../src/runs/architecture';
import { resumeEquationTraining, runEquationTraining } from '../../src/runs/equation-run';
import { compareRuns, getRun, listRuns } from '../../src/tracker/query';
import { closeStore, openStore } from '../../src/tracker/store';
import { finishRun, startRun } from '../../src/tracker/record';
import { runsDirFor } from '../../src/util/paths';
import { cli } from '../support/cli';
import { startFixture } from '../tracker/helpers';
import { trainTinyBaseRun } from '../support/equation-run';

describe('recorded equation runs: architecture params', () => {
  let dir: string;
  let dbPath: string;
  let gruRun: string;
  let lstmRun: string;
  before(async () => {
    await initBackend({ backend: 'wasm' });
    dir = mkdtempSync(join(tmpdir(), 'glyphlab-equation-run-'));
    dbPath = join(dir, 'glyphlab.db');
    gruRun = (await trainTinyBaseRun(dir, dbPath)).runId;
    lstmRun = (await trainTinyBaseRun(dir, dbPath, 30, { rnn: 'lstm' })).runId;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('every run records its architecture as flat params, and reads it back', () => {
    const store = openStore(dbPath);
    try {
      const run = getRun(store, gruRun);
      assert.equal(run.params['model'], 'crnn');
      assert.equal(run.params['model.rnn'], 'gru');
      assert.deepEqual(run.params['model.filters'], [8, 16, 16]);
      assert.deepEqual([run.params['input.height'], run.params['input.width'], run.params['input.channels']], [32, 128, 1]);
      assert.equal(run.params['model.classes'], 17);
      assert.equal((run.config?.['crnn'] as { rnn: string }).rnn, 'gru', 'the whole builder config stays in the config (the spec)');
      assert.deepEqual(readArchitecture(run), {
        'input.height': 32,
        'input.width': 128,
        'input.channels': 1,
        'model.classes': 17,
        'model.filters': [8, 16, 16],
        'model.rnn': 'gru',
        'model.rnnUnits': 8,
        'model.rnnLayers': 1,
        'model.bnMomentum': 0.99,
        'model.pools': [[2, 2], [2, 2], [2, 1]],
        'model.stridedStem': false,
        'model.convKernel': 3,
        'model.recurrentActivation': 'sigmoid',
        'model.dropout': 0,
      });
      assert.deepEqual(listRuns(store, { where: 'params.model.rnn = "gru"' }).map((r) => r.id), [gruRun]);
      const comparison = compareRuns(store, [gruRun, lstmRun]);
      assert.deepEqual(comparison.paramDiffs['model.rnn'], { [gruRun]: 'gru', [lstmRun]: 'lstm' });
    } finally {
      closeStore(store);
    }
  });

  test('glyphlab runs ls --where finds the GRU run; runs compare shows the cell', async () => {
    const found = await cli(['runs', 'ls', '--where', 'params.model.rnn = "gru"', '--db', dbPath, '--json']);
    assert.equal(found.code, 0, found.err);
    assert.deepEqual((JSON.parse(found.out) as { id: string }[]).map((r) => r.id), [gruRun]);
    const compared = await cli(['runs', 'compare', gruRun, lstmRun, '--db', dbPath]);
    assert.equal(compared.code, 0, compared.err);
    assert.match(compared.out, /^ {2}model\.rnn +gru +lstm$/m);
  });

  test('a resume refuses a last/ checkpoint whose input is not the recorded spec\'s', async () => {
    const store = openStore(dbPath);
    let runId: string;
    try {
      const recorded = getRun(store, gruRun);
      const config = { ...recorded.config, crnn: { ...(recorded.config?.['crnn'] as object), inputHeight: 64 } };
      runId = startRun(store, { experiment: 'equations', config, params: recorded.params, git: false, heartbeat: false });
      finishRun(store, runId, 'interrupted');
    } finally {
      closeStore(store);
    }
    const model = buildCrnn({ inputHeight: 32, inputWidth: 128, convFilters: [8, 16, 16], rnnUnits: 8, rnnLayers: 1 });
    await saveModel(model, join(runsDirFor(dbPath), runId, 'last'), { meta: { epoch: 0, learningRate: 1e-3, best: null } });
    model.dispose();
    await assert.rejects(
      resumeEquationTraining(runId, { dbPath, handleSignals: false }),
      (e: unknown) => e instanceof ConfigError && /takes 32x128x1 images, but run \S+ recorded a 64x128x1 model/.test(e.message),
    );
  });

  test('a warm-up cosine schedule sets every batch\'s rate, a time budget ends the run, and the config records both with the replica count', async () => {
    const result = await runEquationTraining({
      dataDir: join(dir, 'data'),
      epochs: 4,
      batchSize: 4,
      workers: 0,
      replicas: 2,
      dbPath,
      crnn: { inputHeight: 32, inputWidth: 128, convFilters: [8, 16, 16], rnn: 'gru', rnnUnits: 8, rnnLayers: 1, dropout: 0 },
      recipe: 'reference',
      learningRate: 0.004,
      schedule: 'warmup-cosine',
      warmup: 0.25,
      logBatches: false,
      handleSignals: false,
    });
    // The warm-up is a quarter of 4 epochs: the first epoch's last batch is one batch short of its end.
    const steps = Math.ceil(result.splitSizes.train / 4);
    const rates = result.history.map((h) => h['lr'] as number);
    assert.equal(rates.length, 4);
    assert.ok(Math.abs(rates[0]! - (0.004 * (steps - 1)) / steps) < 1e-9, `the last batch of epoch 1 is at ${steps - 1}/${steps} of the warm-up: ${rates[0]}`);
    for (let e = 1; e < 4; e++) assert.ok(rates[e]! < rates[e - 1]!, `the rate falls after the warm-up: ${rates.join(', ')}`);
    const store = openStore(dbPath);
    try {
      const run = getRun(store, result.runId);
      const training = run.config?.['training'] as { schedule: string; warmup: number; minutes: number | null; reduceLrOnPlateau: unknown };
      assert.deepEqual([training.schedule, training.warmup, training.minutes], ['warmup-cosine', 0.25, null]);
      assert.equal(run.params['compute.replicas'], 2);
      assert.equal(training.reduceLrOnPlateau, null);
    } finally {
      closeStore(store);
    }
    const budgeted = await runEquationTraining({
      dataDir: join(dir, 'data'),
      epochs: 50,
      batchSize: 4,
      workers: 0,
      replicas: 1,
      dbPath,
      crnn: { inputHeight: 32, inputWidth: 128, convFilters: [8, 16, 16], rnn: 'gru', rnnUnits: 8, rnnLayers: 1, dropout: 0 },
      recipe: 'reference',
      schedule: 'warmup-cosine',
      minutes: 0.0001,
      logBatches: false,
      handleSignals: false,
    });
    assert.equal(budgeted.status, 'finished');
    assert.equal(budgeted.history.length, 1, 'the budget ran out in the first epoch, which was then evaluated');
    assert.ok(budgeted.testMetrics !== undefined, 'a run that used its budget is tested');
  });
  test('a store another process holds locked when the run opens is waited for; the run then trains and records', async () => {
    // The store must exist (with its schema) before another process can lock it.
    closeStore(openStore(join(dir, 'locked.db')));
    const holder = startFixture('hold-write-lock.ts', [join(dir, 'locked.db'), '120000']);
    await holder.line('locked');
    // The lock is let go once the run has said it waits for it.
    const warnings: string[] = [];
    const previous = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      warnings.push(String(chunk));
      if (/is locked by another process/.test(String(chunk))) holder.send('release');
      return previous(chunk as never, ...(rest as []));
    }) as typeof process.stderr.write;
    let result;
    try {
      result = await trainTinyBaseRun(dir, join(dir, 'locked.db'));
    } finally {
      process.stderr.write = previous;
    }
    assert.equal(result.status, 'finished');
    assert.match(warnings.join(''), /is locked by another process .* to start the run/);
    assert.equal((await holder.finished).code, 0);
    const store = openStore(join(dir, 'locked.db'));
    try {
      assert.equal(getRun(store, result.runId).status, 'finished');
    } finally {
      closeStore(store);
    }
  });
  test('the entry point sets the backend up when none is (as initBackend() picks it), and the spec\'s replicas follow it', () => {
    const script = join(__dirname, 'fixtures', 'train-without-init.ts');
    const result = spawnSync(process.execPath, ['--import', 'tsx', script, join(dir, 'data'), join(dir, 'no-init.db')], { encoding: 'utf8', env: { ...process.env, GLYPHLAB_BACKEND: 'wasm' } });
    assert.equal(result.status, 0, result.stderr);
    const report = JSON.parse(result.stdout.trim().split('\n').pop()!) as { before: string | null; after: string; status: string; replicas: number };
    assert.deepEqual([report.before, report.after, report.status], [null, 'wasm', 'finished']);
    assert.equal(report.replicas, Math.min(64, availableParallelism()), 'one replica per core on wasm, as the default says');
  });
});
