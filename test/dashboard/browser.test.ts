/**
 * The static dashboard in a real browser: headless Chromium (Debian's `chromium` package) opens
 * report.html with every network route closed; every chart must have drawn, the console must be
 * silent, and the tables must hold the runs. A screenshot is kept in test-output/.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildComparison, type Comparison } from '../../src/dashboard/compare';
import { stepLossFigure, sweepFigures } from '../../src/dashboard/figures';
import { finishRun, logMetricPoints, startRun } from '../../src/tracker/record';
import { getRun } from '../../src/tracker/query';
import { createRng } from '../../src/util/rng';
import { plotlyBundle } from '../../src/viz/html';
import { writeDashboardHtml } from '../../src/dashboard/html';
import { closeStore, openStore } from '../../src/tracker/store';
import { tempDbPath } from '../tracker/helpers';
import { findChromium, openHeadless } from './chromium';
import { type DashboardFixture, fillDashboardDb, fillSweepDb } from './fixtures';
import { buildSweepDashboard } from '../../src/dashboard/sweep';
import { renderSweepDashboardHtml } from '../../src/dashboard/sweep-html';
import { renderDashboardHtml } from '../../src/dashboard/html';
import { logParams, tagRun } from '../../src/tracker/record';
import { writeFileSync } from 'node:fs';

const root = join(__dirname, '..', '..');

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  assert.equal(bytes.subarray(1, 4).toString('latin1'), 'PNG', 'the screenshot is a PNG');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** The `<div>` of chart `id` in the dumped DOM, up to the next chart script. */
function chartMarkup(dom: string, id: string): string {
  const start = dom.indexOf(`<div id="${id}"`);
  assert.ok(start >= 0, `chart ${id} is in the page`);
  return dom.slice(start, dom.indexOf('<script>', start));
}

describe('dashboard in headless Chromium', () => {
  const file = tempDbPath();
  let fixture: DashboardFixture;
  let comparison: Comparison;
  let page: string;

  before(async () => {
    // Fails (not skips) without Chromium, saying how to install it.
    findChromium();
    fixture = await fillDashboardDb(file, dirname(file));
    const store = openStore(file);
    try {
      comparison = buildComparison(store, { experiment: 'equations' });
    } finally {
      closeStore(store);
    }
    page = writeDashboardHtml(join(dirname(file), 'report.html'), comparison);
  });

  test('the page needs no network: no external script, stylesheet or image', () => {
    const html = readFileSync(page, 'utf8');
    assert.doesNotMatch(html, /<script[^>]+src=/i);
    assert.doesNotMatch(html, /<link[^>]+href=/i);
    assert.doesNotMatch(html, /<img[^>]+src="?https?:/i);
  });

  test('every chart draws, no errors, the tables hold both runs; screenshot kept', async () => {
    const screenshot = join(dirname(file), 'dashboard.png');
    const [dom, shot] = await Promise.all([openHeadless(page, { dumpDom: true }), openHeadless(page, { screenshot })]);
    assert.equal(dom.code, 0, dom.stderr.slice(-2000));
    assert.deepEqual(dom.console, [], 'the page logged nothing to the console');
    assert.equal(/<pre id="dashboard-errors">([^<]*)<\/pre>/.exec(dom.stdout)?.[1], '', 'no script errors');

    const expected = Number(/data-charts-expected="(\d+)"/.exec(dom.stdout)?.[1]);
    assert.equal(expected, 11, 'loss and learning rate per step (2), curves per epoch (2), test accuracy, 4 params against it, per length, confusions');
    assert.equal(Number(/data-charts-rendered="(\d+)"/.exec(dom.stdout)?.[1]), expected);
    const traces: Record<string, number> = {
      // Raw and smoothed batch_loss of each run, and each run's val_loss.
      'chart-step-loss': 3 * 2,
      'chart-learning-rate': 2,
      'chart-accuracy-curves': comparison.curves.accuracy.length,
      'chart-loss-curves': comparison.curves.loss.length,
      'chart-test-accuracy': 1,
      'chart-sweep-0': 1,
      'chart-sweep-3': 1,
      'chart-length-accuracy': comparison.byLength.length,
      'chart-confusions': comparison.confusions.length,
    };
    for (const [id, count] of Object.entries(traces)) {
      const markup = chartMarkup(dom.stdout, id);
      assert.match(markup, /data-rendered="true"/, `${id} drew`);
      assert.match(markup, /class="main-svg"/, `${id} has plotly's svg`);
      // Scatter traces are drawn as `g.trace.scatter`, bars as `g.trace.bars`.
      const drawn = (markup.match(/class="trace (scatter|bars)/g) ?? []).length;
      assert.equal(drawn, count, `${id}: ${count} traces drawn`);
    }
    // A loss spanning two decades is drawn on a log axis: plotly labels its ticks in powers of ten.
    assert.match(chartMarkup(dom.stdout, 'chart-step-loss'), />10\u200b?<tspan[^>]*>−1<\/tspan>/, 'log ticks on the step loss');
    // Label lengths in numeric order along the per-length chart's axis.
    const ticks = [...chartMarkup(dom.stdout, 'chart-length-accuracy').matchAll(/class="xtick"><text[^>]*>(\d+)<\/text>/g)].map((m) => Number(m[1]));
    assert.ok(ticks.length >= 3, `length ticks ${ticks.join(', ')}`);
    assert.deepEqual(ticks, [...ticks].sort((a, b) => a - b));
    // Every misread image of both runs is inlined and decodes.
    const misreads = comparison.misreads.reduce((sum, run) => sum + run.misreads.length, 0);
    assert.equal(misreads, 4);
    assert.equal((dom.stdout.match(/<img src="data:image\/png;base64,/g) ?? []).length, misreads);
    assert.equal(Number(/data-images-decoded="(\d+)"/.exec(dom.stdout)?.[1]), misreads, 'every picture decoded');
    assert.match(dom.stdout, /7\+8\*2=2<mark[^>]*>8<\/mark>/, 'what was read, the differing character marked');
    const runsTable = /<table class="runs-table">([\s\S]*?)<\/table>/.exec(dom.stdout)?.[1] ?? '';
    for (const id of [fixture.vggId, fixture.crnnId]) assert.ok(runsTable.includes(id), `run ${id} is in the table`);
    assert.match(runsTable, /vgg19-crnn/);
    const bestRow = /<tr class="best">([\s\S]*?)<\/tr>/.exec(runsTable)?.[1] ?? '';
    assert.ok(bestRow.includes(comparison.best!.runId), 'the best run is highlighted');
    assert.ok(bestRow.includes(`${(comparison.best!.value * 100).toFixed(2)}%`));

    assert.equal(shot.code, 0, shot.stderr.slice(-2000));
    const size = pngSize(readFileSync(screenshot));
    assert.deepEqual(size, { width: 1200, height: 3400 });
    mkdirSync(join(root, 'test-output'), { recursive: true });
    copyFileSync(screenshot, join(root, 'test-output', 'dashboard.png'));
  });

  test('three runs of 100,000 steps each: the step chart draws from a light page', async () => {
    const denseFile = join(dirname(file), 'dense.db');
    const store = openStore(denseFile);
    let dense: Comparison;
    try {
      const rng = createRng('dense');
      for (const name of ['a', 'b', 'c']) {
        const runId = startRun(store, { experiment: 'dense', name, params: { steps_per_epoch: 1000 }, git: false, heartbeat: false });
        const started = Date.parse(getRun(store, runId).startedAt);
        const points = Array.from({ length: 100_000 }, (_, step) => ({
          key: 'batch_loss',
          value: 5 * Math.exp(-step / 20_000) * (1 + 0.2 * rng.next()) + (step === 77_777 ? 40 : 0),
          step,
          epoch: Math.floor(step / 1000),
          context: 'batch',
          wallTime: started + step * 50,
        }));
        logMetricPoints(store, runId, points);
        finishRun(store, runId);
      }
      dense = buildComparison(store, { experiment: 'dense' });
    } finally {
      closeStore(store);
    }
    assert.equal(dense.metricCurves.reduce((sum, c) => sum + c.values.length, 0), 300_000);
    const densePage = writeDashboardHtml(join(dirname(file), 'dense.html'), dense);
    const html = readFileSync(densePage, 'utf8');
    assert.ok(html.length - plotlyBundle().length < 1_500_000, `the page holds ${html.length - plotlyBundle().length} characters besides plotly.js`);
    const dom = await openHeadless(densePage, { dumpDom: true });
    assert.equal(dom.code, 0, dom.stderr.slice(-2000));
    assert.deepEqual(dom.console, []);
    assert.equal(/<pre id="dashboard-errors">([^<]*)<\/pre>/.exec(dom.stdout)?.[1], '');
    const markup = chartMarkup(dom.stdout, 'chart-step-loss');
    assert.match(markup, /data-rendered="true"/);
    assert.equal((markup.match(/class="trace scatter/g) ?? []).length, 6, 'raw and smoothed line of each run');
    // The spike of run a's step 77,777 survives the downsampling: the y axis reaches past 40.
    const figure = stepLossFigure(dense)!;
    assert.ok((figure.data as { y: (number | null)[] }[]).some((t) => t.y.some((v) => v !== null && v > 40)));
  });

  test('without Chromium the error says how to install it', () => {
    const saved = process.env.CHROMIUM;
    process.env.CHROMIUM = join(dirname(file), 'no-such-chromium');
    try {
      assert.throws(() => findChromium(), /apt-get install -y chromium/);
    } finally {
      if (saved === undefined) delete process.env.CHROMIUM;
      else process.env.CHROMIUM = saved;
    }
  });

  test('with no runs the page says so and draws nothing', async () => {
    const store = openStore(file);
    let empty: Comparison;
    try {
      empty = buildComparison(store, { experiment: 'none-yet' });
    } finally {
      closeStore(store);
    }
    const emptyPage = writeDashboardHtml(join(dirname(file), 'empty.html'), empty);
    const dom = await openHeadless(emptyPage, { dumpDom: true });
    assert.equal(dom.code, 0);
    assert.deepEqual(dom.console, []);
    assert.match(dom.stdout, /No runs match this selection, so there is nothing to compare yet/);
    assert.match(dom.stdout, /data-charts-expected="0"/);
  });
});

/** Opens `page` headless and checks what every dashboard page must: no errors, every chart drawn; returns the DOM. */
async function assertPageDraws(page: string, expectedCharts: number): Promise<string> {
  const dom = await openHeadless(page, { dumpDom: true });
  assert.equal(dom.code, 0, dom.stderr.slice(-2000));
  assert.deepEqual(dom.console, [], 'the page logged nothing to the console');
  assert.equal(/<pre id="dashboard-errors">([^<]*)<\/pre>/.exec(dom.stdout)?.[1], '', 'no script errors');
  assert.equal(Number(/data-charts-expected="(\d+)"/.exec(dom.stdout)?.[1]), expectedCharts);
  assert.equal(Number(/data-charts-rendered="(\d+)"/.exec(dom.stdout)?.[1]), expectedCharts, 'every chart drew');
  return dom.stdout;
}

/** How many plotly traces chart `id` drew. */
function tracesDrawn(dom: string, id: string): number {
  const markup = chartMarkup(dom, id);
  assert.match(markup, /data-rendered="true"/, `${id} drew`);
  return (markup.match(/class="trace (scatter|bars)/g) ?? []).length;
}

describe('sweep and transfer pages in headless Chromium', () => {
  const file = tempDbPath();
  const dir = dirname(file);
  before(async () => {
    findChromium();
  });

  test('a sweep: trials table, both params against val accuracy (lr on a log axis, the best ringed), the finished trials\' curves', async () => {
    mkdirSync(join(dir, 'data'));
    const sweep = fillSweepDb(file, join(dir, 'data'));
    const store = openStore(file, { readonly: true });
    let html: string;
    try {
      html = renderSweepDashboardHtml(buildSweepDashboard(store, 'tiny'));
    } finally {
      closeStore(store);
    }
    const page = join(dir, 'sweep.html');
    writeFileSync(page, html);
    const dom = await assertPageDraws(page, 4);
    // The finished trials' points and the ring around the best.
    assert.equal(tracesDrawn(dom, 'chart-sweep-param-0'), 2);
    assert.equal(tracesDrawn(dom, 'chart-sweep-param-1'), 2);
    assert.match(chartMarkup(dom, 'chart-sweep-param-1'), />10\u200b?<tspan[^>]*>−3<\/tspan>/, 'lr on a log axis: ticks in powers of ten');
    assert.match(chartMarkup(dom, 'chart-sweep-param-1'), new RegExp(`best: trial ${sweep.bestTrial}`), 'the legend names the best trial');
    assert.equal(tracesDrawn(dom, 'chart-sweep-accuracy'), 4, 'one line per finished trial');
    assert.ok(tracesDrawn(dom, 'chart-sweep-loss') >= 8);
    const best = /<tr class="best">([\s\S]*?)<\/tr>/.exec(dom)?.[1] ?? '';
    assert.ok(best.includes(sweep.finishedRuns[sweep.bestTrial]!), 'the best trial highlighted in the table');
    const screenshot = join(dir, 'sweep.png');
    const shot = await openHeadless(page, { screenshot });
    assert.equal(shot.code, 0, shot.stderr.slice(-2000));
    mkdirSync(join(root, 'test-output'), { recursive: true });
    copyFileSync(screenshot, join(root, 'test-output', 'dashboard-sweep.png'));
  });

  test('a transfer comparison: the arms, their lineage, curves against minutes, the test table', async () => {
    const transferFile = join(dir, 'transfer.db');
    const arms = await fillDashboardDb(transferFile, join(dir, 'transfer'), 'transfer');
    const store = openStore(transferFile);
    let comparison: Comparison;
    try {
      for (const id of [arms.vggId, arms.crnnId]) tagRun(store, id, 'transfer:20261206-120000');
      logParams(store, arms.crnnId, { init: { from: 'reader:equations-wide', run: '20261206-145106-bc5534', reader: 'equations-wide', freezeEpochs: 1, loaded: ['conv1'], reinitialised: ['logits'] } });
      comparison = buildComparison(store, { where: 'tags contains "transfer:20261206-120000"' });
    } finally {
      closeStore(store);
    }
    const page = join(dir, 'transfer.html');
    writeFileSync(page, renderDashboardHtml(comparison, { minutes: true, lineage: true }));
    // Loss and learning rate per step, curves per epoch (2), test accuracy, per length, confusions; a chart per param the arms differ in; two against minutes.
    const dom = await assertPageDraws(page, 7 + sweepFigures(comparison).length + 2);
    assert.equal(tracesDrawn(dom, 'chart-minutes-loss'), 3 * 2, 'raw and smoothed loss per step and the val loss of each arm');
    assert.equal(tracesDrawn(dom, 'chart-minutes-accuracy'), 2);
    assert.match(chartMarkup(dom, 'chart-minutes-loss'), /minutes since the run started/);
    const lineage = /<table class="lineage-table">([\s\S]*?)<\/table>/.exec(dom)?.[1] ?? '';
    assert.match(lineage, /<td>reader equations-wide \(run 20261206-145106-bc5534\)<\/td>/);
    assert.match(lineage, /<td>random<\/td>/);
    const runsTable = /<table class="runs-table">([\s\S]*?)<\/table>/.exec(dom)?.[1] ?? '';
    for (const id of [arms.vggId, arms.crnnId]) assert.ok(runsTable.includes(id));
    assert.ok(!dom.includes(arms.otherId));
  });
});
