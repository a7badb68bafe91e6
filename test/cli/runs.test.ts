import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { projectRoot } from '../../src/util/paths';
import { Writable } from 'node:stream';
import { runCli } from '../../src/cli/main';
import { closeStore, openStore } from '../../src/tracker/store';
import { finishRun, logMetrics, startRun } from '../../src/tracker/record';
import { listRuns } from '../../src/tracker/query';
import { parseCsv } from '../../src/data/equations/load';
import { sqliteDb, tempDbPath } from '../tracker/helpers';

function capture(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = capture();
  const err = capture();
  const code = await runCli(argv, { stdout: out.stream, stderr: err.stream });
  return { code, stdout: out.text(), stderr: err.text() };
}

describe('glyphlab runs', () => {
  const file = tempDbPath();
  const ids: string[] = [];
  before(() => {
    const store = openStore(file);
    [0.9, 0.99, 0.95].forEach((acc, i) => {
      const runId = startRun(store, { experiment: 'eq', name: `run${i}`, config: { model: i === 1 ? 'vgg19-crnn' : 'crnn', lr: 10 ** -(i + 2) }, git: false, heartbeat: false });
      logMetrics(store, runId, { val_accuracy: acc, loss: i === 2 ? NaN : 1 - acc }, { step: 0 });
      finishRun(store, runId);
      ids.push(runId);
    });
    closeStore(store);
  });

  test('ls sorts by a metric and shows NaN as NaN', async () => {
    const { code, stdout } = await cli(['runs', 'ls', '--db', file, '--sort=-val_accuracy']);
    assert.equal(code, 0);
    const lines = stdout.trim().split('\n');
    // One experiment: no experiment column; the sort key first among the metrics, as a percentage.
    assert.match(lines[0]!, /^id\s+name\s+status\s+started\s+duration\s+val_acc\s+loss$/);
    assert.deepEqual(lines.slice(1).map((l) => l.split(/\s+/)[0]), [ids[1], ids[2], ids[0]]);
    assert.match(lines[2]!, /95\.00%\s+NaN$/);
    const suffixed = await cli(['runs', 'ls', '--db', file, '--sort', 'val_accuracy:desc']);
    assert.equal(suffixed.stdout, stdout);
  });

  test('ls --where filters, --json gives records, --csv a table', async () => {
    const json = await cli(['runs', 'ls', '--db', file, '--where', 'params.model = "crnn" and metrics.val_accuracy > 0.92', '--json']);
    assert.equal(json.code, 0);
    const runs = JSON.parse(json.stdout) as { id: string; metrics: { loss: { last: unknown } } }[];
    assert.deepEqual(runs.map((r) => r.id), [ids[2]]);
    assert.equal(runs[0]?.metrics.loss.last, 'NaN');
    const csv = await cli(['runs', 'ls', '--db', file, '--csv', '--limit', '1', '--sort', 'val_accuracy']);
    const [header, row] = csv.stdout.trim().split('\n');
    assert.ok(header?.split(',').includes('params.lr'));
    assert.ok(row?.startsWith(`${ids[0]},`));
  });

  test('a bad --where prints the expression with a caret and exits 2', async () => {
    const { code, stderr, stdout } = await cli(['runs', 'ls', '--db', file, '--where', 'metrics.val_accuracy >> 0.9']);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    const lines = stderr.split('\n');
    assert.match(lines[0]!, /column 23: expected a value/);
    assert.equal(lines[1], '  metrics.val_accuracy >> 0.9');
    assert.equal(lines[2]?.indexOf('^'), 24);
  });

  test('a runaway --where or --sort is refused up front with the limit it broke, exit 2, not blamed on the database', async () => {
    const huge = Array.from({ length: 2000 }, () => 'metrics.loss > 0').join(' or ');
    const wide = await cli(['runs', 'ls', '--db', file, '--where', huge]);
    assert.equal(wide.code, 2);
    assert.match(wide.stderr, /^glyphlab runs: bad filter expression at column \d+: more than 256 comparisons in one filter/);
    assert.doesNotMatch(wide.stderr, /experiment database|Expression tree/);
    assert.ok(wide.stderr.split('\n').every((line) => line.length < 200), 'the expression is shown around the place, not whole');
    const deep = await cli(['runs', 'export', '--db', file, '--where', `${'('.repeat(5000)}metrics.loss > 0${')'.repeat(5000)}`]);
    assert.equal(deep.code, 2);
    assert.match(deep.stderr, /more than 32 nested parentheses/);
    assert.doesNotMatch(deep.stderr, /call stack/);
    const sorted = await cli(['runs', 'ls', '--db', file, '--sort', Array.from({ length: 40 }, (_, i) => `params.p${i}`).join(',')]);
    assert.equal(sorted.code, 2);
    assert.match(sorted.stderr, /bad sort: 40 keys; at most 16/);
  });

  test('CSV neutralises text cells a spreadsheet would run (--raw keeps them); show and ls escape terminal control characters', async () => {
    const hostile = join(dirname(file), 'hostile.db');
    const store = openStore(hostile);
    const runId = startRun(store, { name: '=HYPERLINK("http://evil","x")\u001b[2J', config: { model: '@SUM(A1)', lr: -0.5 }, tags: ['+cmd', 'rtl\u202egnp.exe'], git: false, heartbeat: false });
    logMetrics(store, runId, { loss: -1.5 }, { step: 0 });
    finishRun(store, runId);
    closeStore(store);
    assert.equal((await cli(['runs', 'note', runId, 'fine\rOVERWRITTEN\u0007', '--db', hostile])).code, 0);

    const csv = await cli(['runs', 'export', '--format', 'csv', '--db', hostile]);
    const [header, row] = parseCsv(csv.stdout).map((r) => r.fields);
    const cell = (name: string): string => row![header!.indexOf(name)]!;
    assert.equal(cell('params.model'), "'@SUM(A1)");
    assert.equal(cell('params.lr'), '-0.5', 'numbers are left alone');
    assert.equal(cell('metrics.loss'), '-1.5');
    assert.equal(cell('tags'), "'+cmd rtl\u202egnp.exe");
    assert.equal(cell('name'), `'=HYPERLINK("http://evil","x")\u001b[2J`);
    assert.equal(cell('note'), 'fine\rOVERWRITTEN\u0007', 'CSV is data: control characters are kept (quoted)');
    const raw = await cli(['runs', 'ls', '--csv', '--raw', '--db', hostile]);
    assert.match(raw.stdout, /,"=HYPERLINK\(""http:\/\/evil""/);
    assert.match(raw.stdout, /,@SUM\(A1\),/);

    const unprintable = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;
    const show = await cli(['runs', 'show', runId, '--db', hostile]);
    const ls = await cli(['runs', 'ls', '--db', hostile]);
    for (const output of [show.stdout, ls.stdout]) {
      assert.doesNotMatch(output, unprintable);
      assert.ok(output.includes('\\x1b[2J'), output);
      assert.ok(output.includes('rtl\\u202egnp.exe'), output);
    }
    assert.match(show.stdout, /^ {2}note {8}fine\\rOVERWRITTEN\\x07$/m);
  });

  test('show, best, compare, tag, note, export, delete', async () => {
    const show = await cli(['runs', 'show', ids[1]!, '--db', file]);
    assert.equal(show.code, 0);
    assert.match(show.stdout, /model = vgg19-crnn/);
    const best = await cli(['runs', 'best', '--metric', 'val_accuracy', '--db', file]);
    assert.match(best.stdout, new RegExp(`^${ids[1]}\\s+run1\\s+val_accuracy best 99\\.00%`));
    const worst = await cli(['runs', 'best', '--metric', 'val_accuracy', '--mode', 'min', '--db', file]);
    assert.ok(worst.stdout.startsWith(ids[0]!));
    const compare = await cli(['runs', 'compare', ids[0]!, ids[1]!, '--db', file]);
    assert.match(compare.stdout, /model\s+crnn\s+vgg19-crnn/);
    assert.equal((await cli(['runs', 'tag', ids[0]!, 'bad', '--db', file])).code, 0);
    assert.equal((await cli(['runs', 'note', ids[0]!, 'too', 'slow', '--db', file])).code, 0);
    const tagged = await cli(['runs', 'ls', '--db', file, '--where', 'tags contains "bad"', '--json']);
    const taggedRuns = JSON.parse(tagged.stdout) as { id: string; note: string }[];
    assert.deepEqual(taggedRuns.map((r) => [r.id, r.note]), [[ids[0], 'too slow']]);
    const out = join(dirname(file), 'runs.csv');
    assert.equal((await cli(['runs', 'export', '--format', 'csv', '--out', out, '--db', file])).code, 0);
    assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 4);
    assert.equal((await cli(['runs', 'delete', ids[0]!, '--db', file])).code, 0);
    const missing = await cli(['runs', 'show', ids[0]!, '--db', file]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no run/);
  });

  test('schedule prints the --lr-schedule replaying a run up to its best epoch, or the first N', async () => {
    const store = openStore(file);
    const runId = startRun(store, { experiment: 'digits', name: 'selection', git: false, heartbeat: false });
    const rates = [0.002, 0.002, 0.001, 0.001, 0.0005];
    const accuracy = [0.5, 0.7, 0.8, 0.9, 0.85];
    rates.forEach((lr, epoch) => logMetrics(store, runId, { lr, val_accuracy: accuracy[epoch]!, loss: 1 / (epoch + 1) }, { step: epoch, epoch }));
    finishRun(store, runId);
    const noRates = startRun(store, { experiment: 'digits', name: 'imported', git: false, heartbeat: false });
    logMetrics(store, noRates, { val_accuracy: 0.9 }, { step: 0 });
    finishRun(store, noRates);
    closeStore(store);

    const best = await cli(['runs', 'schedule', runId, '--db', file]);
    assert.equal(best.code, 0, best.stderr);
    assert.equal(best.stdout, '0.002x2,0.001x2\n');
    assert.match(best.stderr, /epochs 1-4, up to the best val_accuracy \(90\.00%\) of 5 recorded/);
    const all = await cli(['runs', 'schedule', runId, '--epochs', '5', '--db', file, '--json']);
    assert.deepEqual(JSON.parse(all.stdout), {
      runId,
      epochs: 5,
      schedule: '0.002x2,0.001x2,0.0005x1',
      steps: [{ learningRate: 0.002, epochs: 2 }, { learningRate: 0.001, epochs: 2 }, { learningRate: 0.0005, epochs: 1 }],
    });
    const byLoss = await cli(['runs', 'schedule', runId, '--metric', 'loss', '--db', file]);
    assert.equal(byLoss.stdout, '0.002x2,0.001x2,0.0005x1\n', 'the lowest loss is the last epoch');
    const tooMany = await cli(['runs', 'schedule', runId, '--epochs', '9', '--db', file]);
    assert.equal(tooMany.code, 2);
    assert.match(tooMany.stderr, /cannot replay 9 epochs from a history of 5/);
    const missing = await cli(['runs', 'schedule', noRates, '--db', file]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, new RegExp(`run ${noRates} recorded no per-epoch learning rate`));
    const noMetric = await cli(['runs', 'schedule', runId, '--metric', 'val_f1', '--db', file]);
    assert.match(noMetric.stderr, /no metric "val_f1" to choose the epochs by; give --epochs N or --metric KEY \(it has /);
  });

  test('a corrupt database file gets a one-line error naming it', async () => {
    const bad = join(dirname(file), 'bad.db');
    require('node:fs').writeFileSync(bad, 'this is not sqlite'.repeat(100));
    const { code, stderr } = await cli(['runs', 'ls', '--db', bad]);
    assert.equal(code, 1);
    assert.ok(stderr.includes(bad));
    assert.match(stderr, /not a glyphlab experiment database or is corrupt/);
  });

  test('read-only commands leave a SQLite file of another program untouched, and create nothing for a missing path', async () => {
    const other = join(dirname(file), 'notes.sqlite');
    const db = new Database(other);
    db.exec("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('keep me')");
    db.close();
    const before = readFileSync(other);
    for (const argv of [['runs', 'ls'], ['runs', 'export', '--format', 'csv'], ['runs', 'show', 'x'], ['dashboard', '--out', join(dirname(file), 'd.html')]]) {
      const result = await cli([...argv, '--db', other]);
      assert.equal(result.code, 1, argv.join(' '));
      assert.match(result.stderr, /notes\.sqlite is a SQLite database but not a glyphlab experiment store .*left untouched/);
    }
    assert.deepEqual(readFileSync(other), before, 'no tables, user_version or WAL added');
    assert.ok(!existsSync(`${other}-wal`) && !existsSync(`${other}-shm`));
    const missing = join(dirname(file), 'no-such-folder', 'glyphlab.db');
    const result = await cli(['runs', 'ls', '--db', missing]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`${missing.replace(/[./]/g, '\\$&')} does not exist`));
    assert.ok(!existsSync(join(dirname(file), 'no-such-folder')));
  });

  test('a store in a read-only folder is listed by a user who cannot write there', (t) => {
    // A copy of the store, cleanly closed (WAL mode, no -wal or -shm file), in a folder of its own.
    const dir = dirname(tempDbPath());
    const copy = join(dir, 'glyphlab.db');
    const source = openStore(file, { readonly: true });
    writeFileSync(copy, sqliteDb(source).serialize());
    const expected = listRuns(source).map((r) => r.id);
    closeStore(source);
    const writer = openStore(copy);
    closeStore(writer);
    chmodSync(copy, 0o444);
    chmodSync(dir, 0o555);
    try {
      // root may write anywhere: run the command as nobody then.
      const asRoot = process.getuid?.() === 0;
      const command = [process.execPath, join(projectRoot(), 'scripts', 'glyphlab.js'), 'runs', 'ls', '--db', copy, '--json'];
      const run = asRoot ? spawnSync('runuser', ['-u', 'nobody', '--', ...command], { encoding: 'utf8' }) : spawnSync(command[0]!, command.slice(1), { encoding: 'utf8' });
      if (asRoot && run.error) return t.skip(`runuser is not available (${run.error.message})`);
      assert.equal(run.status, 0, run.stderr);
      assert.ok(expected.length >= 2);
      assert.deepEqual((JSON.parse(run.stdout) as { id: string }[]).map((r) => r.id), expected);
      assert.deepEqual(readdirSync(dir), ['glyphlab.db'], 'nothing was written beside it');
    } finally {
      chmodSync(dir, 0o755);
    }
  });
});

describe('glyphlab runs on a closed pipe', () => {
  test('`runs show ID | head -1` stops quietly when the reader leaves (no EPIPE crash)', async () => {
    const file = tempDbPath();
    const store = openStore(file);
    // Far more than a pipe buffer (64 KiB), so the command is still writing when the reader leaves.
    const config = Object.fromEntries(Array.from({ length: 4000 }, (_, i) => [`param${String(i).padStart(4, '0')}`, `value-${i}`]));
    const runId = startRun(store, { experiment: 'eq', name: 'wide', config, git: false, heartbeat: false });
    finishRun(store, runId);
    closeStore(store);
    const child = spawn(process.execPath, [join(projectRoot(), 'scripts', 'glyphlab.js'), 'runs', 'show', runId, '--db', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let firstChunk = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.once('data', (chunk: Buffer) => {
      firstChunk = chunk.toString();
      child.stdout.destroy();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.match(firstChunk, new RegExp(`run ${runId}`));
    assert.doesNotMatch(stderr, /EPIPE|Unhandled/);
    assert.equal(code, 0);
  });
});
