import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CallbackList } from '../../src/training/callbacks';
import { TrackerCallback } from '../../src/tracker/callback';
import { closeStore, openStore } from '../../src/tracker/store';
import { getMetricHistory, getRun } from '../../src/tracker/query';
import { metricHistoryToDataFrame, runsToDataFrame } from '../../src/tracker/dataframe';
import { forEachDriver, startFixture, tempDbPath, tempStore } from './helpers';

forEachDriver('TrackerCallback', (driver) => {
  test('records params, epochs, buffered batches, test metrics, artifacts and the status', async () => {
    const file = tempStore(driver);
    const store = openStore(file);
    try {
      const tracker = new TrackerCallback({ store, experiment: 'equations', logBatches: true, batchFlushSize: 4, git: false, source: 'test' });
      const list = new CallbackList([tracker]);
      await list.onTrainBegin({ model: 'crnn', config: { lr: 5e-4, rnn: 'gru' }, epochs: 2, stepsPerEpoch: 3, backend: { name: 'wasm', threads: 1 }, dataFingerprint: 'fp-1' });
      const runId = tracker.runId!;
      let step = 0;
      for (let epoch = 0; epoch < 2; epoch++) {
        for (let b = 0; b < 3; b++) await list.onBatchEnd(step, { loss: 3 - step * 0.4 }), step++;
        await list.onEpochEnd(epoch, { loss: 2 - epoch, val_loss: 2.5 - epoch, val_accuracy: 0.4 + epoch * 0.5, val_cer: 0.3 - epoch * 0.2, lr: 5e-4, epoch_time: 1.5 });
      }
      const modelPath = join(dirname(tempDbPath()), 'model.json');
      writeFileSync(modelPath, '{}');
      await list.onArtifact({ path: modelPath, kind: 'checkpoint' });
      await list.onTrainEnd({ status: 'finished', testMetrics: { test_accuracy: 0.88 }, artifacts: [{ path: modelPath, kind: 'model' }] });

      const run = getRun(store, runId);
      assert.equal(run.status, 'finished');
      assert.equal(run.name, 'crnn');
      assert.equal(run.experiment, 'equations');
      assert.equal(run.backend, 'wasm');
      assert.equal(run.dataFingerprint, 'fp-1');
      assert.equal(run.params.rnn, 'gru');
      assert.equal(run.params.epochs, 2);
      assert.deepEqual(run.config, { lr: 5e-4, rnn: 'gru' });
      assert.equal(run.metrics.val_accuracy?.best, 0.9);
      assert.equal(run.metrics.val_cer?.mode, 'min');
      assert.equal(run.metrics.test_accuracy?.last, 0.88);
      assert.deepEqual(run.artifacts.map((a) => a.kind), ['checkpoint', 'model']);
      const batches = getMetricHistory(store, runId, ['batch_loss']);
      assert.deepEqual(batches.map((p) => p.step), [0, 1, 2, 3, 4, 5]);
      assert.ok(Math.abs(batches[5]!.value - 1) < 1e-12);
      assert.equal(getMetricHistory(store, runId, ['val_loss']).length, 2);
      assert.equal(store.heartbeats.size, 0, 'the heartbeat timer stops at the end');

      const frame = runsToDataFrame([run]);
      assert.equal(frame.shape[0], 1);
      assert.ok(frame.columns.includes('metrics.val_accuracy'));
      const history = metricHistoryToDataFrame(batches);
      assert.deepEqual(history.shape, [6, 7]);
    } finally {
      closeStore(store);
    }
  });

  test('a failed run keeps its error message', async () => {
    const file = tempStore(driver);
    const tracker = new TrackerCallback({ dbPath: file, git: false });
    await tracker.onTrainBegin({ model: 'mlp', config: {}, epochs: 1 });
    await tracker.onEpochEnd(0, { loss: NaN });
    await tracker.onTrainEnd({ status: 'failed', error: new Error('loss is NaN at epoch 0') });
    const store = openStore(file);
    try {
      const run = getRun(store, tracker.runId!);
      assert.equal(run.status, 'failed');
      assert.equal(run.error, 'loss is NaN at epoch 0');
      assert.ok(Number.isNaN(run.metrics.loss?.last));
    } finally {
      closeStore(store);
    }
  });

  test('a run deleted while it is recorded fails the next write with a clear message, also at the end', async () => {
    const file = tempStore(driver);
    const tracker = new TrackerCallback({ dbPath: file, git: false });
    await tracker.onTrainBegin({ model: 'crnn', config: {}, epochs: 3 });
    await tracker.onEpochEnd(0, { loss: 1 });
    // Another tool removes the row (glyphlab runs delete refuses a running run).
    const other = openStore(file);
    other.db.prepare('DELETE FROM runs WHERE id = ?').run(tracker.runId);
    closeStore(other);
    const vanished = new RegExp(`run ${tracker.runId} is no longer in .+: it was deleted while this process was recording it`);
    await assert.rejects(tracker.onEpochEnd(1, { loss: 0.5 }), vanished);
    await assert.rejects(tracker.onTrainEnd({ status: 'failed', error: new Error('the epoch end failed') }), vanished);
  });

  test('another process holding the write lock stops no training and loses no point: the writes wait, then go through', async () => {
    const file = tempStore(driver);
    const runDir = join(dirname(tempDbPath()), 'runs', 'locked');
    const warnings: string[] = [];
    // A store whose writes give up after 500 ms, as the 10 s default does after 10 s.
    const store = openStore(file, { busyTimeoutMs: 500, onWarning: (message) => warnings.push(message) });
    const holder = startFixture('hold-write-lock.ts', [file]);
    try {
      const tracker = new TrackerCallback({ store, logBatches: true, batchFlushSize: 3, writeWaitMs: 50, git: false, source: 'test' });
      const list = new CallbackList([tracker]);
      await list.onTrainBegin({ model: 'crnn', config: { lr: 1e-3 }, epochs: 5, runDir });
      const runId = tracker.runId!;
      const epoch = async (e: number): Promise<void> => {
        for (let b = 0; b < 3; b++) await list.onBatchEnd(e * 3 + b, { loss: 3 - e - b / 10 });
        await list.onEpochEnd(e, { loss: 2 - e / 10, val_accuracy: e / 10 });
      };
      await epoch(0);
      await holder.line('locked');
      // Epochs 1-3 and a checkpoint while the other process holds the lock: every event returns.
      await epoch(1);
      const checkpoint = join(dirname(tempDbPath()), 'weights.bin');
      writeFileSync(checkpoint, 'epoch 2 weights');
      await epoch(2);
      await list.onArtifact({ path: checkpoint, kind: 'checkpoint' });
      writeFileSync(checkpoint, 'rewritten after the event');
      await epoch(3);
      const reader = openStore(file, { readonly: true });
      const recorded = (): number => (reader.db.prepare("SELECT count(*) AS n FROM metrics WHERE run_id = ? AND key = 'loss'").get(runId) as { n: number }).n;
      try {
        assert.equal(recorded(), 1, 'only epoch 0 went through: the others wait in memory');
      } finally {
        closeStore(reader);
      }
      assert.equal(warnings.filter((w) => /is locked by another process/.test(w)).length, 1, warnings.join('\n'));
      holder.send('release');
      await holder.line('released');
      await epoch(4);
      await list.onTrainEnd({ status: 'finished', testMetrics: { test_accuracy: 0.9 } });

      const run = getRun(store, runId);
      assert.equal(run.status, 'finished');
      assert.equal(run.error, null);
      assert.deepEqual(getMetricHistory(store, runId, ['loss']).map((p) => p.step), [0, 1, 2, 3, 4]);
      assert.deepEqual(getMetricHistory(store, runId, ['batch_loss']).map((p) => p.step), Array.from({ length: 15 }, (_, i) => i));
      assert.equal(run.metrics.val_accuracy?.best, 0.4);
      assert.equal(run.metrics.test_accuracy?.last, 0.9);
      assert.equal(run.artifacts.length, 1);
      assert.equal(run.artifacts[0]?.bytes, 'epoch 2 weights'.length, 'the checkpoint as it was at its event');
      assert.ok(warnings.some((w) => /took run .* writes again after \d+ s locked/.test(w)), warnings.join('\n'));
      assert.equal(existsSync(join(runDir, 'unrecorded-writes.json')), false);
    } finally {
      holder.send('release');
      await holder.finished;
      closeStore(store);
    }
  });

  test('a store locked past giveUpAfterMs at the end of training: the callback gives up without throwing, keeps the writes in the run folder and says so', async () => {
    const file = tempStore(driver);
    const runDir = join(dirname(tempDbPath()), 'runs', 'gave-up');
    const warnings: string[] = [];
    const store = openStore(file, { busyTimeoutMs: 100, onWarning: (message) => warnings.push(message) });
    const holder = startFixture('hold-write-lock.ts', [file]);
    try {
      const tracker = new TrackerCallback({ store, writeWaitMs: 20, giveUpAfterMs: 600, git: false, source: 'test' });
      await tracker.onTrainBegin({ model: 'crnn', config: {}, epochs: 2, runDir });
      const runId = tracker.runId!;
      await holder.line('locked');
      await tracker.onEpochEnd(0, { loss: 1, val_accuracy: NaN });
      await tracker.onTrainEnd({ status: 'finished', testMetrics: { test_accuracy: 0.5 } });
      const kept = JSON.parse(readFileSync(join(runDir, 'unrecorded-writes.json'), 'utf8')) as { runId: string; reason: string; writes: { kind: string; points?: { key: string; value: unknown }[]; status?: string }[] };
      assert.equal(kept.runId, runId);
      assert.match(kept.reason, /stayed locked by another process for \d+ s/);
      assert.deepEqual(kept.writes.map((w) => w.kind), ['points', 'finish']);
      assert.deepEqual(kept.writes[0]?.points?.map((p) => [p.key, p.value]), [['loss', 1], ['val_accuracy', 'NaN'], ['test_accuracy', 0.5]]);
      assert.equal(kept.writes[1]?.status, 'finished');
      assert.ok(warnings.some((w) => w.startsWith(`gave up recording run ${runId}: `) && w.includes(join(runDir, 'unrecorded-writes.json'))), warnings.join('\n'));
      assert.equal(store.heartbeats.size, 1, 'the run is not over in the store: its heartbeat goes on while the process lives');
    } finally {
      holder.send('release');
      await holder.finished;
      closeStore(store);
    }
  });
});
