/**
 * Notebooks 02 (custom CRNN) and 03 (VGG19 two-phase) run top to bottom, small, through the real
 * tslab kernel, training real (tiny) models and recording the runs in a temporary store.
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

const notebooks = join(__dirname, '..', '..', 'notebooks');

describe('notebooks 02 and 03 through the tslab kernel', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'glyphlab-nb-train-'));
    // No VGG19 weights file here: 03 must say so and train from random initialisation.
    env = sandboxEnv(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the committed notebooks have no outputs and a parameters cell', () => {
    for (const name of ['02-train-custom-crnn', '03-train-vgg19-transfer']) assertCleanNotebook(join(notebooks, `${name}.ipynb`));
  });

  test('02 trains the custom CRNN with a live curve, records the run and shows misreads', async () => {
    const result = await runNotebook(join(notebooks, '02-train-custom-crnn.ipynb'), {
      parameters: { count: 40, epochs: 2, filters: '8,16', rnnUnits: 16, batchSize: 16 },
      out: join(dir, '02.executed.ipynb'),
      env,
    });
    assert.equal(notebookHasErrors(result.notebook), false);
    const text = outputText(result.notebook);
    assert.match(text, /synthesised 40 images/);
    assert.match(text, /run \S+: finished after 2 epochs/);
    assert.match(text, /data-rendered|Plotly\.newPlot/, 'the learning curve is drawn with plotly');
    assert.match(text, /test exact-match accuracy <b>[\d.]+%<\/b>/);
    assert.match(text, /artifacts: .*model/);
  });

  test('03 runs both VGG19 phases as one recorded run, from random init without a weights file', async () => {
    const result = await runNotebook(join(notebooks, '03-train-vgg19-transfer.ipynb'), {
      parameters: { count: 40, limit: 16, epochs: 2, phase1Epochs: 1, filterDivisor: 16, inputWidth: 200 },
      out: join(dir, '03.executed.ipynb'),
      env,
    });
    assert.equal(notebookHasErrors(result.notebook), false);
    const text = outputText(result.notebook);
    assert.match(text, /vgg19_weights_tf_dim_ordering_tf_kernels_notop\.h5/);
    assert.match(text, /phases by epoch: 1, 2/);
    assert.match(text, /random initialisation/);
    const store = openStore(join(dir, 'glyphlab.db'));
    try {
      const models = listRuns(store, { experiment: 'notebooks' }).map((r) => r.params['model']);
      assert.deepEqual(models.sort(), ['crnn', 'vgg19-crnn']);
    } finally {
      closeStore(store);
    }
  });
});
