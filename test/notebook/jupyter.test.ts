/**
 * glyphlab with a real Jupyter (Debian's jupyter-notebook, nbconvert and nbclient, installed by
 * .ci/run): the kernel registered by `glyphlab notebook kernel install`, a notebook executed by
 * nbconvert with node_modules/.bin NOT on PATH, signed so that Jupyter's own check trusts it, and
 * its charts drawn in headless Chromium; `glyphlab notebook run` signing what it writes; and
 * `npm run notebooks` starting Jupyter Notebook with the registered kernel. Jupyter's folders
 * (kernel specs, the signature database) are a temporary folder's, through JUPYTER_DATA_DIR.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { type Notebook, injectParameters, readNotebook } from '../../src/notebook/run';
import { openHeadless } from '../dashboard/chromium';
import { plotlyBundles } from '../support/notebook';

const root = join(__dirname, '..', '..');
const PYTHON = '/usr/bin/python3';
const INSTALL = 'apt-get install -y --no-install-recommends jupyter-notebook python3-nbconvert python3-nbclient python3-ipykernel (.ci/run does)';

/** Jupyter's own trust check, as Jupyter Notebook runs it when it opens a notebook. */
const CHECK_TRUST = `
import sys, nbformat
from nbformat.sign import NotebookNotary
nb = nbformat.read(sys.argv[1], as_version=4)
nbformat.validate(nb)
print("trusted" if NotebookNotary().check_signature(nb) else "untrusted")
`;

function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): { code: number | null; out: string; err: string } {
  const result = spawnSync(command, args, { cwd: root, env, encoding: 'utf8', timeout: timeoutMs });
  if (result.error) throw result.error;
  return { code: result.status, out: result.stdout, err: result.stderr };
}

function glyphlab(args: string[], env: NodeJS.ProcessEnv, timeoutMs?: number): { code: number | null; out: string; err: string } {
  return run(process.execPath, [join(root, 'scripts', 'glyphlab.js'), ...args], env, timeoutMs);
}

function trustOf(path: string, env: NodeJS.ProcessEnv): string {
  const result = run(PYTHON, ['-c', CHECK_TRUST, path], env);
  assert.equal(result.code, 0, result.err);
  return result.out.trim();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('with a real Jupyter', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  before(() => {
    const probe = spawnSync(PYTHON, ['-c', 'import jupyter_client, nbformat, nbconvert, nbclient, notebook'], { encoding: 'utf8' });
    assert.equal(probe.status, 0, `Jupyter is needed for these tests: ${INSTALL}\n${probe.stderr ?? ''}`);
    dir = mkdtempSync(join(tmpdir(), 'glyphlab-jupyter-'));
    env = {
      ...process.env,
      // What any front end started outside npm has: no node_modules/.bin on PATH.
      PATH: (process.env['PATH'] ?? '').split(delimiter).filter((p) => !p.includes(join('node_modules', '.bin'))).join(delimiter),
      JUPYTER_DATA_DIR: join(dir, 'jupyter-data'),
      JUPYTER_CONFIG_DIR: join(dir, 'jupyter-config'),
      JUPYTER_RUNTIME_DIR: join(dir, 'jupyter-runtime'),
      GLYPHLAB_DB: join(dir, 'glyphlab.db'),
      GLYPHLAB_DATA_DIR: join(dir, 'data'),
      GLYPHLAB_EXPERIMENTS_DIR: join(dir, 'experiments'),
    };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('kernel install: a Python without Jupyter is refused with the package to install', () => {
    // Debian's Python without its site-packages: it runs, but has no Jupyter.
    const bare = join(dir, 'bare-python');
    writeFileSync(bare, `#!/bin/sh\nexec ${PYTHON} -S "$@"\n`);
    chmodSync(bare, 0o755);
    const result = glyphlab(['notebook', 'kernel', 'install', '--python', bare, '--user'], env);
    assert.equal(result.code, 2, result.err);
    assert.match(result.err, /bare-python cannot be used .*jupyter_client/);
    assert.match(result.err, /no jupyter_client/);
    assert.match(result.err, /apt-get install -y --no-install-recommends jupyter-notebook/);
  });

  test('kernel install --user registers tslab with an absolute path; kernel show finds it', () => {
    const result = glyphlab(['notebook', 'kernel', 'install', '--python', PYTHON, '--user'], env);
    assert.equal(result.code, 0, result.err);
    const specFile = join(dir, 'jupyter-data', 'kernels', 'tslab', 'kernel.json');
    assert.ok(result.out.includes(specFile), `prints where the spec went:\n${result.out}`);
    const spec = JSON.parse(readFileSync(specFile, 'utf8')) as { argv: string[]; language: string };
    assert.deepEqual(spec.argv, [join(root, 'node_modules', '.bin', 'tslab'), 'kernel', '--config-path', '{connection_file}']);
    assert.equal(spec.language, 'typescript');
    const shown = glyphlab(['notebook', 'kernel', 'show', '--python', PYTHON, '--json'], env);
    assert.equal(shown.code, 0, shown.err);
    const info = JSON.parse(shown.out) as { spec: { dir: string }; problem: string | null };
    assert.equal(info.spec.dir, join(dir, 'jupyter-data', 'kernels', 'tslab'));
    assert.equal(info.problem, null);
  });

  test('nbconvert --execute runs notebook 01 without node_modules/.bin on PATH; signed, Jupyter trusts it and its charts draw', { timeout: 420_000 }, async () => {
    assert.ok(existsSync(join(dir, 'jupyter-data', 'kernels', 'tslab', 'kernel.json')), 'the kernel was registered by the test before');
    // A small copy of 01 (nbconvert has no parameters): the injected cell is what papermill would add.
    const work = join(dir, 'nb');
    mkdirSync(work);
    // As in notebooks/: the library through a link, and node_modules above it for `import "tslab"`.
    symlinkSync(join(root, 'src'), join(work, 'glyphlab'));
    symlinkSync(join(root, 'node_modules'), join(work, 'node_modules'));
    const { notebook } = injectParameters(readNotebook(join(root, 'notebooks', '01-explore-equations.ipynb')), {
      count: 40,
      seed: 3,
      synthDir: join(dir, 'synth'),
      workers: 0,
      maxImages: 20,
      gridSize: 4,
    });
    writeFileSync(join(work, '01.ipynb'), JSON.stringify(notebook, null, 1));
    const converted = run(PYTHON, ['-m', 'nbconvert', '--to', 'notebook', '--execute', '--ExecutePreprocessor.timeout=300', '--output', '01.out.ipynb', join(work, '01.ipynb')], env, 400_000);
    assert.equal(converted.code, 0, converted.err.slice(-3000));
    const out = join(work, '01.out.ipynb');
    const executed = JSON.parse(readFileSync(out, 'utf8')) as Notebook;
    const outputs = executed.cells.flatMap((c) => c.outputs ?? []);
    assert.deepEqual(outputs.filter((o) => o.output_type === 'error'), []);
    const html = outputs.map((o) => (o.output_type === 'display_data' ? String(o.data['text/html'] ?? '') : '')).join('\n');
    assert.equal((html.match(/class="glyphlab-figure"/g) ?? []).length, 3, 'label lengths, characters, ink profile');
    assert.equal(plotlyBundles(executed), 1, 'plotly.js once');
    assert.ok(readFileSync(out).length < 6_000_000, 'the minified bundle keeps the notebook small');

    // nbconvert does not sign: Jupyter would show it "Not Trusted", without charts, until it is signed.
    assert.equal(trustOf(out, env), 'untrusted');
    const signed = glyphlab(['notebook', 'trust', out, '--python', PYTHON], env);
    assert.equal(signed.code, 0, signed.err);
    assert.match(signed.out, /^signed: /m);
    assert.equal(trustOf(out, env), 'trusted');

    // Reopened as a page: every chart draws offline, replacing its placeholder.
    const page = run(PYTHON, ['-m', 'nbconvert', '--to', 'html', '--output', '01.out.html', out], env);
    assert.equal(page.code, 0, page.err.slice(-2000));
    const dom = await openHeadless(join(work, '01.out.html'), { dumpDom: true });
    assert.equal(dom.code, 0, dom.stderr.slice(-2000));
    assert.equal((dom.stdout.match(/data-rendered="true"/g) ?? []).length, 3, 'all three charts drew');
    assert.doesNotMatch(dom.stdout, /glyphlab-figure-placeholder/);
  });

  test('glyphlab notebook run signs the executed copy for Jupyter', { timeout: 120_000 }, () => {
    const path = join(dir, 'tiny.ipynb');
    const tiny: Notebook = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
      cells: [
        { cell_type: 'code', id: 'params', metadata: { tags: ['parameters'] }, source: 'const n = 1;', outputs: [], execution_count: null },
        { cell_type: 'code', id: 'show', metadata: {}, source: 'import * as tslab from "tslab";\ntslab.display.html(`<b>${n + 1}</b>`);', outputs: [], execution_count: null },
      ],
    };
    writeFileSync(path, JSON.stringify(tiny));
    const out = join(dir, 'tiny.out.ipynb');
    const result = glyphlab(['notebook', 'run', path, '--param', 'n=2', '--out', out, '--python', PYTHON], env);
    assert.equal(result.code, 0, result.err);
    assert.match(result.err, /signed for Jupyter: trusted for this user/);
    assert.equal(trustOf(out, env), 'trusted');
    const written = JSON.parse(readFileSync(out, 'utf8')) as Notebook;
    assert.deepEqual(written.cells.map((c) => c.execution_count), [1, 2, 3], 'the runner fills execution_count');
  });

  test('npm run notebooks: finds the registered kernel (no re-registering), forwards Jupyter options, handles root', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const token = 'glyphlab-test';
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'scripts', 'notebooks.ts'), '--python', PYTHON, '--no-browser', '--ip', '127.0.0.1', '--port', String(port), `--NotebookApp.token=${token}`],
      { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    child.stdout?.on('data', (c: Buffer) => (log += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (log += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 60_000;
      while (!/is running at/.test(log) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 200));
      assert.match(log, /is running at/, log);
      assert.match(log, new RegExp(`tslab kernel: ${join(dir, 'jupyter-data', 'kernels', 'tslab').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      assert.doesNotMatch(log, /registering it/);
      if (process.getuid?.() === 0) assert.match(log, /running as root: passing --allow-root to Jupyter/);
      const response = await fetch(`http://127.0.0.1:${port}/api/kernelspecs?token=${token}`);
      assert.equal(response.status, 200);
      const specs = (await response.json()) as { kernelspecs: Record<string, { spec: { argv: string[] } }> };
      assert.equal(specs.kernelspecs['tslab']?.spec.argv[0], join(root, 'node_modules', '.bin', 'tslab'));
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
