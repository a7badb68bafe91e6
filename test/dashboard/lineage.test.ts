/**
 * Lineage in the dashboard (dashboard/lineage.ts): runs recorded in a real store as a transfer
 * comparison records them (a run from scratch, one from a reader with its `init` spec, a VGG19
 * run from random weights), read back as where each run's weights started, found as the latest
 * comparison, and drawn as the dashboard's lineage section.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildComparison } from '../../src/dashboard/compare';
import { dashboardSections } from '../../src/dashboard/html';
import { latestTransferTag, runLineage } from '../../src/dashboard/lineage';
import { finishRun, startRun } from '../../src/tracker/record';
import { getRun } from '../../src/tracker/query';
import { closeStore, openStore, type TrackerStore } from '../../src/tracker/store';

const SOURCE_RUN = '20261206-145106-bc5534';

describe('run lineage', () => {
  let dir: string;
  let store: TrackerStore;
  const ids: Record<string, string> = {};
  const record = (name: string, tag: string, config: Record<string, unknown>, params: Record<string, unknown> = {}): string => {
    const runId = startRun(store, { experiment: 'transfer', name, tags: [tag], config, params, git: false, heartbeat: false });
    finishRun(store, runId, 'finished');
    return runId;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'glyphlab-lineage-'));
    store = openStore(join(dir, 'glyphlab.db'));
    record('older', 'transfer:20261201-100000', { model: 'crnn' });
    ids['scratch'] = record('scratch', 'transfer:20261206-164341', { model: 'crnn', init: null });
    ids['finetune'] = record('finetune', 'transfer:20261206-164341', {
      model: 'crnn',
      init: {
        from: 'reader:equations-wide',
        freezeEpochs: 1,
        run: SOURCE_RUN,
        reader: 'equations-wide',
        modelDir: '/x/data/readers/equations-wide',
        data: { dir: '/x/data/synth/wide-76391aca70' },
        loaded: ['conv1', 'bn1', 'bidirectional_1'],
        reinitialised: ['logits'],
      },
    });
    ids['vgg19'] = record('vgg19', 'transfer:20261206-164341', { model: 'vgg19-crnn', init: null }, { 'model.weights': 'random' });
  });
  after(() => {
    closeStore(store);
    rmSync(dir, { recursive: true, force: true });
  });

  test('each run reads where its weights started, from what it recorded', () => {
    assert.deepEqual(runLineage(getRun(store, ids['finetune']!)), {
      runId: ids['finetune'],
      startedFrom: `reader equations-wide (run ${SOURCE_RUN})`,
      sourceRun: SOURCE_RUN,
      reader: 'equations-wide',
      sourceData: '/x/data/synth/wide-76391aca70',
      loaded: 3,
      reinitialised: ['logits'],
      freezeEpochs: 1,
    });
    assert.equal(runLineage(getRun(store, ids['scratch']!)).startedFrom, 'random');
    assert.equal(runLineage(getRun(store, ids['vgg19']!)).startedFrom, 'random');
    assert.equal(runLineage({ id: 'x', params: { 'model.weights': 'imagenet' } }).startedFrom, 'ImageNet');
  });

  test('the latest transfer comparison is the newest tag; the dashboard of its runs has a lineage table', () => {
    const tag = latestTransferTag(store);
    assert.equal(tag, 'transfer:20261206-164341');
    const comparison = buildComparison(store, { where: `tags contains "${tag}"` });
    assert.deepEqual(new Set(comparison.runs.map((r) => r.id)), new Set(Object.values(ids)));
    const section = dashboardSections(comparison).find((s) => s.id === 'lineage');
    assert.ok(section, 'a lineage section when a run started from trained weights');
    assert.match(section.html, new RegExp(`<td>reader equations-wide \\(run ${SOURCE_RUN}\\)</td><td>/x/data/synth/wide-76391aca70</td><td>3</td><td>logits</td><td>1</td>`));
    const scratchOnly = buildComparison(store, { ids: [ids['scratch']!, ids['vgg19']!] });
    assert.equal(dashboardSections(scratchOnly).find((s) => s.id === 'lineage'), undefined, 'no lineage section when every run started random');
  });

  test('a store without transfer comparisons has no latest one', () => {
    const empty = openStore(join(dir, 'empty.db'));
    try {
      assert.equal(latestTransferTag(empty), undefined);
    } finally {
      closeStore(empty);
    }
  });
});
