/**
 * `glyphlab sweep` and `glyphlab worker` on a SQLite store: a bad space is refused naming the
 * option and what it takes; a sweep of 4 tiny trials with 2 worker processes, one SIGKILLed
 * mid-trial, ends with every trial finished once; status, ls and best show it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeStore, openStore, quickCheck } from '../../src/tracker/store';
import { cli } from '../support/cli';
import { checkSweepEnd, killOneWorkerMidTrial, tinyData } from '../sweeps/scenario';

describe('glyphlab sweep on a SQLite store', () => {
  let dir: string;
  let db: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'glyphlab-sweep-'));
    db = join(dir, 'glyphlab.db');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a space naming an unknown option or a bad value is refused, naming it and what is accepted; nothing is recorded', async () => {
    const data = await tinyData(dir);
    const space = join(dir, 'bad.json');
    writeFileSync(space, JSON.stringify({ lr: { loguniform: [1e-4, 1e-2] }, rnn: { choice: ['gru', 'rwkv'] } }));
    const bad = await cli(['sweep', 'create', '--name', 'bad', '--space', space, '--trials', '2', '--data', data, '--db', db]);
    assert.equal(bad.code, 2, bad.err);
    assert.match(bad.err, /rnn\.choice\[1\] "rwkv" is not a value of --rnn; it takes one of: lstm, gru/);
    writeFileSync(space, JSON.stringify({ grid: { 'rnn-unit': [4, 8] } }));
    const unknown = await cli(['sweep', 'create', '--name', 'bad', '--space', space, '--data', data, '--db', db]);
    assert.match(unknown.err, /"rnn-unit" is not a train option; use one of: .*rnn-units/);
    writeFileSync(space, JSON.stringify({ lr: { uniform: [0.001, 0.01] } }));
    const fixed = await cli(['sweep', 'create', '--name', 'bad', '--space', space, '--trials', '2', '--data', data, '--dropout', '1.5', '--db', db]);
    assert.match(fixed.err, /--dropout 1\.5 is not a value of --dropout; it takes a number >= 0 and <= 0\.99/);
    const none = await cli(['sweep', 'ls', '--db', db]);
    assert.equal(none.code, 0, none.err);
    assert.match(none.out, /no sweeps yet/);
  });

  test('4 trials, 2 worker processes, one SIGKILLed mid-trial: every trial finished once, the killed one retried, no metric point lost', async () => {
    const result = await killOneWorkerMidTrial(dir, db, 'tiny');
    const store = openStore(db);
    try {
      checkSweepEnd(store, 'tiny', result);
      assert.deepEqual(quickCheck(store), []);
    } finally {
      closeStore(store);
    }
    const status = await cli(['sweep', 'status', 'tiny', '--db', db]);
    assert.equal(status.code, 0, status.err);
    assert.match(status.out, /pending 0, running 0, finished 4, failed 0 \(done\)/);
    assert.match(status.out, new RegExp(`${result.killedRun} \\(lost\\)`));
    assert.match(status.out, /best so far: trial \d, val_accuracy \d+\.\d\d%/);
    const best = await cli(['sweep', 'best', 'tiny', '--db', db, '--json']);
    const bestTrial = JSON.parse(best.out) as { trial: number; valAccuracy: number; params: Record<string, number> };
    assert.equal(bestTrial.valAccuracy, Math.max(...result.view.trialList.map((t) => t.valAccuracy!)));
    assert.deepEqual(Object.keys(bestTrial.params), ['lr', 'rnn-units']);
    const ls = await cli(['sweep', 'ls', '--db', db]);
    assert.match(ls.out, /^tiny\s+4\s+0\s+0\s+4\s+0\s+\d+\.\d\d%\s+local/m);
  });

  test('a worker of a done sweep exits at once, and an unknown sweep is named', async () => {
    const done = await cli(['worker', '--sweep', 'tiny', '--db', db]);
    assert.equal(done.code, 0, done.err);
    assert.match(done.out, /0 trials finished here.*the sweep is done/);
    const unknown = await cli(['sweep', 'status', 'nope', '--db', db]);
    assert.match(unknown.err, /no sweep "nope" in .*; sweeps: tiny/);
  });
});
