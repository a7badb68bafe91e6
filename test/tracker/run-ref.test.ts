import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors';
import { compareRuns, getRun } from '../../src/tracker/query';
import { deleteRun, finishRun, noteRun, startRun, tagRun, untagRun } from '../../src/tracker/record';
import { resolveRunRef, resolveRunRefs, runIdSuffix } from '../../src/tracker/run-ref';
import { type TrackerStore, closeStore, openStore } from '../../src/tracker/store';
import { forEachDriver, tempStore } from './helpers';

/**
 * Starts a finished run named `name` and gives it the id `id` (ids are drawn from the clock and
 * random bits; fixed ones make the prefixes below mean the same on every run of the test).
 */
function runWithId(store: TrackerStore, id: string, name: string): string {
  const drawn = startRun(store, { experiment: 'eq', name, config: { model: 'crnn', lr: 0.001 }, git: false, heartbeat: false });
  finishRun(store, drawn);
  // A copy of the row under the new id, its children moved to it, the old row gone: foreign keys hold throughout.
  store.db.transaction(() => {
    const row = store.db.get<Record<string, unknown>>('SELECT * FROM runs WHERE id = @drawn', { drawn })!;
    const columns = Object.keys(row).filter((column) => column !== 'rowid');
    store.db.run(`INSERT INTO runs (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`, { ...Object.fromEntries(columns.map((c) => [c, row[c]])), id });
    for (const table of ['params', 'metrics', 'metric_summary', 'tags', 'artifacts']) store.db.prepare(`UPDATE ${table} SET run_id = ? WHERE run_id = ?`).run(id, drawn);
    store.db.prepare('DELETE FROM runs WHERE id = ?').run(drawn);
  }, 'write');
  return id;
}

/** The message of the ConfigError `fn` throws. */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  assert.fail('expected a ConfigError');
}

forEachDriver('resolveRunRef', (driver) => {
  let store: TrackerStore;
  const START = '20261206-083449-c262b8';
  const A = '20261206-084940-96bff0';
  const B = '20261206-090713-1cf5f3';
  const VGG = '20261206-091228-d9d453';
  const BASE = '20261205-101010-c26aaa';
  before(() => {
    store = openStore(tempStore(driver));
    runWithId(store, START, 'crnn-start');
    runWithId(store, A, 'crnn');
    runWithId(store, B, 'crnn');
    runWithId(store, VGG, 'vgg');
    runWithId(store, BASE, 'baseline');
  });
  after(() => closeStore(store));

  test('a whole id, a unique prefix of it, of its suffix (as the dashboard shows it) or of a name names one run', () => {
    assert.equal(resolveRunRef(store, START), START);
    assert.equal(resolveRunRef(store, '20261206-0907'), B);
    assert.equal(resolveRunRef(store, '20261205'), BASE);
    assert.equal(resolveRunRef(store, 'c262b8'), START);
    assert.equal(resolveRunRef(store, 'c262'), START);
    assert.equal(resolveRunRef(store, '96bf'), A);
    assert.equal(resolveRunRef(store, 'crnn-s'), START);
    assert.equal(resolveRunRef(store, 'vgg'), VGG);
    assert.equal(resolveRunRef(store, 'base'), BASE);
    // The dashboard labels a run with the last six characters of its id: each one is accepted.
    for (const id of [START, A, B, VGG, BASE]) assert.equal(resolveRunRef(store, id.slice(-6)), id);
    assert.equal(runIdSuffix(START), 'c262b8');
  });

  test('a reference several runs share is refused, listing them; one named exactly so among them is the one meant', () => {
    const bySuffix = refusal(() => resolveRunRef(store, 'c26'));
    assert.match(bySuffix, /^"c26" names 2 runs in .*; give more of the id \(or the whole id\):/);
    assert.ok(bySuffix.includes(`  ${START}  crnn-start  started 2026-`) && bySuffix.includes(`  ${BASE}  baseline  started`), bySuffix);
    const byTime = refusal(() => resolveRunRef(store, '20261206-08'));
    assert.match(byTime, /names 2 runs/);
    // Two runs are named crnn exactly (and crnn-start begins so): all three are listed, newest first.
    const byName = refusal(() => resolveRunRef(store, 'crnn'));
    assert.match(byName, /names 3 runs/);
    assert.deepEqual(byName.split('\n').slice(1).map((line) => line.trim().split(/\s+/)[0]), [B, A, START]);
  });

  test('a reference no run has is refused, pointing to runs ls; wildcards and an empty reference match nothing', () => {
    assert.match(refusal(() => resolveRunRef(store, 'zzz')), /^no run "zzz" in .*: no run id, id suffix or run name begins with it; list runs with `glyphlab runs ls`$/);
    assert.match(refusal(() => resolveRunRef(store, '%')), /no run "%"/);
    assert.match(refusal(() => resolveRunRef(store, '2026120_-08')), /no run "2026120_-08"/);
    assert.match(refusal(() => resolveRunRef(store, '  ')), /a run reference is empty/);
  });

  test('the library functions behind the commands take short references and return whole ids', () => {
    assert.equal(getRun(store, 'c262b8').id, START);
    const comparison = compareRuns(store, ['c262b8', 'vgg']);
    assert.deepEqual(comparison.runs.map((r) => r.id), [START, VGG]);
    assert.deepEqual(Object.keys(comparison.metrics), []);
    assert.equal(tagRun(store, 'd9d4', 'keep'), VGG);
    assert.deepEqual(getRun(store, VGG).tags, ['keep']);
    assert.equal(untagRun(store, 'vgg', 'keep'), true);
    assert.equal(noteRun(store, 'base', 'the baseline'), BASE);
    assert.equal(getRun(store, BASE).note, 'the baseline');
    assert.match(refusal(() => resolveRunRefs(store, ['c262b8', 'crnn-start'])), /"c262b8" and "crnn-start" both name run 20261206-083449-c262b8; name each run once/);
    assert.match(refusal(() => compareRuns(store, ['vgg', 'd9d453'])), /both name run/);
  });

  test('once only one run is named crnn, "crnn" names it although crnn-start begins so too', () => {
    assert.equal(deleteRun(store, '1cf5'), B);
    assert.equal(resolveRunRef(store, 'crnn'), A);
    assert.match(refusal(() => getRun(store, '1cf5f3')), /no run "1cf5f3"/);
  });

  test('an ambiguous reference lists ten runs, then how many more', () => {
    const crowded = openStore(tempStore(driver));
    try {
      for (let i = 0; i < 12; i++) runWithId(crowded, `20261207-1200${String(i).padStart(2, '0')}-aa00${String(i).padStart(2, '0')}`, `sweep-${i}`);
      const message = refusal(() => resolveRunRef(crowded, 'sweep'));
      const lines = message.split('\n');
      assert.match(lines[0]!, /^"sweep" names 12 runs/);
      assert.equal(lines.length, 12);
      assert.equal(lines[11], '  ... and 2 more');
      assert.equal(resolveRunRef(crowded, 'sweep-11'), '20261207-120011-aa0011');
    } finally {
      closeStore(crowded);
    }
  });
});
