/**
 * A sweep as the dashboard reads it, from a real SQLite store holding a sweep recorded through
 * the sweep API (four finished trials, one failed, one pending), opened read-only: the trials
 * table, params against validation accuracy with the best ringed, the finished trials' curves,
 * and the sections of the page.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildComparison } from '../../src/dashboard/compare';
import { dashboardSections } from '../../src/dashboard/html';
import { buildSweepDashboard, type SweepDashboard, sweepCurveFigures, sweepParamFigures } from '../../src/dashboard/sweep';
import { sweepSections } from '../../src/dashboard/sweep-html';
import { closeStore, openStore } from '../../src/tracker/store';
import { tempDbPath } from '../tracker/helpers';
import { type SweepFixture, fillSweepDb } from './fixtures';

type Trace = { x: unknown[]; y: unknown[]; name: string; marker: { symbol?: string } };

describe('a sweep in the dashboard', () => {
  const file = tempDbPath();
  let fixture: SweepFixture;
  let dashboard: SweepDashboard;
  before(() => {
    const data = join(dirname(file), 'data');
    mkdirSync(data);
    fixture = fillSweepDb(file, data);
    // Read-only, as the dashboard opens a store.
    const store = openStore(file, { readonly: true });
    try {
      dashboard = buildSweepDashboard(store, 'tiny');
    } finally {
      closeStore(store);
    }
  });

  test('the trials table: each trial with its state, attempts, params, val accuracy and run id', () => {
    assert.deepEqual(dashboard.params, ['rnn-units', 'lr']);
    assert.deepEqual(dashboard.sweep.counts, { pending: 1, running: 0, finished: 4, failed: 1 });
    assert.deepEqual(dashboard.table.map((row) => [row.trial, row.state, row.attempts, row['rnn-units'], row.lr]), [
      [0, 'finished', 1, 4, 1e-4],
      [1, 'finished', 1, 4, 1e-3],
      [2, 'finished', 1, 4, 1e-2],
      [3, 'finished', 1, 8, 1e-4],
      [4, 'failed', 1, 8, 1e-3],
      [5, 'pending', 0, 8, 1e-2],
    ]);
    assert.deepEqual(dashboard.table.map((row) => row['val accuracy']), [...fixture.valAccuracies, null, null]);
    assert.deepEqual(dashboard.table.map((row) => row['run id']), [...fixture.finishedRuns, fixture.failedRun, null]);
    assert.equal(dashboard.table[4]!.error, 'out of memory');
    assert.equal(dashboard.sweep.best?.trial, fixture.bestTrial);
  });

  test('each swept param against val accuracy, one point per finished trial; lr on a log axis, the best ringed', () => {
    for (const sweep of dashboard.paramPoints) assert.deepEqual(sweep.points.map((p) => p.runId), fixture.finishedRuns, `${sweep.param}: the finished trials only`);
    const [units, lr] = sweepParamFigures(dashboard);
    assert.equal((lr!.layout.xaxis as { type: string }).type, 'log', 'lr spans two decades');
    assert.equal((units!.layout.xaxis as { type: string }).type, 'linear');
    const ring = lr!.data[1] as Trace;
    assert.equal(ring.name, `best: trial ${fixture.bestTrial}`);
    assert.deepEqual([ring.x, ring.y], [[1e-2], [fixture.valAccuracies[fixture.bestTrial]]]);
    assert.equal(ring.marker.symbol, 'circle-open');
  });

  test('the learning curves of the finished trials, not of the failed one', () => {
    assert.deepEqual([...new Set(dashboard.curves.map((c) => c.runId))], fixture.finishedRuns);
    const { accuracy, loss } = sweepCurveFigures(dashboard);
    assert.equal(accuracy!.data.length, 4, 'one val_accuracy line per finished trial');
    assert.deepEqual((accuracy!.data[0] as Trace).x, [1, 2, 3], 'epochs from 1');
    assert.ok(loss!.data.length >= 8, 'the loss per step and the val loss of each finished trial');
  });

  test('the sections: overview, trials (best row highlighted), params, curves', () => {
    const sections = sweepSections(dashboard);
    assert.deepEqual(sections.map((s) => [s.id, s.charts]), [['sweep-overview', 0], ['sweep-trials', 0], ['sweep-params', 2], ['sweep-curves', 2]]);
    const overview = sections[0]!.html;
    assert.match(overview, /6 trials, a grid over <code>rnn-units<\/code>, <code>lr<\/code>/);
    assert.match(overview, /Trials: finished 4, running 0, pending 1, failed 1\./);
    assert.match(overview, new RegExp(`Best trial: <b>trial ${fixture.bestTrial}</b> \\(rnn-units=4, lr=0.01, run <code>${fixture.finishedRuns[fixture.bestTrial]}</code>\\) with validation accuracy <b>82.00%</b>`));
    const table = sections[1]!.html;
    assert.match(table, /<th>trial<\/th><th>state<\/th><th>attempts<\/th><th>rnn-units<\/th><th>lr<\/th><th>val accuracy<\/th><th>run id<\/th><th>error<\/th>/);
    const best = /<tr class="best">(.*?)<\/tr>/.exec(table)?.[1] ?? '';
    assert.ok(best.includes(fixture.finishedRuns[fixture.bestTrial]!), 'the best trial is highlighted');
    assert.match(best, /<td>82\.00%<\/td>/);
    assert.ok(table.includes(`<td>failed</td><td>1</td><td>8</td><td>0.001</td><td>–</td><td>${fixture.failedRun}</td><td>out of memory</td>`), 'the failed trial with its run and error');
  });

  test('an unknown sweep is refused, naming the sweeps the store has', () => {
    const store = openStore(file, { readonly: true });
    try {
      assert.throws(() => buildSweepDashboard(store, 'nope'), /no sweep "nope" in .*; sweeps: tiny/);
    } finally {
      closeStore(store);
    }
  });

  test('a comparison of runs that are trials names their sweep and how to see it', () => {
    const store = openStore(file, { readonly: true });
    try {
      const comparison = buildComparison(store, { experiment: 'equations' });
      assert.deepEqual(comparison.trialSweeps, [{ name: 'tiny', runs: 5 }]);
      const overview = dashboardSections(comparison).find((s) => s.id === 'overview')!.html;
      assert.match(overview, /trials of a sweep: <code>tiny<\/code> \(5 runs\)\. See a sweep's trials.*glyphlab dashboard --sweep NAME/);
    } finally {
      closeStore(store);
    }
  });
});
