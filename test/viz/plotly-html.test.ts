import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { plotlyBundle } from '../../src/viz/html';
import { FIGURE_PLACEHOLDER_TEXT, figureHtml, plotlyScriptTag } from '../../src/viz/plotly-html';
import type { FigureSpec } from '../../src/types';
import { openHeadless } from '../dashboard/chromium';

const bars: FigureSpec = { data: [{ type: 'bar', x: ['a', 'b'], y: [1, 2] }], layout: { title: { text: 'Label <i>lengths</i>' } } };
const line: FigureSpec = { data: [{ type: 'scatter', x: [1, 2, 3], y: [3, 1, 2] }], layout: { title: 'Ink' } };

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'glyphlab-plotly-html-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('plotly HTML for notebooks', () => {
  test('the bundle is the minified plotly.js, inlined once by plotlyScriptTag and by no chart', () => {
    const bundle = plotlyBundle();
    assert.match(bundle.slice(0, 200), /plotly\.js v3\./);
    assert.ok(bundle.length < 6_000_000, `minified: ${bundle.length} characters`);
    const tag = plotlyScriptTag();
    assert.ok(tag.startsWith('<script>if (!window.Plotly) (function (define, module, exports) {'), 'reuses a Plotly the page has');
    assert.ok(tag.length < bundle.length + 200);
    assert.ok(!figureHtml(bars).includes('plotly.js v'), 'a chart carries no bundle');
    assert.ok(figureHtml(bars, { includePlotly: true }).includes('plotly.js v'));
  });

  test('a chart whose script is stripped leaves a one-line placeholder naming it', () => {
    const html = figureHtml(bars, { id: 'chart-1', height: '300px' });
    const stripped = html.replace(/<script>[\s\S]*?<\/script>/g, '');
    const text = stripped.replace(/<[^>]+>/g, '').trim();
    assert.equal(text, `[Label lengths] ${FIGURE_PLACEHOLDER_TEXT}`);
    assert.ok(!text.includes('\n'), 'one line');
    assert.match(stripped, /^<div id="chart-1" class="glyphlab-figure" style="width: 100%;"><p class="glyphlab-figure-placeholder"/);
    assert.match(figureHtml(line), /\[Ink\] chart not drawn/);
  });

  test('in a browser, plotly loaded once draws every chart after it and replaces the placeholders', async () => {
    const page = join(dir, 'charts.html');
    writeFileSync(page, `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>${plotlyScriptTag()}${figureHtml(bars, { id: 'one' })}${figureHtml(line, { id: 'two', height: '200px' })}</body></html>`);
    const dom = await openHeadless(page, { dumpDom: true });
    assert.equal(dom.code, 0, dom.stderr.slice(-2000));
    assert.deepEqual(dom.console, []);
    assert.equal((dom.stdout.match(/data-rendered="true"/g) ?? []).length, 2);
    assert.doesNotMatch(dom.stdout, /glyphlab-figure-placeholder/);
    assert.match(dom.stdout, /id="two"[^>]*style="[^"]*height: 200px/);
  });
});
