import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

const root = join(__dirname, '..', '..');
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'glyphlab-notebooks-script-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function runScript(path: string): ReturnType<typeof spawnSync> & { stderr: string; stdout: string } {
  return spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'notebooks.ts')], {
    cwd: root,
    env: { ...process.env, PATH: path },
    encoding: 'utf8',
  }) as ReturnType<typeof spawnSync> & { stderr: string; stdout: string };
}

test('npm run notebooks without Jupyter prints how to install it and exits 1', () => {
  const result = runScript(join(dir, 'empty'));
  assert.equal(result.status, 1);
  assert.match(result.stderr, /Jupyter is not installed/);
  assert.match(result.stderr, /apt-get install -y --no-install-recommends jupyter-notebook/);
  assert.match(result.stderr, /npx tslab install --python=/);
});

// Jupyter is not installed on this machine, so a stand-in `jupyter` records how the script calls it.
test('with Jupyter and the kernel registered it starts `jupyter notebook` on notebooks/ with tslab on PATH', () => {
  const log = join(dir, 'calls.log');
  const fake = join(dir, 'jupyter');
  writeFileSync(
    fake,
    `#!/bin/sh
echo "$* | PATH=$PATH" >> ${JSON.stringify(log)}
if [ "$1" = kernelspec ]; then echo '{"kernelspecs": {"tslab": {}}}'; fi
exit 0
`,
  );
  chmodSync(fake, 0o755);
  const result = runScript([dir, '/usr/bin', '/bin'].join(delimiter));
  assert.equal(result.status, 0, result.stderr);
  const calls = readFileSync(log, 'utf8').trim().split('\n');
  assert.equal(calls.length, 2);
  assert.match(calls[0] ?? '', /^kernelspec list --json \|/);
  assert.ok(calls[1]?.startsWith(`notebook --notebook-dir ${join(root, 'notebooks')} | PATH=${join(root, 'node_modules', '.bin')}${delimiter}`), calls[1]);
});
