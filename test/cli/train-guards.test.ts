/**
 * What `glyphlab train` refuses up front, and what it does not call success (issue 37, items 3,
 * 6, 7, 8, 12, 15): each case is a real CLI run on a small synthesised folder.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_OK, EXIT_USAGE } from '../../src/cli/main';
import { synthesizeEquations } from '../../src/data/equations/synth';
import { getMetricHistory, getRun } from '../../src/tracker/query';
import { closeStore, openStore } from '../../src/tracker/store';
import { cli, trainAndInterrupt } from '../support/cli';

const root = mkdtempSync(join(tmpdir(), 'glyphlab-train-guards-'));
const dataDir = join(root, 'eq');
after(() => rmSync(root, { recursive: true, force: true }));

/** A tiny CRNN, fast on two cores. */
const TINY = ['--input-height', '32', '--input-width', '150', '--filters', '8,16', '--rnn-units', '16', '--batch-size', '8', '--workers', '0', '--replicas', '1'];

function readRun<T>(db: string, fn: (store: ReturnType<typeof openStore>) => T): T {
  const store = openStore(db);
  try {
    return fn(store);
  } finally {
    closeStore(store);
  }
}

/** Trains in a child, interrupted after its first epoch; returns the run id. */
async function interruptedRun(args: string[]): Promise<string> {
  const { code, out, err } = await trainAndInterrupt(args);
  assert.equal(code, 130, err);
  const id = /run (\S+): interrupted/.exec(out)?.[1];
  assert.ok(id, out + err);
  return id;
}

describe('glyphlab train: guards', () => {
  before(async () => {
    await synthesizeEquations({ outDir: dataDir, count: 60, seed: 11, workers: 0 });
  });

  test('item 3: --resume trains to the epochs the run recorded, not to a default', async () => {
    const db = join(root, 'resume-epochs.db');
    const id = await interruptedRun(['--data', dataDir, '--epochs', '3', ...TINY, '--db', db]);
    const resumed = await cli(['train', '--resume', id, '--db', db, '--json']);
    assert.equal(resumed.code, EXIT_OK, resumed.err);
    readRun(db, (store) => {
      assert.equal(getRun(store, id).status, 'finished');
      assert.deepEqual(getMetricHistory(store, id, ['val_accuracy']).map((p) => p.epoch), [0, 1, 2], 'three epochs in all, as recorded');
    });
  });

  test('item 3: a run killed in its final evaluation is resumed by testing its best weights, training nothing more', async () => {
    const db = join(root, 'resume-final.db');
    const done = await cli(['train', '--data', dataDir, '--epochs', '2', ...TINY, '--db', db, '--json']);
    assert.equal(done.code, EXIT_OK, done.err);
    const id = (JSON.parse(done.out) as { runId: string }).runId;
    // What a kill during the test evaluation leaves: last/ at the final epoch, the run not finished, no test metrics.
    readRun(db, (store) => {
      store.db.prepare("UPDATE runs SET status = 'crashed', ended_at = NULL WHERE id = ?").run(id);
      store.db.prepare("DELETE FROM metrics WHERE run_id = ? AND key LIKE 'test_%'").run(id);
    });
    const resumed = await cli(['train', '--resume', id, '--db', db, '--json']);
    assert.equal(resumed.code, EXIT_OK, resumed.err);
    assert.doesNotMatch(resumed.err, /epoch 3/);
    readRun(db, (store) => {
      const run = getRun(store, id);
      assert.equal(run.status, 'finished');
      assert.deepEqual(getMetricHistory(store, id, ['val_accuracy']).map((p) => p.epoch), [0, 1], 'no epoch trained after the recorded two');
      assert.ok(run.metrics['test_accuracy'] !== undefined, 'the test evaluation ran');
    });
  });

  test('item 6: a resume refuses other data: a replaced folder (by fingerprint) and --data beside --resume', async () => {
    const folder = join(root, 'moving');
    cpSync(dataDir, folder, { recursive: true });
    const db = join(root, 'resume-data.db');
    const id = await interruptedRun(['--data', folder, '--epochs', '20', ...TINY, '--db', db]);
    const other = await cli(['train', '--resume', id, '--data', join(root, 'elsewhere'), '--db', db]);
    assert.equal(other.code, EXIT_USAGE);
    assert.match(other.err, /trained on .*moving; a resume goes on with the run's own data, not .*elsewhere/);
    const changed = await cli(['train', '--resume', id, '--lr', '0.1', '--db', db]);
    assert.equal(changed.code, EXIT_USAGE);
    assert.match(changed.err, /--lr cannot change a resumed run: it goes on with the spec it recorded/);
    rmSync(folder, { recursive: true });
    await synthesizeEquations({ outDir: folder, count: 60, seed: 12, workers: 0 });
    const replaced = await cli(['train', '--resume', id, '--db', db]);
    assert.equal(replaced.code, EXIT_USAGE, replaced.err);
    assert.match(replaced.err, /the data in .*moving is not what run \S+ trained on \(its images, labels or split changed/);
    readRun(db, (store) => assert.equal(getRun(store, id).status, 'interrupted', 'the run is left as it was'));
  });

  test('item 7: a label longer than the model can emit is refused before training, naming its row', async () => {
    const folder = join(root, 'long-label');
    cpSync(dataDir, folder, { recursive: true });
    const first = readFileSync(join(folder, 'labels.csv'), 'utf8').split('\n')[1]!.split(',')[0]!;
    copyFileSync(join(folder, first), join(folder, 'images', 'long.png'));
    appendFileSync(join(folder, 'labels.csv'), `images/long.png,${'1+2'.repeat(13)}=4\n`);
    const db = join(root, 'long-label.db');
    const result = await cli(['train', '--data', folder, '--epochs', '1', ...TINY, '--db', db]);
    assert.equal(result.code, EXIT_USAGE, result.err);
    assert.match(result.err, /1 label of .*long-label need more time steps than the model's 37: row 62 \(images\/long\.png: 41 characters, needs 41 steps\)/);
    assert.doesNotMatch(result.err, /epoch 1/);
    assert.ok(!existsSync(db), 'nothing recorded');
  });

  test('item 8 and 15: more replicas than a batch holds, or an input too large for memory, is refused at once', async () => {
    const db = join(root, 'never.db');
    const replicas = await cli(['train', '--data', dataDir, '--replicas', '3', '--batch-size', '2', '--db', db]);
    assert.equal(replicas.code, EXIT_USAGE);
    assert.match(replicas.err, /replicas 3 \(--replicas\) is more than the batch size 2 \(--batch-size\)/);
    const wide = await cli(['train', '--data', dataDir, '--input-width', '100000', '--db', db]);
    assert.equal(wide.code, EXIT_USAGE);
    assert.match(wide.err, /--input-width "100000" is not valid: expected an integer from 8 to 8192/);
    const large = await cli(['train', '--data', dataDir, '--input-width', '8192', '--input-height', '1024', '--batch-size', '64', '--replicas', '1', '--db', db]);
    assert.equal(large.code, EXIT_USAGE);
    assert.match(large.err, /a training step of this model needs at least [\d.]+ GB per replica/);
    assert.ok(!existsSync(db), 'nothing recorded');
  });

  test('item 12: a diverging loss fails the run, saying so, instead of calling it finished', async () => {
    const db = join(root, 'diverge.db');
    const result = await cli(['train', '--data', dataDir, '--recipe', 'reference', '--epochs', '6', ...TINY, '--lr', '100', '--clip-norm', '1000', '--db', db]);
    assert.notEqual(result.code, EXIT_OK, result.err);
    assert.match(result.err, /the loss (diverged at epoch \d+, batch \d+: its smoothed value rose to|became (NaN|Infinity))/);
    readRun(db, (store) => {
      const [run] = store.db.prepare('SELECT status, error FROM runs').all() as { status: string; error: string }[];
      assert.equal(run?.status, 'failed');
      assert.match(run?.error ?? '', /diverged|became/);
    });
  });
});
