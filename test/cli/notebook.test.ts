import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
// The command as npm installs it: whatever package.json's `bin` names.
const bin = join(root, (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin['glyphlab'] as string);

function glyphlab(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('glyphlab notebook run', () => {
  let dir: string;
  let notebook: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'glyphlab-cli-notebook-'));
    notebook = join(dir, 'tiny.ipynb');
    const cell = (source: string, tags?: string[]) => ({ cell_type: 'code', metadata: tags ? { tags } : {}, source, outputs: [], execution_count: null });
    writeFileSync(
      notebook,
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 4,
        metadata: {},
        cells: [cell('const count = 2;\nconst label = "x";', ['parameters']), cell('console.log(label.repeat(count))')],
      }),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('runs a notebook with parameters, writes the copy, prints a JSON summary and per-cell progress', async () => {
    const out = join(dir, 'out.ipynb');
    // --no-trust: signing would write to this user's Jupyter folder (test/notebook/jupyter.test.ts signs in a temporary one).
    const result = await glyphlab(['notebook', 'run', notebook, '--param', 'count=3', '-p', 'label=ab', '--out', out, '--timeout', '60', '--json', '--no-trust']);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as { out: string; parameters: unknown; trusted: boolean; cells: { status: string }[] };
    assert.equal(summary.out, out);
    assert.equal(summary.trusted, false);
    assert.deepEqual(summary.parameters, { count: 3, label: 'ab' });
    assert.deepEqual(summary.cells.map((c) => c.status), ['ok', 'ok', 'ok']);
    assert.match(result.stderr, /\[3\/3\] cell 2 ok/);
    const written = JSON.parse(readFileSync(out, 'utf8')) as { cells: { outputs: { text?: string }[] }[] };
    assert.equal(written.cells[2]?.outputs[0]?.text, 'ababab\n');
  });

  test('a failing cell exits 1 with one line naming the cell and the error', async () => {
    const failing = join(dir, 'failing.ipynb');
    writeFileSync(
      failing,
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 4,
        metadata: {},
        cells: [{ cell_type: 'code', metadata: {}, source: 'JSON.parse("{oops")', outputs: [], execution_count: null }],
      }),
    );
    const result = await glyphlab(['notebook', 'run', failing]);
    assert.equal(result.code, 1);
    const lines = result.stderr.trim().split('\n');
    const last = lines[lines.length - 1] ?? '';
    assert.match(last, /^glyphlab notebook run: notebook .*failing\.ipynb: cell 0 \(`JSON\.parse\("\{oops"\)`\) failed: SyntaxError: /);
    assert.match(last, /partial copy: .*failing\.executed\.ipynb\)$/);
    assert.ok(existsSync(join(dir, 'failing.executed.ipynb')));
  });

  test('a missing notebook exits 2 with a one-line reason', async () => {
    const missing = join(dir, 'nope.ipynb');
    const result = await glyphlab(['notebook', 'run', missing]);
    assert.equal(result.code, 2);
    assert.equal(result.stderr, `glyphlab notebook run: notebook ${missing} does not exist\n`);
    assert.equal(result.stdout, '');
  });

  test('a parameter the notebook does not declare exits 2 before starting a kernel', async () => {
    const result = await glyphlab(['notebook', 'run', notebook, '--param', 'epochs=1']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^glyphlab notebook run: .*declares no parameter "epochs"; its parameters cell declares: count, label\n$/);
    assert.equal(existsSync(join(dir, 'tiny.executed.ipynb')), false);
  });

  test('a value with U+2028 and a JSON key __proto__ reach the notebook as given; --param __proto__ or a repeated key is refused', async () => {
    const odd = join(dir, 'odd.ipynb');
    const cell = (source: string, tags?: string[]) => ({ cell_type: 'code', metadata: tags ? { tags } : {}, source, outputs: [], execution_count: null });
    writeFileSync(
      odd,
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 4,
        metadata: {},
        cells: [cell('const label = "x";\nconst cfg = {};', ['parameters']), cell('console.log(JSON.stringify({ label: label, cfg: cfg, keys: Object.keys(cfg) }))')],
      }),
    );
    const out = join(dir, 'odd-out.ipynb');
    const label = 'a\u2028b\u2029c';
    const result = await glyphlab(['notebook', 'run', odd, '--param', `label=${label}`, '--param', 'cfg={"__proto__":{"x":1},"y":2}', '--out', out, '--no-trust']);
    assert.equal(result.code, 0, result.stderr);
    const written = JSON.parse(readFileSync(out, 'utf8')) as { cells: { outputs: { text?: string }[] }[] };
    const seen = JSON.parse(written.cells[2]?.outputs[0]?.text ?? '{}') as { label: string; cfg: unknown; keys: string[] };
    assert.deepEqual(seen, { label, cfg: JSON.parse('{"__proto__":{"x":1},"y":2}'), keys: ['__proto__', 'y'] });

    const proto = await glyphlab(['notebook', 'run', odd, '--param', '__proto__={"label":"polluted"}', '--no-trust']);
    assert.equal(proto.code, 2);
    assert.match(proto.stderr, /declares no parameter "__proto__"; its parameters cell declares: label, cfg/);
    const twice = await glyphlab(['notebook', 'run', odd, '--param', 'label=a', '--param', 'label=b', '--no-trust']);
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /--param label is given twice \("a" and "b"\); give it once/);
  });
});
