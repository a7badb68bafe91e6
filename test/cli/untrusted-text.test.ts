// Issue #37 item 17: stored or file-derived text reaches the terminal escaped (errors naming files
// from a labels file, the dashboard's best run, CSV on a terminal, --json); CSV cells that a
// spreadsheet would run, full-width and | included, are neutralised.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_OK, EXIT_USAGE } from '../../src/cli/main';
import { parseCsv } from '../../src/data/equations/load';
import { finishRun, logMetrics, startRun } from '../../src/tracker/record';
import { closeStore, openStore } from '../../src/tracker/store';
import { cli } from '../support/cli';

const root = mkdtempSync(join(tmpdir(), 'glyphlab-cli-untrusted-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** What acts on a terminal or reorders it: C0 controls but the line feed, DEL, C1, bidirectional controls. */
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

/** The file name of issue #37: sets the window title, rings, wipes the screen, then reverses the rest. */
const HOSTILE_FILE = 'images/\u001b]0;pwn\u0007\u001b[2J\u202eevil.png';
const SHOWN_FILE = 'images/\\x1b]0;pwn\\x07\\x1b[2J\\u202eevil.png';

/** Every string inside a parsed JSON value. */
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}

describe('file names from a labels file in errors', () => {
  const data = join(root, 'eq');
  before(async () => {
    const synth = await cli(['data', 'synth', '--out', data, '--count', '4', '--seed', '5', '--workers', '0']);
    assert.equal(synth.code, EXIT_OK, synth.err);
    appendFileSync(join(data, 'labels.csv'), `${HOSTILE_FILE},1+1=2\n`);
  });

  test('data check names the row with its file name escaped; so does --skip-invalid', async () => {
    const failed = await cli(['data', 'check', data]);
    assert.equal(failed.code, EXIT_USAGE, failed.err);
    assert.doesNotMatch(failed.err, RAW);
    assert.ok(failed.err.includes(`row 6 (${SHOWN_FILE})`), failed.err);
    const skipped = await cli(['data', 'check', data, '--skip-invalid']);
    assert.equal(skipped.code, EXIT_OK, skipped.err);
    assert.doesNotMatch(skipped.err, RAW);
    assert.ok(skipped.err.includes(SHOWN_FILE), skipped.err);
  });

  test('train fails naming the row with its file name escaped', async () => {
    const failed = await cli(['train', '--data', data, '--epochs', '1', '--db', join(root, 'train.db')]);
    assert.equal(failed.code, EXIT_USAGE, failed.err);
    assert.doesNotMatch(failed.err, RAW);
    assert.ok(failed.err.includes(SHOWN_FILE), failed.err);
  });
});

describe('run names and notes from the store', () => {
  const db = join(root, 'hostile.db');
  const name = 'best\u001b[2J\u0007\u202etxt.exe';
  let runId = '';
  before(() => {
    const store = openStore(db);
    runId = startRun(store, { experiment: 'eq', name, config: { model: '＠SUM(A1)', optimizer: '|calc' }, tags: ['＋cmd'], git: false, heartbeat: false });
    logMetrics(store, runId, { val_accuracy: 0.75 }, { step: 0 });
    finishRun(store, runId);
    const second = startRun(store, { experiment: 'eq', name: '＝HYPERLINK("http://evil","x")', config: { model: '－1' }, git: false, heartbeat: false });
    logMetrics(store, second, { val_accuracy: 0.5 }, { step: 0 });
    finishRun(store, second);
    closeStore(store);
  });

  test("the dashboard's best-run line shows the name escaped", async () => {
    const result = await cli(['dashboard', '--db', db, '--out', join(root, 'report.html')]);
    assert.equal(result.code, EXIT_OK, result.err);
    assert.doesNotMatch(result.out, RAW);
    assert.match(result.out, /; best best\\x1b\[2J\\x07\\u202etxt\.exe · \w+ \(val_accuracy 75\.00%\)/);
  });

  test('runs ls --csv and runs export --format csv escape on a terminal and stay exact on a pipe or file', async () => {
    for (const argv of [['runs', 'ls', '--csv', '--db', db], ['runs', 'export', '--format', 'csv', '--db', db]]) {
      const terminal = await cli(argv, { terminal: true });
      assert.equal(terminal.code, EXIT_OK, terminal.err);
      assert.doesNotMatch(terminal.out, RAW, argv.join(' '));
      assert.ok(terminal.out.includes('best\\x1b[2J\\x07\\u202etxt.exe'), terminal.out);
      const pipe = await cli(argv);
      assert.equal(pipe.code, EXIT_OK, pipe.err);
      const [header, ...rows] = parseCsv(pipe.out).map((r) => r.fields);
      assert.ok(rows.some((row) => row[header!.indexOf('name')] === name), 'the CSV holds the name exactly as recorded');
    }
  });

  test('--json writes bidirectional and C1 controls as \\u escapes: the same value, nothing raw', async () => {
    for (const argv of [['runs', 'ls', '--json', '--db', db], ['runs', 'show', runId, '--json', '--db', db], ['runs', 'export', '--db', db], ['dashboard', '--db', db, '--out', join(root, 'json.html'), '--json']]) {
      const result = await cli(argv);
      assert.equal(result.code, EXIT_OK, result.err);
      assert.doesNotMatch(result.out, RAW, argv.join(' '));
      assert.ok(result.out.includes('best\\u001b[2J\\u0007\\u202etxt.exe'), argv.join(' '));
      assert.ok(stringsIn(JSON.parse(result.out)).some((text) => text.includes(name)), 'parses back to the recorded name');
    }
  });

  test('CSV cells starting with full-width = + - @ or | get the leading quote too', async () => {
    const result = await cli(['runs', 'export', '--format', 'csv', '--db', db]);
    const [header, ...rows] = parseCsv(result.out).map((r) => r.fields);
    const cells = (column: string): string[] => rows.map((row) => row[header!.indexOf(column)]!);
    assert.deepEqual(cells('params.model').sort(), ["'＠SUM(A1)", "'－1"].sort());
    assert.ok(cells('params.optimizer').includes("'|calc"));
    assert.ok(cells('tags').includes("'＋cmd"));
    assert.ok(cells('name').includes('\'＝HYPERLINK("http://evil","x")'));
    const raw = await cli(['runs', 'export', '--format', 'csv', '--raw', '--db', db]);
    assert.ok(raw.out.includes(',＠SUM(A1),') || raw.out.includes(',＠SUM(A1)\n'), '--raw keeps them as recorded');
  });
});
