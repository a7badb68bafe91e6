/** Params against a metric across runs recorded in a real store. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { differingParams, paramMetricPoints, readParamMetricPoints } from '../../src/dashboard/params';
import { listRuns } from '../../src/tracker/query';
import { closeStore, openStore } from '../../src/tracker/store';
import { finishRun, logMetrics, startRun } from '../../src/tracker/record';
import { tempDbPath } from '../tracker/helpers';

describe('params against a metric', () => {
  test('a learning-rate sweep: the differing params, one point per run with its best or last value', () => {
    const store = openStore(tempDbPath());
    try {
      const ids = [1e-4, 1e-3, 1e-2].map((lr, i) => {
        const runId = startRun(store, { experiment: 'sweep', config: { optimizer: { lr }, batchSize: 32, dataDir: `/data/${i}`, model: i < 2 ? 'crnn' : 'vgg' }, params: { layers: [1, i] }, git: false, heartbeat: false });
        logMetrics(store, runId, { val_accuracy: 0.5 + i / 10 }, { step: 0, epoch: 0 });
        logMetrics(store, runId, { val_accuracy: 0.4 }, { step: 1, epoch: 1 });
        finishRun(store, runId);
        return runId;
      });
      const runs = listRuns(store, { experiment: 'sweep' });
      // Same everywhere (batchSize), different in every run's text (dataDir), lists (layers): none is a sweep.
      assert.deepEqual(differingParams(runs), ['optimizer.lr', 'model']);
      const best = readParamMetricPoints(store, ids, 'optimizer.lr', 'val_accuracy');
      assert.deepEqual(best.map((p) => [p.runId, p.param, Number(p.value?.toFixed(2))]), ids.map((id, i) => [id, [1e-4, 1e-3, 1e-2][i], 0.5 + i / 10]));
      assert.deepEqual(readParamMetricPoints(store, ids, 'optimizer.lr', 'val_accuracy', { summary: 'last' }).map((p) => p.value), [0.4, 0.4, 0.4]);
      assert.deepEqual(paramMetricPoints(runs, 'layers', 'nothing').map((p) => [p.param, p.value]), runs.map((r) => [JSON.stringify(r.params.layers), null]));
      assert.throws(() => readParamMetricPoints(store, ['nope'], 'lr', 'val_accuracy'), /no run "nope"/);
      assert.throws(() => paramMetricPoints(runs, 'lr', 'val_accuracy', { summary: 'mean' as 'best' }), /summary "mean" is not valid: expected best or last/);
    } finally {
      closeStore(store);
    }
  });
});
