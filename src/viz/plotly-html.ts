/**
 * Plotly figures as HTML fragments that render offline: in a notebook output (tslab's
 * `display.html`) and in the static dashboard page. plotly.js is inlined, minified, from
 * `plotly.js-dist-min` (see {@link plotlyBundle}); nothing is fetched from a CDN.
 *
 * In a notebook the bundle goes in one output near the top ({@link plotlyScriptTag}) and every
 * chart after it reuses `window.Plotly`, so a saved notebook carries plotly.js once. A front end
 * that strips scripts (Jupyter, for a notebook it does not trust) leaves each chart's one-line
 * placeholder, which says why the chart is missing and how to get it back.
 */
import { randomBytes } from 'node:crypto';
import type { FigureSpec } from '../types';
import { escapeHtml, plotlyBundle } from './html';

/** Options of {@link figureHtml}. */
export interface FigureHtmlOptions {
  /** Id of the chart's `<div>`. Defaults to a random `glyphlab-figure-<hex>` (unique per display). */
  id?: string;
  /** CSS height of the chart. Defaults to `'380px'`. */
  height?: string;
  /** Put the plotly.js bundle (about 4.9 MB) in front of the chart. Defaults to false: a notebook shows {@link plotlyScriptTag} once. */
  includePlotly?: boolean;
  /** Extra CSS class of the `<div>`. Defaults to none. */
  className?: string;
}

/** JSON for inside a `<script>`: `<` escaped so that no `</script>` can end the tag early. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/**
 * A `<script>` with plotly.js inlined, which sets `window.Plotly` unless a page has it already
 * (a notebook whose first cell ran twice). `define`, `module` and `exports` are hidden from the
 * bundle: in classic Jupyter, require.js's `define` would otherwise catch the bundle's inner UMD
 * modules and `Plotly` would never become a global.
 */
export function plotlyScriptTag(): string {
  const bundle = plotlyBundle().replace(/<\/script>/gi, '<\\/script>');
  return `<script>if (!window.Plotly) (function (define, module, exports) {\n${bundle}\n}).call(window, undefined, undefined, undefined);</script>`;
}

/** A figure's title as plain text, for its placeholder. */
function figureTitle(figure: FigureSpec): string {
  const title = (figure.layout as { title?: unknown }).title;
  const text = typeof title === 'string' ? title : typeof title === 'object' && title !== null ? (title as { text?: unknown }).text : undefined;
  return typeof text === 'string' && text.trim() !== '' ? text.replace(/<[^>]*>/g, '').trim() : 'chart';
}

/** The line a chart shows where its script does not run. */
export const FIGURE_PLACEHOLDER_TEXT = 'chart not drawn: Jupyter runs no scripts in untrusted output. Trust the notebook (File menu) or run the cell again.';

/**
 * One figure as a `<div>` and the `<script>` that draws it. The div holds a one-line placeholder
 * naming the chart, which stays where scripts are stripped (an untrusted notebook). The script
 * waits for `window.Plotly` (a notebook front end may render an output before the one that loads
 * plotly), replaces the placeholder with the chart and sets `data-rendered="true"` on the div, so
 * that a browser test can tell a drawn chart from an empty one.
 *
 * @example
 * tslab.display.html(figureHtml(labelLengthFigure(counts), { includePlotly: true }));
 */
export function figureHtml(figure: FigureSpec, options: FigureHtmlOptions = {}): string {
  const id = options.id ?? `glyphlab-figure-${randomBytes(6).toString('hex')}`;
  const height = options.height ?? '380px';
  const className = ['glyphlab-figure', options.className].filter(Boolean).join(' ');
  const draw = `(function () {
  var tries = 0;
  function draw() {
    var el = document.getElementById(${scriptJson(id)});
    if (!el) return;
    if (!window.Plotly) {
      if (++tries > 200) { el.textContent = ${scriptJson(`${figureTitle(figure)}: plotly.js did not load (run the notebook's first cell, which inlines it), so this chart cannot be drawn`)}; el.setAttribute('data-rendered', 'false'); return; }
      return setTimeout(draw, 50);
    }
    el.textContent = '';
    el.style.height = ${scriptJson(height)};
    window.Plotly.newPlot(el, ${scriptJson(figure.data)}, ${scriptJson(figure.layout)}, { responsive: true, displaylogo: false })
      .then(function () { el.setAttribute('data-rendered', 'true'); });
  }
  draw();
})();`;
  const placeholder = `<p class="glyphlab-figure-placeholder" style="margin: 4px 0; padding: 4px 8px; border: 1px dashed #bbb; color: #555; font: 13px sans-serif;">[${escapeHtml(figureTitle(figure))}] ${escapeHtml(FIGURE_PLACEHOLDER_TEXT)}</p>`;
  return `${options.includePlotly ? plotlyScriptTag() : ''}<div id="${escapeHtml(id)}" class="${escapeHtml(className)}" style="width: 100%;">${placeholder}</div>\n<script>${draw}</script>`;
}
