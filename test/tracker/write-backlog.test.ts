/**
 * The writes a training leaves while another connection holds the store's write lock: kept in
 * order, written by the retry timer or at the end once the lock clears, bounded in memory, and
 * failures other than a lock thrown at once. The lock is real: a second connection's
 * `BEGIN IMMEDIATE` on the same file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { closeStore, openStore } from '../../src/tracker/store';
import { startRun } from '../../src/tracker/record';
import { getMetricHistory, getRun } from '../../src/tracker/query';
import { WriteBacklog } from '../../src/tracker/write-backlog';
import { forEachDriver, tempDbPath, tempStore } from './helpers';
import { isPostgresUrl } from '../../src/util/store-target';

/**
 * Another connection holding `file`'s write lock until `release()`: SQLite's `BEGIN IMMEDIATE`,
 * or on PostgreSQL a transaction holding the store's tables IN EXCLUSIVE MODE (readers go on,
 * writers wait).
 */
function holdLock(file: string): { release: () => void } {
  if (isPostgresUrl(file)) {
    const store = openStore(file);
    store.db.exec('BEGIN; LOCK TABLE runs, experiments, params, metrics, metric_summary, tags, artifacts IN EXCLUSIVE MODE');
    return {
      release: () => {
        if (!store.db.open) return;
        store.db.exec('COMMIT');
        closeStore(store);
      },
    };
  }
  const holder = new Database(file);
  holder.exec('BEGIN IMMEDIATE');
  return {
    release: () => {
      if (holder.open && holder.inTransaction) holder.exec('COMMIT');
      if (holder.open) holder.close();
    },
  };
}

const until = async (condition: () => boolean, what: string): Promise<void> => {
  // Generous: the retry timer is due within a second; a loaded machine may take longer.
  for (let waited = 0; !condition(); waited += 20) {
    if (waited > 30_000) throw new Error(`still waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

forEachDriver('WriteBacklog', (driver) => {
  test('writes kept while the store is locked go through, in order, on the retry timer once the lock clears', async () => {
    const file = tempStore(driver);
    const warnings: string[] = [];
    const store = openStore(file, { onWarning: (message) => warnings.push(message) });
    const runId = startRun(store, { git: false, heartbeat: false });
    const lock = holdLock(file);
    try {
      const backlog = new WriteBacklog(store, runId, { waitMs: 20, retryMs: 100 });
      const artifact = join(dirname(tempDbPath()), 'model.json');
      writeFileSync(artifact, '{}');
      backlog.add({ kind: 'points', points: [{ key: 'loss', value: 2, step: 0 }] });
      assert.equal(backlog.write(), false);
      backlog.add({ kind: 'artifact', artifact: { path: artifact, kind: 'model', bytes: 2, sha256: 'ab' } });
      backlog.add({ kind: 'points', points: [{ key: 'loss', value: 1, step: 1 }] });
      assert.equal(backlog.write(), false, 'refused moments ago: no new try until the retry is due');
      assert.deepEqual(backlog.pending.map((w) => w.kind), ['points', 'artifact', 'points']);
      assert.equal(warnings.length, 1);
      const lockedBecause = driver === 'sqlite' ? /\(database is locked; find it with `fuser .*`\)/ : /\(canceling statement due to lock timeout; pg_stat_activity on the server shows who holds it\)/;
      assert.match(warnings[0]!, new RegExp(`is locked by another process ${lockedBecause.source}; training goes on, and run .* writes wait in memory`));
      lock.release();
      await until(() => backlog.pending.length === 0, 'the retry timer to write the backlog');
      assert.deepEqual(getMetricHistory(store, runId, ['loss']).map((p) => [p.step, p.value]), [[0, 2], [1, 1]]);
      assert.deepEqual(getRun(store, runId).artifacts.map((a) => [a.kind, a.sha256]), [['model', 'ab']]);
      assert.match(warnings[1] ?? '', /took run .* writes again after \d+ s locked/);
      backlog.dispose();
    } finally {
      lock.release();
      closeStore(store);
    }
  });

  test('drain at the end of training waits for the lock to clear, then writes everything, the run end last', async () => {
    const file = tempStore(driver);
    const warnings: string[] = [];
    const store = openStore(file, { onWarning: (message) => warnings.push(message) });
    const runId = startRun(store, { git: false, heartbeat: false });
    const lock = holdLock(file);
    try {
      const backlog = new WriteBacklog(store, runId, { waitMs: 20, retryMs: 50 });
      backlog.add({ kind: 'points', points: [{ key: 'val_accuracy', value: 0.5, step: 0 }] });
      backlog.add({ kind: 'finish', status: 'finished', error: null });
      setTimeout(() => lock.release(), 300);
      assert.equal(await backlog.drain(), true);
      const run = getRun(store, runId);
      assert.equal(run.status, 'finished');
      assert.equal(run.metrics.val_accuracy?.last, 0.5);
      assert.ok(warnings.some((w) => /training has ended; waiting up to \d+ s for .* to be unlocked/.test(w)), warnings.join('\n'));
    } finally {
      lock.release();
      closeStore(store);
    }
  });

  test('past maxPoints the oldest batch points are dropped, never epoch points, and counted for the run record', () => {
    const file = tempStore(driver);
    const warnings: string[] = [];
    const store = openStore(file, { onWarning: (message) => warnings.push(message) });
    const runId = startRun(store, { git: false, heartbeat: false });
    const lock = holdLock(file);
    try {
      const backlog = new WriteBacklog(store, runId, { waitMs: 10, maxPoints: 10 });
      for (let step = 0; step < 20; step++) {
        backlog.add({ kind: 'points', points: [{ key: 'batch_loss', value: 1, step, context: 'batch' }] });
        if (step % 4 === 3) backlog.add({ kind: 'points', points: [{ key: 'val_loss', value: 1, step, epoch: step }] });
        backlog.write();
      }
      const kept = backlog.pending.flatMap((w) => (w.kind === 'points' ? w.points : []));
      assert.ok(kept.length <= 10, `${kept.length} points kept`);
      assert.deepEqual(kept.filter((p) => p.key === 'val_loss').map((p) => p.step), [3, 7, 11, 15, 19]);
      const batchSteps = kept.filter((p) => p.key === 'batch_loss').map((p) => p.step);
      assert.deepEqual(batchSteps, batchSteps.slice().sort((a, b) => a - b));
      assert.equal(batchSteps[batchSteps.length - 1], 19, 'the newest batch points stay');
      const dropped = 20 - batchSteps.length;
      assert.equal(backlog.lostPoints(), `${dropped} batch metric points (steps 0-${dropped - 1}) were not recorded: the store was locked by another process for longer than 10 points could wait`);
      assert.equal(warnings.filter((w) => /the oldest are dropped as more come/.test(w)).length, 1);
      backlog.dispose();
    } finally {
      lock.release();
      closeStore(store);
    }
  });

  test('a failure other than a lock (the run was deleted) is thrown at once, and again at the next try', () => {
    const file = tempStore(driver);
    const store = openStore(file);
    try {
      const runId = startRun(store, { git: false, heartbeat: false });
      store.db.prepare('DELETE FROM runs WHERE id = ?').run(runId);
      const backlog = new WriteBacklog(store, runId);
      backlog.add({ kind: 'points', points: [{ key: 'loss', value: 1, step: 0 }] });
      assert.throws(() => backlog.write(), /it was deleted while this process was recording it/);
      assert.throws(() => backlog.write(), /it was deleted while this process was recording it/);
    } finally {
      closeStore(store);
    }
  });
});
