/**
 * Reading what an executed notebook printed and displayed, for the notebook tests.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readNotebook, type Notebook } from '../../src/notebook/run';

/**
 * The text of every stream output and HTML display, one after another. The inlined plotly.js
 * bundle (4.9 MB) is left out: it would swamp failure messages.
 */
export function outputText(notebook: Notebook): string {
  return notebook.cells
    .flatMap((cell) => cell.outputs ?? [])
    .map((o) => (o.output_type === 'stream' ? o.text : o.output_type === 'display_data' ? String(o.data['text/html'] ?? '') : ''))
    .filter((text) => !text.includes('plotly.js v'))
    .join('\n');
}

/** How many outputs carry the plotly.js bundle: one per notebook, which every later chart reuses. */
export function plotlyBundles(notebook: Notebook): number {
  return notebook.cells
    .flatMap((cell) => cell.outputs ?? [])
    .filter((o) => o.output_type === 'display_data' && String(o.data['text/html'] ?? '').includes('plotly.js v')).length;
}

/** How many PNG images the notebook displayed. */
export function pngOutputs(notebook: Notebook): number {
  return notebook.cells.flatMap((cell) => cell.outputs ?? []).filter((o) => o.output_type === 'display_data' && typeof o.data['image/png'] === 'string').length;
}

/** Asserts that a committed notebook has unique cell ids, a parameters cell and no outputs. */
export function assertCleanNotebook(path: string): void {
  const notebook = readNotebook(path);
  assert.equal(notebook.nbformat, 4);
  assert.ok(notebook.nbformat_minor >= 5);
  const ids = notebook.cells.map((c) => c.id);
  assert.ok(ids.every((id) => typeof id === 'string' && /^[\w-]{1,64}$/.test(id)), `${path}: every cell has an id`);
  assert.equal(new Set(ids).size, ids.length, `${path}: cell ids are unique`);
  const code = notebook.cells.filter((c) => c.cell_type === 'code');
  assert.ok(code.some((c) => c.metadata.tags?.includes('parameters')), `${path}: a parameters cell`);
  for (const cell of code) {
    assert.deepEqual(cell.outputs, [], `${path}: outputs committed in ${cell.id}`);
    assert.equal(cell.execution_count, null, `${path}: execution count committed in ${cell.id}`);
  }
}

/** The environment of a notebook kernel whose store, data and experiments all live in `dir`. */
export function sandboxEnv(dir: string): NodeJS.ProcessEnv {
  return { ...process.env, GLYPHLAB_DB: join(dir, 'glyphlab.db'), GLYPHLAB_DATA_DIR: join(dir, 'data'), GLYPHLAB_EXPERIMENTS_DIR: join(dir, 'experiments') };
}
