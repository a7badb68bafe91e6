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
import { writeDashboardHtml } from '../../src/dashboard/html';
import { closeStore, openStore } from '../../src/tracker/store';
import { tempDbPath } from '../tracker/helpers';
import { findChromium, openHeadless } from './chromium';
import { type DashboardFixture, fillDashboardDb } from './fixtures';

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
    assert.equal(expected, 5, 'curves (2), test accuracy, per length, confusions');
    assert.equal(Number(/data-charts-rendered="(\d+)"/.exec(dom.stdout)?.[1]), expected);
    const traces: Record<string, number> = {
      'chart-accuracy-curves': comparison.curves.accuracy.length,
      'chart-loss-curves': comparison.curves.loss.length,
      'chart-test-accuracy': 1,
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
