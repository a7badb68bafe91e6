/**
 * The store under real processes: concurrent writers, a writer killed with SIGKILL mid-run, and
 * two processes creating the same new database at once; on both drivers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeStore, openStore, quickCheck } from '../../src/tracker/store';
import { getMetricHistory, getRun, listRuns } from '../../src/tracker/query';
import { forEachDriver, runFixture, sqliteDb, tempStore } from './helpers';
import { startScriptWorker } from '../../src/util/script-worker';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';

forEachDriver('the store under real processes', (driver) => {
  // A new PostgreSQL database costs a tenth of a second to create: fewer rounds there, where the
  // migration lock (an advisory lock) is what is tested rather than SQLite's file locking.
  const rounds = driver === 'sqlite' ? 300 : 6;
  test(`two threads creating the same new store at once both open it as a glyphlab store, ${rounds} times over`, async () => {
    // Before the schema version and the table list were read in one transaction, about 1 in 40
    // of these races saw glyphlab's tables with version 0 and refused the store as foreign.
    const workers = [0, 1].map(() => startScriptWorker(join(__dirname, 'fixtures'), 'open-store-worker', __filename));
    try {
      // One answer; both listeners go once it comes, so 300 rounds leave none behind.
      const next = (worker: Worker): Promise<string> => new Promise((resolve, reject) => {
        const onMessage = (answer: string): void => {
          worker.off('error', onError);
          resolve(answer);
        };
        const onError = (error: Error): void => {
          worker.off('message', onMessage);
          reject(error);
        };
        worker.once('message', onMessage);
        worker.once('error', onError);
      });
      await Promise.all(workers.map(next));
      const failures: string[] = [];
      for (let i = 0; i < rounds; i++) {
        const file = tempStore(driver);
        const answers = await Promise.all(workers.map((worker) => {
          const answer = next(worker);
          worker.postMessage(file);
          return answer;
        }));
        failures.push(...answers.filter((answer) => answer !== 'ok'));
      }
      assert.deepEqual(failures.slice(0, 3), []);
    } finally {
      await Promise.all(workers.map((worker) => worker.terminate()));
    }
  });

  test('two processes recording at once into a new database lose nothing and never see SQLITE_BUSY', async () => {
    const file = tempStore(driver);
    const runs = 10;
    // A server round trip costs more than a local file's write: fewer steps keep the test short, and the writers still overlap.
    const steps = driver === 'sqlite' ? 200 : 60;
    const results = await Promise.all([runFixture('record-runs.ts', [file, 'p1', String(runs), String(steps)]), runFixture('record-runs.ts', [file, 'p2', String(runs), String(steps)])]);
    for (const result of results) {
      assert.equal(result.stderr, '', result.stderr);
      assert.equal(result.code, 0);
      assert.equal(result.stdout, 'done\n');
    }
    const store = openStore(file);
    try {
      const recorded = listRuns(store, { experiment: 'concurrent' });
      assert.equal(recorded.length, 2 * runs);
      assert.ok(recorded.every((r) => r.status === 'finished'));
      const count = store.db.prepare('SELECT count(*) AS n FROM metrics').get() as { n: number };
      assert.equal(count.n, 2 * runs * steps * 2);
      for (const run of recorded) {
        assert.equal(run.metrics.loss?.count, steps);
        assert.equal(run.metrics.val_accuracy?.best, (steps - 1) / steps);
      }
      if (driver === 'sqlite') assert.equal(sqliteDb(store).pragma('integrity_check', { simple: true }), 'ok');
      assert.deepEqual(quickCheck(store), []);
      // The writers really overlapped in time, or this test would prove nothing about locking.
      const span = (label: string): [number, number] => {
        const mine = recorded.filter((r) => r.name?.startsWith(label));
        return [Math.min(...mine.map((r) => Date.parse(r.startedAt))), Math.max(...mine.map((r) => Date.parse(r.endedAt ?? r.startedAt)))];
      };
      const [s1, e1] = span('p1-');
      const [s2, e2] = span('p2-');
      assert.ok(Math.max(s1, s2) < Math.min(e1, e2), `p1 ${s1}-${e1} and p2 ${s2}-${e2} did not overlap`);
    } finally {
      closeStore(store);
    }
  });

  test('a recording process killed with SIGKILL: the file is intact, the run crashed, every committed metric kept', async () => {
    const file = tempStore(driver);
    let runId = '';
    let lastCommitted = -1;
    const result = await runFixture('record-until-killed.ts', [file], (line, kill) => {
      if (line.startsWith('run ')) runId = line.slice(4);
      if (line.startsWith('step ')) {
        lastCommitted = Number(line.slice(5));
        if (lastCommitted === 40) kill();
      }
    });
    assert.equal(result.signal, 'SIGKILL', result.stderr);
    assert.ok(lastCommitted >= 40);
    const store = openStore(file);
    try {
      if (driver === 'sqlite') assert.equal(sqliteDb(store).pragma('integrity_check', { simple: true }), 'ok');
      assert.deepEqual(quickCheck(store), []);
      const run = getRun(store, runId);
      assert.equal(run.status, 'crashed');
      assert.match(run.error ?? '', /ended without finishing the run/);
      const loss = getMetricHistory(store, runId, ['loss']);
      // Steps the child printed were committed before the kill; one more may have committed unprinted.
      assert.ok(loss.length === lastCommitted + 1 || loss.length === lastCommitted + 2, `${loss.length} points for ${lastCommitted + 1} committed steps`);
      assert.deepEqual(loss.map((p) => p.step), loss.map((_, i) => i));
      const acc = getMetricHistory(store, runId, ['val_accuracy']);
      assert.ok(Number.isNaN(acc[3]?.value), 'the NaN logged at step 3 survives');
      assert.equal(run.metrics.loss?.count, loss.length);
    } finally {
      closeStore(store);
    }
  });
});
