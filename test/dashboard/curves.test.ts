/**
 * Metric curves read back from a real SQLite store: runs recorded as the tracker records them
 * (a value per gradient step as `batch_loss`, per-epoch values, test values), read point by
 * point with steps, epochs and minutes.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readMetricCurves } from '../../src/dashboard/curves';
import { closeStore, openStore } from '../../src/tracker/store';
import { finishRun, logMetricPoints, startRun } from '../../src/tracker/record';
import { getRun } from '../../src/tracker/query';
import type { TrackerStore } from '../../src/tracker/store';
import { tempDbPath } from '../tracker/helpers';

/**
 * Records a run of `epochs` epochs of `steps` steps each, a step every 3 s from its start;
 * `stepsParam` records `steps_per_epoch`; `lastSteps` cuts the last epoch short (a time budget).
 */
function recordRun(store: TrackerStore, name: string, epochs: number, steps: number, stepsParam: boolean, lastSteps = steps): string {
  const runId = startRun(store, { experiment: 'curves', name, params: stepsParam ? { steps_per_epoch: steps } : {}, git: false, heartbeat: false });
  const started = Date.parse(getRun(store, runId).startedAt);
  const points = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = 0; i < (epoch === epochs - 1 ? lastSteps : steps); i++) {
      const step = epoch * steps + i;
      points.push({ key: 'batch_loss', value: 4 / (step + 1), step, epoch, context: 'batch', wallTime: started + (step + 1) * 3000 });
    }
    const end = started + (epoch + 1) * steps * 3000;
    points.push({ key: 'loss', value: 4 / (epoch + 1), step: epoch, epoch, wallTime: end });
    points.push({ key: 'val_accuracy', value: 0.2 * (epoch + 1), step: epoch, epoch, wallTime: end });
  }
  points.push({ key: 'test_accuracy', value: 0.5, step: epochs - 1, epoch: epochs - 1, context: 'test', wallTime: started + epochs * steps * 3000 });
  logMetricPoints(store, runId, points);
  finishRun(store, runId);
  return runId;
}

describe('readMetricCurves', () => {
  const file = tempDbPath();
  let withParam: string;
  let withoutParam: string;
  let cutShort: string;
  before(() => {
    const store = openStore(file);
    try {
      withParam = recordRun(store, 'with-param', 3, 4, true);
      withoutParam = recordRun(store, 'without-param', 2, 5, false);
      cutShort = recordRun(store, 'cut-short', 3, 4, true, 1);
    } finally {
      closeStore(store);
    }
  });

  test('per-step points: steps done, fractional epochs, minutes since the start', () => {
    const store = openStore(file, { readonly: true });
    try {
      const [curve] = readMetricCurves(store, [withParam], { keys: ['batch_loss'] });
      assert.ok(curve);
      assert.equal(curve.per, 'step');
      assert.equal(curve.key, 'batch_loss');
      assert.match(curve.label, /^with-param · /);
      assert.deepEqual(curve.steps, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      assert.deepEqual(curve.epochs.slice(0, 4), [0.25, 0.5, 0.75, 1]);
      assert.equal(curve.epochs[11], 3);
      assert.deepEqual(curve.minutes.slice(0, 3), [0.05, 0.1, 0.15]);
      assert.equal(curve.values[0], 4);
    } finally {
      closeStore(store);
    }
  });

  test('per-epoch points sit at the epoch\'s last step and are numbered from 1', () => {
    const store = openStore(file, { readonly: true });
    try {
      const [loss, accuracy] = readMetricCurves(store, [withParam], { keys: ['loss', 'val_accuracy'] });
      assert.equal(loss?.per, 'epoch');
      assert.deepEqual(loss?.epochs, [1, 2, 3]);
      assert.deepEqual(loss?.steps, [4, 8, 12]);
      assert.deepEqual(accuracy?.values.map((v) => Number(v?.toFixed(2))), [0.2, 0.4, 0.6]);
      assert.deepEqual(loss?.minutes, [0.2, 0.4, 0.6]);
    } finally {
      closeStore(store);
    }
  });

  test('an epoch cut short (a time budget) puts its values at the step it reached, not at a full epoch', () => {
    const store = openStore(file, { readonly: true });
    try {
      const [loss] = readMetricCurves(store, [cutShort], { keys: ['loss'] });
      assert.deepEqual(loss?.steps, [4, 8, 9], 'the third epoch ran one step of four');
    } finally {
      closeStore(store);
    }
  });

  test('without steps_per_epoch, the steps come from the per-step points of each epoch', () => {
    const store = openStore(file, { readonly: true });
    try {
      const curves = readMetricCurves(store, [withoutParam]);
      assert.deepEqual(curves.map((c) => c.key), ['batch_loss', 'loss', 'val_accuracy'], 'every key except the test values, sorted');
      const batch = curves[0]!;
      assert.deepEqual(batch.epochs.slice(0, 5), [0.2, 0.4, 0.6, 0.8, 1]);
      assert.deepEqual(curves[1]?.steps, [5, 10]);
      // Asked for alone, a per-epoch key is still placed: the store gives each epoch's last step.
      const [alone] = readMetricCurves(store, [withoutParam], { keys: ['loss'] });
      assert.deepEqual(alone?.steps, [5, 10]);
    } finally {
      closeStore(store);
    }
  });

  test('runs come in the order asked; an unknown id is named', () => {
    const store = openStore(file, { readonly: true });
    try {
      const curves = readMetricCurves(store, [withoutParam, withParam], { keys: ['loss'] });
      assert.deepEqual(curves.map((c) => c.runId), [withoutParam, withParam]);
      assert.throws(() => readMetricCurves(store, [withParam, 'no-such-run']), /no run "no-such-run" in .*glyphlab runs ls/);
      assert.deepEqual(readMetricCurves(store, []), []);
    } finally {
      closeStore(store);
    }
  });

  test('a diverged value reads as null; a resumed epoch keeps its later value', () => {
    const store = openStore(file);
    try {
      const runId = startRun(store, { experiment: 'curves', git: false, heartbeat: false });
      logMetricPoints(store, runId, [
        { key: 'loss', value: 2, step: 0, epoch: 0 },
        { key: 'loss', value: 1.5, step: 1, epoch: 1 },
        { key: 'loss', value: 1.2, step: 1, epoch: 1 },
        { key: 'batch_loss', value: Number.NaN, step: 0, epoch: 0, context: 'batch' },
      ]);
      const [batch, loss] = readMetricCurves(store, [runId], { keys: ['batch_loss', 'loss'] });
      assert.deepEqual(batch?.values, [null]);
      assert.deepEqual(loss?.values, [2, 1.2]);
    } finally {
      closeStore(store);
    }
  });

  test('a running run\'s curve grows between reads', () => {
    const store = openStore(file);
    try {
      const runId = startRun(store, { experiment: 'curves', git: false, heartbeat: false });
      logMetricPoints(store, runId, [{ key: 'batch_loss', value: 3, step: 0, epoch: 0, context: 'batch' }]);
      assert.equal(readMetricCurves(store, [runId])[0]?.values.length, 1);
      logMetricPoints(store, runId, [{ key: 'batch_loss', value: 2, step: 1, epoch: 0, context: 'batch' }]);
      assert.equal(readMetricCurves(store, [runId])[0]?.values.length, 2);
    } finally {
      closeStore(store);
    }
  });
});
