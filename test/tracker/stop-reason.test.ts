import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index';
import { TrackerCallback } from '../../src/tracker/callback';
import { getRun, listRuns } from '../../src/tracker/query';
import { STOP_REASON_PARAM, finishRun, resumeRun, startRun } from '../../src/tracker/record';
import { closeStore, openStore } from '../../src/tracker/store';
import { train } from '../../src/training/train';
import type { TrainBatch, TrainData } from '../../src/training/types';
import { cli } from '../support/cli';
import { forEachDriver, tempStore } from './helpers';

interface XyBatch extends TrainBatch {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
}

/** One batch per epoch of y = x0 - x1. */
const data: TrainData<XyBatch> = {
  stepsPerEpoch: 1,
  *batches() {
    const x = tf.tensor2d([0.1, 0.5, -0.3, 0.2, 0.7, -0.1, 0.4, 0.4], [4, 2]);
    yield { x, y: tf.tidy(() => tf.sub(x.slice([0, 0], [4, 1]), x.slice([0, 1], [4, 1])) as tf.Tensor2D), size: 4 };
  },
};

forEachDriver('a run that stops early records why', (driver) => {
  before(async () => {
    await initBackend({ backend: 'cpu' });
  });

  test('finishRun records the stop reason as the param stop.reason, which --where finds; a resume clears it', () => {
    const store = openStore(tempStore(driver));
    try {
      const runId = startRun(store, { config: { lr: 0.001 }, git: false, heartbeat: false });
      const ranOut = startRun(store, { config: { lr: 0.003 }, git: false, heartbeat: false });
      finishRun(store, runId, 'interrupted', { error: 'interrupted by SIGINT', stopReason: 'interrupted by SIGINT during epoch 3' });
      finishRun(store, ranOut, 'finished');
      assert.equal(STOP_REASON_PARAM, 'stop.reason');
      assert.equal(getRun(store, runId).params['stop.reason'], 'interrupted by SIGINT during epoch 3');
      assert.deepEqual(listRuns(store, { where: 'params.stop.reason != null' }).map((r) => r.id), [runId]);
      assert.equal(listRuns(store, { where: `id = "${runId}"` })[0]?.params['stop.reason'], 'interrupted by SIGINT during epoch 3', 'the params JSON column too');
      resumeRun(store, runId, { heartbeat: false });
      assert.equal(getRun(store, runId).params['stop.reason'], undefined, 'the run goes on: the old reason no longer holds');
      assert.equal(listRuns(store, { where: `id = "${runId}"` })[0]?.params['stop.reason'], undefined);
      finishRun(store, runId, 'finished');
      assert.equal(getRun(store, runId).params['stop.reason'], undefined);
    } finally {
      closeStore(store);
    }
  });

  test('an early-stopped training recorded by TrackerCallback has its reason in the store, and runs show and runs ls show it', async () => {
    const file = tempStore(driver);
    const store = openStore(file);
    const tracker = new TrackerCallback({ store, experiment: 'eq', name: 'stalled', git: false });
    const input = tf.input({ shape: [2] });
    const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tf.SymbolicTensor });
    const scores = [0.4, 0.8, 0.7, 0.75];
    let epoch = 0;
    let result;
    try {
      result = await train(model, data, {
        loss: (output, batch) => tf.losses.meanSquaredError(batch.y, output as tf.Tensor2D) as tf.Scalar,
        evaluate: async () => ({ val_accuracy: scores[epoch++] ?? 0 }),
        epochs: 50,
        earlyStopping: { patience: 2 },
        callbacks: [tracker],
      });
    } finally {
      model.dispose();
      closeStore(store);
    }
    const reason = 'early stopping: val_accuracy did not improve for 2 epochs (best 0.8000 at epoch 2)';
    assert.equal(result.stopReason, reason);
    const reader = openStore(file, { readonly: true });
    try {
      const run = getRun(reader, tracker.runId!);
      assert.equal(run.status, 'finished');
      assert.equal(run.params['stop.reason'], reason);
      assert.equal(run.error, null, 'stopping early is no error');
    } finally {
      closeStore(reader);
    }
    const show = await cli(['runs', 'show', 'stalled', '--db', file]);
    assert.equal(show.code, 0);
    assert.match(show.out, /^ {2}status {6}finished\n {2}stopped {5}early stopping: val_accuracy did not improve for 2 epochs \(best 0\.8000 at epoch 2\)$/m);
    const ls = await cli(['runs', 'ls', '--columns', 'name,stop', '--db', file]);
    assert.match(ls.out, /^stalled\s+early stopping: val_accuracy did not improve/m);
  });

  test('runs show says an interrupt once: the error that repeats the stop reason is not shown again', async () => {
    const file = tempStore(driver);
    const store = openStore(file);
    const runId = startRun(store, { name: 'cut', git: false, heartbeat: false });
    finishRun(store, runId, 'interrupted', { error: 'interrupted by SIGINT', stopReason: 'interrupted by SIGINT during epoch 3' });
    closeStore(store);
    const show = await cli(['runs', 'show', runId.slice(-6), '--db', file]);
    assert.match(show.out, /^ {2}status {6}interrupted\n {2}stopped {5}interrupted by SIGINT during epoch 3$/m);
  });
});
