/**
 * glyphlab's native kernels load in a notebook as they do in the CLI. tslab reaches src/ through
 * a notebook folder's `glyphlab` link, so `__dirname` in src/ names the link's side: a path built
 * from it looked for the module beside the notebooks and the notebooks trained without it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { notebookHasErrors, runNotebook, type Notebook } from '../../src/notebook/run';
import { NATIVE_MODULE_PATH } from '../../src/backend/native-kernels';
import { projectRoot } from '../../src/util/paths';
import { outputText } from '../support/notebook';

/** A notebook of one cell that sets up the wasm backend and prints what it says of the native kernels. */
const BACKEND_NOTEBOOK: Notebook = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
  cells: [
    {
      id: 'backend',
      cell_type: 'code',
      metadata: {},
      execution_count: null,
      outputs: [],
      source: [
        'import { initBackend, describeBackend } from "./glyphlab/backend/index";\n',
        'const backend = await initBackend({ backend: "wasm" });\n',
        'console.log(`native: ${JSON.stringify(backend.native)}`);\n',
        'console.log(`backend: ${describeBackend(backend)}`);\n',
      ],
    },
  ],
};

describe('native kernels in a notebook (a real tslab kernel)', () => {
  let dir: string;
  before(() => {
    // A notebook folder inside the project, as notebooks/ is (tslab compiles only what is below
    // it, and resolves node_modules from there), with its own link to src/. test-output/ is ignored by git.
    const outputs = join(projectRoot(), 'test-output');
    mkdirSync(outputs, { recursive: true });
    dir = mkdtempSync(join(outputs, 'notebook-native-'));
    symlinkSync(relative(dir, join(projectRoot(), 'src')), join(dir, 'glyphlab'));
    writeFileSync(join(dir, 'backend.ipynb'), JSON.stringify(BACKEND_NOTEBOOK, null, 1));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the wasm backend set up through the glyphlab link loads the native module from the project root', async () => {
    const { notebook } = await runNotebook(join(dir, 'backend.ipynb'), { out: join(dir, 'backend.executed.ipynb') });
    const text = outputText(notebook);
    assert.equal(notebookHasErrors(notebook), false, text);
    const native = JSON.parse(/^native: (.*)$/m.exec(text)?.[1] ?? 'null') as { loaded?: boolean; path?: string; reason?: string } | null;
    assert.equal(native?.loaded, true, `the notebook's kernels: ${text}`);
    assert.equal(native?.path, NATIVE_MODULE_PATH);
    assert.equal(NATIVE_MODULE_PATH, join(projectRoot(), 'native', 'build', 'Release', 'glyphlab_kernels.node'));
    assert.match(text, /backend: wasm \(.*native AVX2\/FMA products\)/);
  });
});
