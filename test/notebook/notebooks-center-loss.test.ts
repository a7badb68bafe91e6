/**
 * Notebook 07 (center loss) runs top to bottom, tiny, through the real tslab kernel: it trains
 * a tiny base CRNN, synthesises a look-alike set, fine-tunes both arms (CTC alone, CTC + center
 * loss) and records them in a temporary store.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { notebookHasErrors, runNotebook } from '../../src/notebook/run';
import { listRuns } from '../../src/tracker/query';
import { closeStore, openStore } from '../../src/tracker/store';
import { assertCleanNotebook, outputText, sandboxEnv } from '../support/notebook';

const notebook = join(__dirname, '..', '..', 'notebooks', '07-center-loss.ipynb');

describe('notebook 07 through the tslab kernel', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'glyphlab-nb-center-'));
    env = sandboxEnv(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the committed notebook has no outputs, cell ids and a parameters cell', () => {
    assertCleanNotebook(notebook);
  });

  test('trains a base, compares both arms on the test split and the look-alike set, records them', async () => {
    const result = await runNotebook(notebook, {
      parameters: { count: 40, baseEpochs: 1, inputWidth: 128, filters: '8,16,16', rnnUnits: 8, lookalikeCount: 12, epochs: 1, projectionFrames: 200 },
      out: join(dir, '07.executed.ipynb'),
      env,
    });
    assert.equal(notebookHasErrors(result.notebook), false);
    const text = outputText(result.notebook);
    const base = /starting model: run (\S+)/.exec(text);
    assert.ok(base, 'a base run was trained');
    assert.match(text, /synthesised 12 look-alike images/);
    assert.match(text, /12 images; [\d.]+% of their characters are in a look-alike group/);
    assert.match(text, /Center statistics by epoch/, 'the center statistics chart');
    // The comparison table: base, ctc, ctc+center.
    assert.match(text, /<td>base \(before fine-tuning\)<\/td><td>[^<]+<\/td><td>[\d.]+%<\/td>/);
    assert.match(text, /<td>ctc \(lambda 0\)<\/td>/);
    assert.match(text, /<td>ctc\+center \(lambda 0\.003\)<\/td>/);
    assert.match(text, /center loss vs CTC alone: test -?[\d.]+ points, look-alike set -?[\d.]+ points/);
    // A one-epoch base may read nothing correctly; then the notebook says so instead of projecting.
    assert.match(text, /(Feature projection|PCA, 2-D)|too few to project/);

    const store = openStore(join(dir, 'glyphlab.db'));
    try {
      const runs = listRuns(store, { experiment: 'notebooks' });
      assert.deepEqual(runs.map((r) => r.name).sort(), ['crnn-center-base', 'ctc', 'ctc+center']);
      assert.ok(runs.every((r) => r.status === 'finished'));
      const arms = runs.filter((r) => r.name !== 'crnn-center-base');
      for (const arm of arms) assert.equal(arm.params['baseRun'], base[1]);
    } finally {
      closeStore(store);
    }
  });
});
