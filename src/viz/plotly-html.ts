/**
 * Plotly figures as HTML fragments that render offline: in a notebook output (tslab's
 * `display.html`) and in the static dashboard page. plotly.js is inlined from `plotly.js-dist`
 * (see {@link plotlyBundle}); nothing is fetched from a CDN.
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
  /** Put the plotly.js bundle (about 11 MB) in front of the chart. Defaults to false. */
  includePlotly?: boolean;
  /** Extra CSS class of the `<div>`. Defaults to none. */
  className?: string;
}

/** JSON for inside a `<script>`: `<` escaped so that no `</script>` can end the tag early. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/**
 * A `<script>` with plotly.js inlined, which sets `window.Plotly`. `define`, `module` and
 * `exports` are hidden from the bundle: in classic Jupyter, require.js's `define` would otherwise
 * catch the bundle's inner UMD modules and `Plotly` would never become a global.
 */
export function plotlyScriptTag(): string {
  const bundle = plotlyBundle().replace(/<\/script>/gi, '<\\/script>');
  return `<script>(function (define, module, exports) {\n${bundle}\n}).call(window, undefined, undefined, undefined);</script>`;
}

/**
 * One figure as a `<div>` and the `<script>` that draws it. The script waits for `window.Plotly`
 * (a notebook front end may render an output before the one that loads plotly) and, once drawn,
 * sets `data-rendered="true"` on the div so that a browser test can tell a drawn chart from an
 * empty one.
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
      if (++tries > 200) { el.textContent = 'plotly.js did not load: this chart cannot be drawn'; el.setAttribute('data-rendered', 'false'); return; }
      return setTimeout(draw, 50);
    }
    window.Plotly.newPlot(el, ${scriptJson(figure.data)}, ${scriptJson(figure.layout)}, { responsive: true, displaylogo: false })
      .then(function () { el.setAttribute('data-rendered', 'true'); });
  }
  draw();
})();`;
  return `${options.includePlotly ? plotlyScriptTag() : ''}<div id="${escapeHtml(id)}" class="${escapeHtml(className)}" style="width: 100%; height: ${escapeHtml(height)};"></div>\n<script>${draw}</script>`;
}
