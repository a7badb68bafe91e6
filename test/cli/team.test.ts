/**
 * Issue 35's run files for a team: a run trained by one "machine" on a PostgreSQL store, its files
 * in a shared folder X, is evaluated, read and resumed by another "machine" that names the same
 * files through another path Y (a symlink to X stands in for another mount of the shared file
 * system). Each machine is its own `glyphlab` child process with its own GLYPHLAB_EXPERIMENTS_DIR.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeEquations } from '../../src/data/equations/synth';
import { closeStore, openStore, selectAll } from '../../src/tracker/store';
import { projectRoot } from '../../src/util/paths';
import { createTestDatabase } from '../support/postgres';

/** A tiny CRNN on 128x32 images: enough to prove the wiring, fast on two cores. */
const TINY = ['--input-height', '32', '--input-width', '128', '--filters', '8,16', '--rnn-units', '8', '--batch-size', '8', '--workers', '0'];

/**
 * Runs `glyphlab ARGS` as a child process (one "machine") with `env` added to this process's
 * environment; with `interruptAt`, sends SIGINT once stderr matches it.
 */
function glyphlab(args: string[], env: Record<string, string>, interruptAt?: RegExp): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [join(projectRoot(), 'scripts', 'glyphlab.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
    if (interruptAt?.test(err) && !child.killed) child.kill('SIGINT');
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, err })));
}

/** The artifact paths the store holds for `runId`, as recorded. */
function recordedPaths(url: string, runId: string): string[] {
  const store = openStore(url, { readonly: true });
  try {
    return selectAll<{ path: string }>(store, 'SELECT path FROM artifacts WHERE run_id = @runId ORDER BY path', { runId }).map((row) => row.path);
  } finally {
    closeStore(store);
  }
}

describe('run files shared by a team on a PostgreSQL store', () => {
  let root: string;
  let url: string;
  let dataDir: string;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'glyphlab-team-'));
    url = createTestDatabase();
    dataDir = join(root, 'data');
    await synthesizeEquations({ outDir: dataDir, count: 40, seed: 7, workers: 0, width: 128, height: 32 });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('trained with the folder at X, evaluated, read and resumed through Y; a machine without the files is told where it looked and what to set', async () => {
    const shared = join(root, 'shared');
    mkdirSync(shared);
    const mountedElsewhere = join(root, 'other-mount');
    symlinkSync(shared, mountedElsewhere);
    const machineA = { GLYPHLAB_DB: url, GLYPHLAB_EXPERIMENTS_DIR: shared };
    const machineB = { GLYPHLAB_DB: url, GLYPHLAB_EXPERIMENTS_DIR: mountedElsewhere };

    // Interrupted after its first epoch, so that there is something to resume.
    const trained = await glyphlab(['train', '--data', dataDir, '--epochs', '50', ...TINY, '--json'], machineA, /epoch 1\/50: loss/);
    const runId = (JSON.parse(trained.out) as { runId: string; status: string }).runId;
    assert.equal((JSON.parse(trained.out) as { status: string }).status, 'interrupted', trained.err);
    assert.deepEqual(readdirSync(join(shared, 'runs')), [runId]);
    // Recorded relative to the shared folder: no machine's mount point is in the store.
    const paths = recordedPaths(url, runId);
    assert.ok(paths.length >= 2, `artifacts: ${paths.join(', ')}`);
    for (const path of paths) assert.match(path, new RegExp(`^runs/${runId}/`), path);

    const evaluated = await glyphlab(['eval', '--run', runId, '--data', dataDir, '--split', 'val', '--json'], machineB);
    assert.equal(evaluated.code, 0, evaluated.err);
    const image = join(dataDir, 'images', readdirSync(join(dataDir, 'images')).find((name) => name.endsWith('.png')) ?? 'no-png');
    const read = await glyphlab(['predict', '--model', runId, image, '--json'], machineB);
    assert.equal(read.code, 0, read.err);
    assert.ok(read.out.includes(image), read.out);

    // A machine that has not mounted the shared folder where GLYPHLAB_EXPERIMENTS_DIR says.
    const elsewhere = join(root, 'not-mounted');
    mkdirSync(elsewhere);
    const missing = await glyphlab(['eval', '--run', runId, '--data', dataDir], { GLYPHLAB_DB: url, GLYPHLAB_EXPERIMENTS_DIR: elsewhere });
    assert.notEqual(missing.code, 0);
    assert.ok(missing.err.includes(join(elsewhere, 'runs', runId)), missing.err);
    assert.ok(missing.err.includes(`GLYPHLAB_EXPERIMENTS_DIR=${elsewhere}`), missing.err);
    assert.match(missing.err, /set GLYPHLAB_EXPERIMENTS_DIR to the folder where this machine mounts the shared experiments folder/);
    const notResumed = await glyphlab(['train', '--resume', runId, '--epochs', '3', '--workers', '0'], { GLYPHLAB_DB: url, GLYPHLAB_EXPERIMENTS_DIR: elsewhere });
    assert.notEqual(notResumed.code, 0);
    assert.match(notResumed.err, /set GLYPHLAB_EXPERIMENTS_DIR to the folder where this machine mounts/);

    const resumed = await glyphlab(['train', '--resume', runId, '--epochs', '2', '--workers', '0', '--json'], machineB);
    assert.equal(resumed.code, 0, resumed.err);
    assert.equal((JSON.parse(resumed.out) as { runId: string; status: string }).status, 'finished');
    // The resumed epoch's files went into the same shared folder, still recorded relative to it.
    const resumedPaths = recordedPaths(url, runId);
    for (const path of resumedPaths) assert.match(path, new RegExp(`^runs/${runId}/`), path);
    assert.ok(resumedPaths.includes(`runs/${runId}/model/model.json`), resumedPaths.join(', '));
    assert.deepEqual(readdirSync(join(shared, 'runs')), [runId]);
    // And machine A reads the final model machine B saved.
    const readBack = await glyphlab(['predict', '--model', runId, image, '--json'], machineA);
    assert.equal(readBack.code, 0, readBack.err);
  });
});
