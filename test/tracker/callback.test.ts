import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CallbackList } from '../../src/training/callbacks';
import { TrackerCallback } from '../../src/tracker/callback';
import { closeStore, openStore } from '../../src/tracker/store';
import { getMetricHistory, getRun } from '../../src/tracker/query';
import { metricHistoryToDataFrame, runsToDataFrame } from '../../src/tracker/dataframe';
import { tempDbPath } from './helpers';

describe('TrackerCallback', () => {
  test('records params, epochs, buffered batches, test metrics, artifacts and the status', async () => {
    const file = tempDbPath();
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
      const modelPath = join(dirname(file), 'model.json');
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
    const file = tempDbPath();
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
    const file = tempDbPath();
    const tracker = new TrackerCallback({ dbPath: file, git: false });
    await tracker.onTrainBegin({ model: 'crnn', config: {}, epochs: 3 });
    await tracker.onEpochEnd(0, { loss: 1 });
    // Another tool removes the row (glyphlab runs delete refuses a running run).
    const other = openStore(file);
    other.db.prepare('DELETE FROM runs WHERE id = ?').run(tracker.runId);
    closeStore(other);
    const vanished = new RegExp(`run ${tracker.runId} is no longer in .*glyphlab\\.db: it was deleted while this process was recording it`);
    await assert.rejects(tracker.onEpochEnd(1, { loss: 0.5 }), vanished);
    await assert.rejects(tracker.onTrainEnd({ status: 'failed', error: new Error('the epoch end failed') }), vanished);
  });
});
