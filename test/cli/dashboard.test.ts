import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { runCli } from '../../src/cli/main';
import { type DashboardFixture, fillDashboardDb } from '../dashboard/fixtures';
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
