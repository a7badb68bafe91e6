/**
 * The center-loss comparison end to end on tiny data: a tiny base CRNN run, then both arms
 * (CTC alone, CTC + center loss) fine-tuned from it, evaluated on the test split and a
 * look-alike set, and recorded in a real SQLite store.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/index';
import { ConfigError, DataError } from '../../src/errors';
import { synthesizeLookalikeSet } from '../../src/data/equations/lookalike';
import { getMetricHistory, getRun } from '../../src/tracker/query';
import { closeStore, openStore } from '../../src/tracker/store';
import { runCenterLossComparison } from '../../src/runs/center-loss-run';
import { loadRunModel } from '../../src/runs/run-model';
import { trainTinyBaseRun } from '../support/equation-run';

describe('runCenterLossComparison', () => {
  let dir: string;
  let dbPath: string;
  let baseRunId: string;
  let baseSizes: Record<string, number>;
  before(async () => {
    await initBackend({ backend: 'wasm' });
    dir = mkdtempSync(join(tmpdir(), 'glyphlab-center-run-'));
    dbPath = join(dir, 'glyphlab.db');
    synthesizeLookalikeSet({ outDir: join(dir, 'look'), count: 8, width: 128, height: 32 });
    const base = await trainTinyBaseRun(dir, dbPath);
    baseRunId = base.runId;
    baseSizes = base.splitSizes;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('fine-tunes both arms from the base run and records them with center statistics', async () => {
    const cmp = await runCenterLossComparison({ baseRunId, lookalikeDir: join(dir, 'look'), epochs: 1, dbPath, center: { lambda: 0.01 } });
    // The base run's split, read back from its record: its test images stay unseen.
    assert.deepEqual(cmp.sizes, { ...baseSizes, lookalike: 8 });
    assert.ok(cmp.lookalikeShare.lookalike > cmp.lookalikeShare.test, 'the look-alike set is richer in look-alikes than the test split');
    for (const score of [cmp.base.testAccuracy, cmp.base.lookalikeAccuracy, cmp.base.lookalikeCer]) assert.ok(score >= 0 && score <= 1.5);
    assert.deepEqual(cmp.variants.map((v) => [v.name, v.lambda, v.status]), [['ctc', 0, 'finished'], ['ctc+center', 0.01, 'finished']]);

    const store = openStore(dbPath);
    try {
      for (const variant of cmp.variants) {
        const run = getRun(store, variant.runId);
        assert.equal(run.experiment, 'center-loss');
        assert.equal(run.status, 'finished');
        assert.equal(run.params['center.lambda'], variant.lambda);
        assert.equal(run.params['baseRun'], baseRunId);
        assert.deepEqual([run.params['model.rnn'], run.params['input.height']], ['gru', 32], "the base run's architecture");
        // Training centers are tracked in both arms (lambda 0 included), held-out ones too. A
        // one-epoch base model may align no frames at all (then the distances are NaN); the
        // values themselves are checked on fixed inputs in center-loss.test.ts.
        for (const key of ['center_frames', 'center_between', 'center_own_distance', 'val_center_between', 'val_center_own_distance', 'val_accuracy']) {
          assert.equal(getMetricHistory(store, variant.runId, [key]).length, 1, `${variant.name}: ${key} recorded once`);
        }
        assert.ok(Number.isFinite(getMetricHistory(store, variant.runId, ['val_accuracy'])[0]!.value));
        for (const key of ['test_accuracy', 'lookalike_accuracy', 'lookalike_cer', 'lookalike_center_between']) {
          assert.equal(typeof variant.metrics[key], 'number', `${variant.name}: ${key}`);
          assert.equal(getMetricHistory(store, variant.runId, [key]).length, 1, `${variant.name}: ${key} recorded`);
        }
        assert.equal(variant.lookalikeAccuracy, variant.metrics['lookalike_accuracy']);
      }
    } finally {
      closeStore(store);
    }
    // The saved model of an arm is the plain single-output CRNN.
    const loaded = await loadRunModel(cmp.variants[1]!.runId, { dbPath });
    try {
      assert.equal(loaded.model.outputs.length, 1);
      assert.deepEqual(loaded.inputShape, [32, 128, 1]);
    } finally {
      loaded.model.dispose();
    }
  });

  test('names the missing look-alike labels file and refuses a negative lambda', async () => {
    await assert.rejects(runCenterLossComparison({ baseRunId, lookalikeDir: join(dir, 'nowhere'), dbPath }), (e: unknown) => e instanceof DataError && /nowhere.*labels\.csv.*synthesizeLookalikeSet/.test(e.message));
    await assert.rejects(
      runCenterLossComparison({ baseRunId, lookalikeDir: join(dir, 'look'), dbPath, variants: [{ name: 'bad', lambda: -1 }] }),
      (e: unknown) => e instanceof ConfigError && /"bad".*-1/.test(e.message),
    );
  });
});
