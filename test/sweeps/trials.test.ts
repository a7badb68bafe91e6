/**
 * Who holds which trial, on a real SQLite store: workers take different trials, a lost lease or
 * a dead worker gives the trial back (at most `retries` times), only the attempt holding a trial
 * finishes it, once, and a late duplicate run reads as interrupted with a note naming the trial.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSweepRecord, readSweep, type Sweep } from '../../src/sweeps/sweep';
import { claimTrial, finishTrial, reclaimLostTrials, recordDuplicateRun, releaseTrial, renewLease, sweepsDone } from '../../src/sweeps/trials';
import { currentProcessIdentity } from '../../src/tracker/process-identity';
import { getRun } from '../../src/tracker/query';
import { finishRun, startRun } from '../../src/tracker/record';
import { closeStore, openStore, quickCheck, type TrackerStore } from '../../src/tracker/store';

const LEASE = 1000;

describe('sweep trials in the store', () => {
  let dir: string;
  let store: TrackerStore;
  let sweep: Sweep;
  let sweeps = 0;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'glyphlab-sweep-trials-'));
    mkdirSync(join(dir, 'data'));
    store = openStore(join(dir, 'glyphlab.db'));
  });
  after(() => {
    closeStore(store);
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    sweep = createSweepRecord(store, { name: `s${++sweeps}`, space: { grid: { lr: [0.001, 0.002, 0.003] } }, retries: 1, train: { data: join(dir, 'data') } }, 'local');
  });

  test('two claims take two different trials, in order, with attempt 1 each', () => {
    const first = claimTrial(store, sweep, { leaseMs: LEASE })!;
    const second = claimTrial(store, sweep, { leaseMs: LEASE })!;
    assert.deepEqual([first.trial, first.attempt, second.trial, second.attempt], [0, 1, 1, 1]);
    assert.deepEqual(first.params, { lr: 0.001 });
    assert.deepEqual(readSweep(store, sweep.name).counts, { pending: 1, running: 2, finished: 0, failed: 0 });
  });

  test('a lease that ran out gives the trial back; the old attempt can neither renew nor finish it; the new one finishes it once', () => {
    const t0 = Date.now();
    const old = claimTrial(store, sweep, { leaseMs: LEASE, now: t0 })!;
    assert.deepEqual(reclaimLostTrials(store, [sweep], t0 + LEASE / 2), [], 'a live lease is kept');
    const [lost] = reclaimLostTrials(store, [sweep], t0 + 5 * LEASE);
    assert.equal(lost?.trial, old.trial);
    assert.match(lost!.why, /lease ran out 4 s ago/);
    assert.equal(lost!.gaveUp, false);
    const again = claimTrial(store, sweep, { leaseMs: LEASE })!;
    assert.deepEqual([again.trial, again.attempt], [old.trial, 2]);
    assert.equal(renewLease(store, old, LEASE), false);
    assert.equal(renewLease(store, again, LEASE), true);
    assert.equal(finishTrial(store, old, 'run-old', 0.5), false);
    assert.equal(finishTrial(store, again, 'run-new', 0.75), true);
    assert.equal(finishTrial(store, again, 'run-new', 0.75), false, 'a trial is finished once');
    const trial = readSweep(store, sweep.name).trialList[old.trial]!;
    assert.deepEqual([trial.state, trial.runId, trial.valAccuracy, trial.attempts, trial.failures], ['finished', 'run-new', 0.75, 2, 1]);
    assert.deepEqual(trial.attemptRuns.map((a) => a.outcome), ['lost', 'finished']);
    assert.deepEqual(quickCheck(store), []);
  });

  test('a worker process that died loses its trial at once; after the retries the trial fails', () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const owner = { ...currentProcessIdentity(), pid: dead, startTicks: null };
    claimTrial(store, sweep, { leaseMs: 60_000, owner });
    const [first] = reclaimLostTrials(store, [sweep]);
    assert.match(first!.why, new RegExp(`its worker died \\(process ${dead} on .* ended without finishing the run\\)`));
    claimTrial(store, sweep, { leaseMs: 60_000, owner });
    const [second] = reclaimLostTrials(store, [sweep]);
    assert.equal(second!.gaveUp, true, 'retries 1: the second loss is the last');
    const trial = readSweep(store, sweep.name).trialList[0]!;
    assert.equal(trial.state, 'failed');
    assert.match(trial.error!, /attempt 2 lost: its worker died .*; no retry left \(--retries 1\)/);
    assert.equal(claimTrial(store, sweep, { leaseMs: LEASE })!.trial, 1, 'a failed trial is not handed out again');
  });

  test('a failed run counts against the retries, an interrupted one does not', () => {
    for (let i = 0; i < 3; i++) assert.equal(releaseTrial(store, claimTrial(store, sweep, { leaseMs: LEASE, trial: 0 })!, 'interrupted', 'worker stopped'), 'pending');
    assert.equal(releaseTrial(store, claimTrial(store, sweep, { leaseMs: LEASE, trial: 0 })!, 'failed', 'boom'), 'pending');
    assert.equal(releaseTrial(store, claimTrial(store, sweep, { leaseMs: LEASE, trial: 0 })!, 'failed', 'boom'), 'failed');
    const trial = readSweep(store, sweep.name).trialList[0]!;
    assert.deepEqual([trial.attempts, trial.failures, trial.error], [5, 2, 'boom']);
    assert.equal(sweepsDone(store, [sweep]), false);
  });

  test('a late duplicate run reads as interrupted, with a note and stop reason naming the trial and the run that finished it', () => {
    const t0 = Date.now();
    const late = claimTrial(store, sweep, { leaseMs: LEASE, now: t0 })!;
    reclaimLostTrials(store, [sweep], t0 + 5 * LEASE);
    const taker = claimTrial(store, sweep, { leaseMs: LEASE })!;
    const winner = startRun(store, { experiment: 'sweeps', name: `${sweep.name}/0`, git: false, heartbeat: false });
    finishRun(store, winner);
    assert.equal(finishTrial(store, taker, winner, 0.9), true);
    const duplicate = startRun(store, { experiment: 'sweeps', name: `${sweep.name}/0`, git: false, heartbeat: false });
    finishRun(store, duplicate);
    assert.equal(finishTrial(store, late, duplicate, 0.8), false);
    recordDuplicateRun(store, late, duplicate);
    const run = getRun(store, duplicate);
    assert.equal(run.status, 'interrupted');
    const expected = new RegExp(`duplicate run of sweep ${sweep.name} trial 0 \\(attempt 1\\): the trial was finished by attempt 2 \\(run ${winner}\\)`);
    assert.match(run.note!, expected);
    assert.match(String(run.params['stop.reason']), expected);
    assert.equal(getRun(store, winner).status, 'finished');
    const trial = readSweep(store, sweep.name).trialList[0]!;
    assert.deepEqual([trial.runId, trial.valAccuracy], [winner, 0.9]);
    assert.deepEqual(trial.attemptRuns.map((a) => a.outcome), ['lost', 'finished']);
  });
});
