import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeEquations } from '../../src/data/equations/synth';
import { getRun } from '../../src/tracker/query';
import { closeStore, openStore } from '../../src/tracker/store';
import { cli } from '../support/cli';

const root = mkdtempSync(join(tmpdir(), 'glyphlab-cli-refs-'));
const dataDir = join(root, 'eq');
const db = join(root, 'runs.db');
after(() => rmSync(root, { recursive: true, force: true }));

/** A tiny CRNN whose time budget (0.0001 minutes) runs out at its first batch: a real run, stopped early, in seconds. */
const TINY_STOPPED = ['--data', dataDir, '--minutes', '0.0001', '--input-height', '32', '--input-width', '150', '--filters', '8,16', '--rnn-units', '16', '--batch-size', '16', '--workers', '0', '--db', db];

const BUDGET = 'time budget: the 0.0001 minutes of training ran out during epoch 1';

describe('short run ids and names, and the stop reason, across the commands', () => {
  let first = '';
  let second = '';
  before(async () => {
    await synthesizeEquations({ outDir: dataDir, count: 48, seed: 9, workers: 0 });
  });

  test('glyphlab train prints why a run stopped early, records it, and says so in --json', async () => {
    const text = await cli(['train', ...TINY_STOPPED]);
    assert.equal(text.code, 0, text.err);
    first = /^run (\S+): finished$/m.exec(text.out)?.[1] ?? '';
    assert.match(text.out, new RegExp(`^run ${first}: finished\\nstopped: ${BUDGET}$`, 'm'));
    const json = await cli(['train', ...TINY_STOPPED, '--json']);
    assert.equal(json.code, 0, json.err);
    const summary = JSON.parse(json.out) as { runId: string; stopReason: string | null };
    second = summary.runId;
    assert.equal(summary.stopReason, BUDGET);
    const store = openStore(db, { readonly: true });
    try {
      assert.equal(getRun(store, first).params['stop.reason'], BUDGET);
    } finally {
      closeStore(store);
    }
    const show = await cli(['runs', 'show', first.slice(-6), '--db', db]);
    assert.match(show.out, new RegExp(`^ {2}stopped {5}${BUDGET}$`, 'm'));
  });

  test('eval --run and predict --run take the last part of an id', async () => {
    const evaluated = await cli(['eval', '--run', first.slice(-6), '--data', dataDir, '--split', 'test', '--db', db, '--json']);
    assert.equal(evaluated.code, 0, evaluated.err);
    assert.equal((JSON.parse(evaluated.out) as { runId: string }).runId, first);
    const image = join(dataDir, 'images', readdirSync(join(dataDir, 'images')).sort()[0]!);
    const predicted = await cli(['predict', '--run', first.slice(-6), image, '--db', db, '--json']);
    assert.equal(predicted.code, 0, predicted.err);
    assert.equal((JSON.parse(predicted.out) as { image: string }[]).length, 1);
  });

  test('train --resume looks the run up the same way: a finished run by its suffix, an ambiguous name refused with the candidates', async () => {
    const finished = await cli(['train', '--resume', second.slice(-6), '--db', db]);
    assert.equal(finished.code, 2);
    assert.match(finished.err, new RegExp(`run ${second} is finished; only interrupted, failed, crashed runs can be resumed`));
    const ambiguous = await cli(['train', '--resume', 'crnn', '--db', db]);
    assert.equal(ambiguous.code, 2);
    assert.match(ambiguous.err, /"crnn" names 2 runs in .*; give more of the id \(or the whole id\):/);
    assert.ok(ambiguous.err.includes(`  ${second}  crnn  started `) && ambiguous.err.includes(`  ${first}  crnn  started `), ambiguous.err);
  });

  test('runs tag, note, compare, schedule and delete take short forms and print whole ids; none found points to runs ls', async () => {
    assert.equal((await cli(['runs', 'tag', first.slice(-6), 'tiny', '--db', db])).out, `tagged ${first} tiny\n`);
    assert.equal((await cli(['runs', 'note', second.slice(-6), 'budget', 'test', '--db', db])).out, `noted ${second}\n`);
    const compare = await cli(['runs', 'compare', first.slice(-6), second.slice(-6), '--db', db]);
    assert.equal(compare.code, 0, compare.err);
    assert.match(compare.out, new RegExp(`^ {2}${first.slice(-6)} {2}${first} {2}crnn {2}finished`, 'm'));
    const schedule = await cli(['runs', 'schedule', first.slice(-6), '--db', db]);
    assert.equal(schedule.code, 0, schedule.err);
    const missing = await cli(['runs', 'show', 'nothing-like-it', '--db', db]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /no run "nothing-like-it" in .*; list runs with `glyphlab runs ls`/);
    assert.equal((await cli(['runs', 'delete', second.slice(-6), '--db', db])).out, `deleted ${second}\n`);
    // One run named crnn is left: its name names it.
    assert.match((await cli(['runs', 'show', 'crnn', '--db', db])).out, new RegExp(`^run ${first}  crnn$`, 'm'));
  });
});
