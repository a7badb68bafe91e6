/**
 * Notebooks 01 (exploration), 04 (dashboard) and 05 (query API) run top to bottom, small,
 * through the real tslab kernel; any error output fails. 04 and 05 read a temporary experiment
 * database filled with real runs (a VGG19 and a custom CRNN run with eval reports) through
 * GLYPHLAB_DB in the kernel's environment; 04 also reads a copy of it on the PostgreSQL test cluster
 * through a role that may only SELECT, as a colleague given read access to a team's store would.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Notebook,
  NotebookCellError,
  type NotebookOutput,
  type RunNotebookOptions,
  type RunNotebookResult,
  notebookHasErrors,
  readNotebook,
  runNotebook,
} from '../../src/notebook/run';
import { closeStore, openStore } from '../../src/tracker/store';
import { listRuns } from '../../src/tracker/query';
import { logParams, tagRun } from '../../src/tracker/record';
import { openHeadless } from '../dashboard/chromium';
import { plotlyBundles } from '../support/notebook';
import { type DashboardFixture, fillDashboardDb, fillSweepDb } from '../dashboard/fixtures';
import { copyStore } from '../../src/tracker/copy';
import { createTestDatabase, createTestRole, startTestCluster } from '../support/postgres';

const notebooks = join(__dirname, '..', '..', 'notebooks');

function sourceOf(cell: Notebook['cells'][number]): string {
  return Array.isArray(cell.source) ? cell.source.join('') : cell.source;
}
function outputsOf(notebook: Notebook): NotebookOutput[] {
  return notebook.cells.flatMap((cell) => cell.outputs ?? []);
}
function streamText(notebook: Notebook): string {
  return outputsOf(notebook).map((o) => (o.output_type === 'stream' ? o.text : '')).join('');
}
function htmlText(notebook: Notebook): string {
  return outputsOf(notebook).map((o) => (o.output_type === 'display_data' ? String(o.data['text/html'] ?? '') : '')).join('\n');
}
/** Fails on an error output or anything written to stderr, naming the cell. */
function assertClean(notebook: Notebook, name: string): void {
  assert.equal(notebookHasErrors(notebook), false, `${name} has an error output`);
  notebook.cells.forEach((cell, i) => {
    for (const output of cell.outputs ?? []) {
      if (output.output_type === 'stream' && output.name === 'stderr') assert.fail(`${name} cell ${i} wrote to stderr: ${output.text}`);
    }
  });
}

/** Runs a notebook; a failing cell's error carries everything that cell printed, for the test log. */
async function run(path: string, options: RunNotebookOptions): Promise<RunNotebookResult> {
  try {
    return await runNotebook(path, { cellTimeoutMs: 90_000, ...options });
  } catch (error) {
    if (!(error instanceof NotebookCellError) || !existsSync(error.outPath)) throw error;
    const partial = JSON.parse(readFileSync(error.outPath, 'utf8')) as Notebook;
    const printed = (partial.cells[error.cellIndex]?.outputs ?? []).map((o) => (o.output_type === 'stream' ? o.text : JSON.stringify(o))).join('');
    throw new Error(`${error.message}\n--- what the cell printed ---\n${printed}`);
  }
}

/**
 * What a notebook displayed, put on one page (`page`) as a front end shows it: every chart must
 * draw offline in headless Chromium, with nothing on the console. Returns how many charts it shows.
 */
async function assertEveryChartDraws(html: string, page: string): Promise<number> {
  writeFileSync(page, `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>${html}</body></html>`);
  const dom = await openHeadless(page, { dumpDom: true });
  assert.equal(dom.code, 0, dom.stderr.slice(-2000));
  assert.deepEqual(dom.console, []);
  const displayed = (html.match(/class="glyphlab-figure[ "]/g) ?? []).length;
  assert.equal((dom.stdout.match(/data-rendered="true"/g) ?? []).length, displayed, 'every chart drew');
  return displayed;
}

describe('notebooks 01, 04 and 05 through the tslab kernel', () => {
  let dir: string;
  let db: string;
  let fixture: DashboardFixture;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'glyphlab-notebooks-'));
    db = join(dir, 'glyphlab.db');
    fixture = await fillDashboardDb(db, dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the committed notebooks have no outputs and a parameters cell', () => {
    for (const name of ['01-explore-equations', '04-dashboard', '05-query-experiments']) {
      const notebook = readNotebook(join(notebooks, `${name}.ipynb`));
      const code = notebook.cells.filter((c) => c.cell_type === 'code');
      assert.ok(code.some((c) => c.metadata.tags?.includes('parameters')), `${name} has a parameters cell`);
      for (const cell of code) {
        assert.deepEqual(cell.outputs, [], `${name}: outputs committed`);
        assert.equal(cell.execution_count, null);
      }
    }
  });

  test('01-explore-equations: synthesises 40 images, charts, tables, grid and split', { timeout: 120_000 }, async () => {
    const synthDir = join(dir, 'synth');
    const { notebook } = await run(join(notebooks, '01-explore-equations.ipynb'), {
      parameters: { count: 40, seed: 3, synthDir, workers: 0, maxImages: 20, gridSize: 4 },
      out: join(dir, '01.executed.ipynb'),
    });
    assertClean(notebook, '01');
    const text = streamText(notebook);
    assert.match(text, /synthesised 40 images/);
    assert.match(text, /40 labelled images/);
    assert.match(text, /40 labels; ink profile over 20 images; [\d.]+% of the ink lies in the left half/);
    const split = /train (\d+), val (\d+), test (\d+)/.exec(text);
    assert.ok(split, text);
    assert.equal(Number(split[1]) + Number(split[2]) + Number(split[3]), 40);
    const html = htmlText(notebook);
    assert.equal((html.match(/class="glyphlab-figure"/g) ?? []).length, 3, 'label lengths, characters, ink profile');
    assert.equal(plotlyBundles(notebook), 1, 'plotly inlined once, reused by the three charts');
    // The sample grid (4), then the style space: 4 samples per font category (5) and per held-out style (3).
    assert.equal((html.match(/<figure[^>]*><img src="data:image\/png;base64,/g) ?? []).length, 4 + 8 * 4, 'the sample grid and the style-space grid');
    for (const group of ['sans', 'serif', 'mono', 'display', 'handwriting', 'held-out fonts', 'held-out noise', 'held-out background']) assert.match(html, new RegExp(`<h4>${group}</h4>`), group);
    assert.match(html, /<div class="glyphlab-grid" style="display: flex; flex-wrap: wrap;/, 'the grid styles itself inline');
    assert.equal(notebook.cells.filter((c) => c.cell_type === 'code' && c.execution_count === null && sourceOf(c).trim() !== '').length, 0, 'every code cell has its execution count');
    assert.match(html, /<th>reaches every split<\/th>/);
    assert.ok(existsSync(join(synthDir, 'labels.csv')));
  });

  test('04-dashboard: compares the VGG19 and custom runs of the query', { timeout: 120_000 }, async () => {
    const { notebook } = await run(join(notebooks, '04-dashboard.ipynb'), {
      parameters: { experiment: 'equations' },
      env: { ...process.env, GLYPHLAB_DB: db },
      out: join(dir, '04.executed.ipynb'),
    });
    assertClean(notebook, '04');
    const text = streamText(notebook);
    assert.match(text, /Comparing 2 of 2 matching runs/);
    const best = fixture.evaluations.crnn.predictions.filter((p, i) => p === fixture.evaluations.crnn.truths[i]).length >
      fixture.evaluations.vgg.predictions.filter((p, i) => p === fixture.evaluations.vgg.truths[i]).length ? fixture.crnnId : fixture.vggId;
    assert.match(text, new RegExp(`best: .* run ${best}\\) with test_accuracy`));
    const html = htmlText(notebook);
    const chartIds = ['chart-step-loss', 'chart-learning-rate', 'chart-accuracy-curves', 'chart-loss-curves', 'chart-test-accuracy', 'chart-sweep-0', 'chart-length-accuracy', 'chart-confusions', 'chart-own-curves'];
    for (const id of chartIds) {
      assert.ok(html.includes(`id="${id}"`), `${id} displayed`);
    }
    assert.ok(html.includes(fixture.vggId) && html.includes(fixture.crnnId));
    assert.ok(!html.includes(fixture.otherId), 'the scratch run is not in the experiment');
    assert.equal(plotlyBundles(notebook), 1, 'plotly inlined once for every chart');
    // Epochs are numbered from 1, as in notebook 02 and the CLI: the VGG run's three epochs are 1, 2, 3.
    const charts = outputsOf(notebook)
      .map((o) => (o.output_type === 'display_data' ? String(o.data['text/html'] ?? '') : ''))
      .filter((text) => !text.includes('plotly.js v'))
      .join('\n');
    assert.match(charts, /"x":\[1,2,3\]/);
    assert.match(charts, /"x":\[1,2,3,4\]/, 'and the custom run\'s four');
    assert.doesNotMatch(charts, /"x":\[0,1,2/);
    // Each section brings its own heading; the notebook's markdown does not repeat it.
    const headings = [...html.matchAll(/<h3>([^<]+)<\/h3>/g)].map((m) => m[1]?.toLowerCase());
    const markdownHeadings = notebook.cells.filter((c) => c.cell_type === 'markdown').flatMap((c) => [...sourceOf(c).matchAll(/^#+\s*(.+)$/gm)].map((m) => m[1]?.toLowerCase()));
    assert.deepEqual(markdownHeadings.filter((h) => headings.includes(h)), [], 'no heading twice');

    const displayed = await assertEveryChartDraws(html, join(dir, '04-outputs.html'));
    assert.ok(displayed >= chartIds.length, `${displayed} charts displayed`);
    assert.equal((html.match(/<img src="data:image\/png;base64,/g) ?? []).length, 4, 'the misread images of both runs');
  });

  test('04-dashboard: by default the arms of the latest transfer comparison, their lineage, curves against minutes', { timeout: 120_000 }, async () => {
    const transferDb = join(dir, 'transfer.db');
    const arms = await fillDashboardDb(transferDb, join(dir, 'transfer'), 'transfer');
    const store = openStore(transferDb);
    try {
      for (const id of [arms.vggId, arms.crnnId]) tagRun(store, id, 'transfer:20261206-120000');
      logParams(store, arms.crnnId, { init: { from: 'reader:equations-wide', run: '20261206-145106-bc5534', reader: 'equations-wide', freezeEpochs: 1, loaded: ['conv1', 'bn1', 'logits'], reinitialised: [], data: { dir: '/x/wide' } } });
    } finally {
      closeStore(store);
    }
    const { notebook } = await run(join(notebooks, '04-dashboard.ipynb'), {
      env: { ...process.env, GLYPHLAB_DB: transferDb },
      out: join(dir, '04-transfer.executed.ipynb'),
    });
    assertClean(notebook, '04');
    const text = streamText(notebook);
    assert.match(text, /transfer comparison transfer:20261206-120000/);
    assert.match(text, /Comparing 2 of 2 matching runs/);
    const html = htmlText(notebook);
    assert.match(html, /<td>reader equations-wide \(run 20261206-145106-bc5534\)<\/td><td>\/x\/wide<\/td><td>3<\/td><td>–<\/td><td>1<\/td>/, 'the fine-tuned arm\'s lineage');
    assert.match(html, /<td>random<\/td>/, 'the other arm started random');
    assert.ok(html.includes('id="chart-own-accuracy"'), 'validation accuracy against minutes');
    assert.match(html, /validation accuracy against minutes/);
    assert.ok(!html.includes(arms.otherId), 'the untagged run is not an arm');
    // The curves against minutes among them.
    await assertEveryChartDraws(html, join(dir, '04-transfer-outputs.html'));
  });

  test('04-dashboard: with `sweep` set, the sweep\'s trials table, params against val accuracy, curves, then its runs compared', { timeout: 120_000 }, async () => {
    const sweepDb = join(dir, 'sweep.db');
    mkdirSync(join(dir, 'sweep-data'));
    const sweep = fillSweepDb(sweepDb, join(dir, 'sweep-data'));
    const { notebook } = await run(join(notebooks, '04-dashboard.ipynb'), {
      parameters: { sweep: 'tiny' },
      env: { ...process.env, GLYPHLAB_DB: sweepDb },
      out: join(dir, '04-sweep.executed.ipynb'),
    });
    assertClean(notebook, '04');
    const text = streamText(notebook);
    assert.match(text, /the trial runs of sweep tiny/);
    assert.match(text, new RegExp(`sweep tiny: 4 of 6 trials finished, 0 running, 1 pending, 1 failed; best trial ${sweep.bestTrial} \\(\\{"rnn-units":4,"lr":0\\.01\\}\\) with val_accuracy 82\\.00%`));
    assert.match(text, /Comparing 5 of 5 matching runs/, 'the four finished trials\' runs and the failed one');
    const html = htmlText(notebook);
    const table = /<table class="sweep-trials">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? '';
    assert.match(table, /<th>trial<\/th><th>state<\/th><th>attempts<\/th><th>rnn-units<\/th><th>lr<\/th><th>val accuracy<\/th><th>run id<\/th>/);
    for (const run of sweep.finishedRuns) assert.ok(table.includes(`<td>${run}</td>`), `run ${run} in the trials table`);
    assert.ok((/<tr class="best">([\s\S]*?)<\/tr>/.exec(table)?.[1] ?? '').includes(sweep.finishedRuns[sweep.bestTrial]!), 'the best trial highlighted');
    for (const id of ['chart-sweep-param-0', 'chart-sweep-param-1', 'chart-sweep-accuracy', 'chart-sweep-loss']) assert.ok(html.includes(`id="${id}"`), `${id} displayed`);
    assert.equal(plotlyBundles(notebook), 1);
    await assertEveryChartDraws(html, join(dir, '04-sweep-outputs.html'));
  });

  test('04 and 05 on PostgreSQL through a role that may only SELECT: every chart, the misread images from the shared folder, the queries, no password', { timeout: 300_000 }, async () => {
    // The runs recorded in a SQLite file, moved with their files to the team's server and shared folder.
    const source = join(dir, 'pg-source');
    mkdirSync(source);
    const runs = await fillDashboardDb(join(source, 'glyphlab.db'), source);
    const server = createTestDatabase();
    const shared = join(dir, 'pg-shared');
    copyStore(join(source, 'glyphlab.db'), server, { files: { to: shared } });
    const password = 'N0tebook:s3cret@pw';
    const reader = createTestRole(startTestCluster(), { database: decodeURIComponent(new URL(server).pathname.slice(1)), readonly: true, password });
    const out = join(dir, '04-postgres.executed.ipynb');
    const { notebook } = await run(join(notebooks, '04-dashboard.ipynb'), {
      parameters: { experiment: 'equations' },
      env: { ...process.env, GLYPHLAB_DB: reader, GLYPHLAB_EXPERIMENTS_DIR: shared },
      out,
    });
    assertClean(notebook, '04');
    assert.match(streamText(notebook), /Comparing 2 of 2 matching runs/);
    const html = htmlText(notebook);
    for (const id of ['chart-step-loss', 'chart-accuracy-curves', 'chart-test-accuracy', 'chart-length-accuracy', 'chart-confusions']) assert.ok(html.includes(`id="${id}"`), `${id} displayed`);
    assert.ok(html.includes(runs.vggId) && html.includes(runs.crnnId));
    assert.equal((html.match(/<img src="data:image\/png;base64,/g) ?? []).length, 4, 'the misread images, found through the reports in the shared folder');
    await assertEveryChartDraws(html, join(dir, '04-postgres-outputs.html'));
    // 05 through the same role, tagging nothing (tagging is the one thing it writes).
    const out05 = join(dir, '05-postgres.executed.ipynb');
    const queried = await run(join(notebooks, '05-query-experiments.ipynb'), {
      parameters: { exportDir: join(dir, 'pg-exports'), tagBest: false },
      env: { ...process.env, GLYPHLAB_DB: reader, GLYPHLAB_EXPERIMENTS_DIR: shared },
      out: out05,
    });
    assertClean(queried.notebook, '05');
    const text = streamText(queried.notebook);
    assert.match(text, /^3 runs in postgres:\/\/glyphlab_role_\d+_\d+:\*\*\*@127\.0\.0\.1:\d+\//m);
    assert.match(text, /structured filter finds the same runs: true/);
    assert.equal(readFileSync(join(dir, 'pg-exports', 'runs.csv'), 'utf8').trim().split('\n').length, 4, 'header and three runs');
    for (const written of [readFileSync(out, 'utf8'), readFileSync(out05, 'utf8')]) {
      for (const shown of [password, encodeURIComponent(password)]) assert.ok(!written.includes(shown), 'the password is nowhere in the notebooks');
    }
  });

  test('05-query-experiments: filters, sorting, comparing, tagging, exports, DataFrames', { timeout: 120_000 }, async () => {
    const exportDir = join(dir, 'exports');
    const { notebook } = await run(join(notebooks, '05-query-experiments.ipynb'), {
      parameters: { exportDir },
      env: { ...process.env, GLYPHLAB_DB: db },
      out: join(dir, '05.executed.ipynb'),
    });
    assertClean(notebook, '05');
    const text = streamText(notebook);
    assert.match(text, /^3 runs in /m);
    assert.match(text, /custom CRNN runs that finished: 1/);
    assert.match(text, /structured filter finds the same runs: true/);
    // The best by validation accuracy, as the store has it.
    const store = openStore(db);
    try {
      const tagged = listRuns(store, { where: 'tags contains "best-val-accuracy"' });
      assert.equal(tagged.length, 1);
      const all = listRuns(store).filter((r) => r.metrics.val_accuracy);
      const bestValue = Math.max(...all.map((r) => r.metrics.val_accuracy!.best));
      assert.equal(tagged[0]?.metrics.val_accuracy?.best, bestValue);
      assert.match(tagged[0]?.note ?? '', /best validation accuracy when notebook 05 ran/);
      assert.match(text, new RegExp(`best validation accuracy: ${bestValue.toFixed(4)} by ${tagged[0]!.id}`));
    } finally {
      closeStore(store);
    }
    const csv = readFileSync(join(exportDir, 'runs.csv'), 'utf8').trim().split('\n');
    assert.equal(csv.length, 4, 'header and three runs');
    assert.match(text, /runs DataFrame: 3 rows x \d+ columns/);
    assert.match(text, /metric history: \d+ values/);
    assert.match(htmlText(notebook), /<b>params that differ<\/b>/);
    // DataFrames as HTML tables with full run ids, not danfo's box-drawn text.
    const frames = htmlText(notebook).split('class="glyphlab-dataframe"').slice(1);
    assert.equal(frames.length, 2, 'the runs and the metric history');
    assert.match(frames[0] ?? '', new RegExp(`>${fixture.crnnId}<`));
    assert.match(frames[0] ?? '', /3 rows × 4 columns/);
    assert.doesNotMatch(text, /[╔║╟]/);
  });
});
