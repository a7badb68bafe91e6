/**
 * tslab compiles a whole cell before it runs it, and the first cell that imports glyphlab compiles
 * src/ (10-30 s): a line printed in that cell shows only after the wait. So each notebook has a
 * tiny cell just before it that imports nothing and says what is coming; notebook 02's test
 * (notebooks-training.test.ts) checks that its line arrives before the importing cell starts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readNotebook } from '../../src/notebook/run';

const notebooks = join(__dirname, '..', '..', 'notebooks');

/** The notebooks with the notice (04-dashboard has another owner). */
const NAMES = ['00-hello', '01-explore-equations', '02-train-custom-crnn', '03-train-vgg19-transfer', '05-query-experiments', '06-digits-and-letters', '07-center-loss', '08-writer-identification'];

const sourceOf = (source: string | string[]): string => (Array.isArray(source) ? source.join('') : source);

describe('the compile notice before the first glyphlab import', () => {
  for (const name of NAMES) {
    test(`${name}: a cell that imports nothing says that src/ is compiling, right before the cell that imports it`, () => {
      const code = readNotebook(join(notebooks, `${name}.ipynb`)).cells.filter((cell) => cell.cell_type === 'code');
      const firstImport = code.findIndex((cell) => /from "\.\/glyphlab\//.test(sourceOf(cell.source)));
      assert.ok(firstImport > 0, `${name} imports glyphlab`);
      const notice = code[firstImport - 1];
      assert.equal(notice?.id, 'compile-notice', `${name}: the cell before the first import`);
      const source = sourceOf(notice?.source ?? '');
      assert.doesNotMatch(source, /\bimport\b|require\(/, 'the notice compiles at once: it imports nothing');
      assert.match(source, /console\.log\("glyphlab: tslab is compiling src\/ for the next cell \(10-30 s, once per kernel start\)"\);/);
      assert.ok(code.findIndex((cell) => cell.metadata.tags?.includes('parameters')) < firstImport - 1, 'after the parameters cell');
    });
  }
});
