/**
 * Heartbeats from the heartbeat thread: a long synchronous step on the main thread does not
 * starve them, they stop with the run, the thread ends after the last run, and it never keeps a
 * process alive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeStore, openStore } from '../../src/tracker/store';
import { finishRun, startRun } from '../../src/tracker/record';
import { getRun } from '../../src/tracker/query';
import { heartbeatState } from '../../src/tracker/heartbeat';
import { forEachDriver, runFixture, tempStore } from './helpers';

const until = async (condition: () => boolean, what: string): Promise<void> => {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited > 60_000) throw new Error(`still waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

forEachDriver('heartbeats', (driver) => {
  test('come from a thread of their own: a 1.5 s synchronous step on the main thread does not stop them', async () => {
    const store = openStore(tempStore(driver), { heartbeatMs: 100 });
    try {
      const runId = startRun(store, { git: false });
      const heartbeat = (): number => (store.db.prepare('SELECT heartbeat_at FROM runs WHERE id = ?').get(runId) as { heartbeat_at: number }).heartbeat_at;
      const started = heartbeat();
      await until(() => heartbeat() > started, 'the first beat');
      const blocked = Date.now();
      // A training step that never yields: no timer of this thread runs meanwhile.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);
      assert.ok(heartbeat() > blocked, `the last beat (${heartbeat() - blocked} ms after the step began) came while the main thread was blocked`);
      finishRun(store, runId);
    } finally {
      closeStore(store);
    }
  });

  test('stop with their run, and the thread ends after the last run', async () => {
    const store = openStore(tempStore(driver), { heartbeatMs: 50 });
    try {
      const first = startRun(store, { git: false });
      const second = startRun(store, { git: false });
      assert.deepEqual(heartbeatState(), { runs: 2, thread: true });
      finishRun(store, first);
      assert.deepEqual(heartbeatState(), { runs: 1, thread: true });
      finishRun(store, second);
      assert.equal(heartbeatState().runs, 0);
      assert.equal(store.heartbeats.size, 0);
      const ended = (getRun(store, second).endedAt ?? '');
      await until(() => !heartbeatState().thread, 'the idle thread to end');
      assert.equal(getRun(store, second).heartbeatAt, ended, 'no beat after the end');
    } finally {
      closeStore(store);
    }
  });

  test('never keep a process alive: a script that starts a run and returns ends, and its run reads as crashed', async () => {
    const file = tempStore(driver);
    const result = await runFixture('record-and-wait.ts', [file, '100', 'return']);
    assert.equal(result.code, 0, result.stderr);
    const runId = result.stdout.trim().slice(4);
    const store = openStore(file);
    try {
      assert.equal(getRun(store, runId).status, 'crashed');
    } finally {
      closeStore(store);
    }
  });
});
