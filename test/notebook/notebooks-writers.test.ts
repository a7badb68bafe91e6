/**
 * Notebook 08 (writer identification) runs top to bottom, tiny, through the real tslab kernel:
 * on synthetic writers and on a fabricated IAM copy, training a real (tiny) CNN and recording
 * the run in a temporary store.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { notebookHasErrors, runNotebook } from '../../src/notebook/run';
import { listRuns } from '../../src/tracker/query';
import { closeStore, openStore } from '../../src/tracker/store';
import { writeFakeIam } from '../support/iam';
import { assertCleanNotebook, outputText, pngOutputs, sandboxEnv } from '../support/notebook';

const notebook = join(__dirname, '..', '..', 'notebooks', '08-writer-identification.ipynb');

/** Small sizes: 32x32 patches of 40 px lines, a CNN of a few filters, one epoch. */
const TINY = {
  linesPerWriter: 4,
  lineHeight: 40,
  maxLineWidth: 160,
  patchSize: 32,
  trainPatchesPerLine: 8,
  evalPatchesPerLine: 4,
  valLinesPerWriter: 1,
  testLinesPerWriter: 1,
  epochs: 1,
  batchSize: 16,
  convFilters: '4,8,8',
  denseUnits: '16',
};

/** The top-1 and per-patch accuracies the notebook printed, checked to be shares of its counts. */
function accuracies(text: string): { line: number; patch: number } {
  const line = /top-1 over held-out lines: ([\d.]+)% \((\d+) lines, 4 patches voted each; chance ([\d.]+)%\)/.exec(text);
  const patch = /per-patch accuracy: ([\d.]+)% \((\d+) patches\)/.exec(text);
  assert.ok(line && patch, 'the accuracy lines are printed');
  const lines = Number(line[2]);
  assert.equal(lines, 3, 'one held-out line per writer');
  assert.equal(Number(patch[2]), lines * 4);
  assert.equal(Number(line[3]), 33.3);
  // A share of 3 lines is a multiple of 1/3.
  assert.ok(Math.abs(((Number(line[1]) / 100) * lines) % 1) < 0.01 || Math.abs(((Number(line[1]) / 100) * lines) % 1) > 0.99, line[1]);
  return { line: Number(line[1]), patch: Number(patch[1]) };
}

describe('notebook 08 through the tslab kernel', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'glyphlab-nb-writers-'));
    env = sandboxEnv(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the committed notebook has no outputs, cell ids and a parameters cell', () => {
    assertCleanNotebook(notebook);
  });

  test('synthetic writers: lines, patches, a live curve, accuracies and a recorded run', async () => {
    const result = await runNotebook(notebook, { parameters: { ...TINY, writers: 3 }, out: join(dir, '08.executed.ipynb'), env });
    assert.equal(notebookHasErrors(result.notebook), false);
    const text = outputText(result.notebook);
    assert.match(text, /synthesised 12 lines of 3 writers/);
    assert.equal(text.match(/<img src="data:image\/png;base64,/g)?.length, 6, 'two lines of each of the three writers');
    assert.match(text, /"8 patches of w000-\d\d"/);
    assert.match(text, /patches: \d+ possible, at most \d+ taken \(30\.0%\), 96 drawn per epoch over all lines/);
    assert.ok(pngOutputs(result.notebook) >= 1, 'the patch grid is shown');
    assert.match(text, /run \S+: finished after 1 epoch; lines train\/val\/test 6\/3\/3/);
    assert.match(text, /Plotly\.newPlot/);
    assert.match(text, /Training curves/);
    assert.match(text, /Held-out lines: true writer/);
    accuracies(text);
    assert.match(text, /: finished, backend \w+, tags synthetic-writers/);
    const store = openStore(join(dir, 'glyphlab.db'));
    try {
      const runs = listRuns(store, { experiment: 'notebooks' });
      assert.equal(runs.length, 1);
      assert.equal(runs[0]?.status, 'finished');
      assert.equal(runs[0]?.params['model'], 'writer_cnn');
    } finally {
      closeStore(store);
    }
  });

  test('a fabricated IAM folder as the source', async () => {
    const iam = join(dir, 'iam');
    writeFakeIam(iam, { writers: 4, linesPerWriter: 5, height: 48 });
    const result = await runNotebook(notebook, {
      parameters: { ...TINY, source: iam, writers: 3, lineHeight: 32, experiment: 'iam' },
      out: join(dir, '08-iam.executed.ipynb'),
      env,
    });
    assert.equal(notebookHasErrors(result.notebook), false);
    const text = outputText(result.notebook);
    // 3 of the 4 writers (all have 5 lines: ties go by id), 4 of each writer's 5 lines.
    assert.match(text, new RegExp(`IAM ${iam.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: 3 writers, 12 lines read \\(3 over the 4 per writer left out; 5 lines of other writers\\)`));
    assert.match(text, /height 32 px/);
    assert.match(text, /IAM writer 000/);
    accuracies(text);
    assert.match(text, /tags iam/);
    const store = openStore(join(dir, 'glyphlab.db'));
    try {
      assert.deepEqual(listRuns(store, { experiment: 'iam' }).map((r) => r.status), ['finished']);
    } finally {
      closeStore(store);
    }
  });
});
