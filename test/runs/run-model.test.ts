import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/index';
import { loadRunModel } from '../../src/runs/run-model';
import { getRun } from '../../src/tracker/query';
import { closeStore, openStore } from '../../src/tracker/store';
import { cli } from '../support/cli';
import { trainTinyBaseRun } from '../support/equation-run';

describe('a copied experiments folder', () => {
  const root = mkdtempSync(join(tmpdir(), 'glyphlab-run-model-'));
  const original = join(root, 'original');
  const copy = join(root, 'copy', 'experiments');
  let runId = '';
  before(async () => {
    await initBackend({ backend: 'wasm' });
    runId = (await trainTinyBaseRun(original, join(original, 'experiments', 'glyphlab.db'))).runId;
    // The database and runs/ move elsewhere; the original is gone.
    cpSync(join(original, 'experiments'), copy, { recursive: true });
    rmSync(join(original, 'experiments'), { recursive: true });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('finds its run files where it landed: the store keeps their paths relative to itself', async () => {
    const store = openStore(join(copy, 'glyphlab.db'), { readonly: true });
    try {
      const stored = store.db.prepare('SELECT path FROM artifacts WHERE run_id = ?').all(runId) as { path: string }[];
      assert.ok(stored.length >= 3);
      for (const { path } of stored) assert.match(path, new RegExp(`^runs/${runId}/`));
      for (const artifact of getRun(store, runId).artifacts) {
        assert.ok(artifact.path.startsWith(join(copy, 'runs', runId)), artifact.path);
        assert.ok(existsSync(artifact.path), artifact.path);
      }
    } finally {
      closeStore(store);
    }
    const loaded = await loadRunModel(runId, { dbPath: join(copy, 'glyphlab.db'), checkpoint: 'best' });
    assert.equal(loaded.modelDir, join(copy, 'runs', runId, 'best'));
    loaded.model.dispose();
    const dashboard = await cli(['dashboard', '--db', join(copy, 'glyphlab.db'), '--out', join(root, 'report.html'), '--json']);
    assert.equal(dashboard.code, 0, dashboard.err);
    assert.doesNotMatch(dashboard.err, /warning/, 'the eval report is read from the copy');
  });

  test('absolute paths recorded by an older glyphlab read as the copy beside the store when it exists', () => {
    const file = join(copy, 'glyphlab.db');
    const store = openStore(file);
    try {
      // What an older glyphlab wrote: absolute paths under the folder where the run was recorded.
      store.db.prepare("UPDATE artifacts SET path = ? || path WHERE run_id = ?").run(`${join(original, 'experiments')}/`, runId);
      store.db.prepare("INSERT INTO artifacts (run_id, path, kind, created_at) VALUES (?, ?, 'notes', 0)").run(runId, join(original, 'experiments', 'runs', runId, 'notes.txt'));
      const artifacts = getRun(store, runId).artifacts;
      const model = artifacts.find((a) => a.kind === 'model')!;
      assert.equal(model.path, join(copy, 'runs', runId, 'model', 'model.json'));
      const notes = artifacts.find((a) => a.kind === 'notes')!;
      assert.equal(notes.path, join(original, 'experiments', 'runs', runId, 'notes.txt'), 'with no copy beside the store, the path as recorded');
    } finally {
      closeStore(store);
    }
  });
});
