/**
 * `glyphlab center-loss` in-process: both arms from a tiny base run, a look-alike set
 * synthesised on the way, the JSON summary, and the errors a user meets first.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/index';
import { listRuns } from '../../src/tracker/query';
import { closeStore, openStore } from '../../src/tracker/store';
import { cli } from '../support/cli';
import { trainTinyBaseRun } from '../support/equation-run';

describe('glyphlab center-loss', () => {
  let dir: string;
  let dbPath: string;
  let baseRunId: string;
  before(async () => {
    await initBackend({ backend: 'wasm' });
    dir = mkdtempSync(join(tmpdir(), 'glyphlab-cli-center-'));
    dbPath = join(dir, 'glyphlab.db');
    baseRunId = (await trainTinyBaseRun(dir, dbPath)).runId;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('runs CTC alone and two center-loss weights, synthesising the look-alike set, and prints JSON', async () => {
    const look = join(dir, 'look');
    const { code, out, err } = await cli(['center-loss', '--base', baseRunId, '--lookalike', look, '--lookalike-count', '6', '--lambda', '0.003,0.03', '--epochs', '1', '--db', dbPath, '--tag', 'cli-test', '--json']);
    assert.equal(code, 0, err);
    assert.match(err, /synthesised 6 look-alike images/);
    assert.ok(existsSync(join(look, 'labels.csv')));
    assert.match(err, /epoch 1\/1: .*center_own_distance/, 'one progress line per epoch, with the center statistics');
    const summary = JSON.parse(out) as { baseRunId: string; sizes: { lookalike: number }; variants: { name: string; lambda: number; runId: string; status: string; lookalikeAccuracy: number }[] };
    assert.equal(summary.baseRunId, baseRunId);
    assert.equal(summary.sizes.lookalike, 6);
    assert.deepEqual(summary.variants.map((v) => [v.name, v.lambda, v.status]), [['ctc', 0, 'finished'], ['ctc+center 0.003', 0.003, 'finished'], ['ctc+center 0.03', 0.03, 'finished']]);
    assert.ok(summary.variants.every((v) => v.lookalikeAccuracy >= 0 && v.lookalikeAccuracy <= 1));
    const store = openStore(dbPath);
    try {
      const runs = listRuns(store, { experiment: 'center-loss' });
      assert.deepEqual(runs.map((r) => r.id).sort(), summary.variants.map((v) => v.runId).sort());
      assert.ok(runs.every((r) => r.tags.includes('cli-test')));
    } finally {
      closeStore(store);
    }
  });

  test('says what is missing or wrong', async () => {
    const missing = await cli(['center-loss', '--db', dbPath]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /missing --base/);
    const badLambda = await cli(['center-loss', '--base', baseRunId, '--lambda', '0', '--db', dbPath]);
    assert.equal(badLambda.code, 2);
    assert.match(badLambda.err, /--lambda "0" must be a positive number/);
    const noRun = await cli(['center-loss', '--base', 'no-such-run', '--lookalike', join(dir, 'look'), '--db', dbPath]);
    assert.notEqual(noRun.code, 0);
    assert.match(noRun.err, /no-such-run/);
  });
});
