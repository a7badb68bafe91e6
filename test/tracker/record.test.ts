import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { ConfigError } from '../../src/errors';
import { closeStore, openStore } from '../../src/tracker/store';
import {
  addArtifact,
  deleteRun,
  finishRun,
  logMetricPoints,
  logMetrics,
  logParams,
  markCrashedRuns,
  noteRun,
  resumeRun,
  startRun,
  tagRun,
} from '../../src/tracker/record';
import { currentProcessIdentity } from '../../src/tracker/process-identity';
import { getMetricHistory, getRun, listRuns } from '../../src/tracker/query';
import { forEachDriver, startFixture, tempDbPath, tempStore } from './helpers';

forEachDriver('recording a run', (driver) => {
  test('params keep their types, nested config is flattened, config JSON kept whole', () => {
    const store = openStore(tempStore(driver));
    try {
      const config = { model: 'crnn', lr: 5e-4, augment: true, optimizer: { name: 'adam', beta1: 0.9 }, channels: [32, 64], seed: null };
      const runId = startRun(store, { experiment: 'eq', name: 'first', config, backend: 'wasm', threads: 1, dataFingerprint: 'abc123', git: false, heartbeat: false });
      logParams(store, runId, { batch_size: 64 });
      const run = getRun(store, runId);
      assert.equal(run.params.model, 'crnn');
      assert.equal(run.params.lr, 5e-4);
      assert.equal(run.params.augment, true);
      assert.equal(run.params['optimizer.name'], 'adam');
      assert.equal(run.params['optimizer.beta1'], 0.9);
      assert.deepEqual(run.params.channels, [32, 64]);
      assert.equal(run.params.seed, null);
      assert.equal(run.params.batch_size, 64);
      assert.deepEqual(run.config, config);
      assert.equal(run.backend, 'wasm');
      assert.equal(run.threads, 1);
      assert.equal(run.dataFingerprint, 'abc123');
      assert.equal(run.experiment, 'eq');
      assert.equal(run.status, 'running');
      assert.equal(run.pid, process.pid);
      assert.equal(run.host, hostname());
      assert.match(run.id, /^\d{8}-\d{6}-[0-9a-f]{6}$/);
    } finally {
      closeStore(store);
    }
  });

  test('metric summaries track last and best with the right direction', () => {
    const store = openStore(tempStore(driver));
    try {
      const runId = startRun(store, { git: false, heartbeat: false });
      const losses = [1.0, 0.5, 0.7, 0.4, 0.6];
      const accs = [0.2, 0.9, 0.5, 0.8, 0.85];
      losses.forEach((loss, step) => logMetrics(store, runId, { loss, val_accuracy: accs[step]! }, { step, epoch: step }));
      const { metrics } = getRun(store, runId);
      assert.deepEqual(metrics.loss, { last: 0.6, lastStep: 4, best: 0.4, bestStep: 3, mode: 'min', count: 5 });
      assert.deepEqual(metrics.val_accuracy, { last: 0.85, lastStep: 4, best: 0.9, bestStep: 1, mode: 'max', count: 5 });
      const history = getMetricHistory(store, runId, ['val_accuracy']);
      assert.deepEqual(history.map((p) => p.value), accs);
      assert.deepEqual(history.map((p) => p.context), accs.map(() => 'val'));
    } finally {
      closeStore(store);
    }
  });

  test("validation points recorded with the older context 'valid' read as 'val'", () => {
    const store = openStore(tempStore(driver));
    try {
      const runId = startRun(store, { git: false, heartbeat: false });
      logMetricPoints(store, runId, [{ key: 'val_accuracy', value: 0.5, step: 0, context: 'valid' }, { key: 'loss', value: 1, step: 0 }]);
      assert.deepEqual(getMetricHistory(store, runId).map((p) => [p.key, p.context]), [['loss', 'train'], ['val_accuracy', 'val']]);
    } finally {
      closeStore(store);
    }
  });

  test('NaN and Infinity round-trip through points and summaries', () => {
    const store = openStore(tempStore(driver));
    try {
      const runId = startRun(store, { git: false, heartbeat: false });
      logMetricPoints(store, runId, [
        { key: 'loss', value: 2, step: 0 },
        { key: 'loss', value: Infinity, step: 1 },
        { key: 'loss', value: NaN, step: 2 },
        { key: 'grad', value: -Infinity, step: 0 },
        { key: 'all_nan', value: NaN, step: 0 },
      ]);
      const history = getMetricHistory(store, runId);
      const loss = history.filter((p) => p.key === 'loss').map((p) => p.value);
      assert.equal(loss[0], 2);
      assert.equal(loss[1], Infinity);
      assert.ok(Number.isNaN(loss[2]));
      assert.equal(history.find((p) => p.key === 'grad')?.value, -Infinity);
      const { metrics } = getRun(store, runId);
      assert.ok(Number.isNaN(metrics.loss?.last));
      assert.equal(metrics.loss?.best, 2);
      assert.ok(Number.isNaN(metrics.all_nan?.best));
      assert.equal(metrics.grad?.last, -Infinity);
    } finally {
      closeStore(store);
    }
  });

  test('a non-number metric is refused with a message naming it', () => {
    const store = openStore(tempStore(driver));
    try {
      const runId = startRun(store, { git: false, heartbeat: false });
      assert.throws(() => logMetrics(store, runId, { loss: '0.3' as unknown as number }), (e: unknown) => e instanceof ConfigError && /"loss".*"0\.3".*expected a number/.test(e.message));
      assert.equal(getMetricHistory(store, runId).length, 0);
    } finally {
      closeStore(store);
    }
  });

  test('tags, notes, artifacts, finish with error, delete', async () => {
    const file = tempStore(driver);
    const store = openStore(file);
    try {
      const runId = startRun(store, { git: false, heartbeat: false, tags: ['baseline'] });
      tagRun(store, runId, 'keep');
      noteRun(store, runId, 'lr too high?');
      const modelPath = join(dirname(tempDbPath()), 'model.bin');
      writeFileSync(modelPath, 'weights');
      await addArtifact(store, runId, { path: modelPath, kind: 'model' });
      finishRun(store, runId, 'failed', { error: new Error('loss became NaN') });
      const run = getRun(store, runId);
      assert.deepEqual(run.tags, ['baseline', 'keep']);
      assert.equal(run.note, 'lr too high?');
      assert.equal(run.status, 'failed');
      assert.equal(run.error, 'loss became NaN');
      assert.equal(run.artifacts.length, 1);
      assert.equal(run.artifacts[0]?.bytes, 7);
      assert.equal(run.artifacts[0]?.sha256, createHash('sha256').update('weights').digest('hex'));
      assert.equal(run.artifacts[0]?.kind, 'model');
      // A file rewritten and attached again (a checkpoint each epoch) is one entry, with its new hash.
      writeFileSync(modelPath, 'better weights');
      await addArtifact(store, runId, { path: modelPath, kind: 'model' });
      await addArtifact(store, runId, { path: modelPath, kind: 'checkpoint' });
      const again = getRun(store, runId).artifacts;
      assert.deepEqual(again.map((a) => [a.kind, a.bytes]).sort(), [['checkpoint', 14], ['model', 14]]);
      assert.equal(again.find((a) => a.kind === 'model')?.sha256, createHash('sha256').update('better weights').digest('hex'));
      logMetrics(store, runId, { loss: 1 });
      deleteRun(store, runId);
      assert.throws(() => getRun(store, runId), ConfigError);
      const leftovers = store.db.prepare('SELECT (SELECT count(*) FROM metrics) + (SELECT count(*) FROM tags) + (SELECT count(*) FROM params) + (SELECT count(*) FROM artifacts) AS n').get() as { n: number };
      assert.equal(leftovers.n, 0);
    } finally {
      closeStore(store);
    }
  });
});

forEachDriver('deleting a run', (driver) => {
  test('a running run is refused, --force only takes one with a stale heartbeat whose process cannot be checked, a crashed one goes', () => {
    const file = tempStore(driver);
    const recorder = openStore(file, { staleAfterMs: 1000 });
    const other = openStore(file, { staleAfterMs: 1000 });
    try {
      const runId = startRun(recorder, { git: false, heartbeat: false });
      const running = new RegExp(`run ${runId} is running \\(process ${process.pid} on ${hostname()}, heartbeat \\d+ s ago\\): deleting it would make that training fail.*stop its training first \\(Ctrl-C, or kill ${process.pid}\\)`);
      assert.throws(() => deleteRun(other, runId), (e: unknown) => e instanceof ConfigError && running.test(e.message) && !/--force/.test(e.message));
      assert.throws(() => deleteRun(other, runId, { force: true }), (e: unknown) => e instanceof ConfigError && /is alive: process \d+ .* refreshed its heartbeat \d+ s ago/.test(e.message));
      assert.equal(getRun(other, runId).status, 'running');
      // Its heartbeat goes stale while a process with its pid lives on, and the run holds no start
      // time to tell whether that process is its recorder (recorded before start times were, or
      // without /proc): a reused pid, or a hang.
      other.db.prepare('UPDATE runs SET heartbeat_at = heartbeat_at - 5000, pid_start_ticks = NULL WHERE id = ?').run(runId);
      assert.throws(() => deleteRun(other, runId), /Its heartbeat is stale: if process \d+ .* is not that training any more, --force/);
      deleteRun(other, runId, { force: true });
      assert.throws(() => getRun(other, runId), ConfigError);

      // The store recording a run may delete it (a script discarding its own run).
      const own = startRun(recorder, { git: false });
      deleteRun(recorder, own);
      assert.equal(recorder.heartbeats.size, 0, 'its heartbeat stopped');
      assert.throws(() => getRun(recorder, own), ConfigError);

      // A run whose process is gone is marked crashed and deleted without --force.
      const dead = startRun(other, { git: false, heartbeat: false });
      other.db.prepare("UPDATE runs SET pid = 4194305, status = 'running' WHERE id = ?").run(dead);
      other.recording.delete(dead);
      deleteRun(recorder, dead);
      assert.throws(() => getRun(recorder, dead), ConfigError);
      assert.throws(() => deleteRun(recorder, 'no-such-run'), (e: unknown) => e instanceof ConfigError && /no run "no-such-run"/.test(e.message));
    } finally {
      closeStore(recorder);
      closeStore(other);
    }
  });
});

forEachDriver('deleting a live run', (driver) => {
  test('--force never deletes a run whose very process is alive, however stale its heartbeat', () => {
    const file = tempStore(driver);
    const recorder = openStore(file, { staleAfterMs: 1000 });
    const other = openStore(file, { staleAfterMs: 1000 });
    try {
      const runId = startRun(recorder, { git: false, heartbeat: false });
      other.db.prepare('UPDATE runs SET heartbeat_at = heartbeat_at - 5000 WHERE id = ?').run(runId);
      assert.throws(
        () => deleteRun(other, runId, { force: true }),
        (e: unknown) =>
          e instanceof ConfigError &&
          new RegExp(`^run ${runId} is alive: process ${process.pid} on ${hostname()} is the process that records it \\(same pid and start time\\), though its heartbeat is 5 s old; --force never deletes a run whose process is alive`).test(e.message),
      );
      assert.throws(() => deleteRun(other, runId), (e: unknown) => e instanceof ConfigError && !/--force/.test(e.message));
      assert.equal(getRun(other, runId).status, 'running');
    } finally {
      closeStore(recorder);
      closeStore(other);
    }
  });

  test('a training process stopped with SIGSTOP keeps its run: --force refuses it, its run stays running, and goes once the process is gone', async () => {
    const file = tempStore(driver);
    const trainer = startFixture('record-and-wait.ts', [file, '100', 'wait']);
    const runId = (await trainer.line('run ')).slice(4);
    const pid = trainer.child.pid!;
    const store = openStore(file, { staleAfterMs: 1000 });
    try {
      trainer.child.kill('SIGSTOP');
      // Wait until its heartbeat is stale, as after the 35 s pause of the report.
      const heartbeat = (): number => (store.db.prepare('SELECT heartbeat_at FROM runs WHERE id = ?').get(runId) as { heartbeat_at: number }).heartbeat_at;
      while (Date.now() - heartbeat() <= 1500) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.throws(
        () => deleteRun(store, runId, { force: true }),
        (e: unknown) =>
          e instanceof ConfigError &&
          new RegExp(`is alive: process ${pid} on .* is the process that records it \\(same pid and start time\\), stopped, though its heartbeat is \\d+ s old`).test(e.message) &&
          new RegExp(`kill -CONT ${pid}`).test(e.message),
      );
      assert.equal(getRun(store, runId).status, 'running', 'a stopped process is alive: its run is not crashed');
      trainer.child.kill('SIGCONT');
      trainer.child.kill('SIGKILL');
      await trainer.finished;
      assert.equal(getRun(store, runId).status, 'crashed');
      deleteRun(store, runId);
      assert.throws(() => getRun(store, runId), ConfigError);
    } finally {
      trainer.child.kill('SIGKILL');
      closeStore(store);
    }
  });
});

forEachDriver('who records a run', (driver) => {
  test('a run whose pid now belongs to another process (a reused pid) reads as crashed, can be resumed and deleted', () => {
    const file = tempStore(driver);
    const store = openStore(file);
    try {
      const runId = startRun(store, { git: false, heartbeat: false });
      store.recording.delete(runId);
      // The parent of this test process is alive, but started at another time than the recorder:
      // what a restarted container or a rebooted machine shows for a recorded pid such as 2.
      store.db.prepare('UPDATE runs SET pid = ? WHERE id = ?').run(process.ppid, runId);
      const run = getRun(store, runId);
      assert.equal(run.status, 'crashed');
      assert.match(run.error ?? '', new RegExp(`process ${process.ppid} on .* ended without finishing the run \\(pid ${process.ppid} now belongs to a process started later\\)`));
      resumeRun(store, runId, { heartbeat: false });
      assert.equal(getRun(store, runId).status, 'running');
      const resumed = store.db.prepare('SELECT pid, pid_start_ticks, boot_id FROM runs WHERE id = ?').get(runId) as { pid: number; pid_start_ticks: number | null; boot_id: string | null };
      assert.equal(resumed.pid, process.pid);
      assert.equal(resumed.pid_start_ticks, currentProcessIdentity().startTicks);
      store.recording.delete(runId);
      store.db.prepare('UPDATE runs SET pid = ? WHERE id = ?').run(process.ppid, runId);
      deleteRun(store, runId);
      assert.throws(() => getRun(store, runId), ConfigError);
    } finally {
      closeStore(store);
    }
  });

  test('a run recorded in another boot or pid namespace is judged by its heartbeat, whatever process has its pid here', () => {
    const store = openStore(tempStore(driver), { staleAfterMs: 1000 });
    try {
      const [rebooted, contained, fresh] = [0, 1, 2].map(() => startRun(store, { git: false, heartbeat: false })) as [string, string, string];
      for (const runId of [rebooted, contained, fresh]) store.recording.delete(runId);
      // Each recorded this very pid, which is alive: only the boot, or the namespace, differs.
      store.db.prepare("UPDATE runs SET boot_id = 'another-boot', heartbeat_at = heartbeat_at - 5000 WHERE id = ?").run(rebooted);
      store.db.prepare("UPDATE runs SET pid_namespace = 'pid:[1]', heartbeat_at = heartbeat_at - 5000 WHERE id = ?").run(contained);
      store.db.prepare("UPDATE runs SET boot_id = 'another-boot' WHERE id = ?").run(fresh);
      const byId = new Map(listRuns(store).map((r) => [r.id, r]));
      assert.equal(byId.get(rebooted)?.status, 'crashed');
      assert.match(byId.get(rebooted)?.error ?? '', /no heartbeat for 5 s \(process \d+ on an earlier boot of /);
      assert.equal(byId.get(contained)?.status, 'crashed');
      assert.match(byId.get(contained)?.error ?? '', /another pid namespace/);
      assert.equal(byId.get(fresh)?.status, 'running', 'a fresh heartbeat keeps it running');
    } finally {
      closeStore(store);
    }
  });

  test('a run recorded without a start time (before schema 3) is judged by its pid alone, as it was', () => {
    const store = openStore(tempStore(driver), { staleAfterMs: 1000 });
    try {
      const runId = startRun(store, { git: false, heartbeat: false });
      store.recording.delete(runId);
      store.db.prepare('UPDATE runs SET pid = ?, pid_start_ticks = NULL, boot_id = NULL, pid_namespace = NULL, heartbeat_at = heartbeat_at - 5000 WHERE id = ?').run(process.ppid, runId);
      assert.equal(getRun(store, runId).status, 'running', 'its pid lives: it may be the recorder');
    } finally {
      closeStore(store);
    }
  });
});

forEachDriver('crash detection', (driver) => {
  test('a run from another host with a stale heartbeat is marked crashed on read', () => {
    const store = openStore(tempStore(driver), { staleAfterMs: 1000 });
    try {
      const stale = startRun(store, { git: false, heartbeat: false });
      const fresh = startRun(store, { git: false, heartbeat: false });
      store.db.prepare("UPDATE runs SET host = 'elsewhere', heartbeat_at = heartbeat_at - 5000 WHERE id = ?").run(stale);
      store.db.prepare("UPDATE runs SET host = 'elsewhere' WHERE id = ?").run(fresh);
      const byId = new Map(listRuns(store).map((r) => [r.id, r]));
      assert.equal(byId.get(stale)?.status, 'crashed');
      assert.match(byId.get(stale)?.error ?? '', /no heartbeat for 5 s/);
      assert.equal(byId.get(fresh)?.status, 'running');
    } finally {
      closeStore(store);
    }
  });

  test('a local run whose pid is dead is marked crashed; a write from its process revives it', () => {
    const store = openStore(tempStore(driver));
    try {
      const runId = startRun(store, { git: false, heartbeat: false });
      // pid 2^22 + 1 is above Linux's pid_max limit, so no process has it.
      store.db.prepare('UPDATE runs SET pid = 4194305 WHERE id = ?').run(runId);
      assert.deepEqual(markCrashedRuns(store), [runId]);
      assert.equal(getRun(store, runId).status, 'crashed');
      logMetrics(store, runId, { loss: 1 });
      assert.equal(getRun(store, runId).status, 'crashed', 'pid still dead, so the next read marks it again');
      store.db.prepare('UPDATE runs SET pid = ? WHERE id = ?').run(process.pid, runId);
      logMetrics(store, runId, { loss: 1 });
      assert.equal(getRun(store, runId).status, 'running');
    } finally {
      closeStore(store);
    }
  });
});
