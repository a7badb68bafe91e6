/**
 * What every recorded run says of its backend: whether glyphlab's native kernels computed it
 * (`params.backend.native`, with the reason when they did not), through openRecordedRun (the
 * equation, character and center-loss runs) and a TrackerCallback that starts its own run; and
 * `glyphlab train` without them says so once, on stderr, with the reason and the remedy.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/index';
import { setNativeKernelsEnabled } from '../../src/backend/native-kernels';
import { synthesizeEquations } from '../../src/data/equations/synth';
import { openRecordedRun, type OpenRunSettings } from '../../src/runs/recorded-run';
import { TrackerCallback } from '../../src/tracker/callback';
import { getRun, listRuns } from '../../src/tracker/query';
import { closeStore, openStore } from '../../src/tracker/store';
import { projectRoot } from '../../src/util/paths';
import { cli } from '../support/cli';

const SETTINGS: OpenRunSettings = { experiment: 'native', name: 'open', tags: [], config: { recipe: 'test' }, params: { model: 'crnn' }, logBatches: false };

function paramsOf(dbPath: string, runId: string): Record<string, unknown> {
  const store = openStore(dbPath, { readonly: true });
  try {
    return getRun(store, runId).params;
  } finally {
    closeStore(store);
  }
}

/** Runs `glyphlab ARGS` as a child process with `env` added; its exit code and output. */
function glyphlab(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [join(projectRoot(), 'scripts', 'glyphlab.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, err })));
}

describe('a recorded run records whether the native kernels computed it', () => {
  let dir: string;
  let dbPath: string;
  before(async () => {
    await initBackend({ backend: 'wasm' });
    dir = mkdtempSync(join(tmpdir(), 'glyphlab-recorded-run-'));
    dbPath = join(dir, 'glyphlab.db');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('openRecordedRun: avx2-fma with the kernels, none and the reason without; --where finds each', async () => {
    const withNative = await openRecordedRun({ dbPath }, SETTINGS);
    await withNative.during(async () => undefined);
    const previous = setNativeKernelsEnabled(false);
    let withoutNative: string;
    try {
      const run = await openRecordedRun({ dbPath }, { ...SETTINGS, name: 'off' });
      await run.during(async () => undefined);
      withoutNative = run.runId;
    } finally {
      setNativeKernelsEnabled(previous);
    }
    const on = paramsOf(dbPath, withNative.runId);
    assert.equal(on['backend.native'], 'avx2-fma', `this machine builds and runs the native module (test/backend/native-kernels.test.ts): ${JSON.stringify(on)}`);
    assert.equal(on['backend.native_reason'], undefined);
    assert.equal(on['model'], 'crnn', "the run's own params stay");
    const off = paramsOf(dbPath, withoutNative);
    assert.equal(off['backend.native'], 'none');
    assert.equal(off['backend.native_reason'], 'turned off by setNativeKernelsEnabled(false)');
    const store = openStore(dbPath, { readonly: true });
    try {
      assert.deepEqual(listRuns(store, { where: 'params.backend.native = "none"' }).map((r) => r.id), [withoutNative]);
      assert.deepEqual(listRuns(store, { where: 'params.backend.native = "avx2-fma"' }).map((r) => r.id), [withNative.runId]);
    } finally {
      closeStore(store);
    }
  });

  test('a run resumed where the kernels are drops the reason recorded for their absence', async () => {
    const previous = setNativeKernelsEnabled(false);
    let runId: string;
    try {
      const run = await openRecordedRun({ dbPath }, { ...SETTINGS, name: 'resumed' });
      runId = run.runId;
      await assert.rejects(run.during(async () => {
        throw new Error('stopped by the test');
      }));
    } finally {
      setNativeKernelsEnabled(previous);
    }
    assert.equal(paramsOf(dbPath, runId)['backend.native_reason'], 'turned off by setNativeKernelsEnabled(false)');
    const resumed = await openRecordedRun({ dbPath }, { ...SETTINGS, name: 'resumed', resumeRunId: runId });
    await resumed.during(async () => undefined);
    const params = paramsOf(dbPath, runId);
    assert.equal(params['backend.native'], 'avx2-fma');
    assert.equal(params['backend.native_reason'], undefined, 'the old reason no longer holds');
  });

  test('a TrackerCallback that starts its own run records it too', async () => {
    const tracker = new TrackerCallback({ dbPath, experiment: 'native', git: false });
    await tracker.onTrainBegin({ model: 'tiny', config: {}, epochs: 1, backend: { name: 'wasm', threads: 1 } });
    const runId = tracker.runId;
    await tracker.onTrainEnd({ status: 'finished' });
    assert.ok(runId);
    assert.equal(paramsOf(dbPath, runId)['backend.native'], 'avx2-fma');
  });

  test('glyphlab train with GLYPHLAB_NATIVE=0: one warning with reason and remedy; runs ls --where and runs show tell', async () => {
    const data = join(dir, 'eq');
    await synthesizeEquations({ outDir: data, count: 30, seed: 5, workers: 0, width: 128, height: 32 });
    const tiny = ['--recipe', 'reference', '--epochs', '1', '--input-height', '32', '--input-width', '128', '--filters', '8,16', '--rnn-units', '8', '--batch-size', '8', '--workers', '0', '--replicas', '1'];
    const trained = await glyphlab(['train', '--data', data, ...tiny, '--db', dbPath, '--json'], { GLYPHLAB_NATIVE: '0' });
    assert.equal(trained.code, 0, trained.err);
    const warnings = trained.err.split('\n').filter((line) => line.includes('native AVX2/FMA kernels'));
    assert.deepEqual(warnings, [
      'glyphlab: training without the native AVX2/FMA kernels (turned off by GLYPHLAB_NATIVE=0): the wasm kernels run instead, 2-3x slower per epoch; to use them, unset GLYPHLAB_NATIVE.',
    ]);
    const { runId } = JSON.parse(trained.out) as { runId: string };
    const listed = await cli(['runs', 'ls', '--db', dbPath, '--where', 'params.backend.native = "none" and params.backend.native_reason = "turned off by GLYPHLAB_NATIVE=0"', '--json']);
    assert.equal(listed.code, 0, listed.err);
    assert.deepEqual((JSON.parse(listed.out) as { id: string }[]).map((r) => r.id), [runId]);
    const shown = await cli(['runs', 'show', runId, '--db', dbPath]);
    assert.match(shown.out, /backend\.native = "?none"?/);
    assert.match(shown.out, /backend\.native_reason = "?turned off by GLYPHLAB_NATIVE=0"?/);
  });
});
