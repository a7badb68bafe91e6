/**
 * `npm run notebooks` where no Python has Jupyter. With Jupyter, test/notebook/jupyter.test.ts
 * starts the real Jupyter Notebook through this script.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'glyphlab-notebooks-script-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('npm run notebooks with a Python that lacks Jupyter prints what to install and exits 1', () => {
  // A real Python without its site-packages: it runs, but imports no Jupyter.
  const bare = join(dir, 'bare-python');
  writeFileSync(bare, '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n');
  chmodSync(bare, 0o755);
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'notebooks.ts'), '--python', bare, '--no-browser'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /bare-python cannot be used/);
  assert.match(result.stderr, /no jupyter_client, notebook/);
  assert.match(result.stderr, /apt-get install -y --no-install-recommends jupyter-notebook/);
  assert.match(result.stderr, /pip install notebook/);
  assert.match(result.stderr, /npx glyphlab notebook run notebooks\/00-hello\.ipynb/);
});
