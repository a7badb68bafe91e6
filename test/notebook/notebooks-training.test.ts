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

  test('02 trains the custom CRNN with a live view updated within each epoch, records the run and shows misreads', async () => {
    // Every output as it came, in order, with each cell's start: what a Jupyter front end shows, and when.
    const events: string[] = [];
    const result = await runNotebook(join(notebooks, '02-train-custom-crnn.ipynb'), {
      // liveSteps 1: a report after every batch (two per epoch here), as liveSeconds gives on a real epoch.
      parameters: { count: 40, epochs: 2, filters: '8,16', rnnUnits: 16, batchSize: 16, liveSteps: 1 },
      out: join(dir, '02.executed.ipynb'),
      env,
      onCell: (e) => {
        if (e.phase === 'start') events.push(`start ${e.firstLine}`);
      },
      onOutput: (o) => events.push(o.output_type === 'stream' ? o.text : o.output_type === 'update_display_data' ? `update ${String(o.data['text/html'] ?? '')}` : o.output_type),
    });
    assert.equal(notebookHasErrors(result.notebook), false);
    const text = outputText(result.notebook);
    assert.match(text, /synthesised 40 images/);
    assert.match(text, /run \S+: finished after 2 epochs/);
    assert.match(text, /backend: wasm \(.*native AVX2\/FMA products\)/, 'the notebook trains with the native kernels, as the CLI does');
    assert.match(text, /data-rendered|Plotly\.newPlot/, 'the live view is drawn with plotly');
    assert.match(text, /epoch 2\/2 · step 2\/2 · 4 steps in all · [\d.]+ images\/s · epoch ETA 0s · run ETA 0s/, 'the last report: the run done');

    // The compile notice shows before the cell that waits for the compile starts.
    const notice = events.findIndex((e) => e.includes('tslab is compiling src/ for the next cell'));
    const importCell = events.findIndex((e) => e.startsWith('start import * as path'));
    assert.ok(notice >= 0 && notice < importCell, events.slice(0, 8).join(' | '));
    // Within the first epoch, after its first batch: the view updated, with the step counter and both ETAs.
    const updates = events.filter((e) => e.startsWith('update '));
    const midEpoch = updates.find((e) => /epoch 1\/2 · step 1\/2 · 1 step in all · [\d.]+ images\/s · epoch ETA \S+ · run ETA \S+/.test(e));
    assert.ok(midEpoch, updates.map((e) => /<p[^>]*>(.*?)<\/p>/.exec(e)?.[1]).join('\n'));
    assert.match(midEpoch, /Plotly\.newPlot/, 'the batch loss is drawn before the epoch ends');
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
    assert.match(text, /The VGG19 convolutions started from random weights, not ImageNet/, 'said plainly');
    const store = openStore(join(dir, 'glyphlab.db'));
    try {
      const models = listRuns(store, { experiment: 'notebooks' }).map((r) => r.params['model']);
      assert.deepEqual(models.sort(), ['crnn', 'vgg19-crnn']);
    } finally {
      closeStore(store);
    }
  });
});
