import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  NotebookCellError,
  injectParameters,
  notebookHasErrors,
  parseParameterArg,
  readNotebook,
  runNotebook,
  type Notebook,
  type NotebookCell,
  type NotebookParameterValue,
} from '../../src/notebook/run';
import Database from 'better-sqlite3';
import ts from 'typescript';
import { ConfigError, DataError } from '../../src/errors';

const root = join(__dirname, '..', '..');
const hello = join(root, 'notebooks', '00-hello.ipynb');

function code(source: string, tags?: string[]): NotebookCell {
  return { cell_type: 'code', metadata: tags ? { tags } : {}, source, outputs: [], execution_count: null };
}

function notebookOf(cells: NotebookCell[]): Notebook {
  return { nbformat: 4, nbformat_minor: 4, metadata: {}, cells };
}

function text(cell: NotebookCell | undefined): string {
  return (cell?.outputs ?? [])
    .map((o) => (o.output_type === 'stream' ? o.text : ''))
    .join('');
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'glyphlab-run-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('parameters', () => {
  test('parseParameterArg reads numbers, booleans, JSON and plain strings', () => {
    assert.deepEqual(parseParameterArg('steps=2'), ['steps', 2]);
    assert.deepEqual(parseParameterArg('lr=5e-4'), ['lr', 0.0005]);
    assert.deepEqual(parseParameterArg('augment=false'), ['augment', false]);
    assert.deepEqual(parseParameterArg('size=[32,128]'), ['size', [32, 128]]);
    assert.deepEqual(parseParameterArg('name=crnn=v2'), ['name', 'crnn=v2']);
    assert.deepEqual(parseParameterArg('tag=[draft'), ['tag', '[draft']);
    assert.throws(() => parseParameterArg('no-equals'), ConfigError);
    assert.throws(() => parseParameterArg('2bad=1'), /TypeScript identifier/);
  });

  test('injectParameters adds a tagged cell after the parameters cell and clears old outputs', () => {
    const source = notebookOf([
      code('console.log(1)'),
      code('const steps = 3;\nlet name = "a";', ['parameters']),
      { ...code('old'), outputs: [{ output_type: 'stream', name: 'stdout', text: 'stale' }], execution_count: 9 },
    ]);
    const { notebook, injectedCellIndex } = injectParameters(source, { steps: 2, name: 'b"c' });
    assert.equal(injectedCellIndex, 2);
    const injected = notebook.cells[2];
    assert.deepEqual(injected?.metadata.tags, ['injected-parameters']);
    assert.match(String(injected?.source), /^const steps = 2;$/m);
    assert.match(String(injected?.source), /^const name = "b\\"c";$/m);
    assert.deepEqual(notebook.cells[3]?.outputs, []);
    assert.equal(notebook.cells[3]?.execution_count, null);
    assert.equal(source.cells.length, 3, 'the source notebook is not modified');
    // Re-running an executed copy replaces its injected cell rather than adding a second one.
    const again = injectParameters(notebook, { steps: 5 });
    assert.equal(again.notebook.cells.filter((c) => c.metadata.tags?.includes('injected-parameters')).length, 1);
  });

  test('injected values compile as TypeScript and evaluate to what was given: U+2028 in strings, __proto__ as a key', () => {
    const source = notebookOf([code('const label = "x";\nconst cfg = {};\nconst list = [];', ['parameters'])]);
    const given: Record<string, NotebookParameterValue> = {
      label: 'line\u2028separator\u2029paragraph \\\u2028',
      cfg: JSON.parse('{"__proto__": {"polluted": true}, "nested": {"__proto__": 1, "k\\u2028": "v"}}') as NotebookParameterValue,
      list: ['a\u2028', { __proto__: null, b: 1 } as unknown as NotebookParameterValue, [null, 2.5, false]],
    };
    const injected = String(injectParameters(source, given).notebook.cells[1]?.source);
    const { outputText, diagnostics } = ts.transpileModule(injected, { reportDiagnostics: true, compilerOptions: { target: ts.ScriptTarget.ES2020 } });
    assert.deepEqual(diagnostics?.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')), [], injected);
    const values = new Function(`${outputText}\nreturn { label, cfg, list };`)() as Record<string, unknown>;
    assert.equal(values.label, given.label);
    assert.equal(JSON.stringify(values.cfg), JSON.stringify(given.cfg), 'the __proto__ keys are own keys, as given');
    assert.deepEqual(Object.keys(values.cfg as object), ['__proto__', 'nested']);
    assert.equal(({} as { polluted?: boolean }).polluted, undefined);
    assert.equal(Object.getPrototypeOf(values.cfg), Object.prototype);
    assert.equal(JSON.stringify(values.list), JSON.stringify(given.list));
  });

  test('unknown names and a missing parameters cell are ConfigErrors naming what is declared', () => {
    const source = notebookOf([code('const steps = 3;', ['parameters'])]);
    assert.throws(() => injectParameters(source, { epochs: 1 }), /declares no parameter "epochs"; its parameters cell declares: steps/);
    assert.throws(() => injectParameters(notebookOf([code('1')]), { steps: 1 }), /no code cell tagged "parameters"/);
  });

  test('readNotebook rejects a missing file, bad JSON and other formats with the path', () => {
    assert.throws(() => readNotebook(join(dir, 'missing.ipynb')), (e: unknown) => e instanceof DataError && /missing\.ipynb does not exist/.test(e.message));
    writeFileSync(join(dir, 'bad.ipynb'), '{ not json');
    assert.throws(() => readNotebook(join(dir, 'bad.ipynb')), /bad\.ipynb is not valid JSON/);
    writeFileSync(join(dir, 'v3.ipynb'), JSON.stringify({ nbformat: 3, worksheets: [] }));
    assert.throws(() => readNotebook(join(dir, 'v3.ipynb')), /not an nbformat 4 notebook \(found nbformat 3\)/);
  });
});

describe('runNotebook through the real tslab kernel', () => {
  test('the committed 00-hello notebook has no outputs', () => {
    const committed = readNotebook(hello);
    for (const cell of committed.cells.filter((c) => c.cell_type === 'code')) {
      assert.deepEqual(cell.outputs, []);
      assert.equal(cell.execution_count, null);
    }
  });

  test('--out onto a SQLite file (the store) is refused before the kernel starts, and the file stays byte for byte', async () => {
    const store = join(dir, 'store.db');
    const db = new Database(store);
    db.exec('CREATE TABLE runs (id TEXT); INSERT INTO runs VALUES (\'r1\')');
    db.close();
    const before = readFileSync(store);
    await assert.rejects(runNotebook(hello, { out: store }), (e: unknown) => e instanceof ConfigError && /store\.db is a SQLite database; write the executed copy elsewhere/.test(e.message));
    assert.deepEqual(readFileSync(store), before);
  });

  test('runs 00-hello with steps=2: backend line, two losses, HTML display, injected cell', async () => {
    const out = join(dir, 'hello.executed.ipynb');
    const events: string[] = [];
    const result = await runNotebook(hello, {
      parameters: { steps: 2 },
      out,
      cellTimeoutMs: 120_000,
      onCell: (e) => events.push(`${e.phase}:${e.cellIndex}${e.status ? `:${e.status}` : ''}`),
    });
    assert.equal(result.outPath, out);
    const written = JSON.parse(readFileSync(out, 'utf8')) as Notebook;
    assert.equal(notebookHasErrors(written), false);
    const injectedIndex = written.cells.findIndex((c) => c.metadata.tags?.includes('injected-parameters'));
    assert.equal(result.injectedCellIndex, injectedIndex);
    assert.ok(written.cells[injectedIndex - 1]?.metadata.tags?.includes('parameters'), 'injected right after the parameters cell');
    assert.match(String(written.cells[injectedIndex]?.source), /const steps = 2;/);

    const all = written.cells.map(text).join('');
    assert.match(all, /on backend: wasm \(@tensorflow\/tfjs-backend-wasm/);
    const losses = /losses: (.*)\n/.exec(all)?.[1]?.split(' ').map(Number);
    assert.equal(losses?.length, 2, all);
    assert.ok(losses?.every(Number.isFinite));
    const html = written.cells.flatMap((c) => c.outputs ?? []).find((o) => o.output_type === 'display_data');
    assert.ok(html && html.output_type === 'display_data');
    assert.match(String(html.data['text/html']), /2 training steps on <code>wasm<\/code>/);

    const counts = written.cells.filter((c) => c.cell_type === 'code').map((c) => c.execution_count);
    assert.deepEqual(counts, counts.map((_, i) => i + 1), 'every code cell ran once, in order');
    assert.equal(events.filter((e) => e.endsWith(':ok')).length, counts.length);
  });

  test('a failing cell: NotebookCellError names the cell, the partial copy is written, displays end updated', async () => {
    const path = join(dir, 'failing.ipynb');
    const source = notebookOf([
      { cell_type: 'markdown', metadata: {}, source: ['# A notebook', ' that fails'] },
      code('import * as tslab from "tslab";\nconst live = tslab.newDisplay();\nlive.text("epoch 1");\nlive.text("epoch 2");\nconsole.log("before");'),
      code('const limit = 6;\nthrow new RangeError(`bad value ${limit * 7}`);'),
      code('console.log("never")'),
    ]);
    writeFileSync(path, JSON.stringify(source));
    const error = await runNotebook(path).then(
      () => assert.fail('expected the run to fail'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof NotebookCellError, String(error));
    assert.equal(error.cellIndex, 2);
    assert.equal(error.ename, 'RangeError');
    assert.equal(error.evalue, 'bad value 42');
    assert.match(error.message, /cell 2 \(`const limit = 6;`\) failed: RangeError: bad value 42/);
    assert.equal(error.outPath, join(dir, 'failing.executed.ipynb'));

    const partial = JSON.parse(readFileSync(error.outPath, 'utf8')) as Notebook;
    assert.equal(notebookHasErrors(partial), true);
    assert.equal(text(partial.cells[1]), 'before\n');
    assert.deepEqual(partial.cells[1]?.outputs?.[0], { output_type: 'display_data', data: { 'text/plain': 'epoch 2' }, metadata: {} });
    const failed = partial.cells[2]?.outputs?.at(-1);
    assert.deepEqual(failed && failed.output_type === 'error' ? [failed.ename, failed.evalue] : failed, ['RangeError', 'bad value 42']);
    assert.equal(partial.cells[3]?.execution_count, null);
    assert.deepEqual(partial.cells[3]?.outputs, []);
    assert.equal(partial.cells[0]?.source, '# A notebook that fails');
    assert.ok(existsSync(path) && !('glyphlab' in (JSON.parse(readFileSync(path, 'utf8')) as Notebook).metadata), 'the source is untouched');
  });
});
