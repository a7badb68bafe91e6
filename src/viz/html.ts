/**
 * Self-contained HTML reports: plotly.js is inlined from the `plotly.js-dist-min` package, so a
 * report opens offline and can be mailed as one file.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FigureSpec } from '../types';
import { writeFileAtomic } from '../util/output-file';

/** One part of a report: a heading with a figure, an HTML fragment, or both. */
export interface ReportSection {
  heading: string;
  figure?: FigureSpec;
  /** Trusted HTML (built by glyphlab; user text must go through {@link escapeHtml}). */
  html?: string;
}

export interface HtmlReport {
  title: string;
  sections: ReportSection[];
}

/** Escapes text for HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

let plotlySource: string | undefined;

/**
 * The minified plotly.js bundle shipped in `plotly.js-dist-min` (4.9 MB; the same build as
 * `plotly.js-dist`'s 11.2 MB one), read once. A saved notebook or report carries it once, so
 * it is most of that file's size.
 */
export function plotlyBundle(): string {
  if (plotlySource === undefined) {
    const packageJsonPath = require.resolve('plotly.js-dist-min/package.json');
    const main = (JSON.parse(readFileSync(packageJsonPath, 'utf8')) as { main?: string }).main ?? 'plotly.min.js';
    plotlySource = readFileSync(join(dirname(packageJsonPath), main), 'utf8');
  }
  return plotlySource;
}

/** One captioned picture of {@link imageGridHtml}. */
export interface GridImage {
  /** The picture's URL, usually a `data:image/png;base64,...` URI. */
  src: string;
  /** The caption, e.g. the label. */
  caption: string;
  /** A smaller second line, e.g. the file name. Defaults to none. */
  note?: string;
}

/** Options of {@link imageGridHtml}. */
export interface ImageGridOptions {
  /** CSS height of each picture. Defaults to the picture's own size. */
  imageHeight?: string;
}

/**
 * Captioned pictures that wrap into rows, styled inline: a notebook output has no stylesheet of
 * glyphlab's, so a grid that relied on one would collapse into a single column there.
 *
 * @example
 * tslab.display.html(imageGridHtml(exploration.grid.map((g) => ({ src: g.dataUri, caption: g.label, note: g.filename }))));
 */
export function imageGridHtml(items: readonly GridImage[], options: ImageGridOptions = {}): string {
  if (items.length === 0) return '<p>No images.</p>';
  const height = options.imageHeight !== undefined ? ` height: ${escapeHtml(options.imageHeight)};` : '';
  const figures = items.map(
    (item) =>
      `<figure style="margin: 0; display: inline-block; vertical-align: top;"><img src="${escapeHtml(item.src)}" alt="${escapeHtml(item.caption)}" style="display: block; border: 1px solid #ccc; image-rendering: pixelated;${height}">` +
      `<figcaption style="font-family: monospace; font-size: 12px;">${escapeHtml(item.caption)}${item.note !== undefined ? ` <small style="color: #777;">${escapeHtml(item.note)}</small>` : ''}</figcaption></figure>`,
  );
  return `<div class="glyphlab-grid" style="display: flex; flex-wrap: wrap; gap: 10px; align-items: flex-start;">${figures.join('')}</div>`;
}

/** Renders a report as one HTML page with plotly.js inlined. */
export function renderHtmlReport(report: HtmlReport): string {
  const body = report.sections
    .map((section, i) => {
      const figure = section.figure
        ? `<div id="figure-${i}" class="figure"></div>\n<script>Plotly.newPlot('figure-${i}', ${JSON.stringify(section.figure.data).replace(/</g, '\\u003c')}, ${JSON.stringify(section.figure.layout).replace(/</g, '\\u003c')}, {responsive: true});</script>`
        : '';
      return `<section>\n<h2>${escapeHtml(section.heading)}</h2>\n${section.html ?? ''}\n${figure}\n</section>`;
    })
    .join('\n');
  // The bundle cannot contain a literal "</script>" without ending the tag early.
  const plotly = plotlyBundle().replace(/<\/script>/gi, '<\\/script>');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(report.title)}</title>
<style>
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: right; }
.figure { width: 100%; max-width: 900px; height: 380px; }
.grid { display: flex; flex-wrap: wrap; gap: 10px; }
.grid figure { margin: 0; }
.grid img { border: 1px solid #ccc; image-rendering: pixelated; }
.grid figcaption { font-family: monospace; }
</style>
<script>${plotly}</script>
</head>
<body>
<h1>${escapeHtml(report.title)}</h1>
${body}
</body>
</html>
`;
}

/** Writes a report to `path` whole or not at all (a failure leaves no temporary file) and returns the path. */
export function writeHtmlReport(path: string, report: HtmlReport): string {
  writeFileAtomic(path, renderHtmlReport(report));
  return path;
}
