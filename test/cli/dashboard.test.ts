import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { runCli } from '../../src/cli/main';
import { type DashboardFixture, type SweepFixture, fillDashboardDb, fillSweepDb } from '../dashboard/fixtures';
import { logParams, tagRun } from '../../src/tracker/record';
import { closeStore, openStore } from '../../src/tracker/store';
import { tempDbPath } from '../tracker/helpers';

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const chunks = { out: '', err: '' };
  const sink = (key: 'out' | 'err'): Writable =>
    new Writable({
      write(chunk, _encoding, done) {
        chunks[key] += String(chunk);
        done();
      },
    });
  const code = await runCli(argv, { stdout: sink('out'), stderr: sink('err') });
  return { code, stdout: chunks.out, stderr: chunks.err };
}

describe('glyphlab dashboard', () => {
  const file = tempDbPath();
  const dir = dirname(file);
  let fixture: DashboardFixture;
  before(async () => {
    fixture = await fillDashboardDb(file, dir);
  });

  test('writes one self-contained page with the runs of an experiment and names the best', async () => {
    const out = join(dir, 'report.html');
    const result = await cli(['dashboard', '--db', file, '--experiment', 'equations', '--out', out]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^wrote ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: 2 runs; best custom`));
    const html = readFileSync(out, 'utf8');
    assert.ok(html.includes(fixture.vggId) && html.includes(fixture.crnnId));
    assert.ok(!html.includes(fixture.otherId), 'the run of another experiment is left out');
    assert.match(html, /window\.Plotly = Plotly/, 'plotly is inlined');
  });

  test('--ids and --where select; --json prints the comparison', async () => {
    const out = join(dir, 'ids.html');
    const result = await cli(['dashboard', '--db', file, '--ids', `${fixture.otherId},${fixture.vggId}`, '--where', 'status = "finished"', '--out', out, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const comparison = JSON.parse(result.stdout) as { runs: { id: string }[]; warnings: string[] };
    assert.deepEqual(comparison.runs.map((r) => r.id), [fixture.vggId]);
    assert.match(result.stderr, new RegExp(`warning: runs ${fixture.otherId} were asked for by id but do not match`));
  });

  test('usage errors exit 2 with one line: no --out, bad --where, unknown id', async () => {
    const noOut = await cli(['dashboard', '--db', file]);
    assert.equal(noOut.code, 2);
    assert.match(noOut.stderr, /missing --out FILE/);
    const badWhere = await cli(['dashboard', '--db', file, '--where', 'params.model ==', '--out', join(dir, 'x.html')]);
    assert.equal(badWhere.code, 2);
    assert.match(badWhere.stderr, /bad filter expression at column/);
    const unknown = await cli(['dashboard', '--db', file, '--ids', 'nope', '--out', join(dir, 'y.html')]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no run "nope"/);
    assert.equal(existsSync(join(dir, 'y.html')), false);
  });

  test('no matching runs: an empty report that says so', async () => {
    const out = join(dir, 'empty.html');
    const result = await cli(['dashboard', '--db', file, '--experiment', 'nothing', '--out', out]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /no runs match; wrote an empty report/);
    assert.match(readFileSync(out, 'utf8'), /No runs match this selection/);
  });
});

describe('glyphlab dashboard --sweep and --transfer', () => {
  const file = tempDbPath();
  const dir = dirname(file);
  let arms: DashboardFixture;
  let sweep: SweepFixture;
  before(async () => {
    // Two arms of a transfer comparison (one fine-tuned from a reader), an older comparison, and a sweep of six trials.
    arms = await fillDashboardDb(file, dir, 'transfer');
    const store = openStore(file);
    try {
      for (const id of [arms.vggId, arms.crnnId]) tagRun(store, id, 'transfer:20261206-120000');
      tagRun(store, arms.otherId, 'transfer:20261201-090000');
      logParams(store, arms.crnnId, { init: { from: 'reader:equations-wide', run: '20261206-145106-bc5534', reader: 'equations-wide', freezeEpochs: 1, loaded: ['conv1', 'bn1', 'logits'], reinitialised: [], data: { dir: '/x/wide' } } });
    } finally {
      closeStore(store);
    }
    mkdirSync(join(dir, 'data'));
    sweep = fillSweepDb(file, join(dir, 'data'));
  });

  test('--sweep NAME: the trials table, params against val accuracy and the curves of the finished trials', async () => {
    const out = join(dir, 'sweep.html');
    const result = await cli(['dashboard', '--db', file, '--sweep', 'tiny', '--out', out]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), `wrote ${out}: sweep tiny, 4 of 6 trials finished; best trial ${sweep.bestTrial} (val_accuracy 82.00%)`);
    const html = readFileSync(out, 'utf8');
    for (const id of ['sweep-overview', 'sweep-trials', 'sweep-params', 'sweep-curves']) assert.match(html, new RegExp(`<section id="${id}"`), id);
    assert.match(html, /data-charts-expected="4"/, 'two params, accuracy and loss curves');
    assert.match(html, /<title>glyphlab: sweep tiny<\/title>/);
    for (const run of [...sweep.finishedRuns, sweep.failedRun]) assert.ok(html.includes(`<td>${run}</td>`), `run ${run} in the trials table`);
  });

  test('--sweep: an unknown sweep and a selection beside it are usage errors, no file written', async () => {
    const out = join(dir, 'nope.html');
    const unknown = await cli(['dashboard', '--db', file, '--sweep', 'nope', '--out', out]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no sweep "nope" in .*; sweeps: tiny/);
    const mixed = await cli(['dashboard', '--db', file, '--sweep', 'tiny', '--where', 'status = "finished"', '--out', out]);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /--sweep shows one sweep's trials: it takes no --where; compare the sweep's runs with --where 'tags contains "sweep:tiny"'/);
    assert.equal(existsSync(out), false);
  });

  test('without --sweep, runs that are trials of a sweep: the page and the summary name the sweep', async () => {
    const out = join(dir, 'equations.html');
    const result = await cli(['dashboard', '--db', file, '--experiment', 'equations', '--out', out]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^wrote .*: 5 runs; best tiny\/2 /m);
    assert.match(result.stdout, /^trials of sweeps among them: tiny \(5\); see one with --sweep NAME$/m);
    assert.match(readFileSync(out, 'utf8'), /Some of these runs are trials of a sweep: <code>tiny<\/code> \(5 runs\)/);
  });

  test('--transfer: the arms of the latest comparison, curves against minutes, the lineage', async () => {
    const out = join(dir, 'transfer.html');
    const result = await cli(['dashboard', '--db', file, '--transfer', '--out', out]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^wrote .*: transfer comparison transfer:20261206-120000, 2 runs; best `));
    const html = readFileSync(out, 'utf8');
    assert.ok(html.includes(arms.vggId) && html.includes(arms.crnnId));
    assert.ok(!html.includes(arms.otherId), 'the older comparison is left out');
    for (const id of ['runs', 'lineage', 'minutes', 'test-accuracy']) assert.match(html, new RegExp(`<section id="${id}"`), id);
    assert.match(html, /<td>reader equations-wide \(run 20261206-145106-bc5534\)<\/td><td>\/x\/wide<\/td><td>3<\/td><td>–<\/td><td>1<\/td>/);
    assert.match(html, /id="chart-minutes-loss"/);
    assert.match(html, /id="chart-minutes-accuracy"/);
  });

  test('--transfer TAG names an older comparison, with or without its prefix; an unknown tag says which is the latest', async () => {
    const out = join(dir, 'older.html');
    const older = await cli(['dashboard', '--db', file, '--transfer', '20261201-090000', '--out', out]);
    assert.equal(older.code, 0, older.stderr);
    assert.match(older.stdout, /transfer comparison transfer:20261201-090000, 1 runs/);
    assert.ok(readFileSync(out, 'utf8').includes(arms.otherId));
    const unknown = await cli(['dashboard', '--db', file, '--transfer', 'transfer:19990101-000000', '--out', join(dir, 'none.html')]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no run is tagged transfer:19990101-000000 in .*; the latest transfer comparison is transfer:20261206-120000/);
    const bad = await cli(['dashboard', '--db', file, '--transfer', 'x" or 1', '--out', join(dir, 'none.html')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /transfer tag "x\\" or 1" is not valid: expected transfer:ID/);
    const stray = await cli(['dashboard', '--db', file, 'transfer:20261206-120000', '--out', join(dir, 'none.html')]);
    assert.equal(stray.code, 2);
    assert.match(stray.stderr, /unexpected argument "transfer:20261206-120000": only --transfer takes one/);
    assert.equal(existsSync(join(dir, 'none.html')), false);
  });

  test('--transfer on a store without a comparison says how to record one', async () => {
    const empty = join(dir, 'empty.db');
    closeStore(openStore(empty));
    const result = await cli(['dashboard', '--db', empty, '--transfer', '--out', join(dir, 'e.html')]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /no transfer comparison in .*empty\.db: record one with `npm run bench:transfer`/);
  });
});
