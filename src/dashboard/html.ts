/**
 * The dashboard as HTML: one self-contained page (`glyphlab dashboard --out report.html`) with
 * plotly.js inlined, so it opens offline, and the same sections as fragments for notebook 04.
 */
import { ConfigError } from '../errors';
import { outputConflict, writeFileAtomic } from '../util/output-file';
import { escapeHtml } from '../viz/html';
import { figureHtml, plotlyScriptTag } from '../viz/plotly-html';
import type { FigureSpec } from '../types';
import type { Comparison } from './compare';
import { anyInitialised } from './lineage';
import { confusionLabel, confusionTotals, dashboardFigures, labelLengths, minutesFigures } from './figures';
import { percent } from '../util/format';
import { misreadGalleryHtml } from '../viz/misread-charts';

/** One part of the dashboard. */
export interface DashboardSection {
  /** Stable id, e.g. `'runs'`, `'curves'`; also the HTML id of the `<section>`. */
  id: string;
  heading: string;
  /** Trusted HTML (user text escaped); figures draw once `window.Plotly` exists. */
  html: string;
  /** How many plotly charts the section draws. */
  charts: number;
}

/** Options of {@link dashboardSections}. */
export interface DashboardSectionsOptions {
  /**
   * Add a section of curves against wall-clock minutes since each run started (the loss per step
   * and the validation accuracy), where runs of different speed compare at equal cost, as the
   * arms of a transfer comparison do. Defaults to false.
   */
  minutes?: boolean;
  /** Show the lineage section even when every run started from random or ImageNet weights. Defaults to false (only when some run started from another's weights). */
  lineage?: boolean;
}

/** Options of {@link renderDashboardPage}. */
export interface DashboardPageOptions {
  /** Page title. Defaults to `'glyphlab: run comparison'`. */
  title?: string;
}

/** Options of {@link renderDashboardHtml}. */
export interface DashboardHtmlOptions extends DashboardSectionsOptions, DashboardPageOptions {}


function formatCell(column: string, value: string | number | null): string {
  if (value === null) return '–';
  if (typeof value === 'number') {
    if (/accuracy|CER/.test(column)) return percent(value, 2, '–');
    if (column === 'parameters') return value.toLocaleString('en-US');
    return String(value);
  }
  return value;
}

/** An HTML table; every cell escaped. */
export function htmlTable(columns: readonly string[], rows: readonly (readonly string[])[], options: { className?: string; highlightRow?: number } = {}): string {
  const head = `<tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr>`;
  const body = rows
    .map((row, i) => `<tr${i === options.highlightRow ? ' class="best"' : ''}>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table${options.className ? ` class="${escapeHtml(options.className)}"` : ''}>\n${head}\n${body}\n</table>`;
}

/** A figure as a chart of a section, or the sentence saying why it is missing. */
export function chartHtml(figure: FigureSpec | null, id: string, missing: string): { html: string; charts: number } {
  if (!figure) return { html: `<p class="missing">${escapeHtml(missing)}</p>`, charts: 0 };
  const height = typeof figure.layout.height === 'number' ? `${figure.layout.height}px` : '380px';
  return { html: figureHtml(figure, { id, height, className: 'dashboard-chart' }), charts: 1 };
}

function selectionText(comparison: Comparison): string {
  const parts = [
    comparison.selection.experiment !== undefined ? `experiment ${comparison.selection.experiment}` : 'all experiments',
    comparison.selection.where !== undefined ? `where ${comparison.selection.where}` : '',
    comparison.selection.ids ? `ids ${comparison.selection.ids.join(', ')}` : '',
  ];
  return parts.filter(Boolean).join('; ');
}

/**
 * The dashboard's sections in page order: overview (selection, best run, warnings), the runs
 * table, loss and learning rate per step, learning curves per epoch, test accuracy, params
 * against the result, accuracy per length (chart and runs x lengths grid), confusions (chart and
 * pairs x runs grid), each run's misread images. With no runs, only the overview, which says so
 * and how to record one.
 */
export function dashboardSections(comparison: Comparison, options: DashboardSectionsOptions = {}): DashboardSection[] {
  const figures = dashboardFigures(comparison);
  const warnings = comparison.warnings.length
    ? `<ul class="warnings">${comparison.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>`
    : '';
  const selection = `<p class="selection">${comparison.runs.length} of ${comparison.matched} matching runs from <code>${escapeHtml(comparison.database)}</code> (${escapeHtml(selectionText(comparison))}); generated ${escapeHtml(comparison.generatedAt)}.</p>`;
  if (comparison.runs.length === 0) {
    return [
      {
        id: 'overview',
        heading: 'No runs to compare',
        html: `<p class="empty">No runs match this selection, so there is nothing to compare yet. Train a model (notebooks 02 and 03, or the training CLI) to record runs, or widen the selection (check it with <code>glyphlab runs ls</code>).</p>\n${selection}${warnings}`,
        charts: 0,
      },
    ];
  }
  const best = comparison.best;
  const bestHtml = best
    ? `<p class="best-run">Best run: <b>${escapeHtml(best.label)}</b> (${escapeHtml(best.model ?? 'model not recorded')}, id <code>${escapeHtml(best.runId)}</code>) with ${best.metric === 'test_accuracy' ? 'test accuracy' : 'best validation accuracy'} <b>${percent(best.value, 2, '–')}</b>.</p>`
    : '<p class="best-run">No run recorded a test or validation accuracy, so there is no best run.</p>';
  const columns = Object.keys(comparison.table[0] ?? {});
  const tableRows = comparison.table.map((row) => columns.map((c) => formatCell(c, row[c] ?? null)));
  const bestIndex = best ? comparison.runs.findIndex((r) => r.id === best.runId) : -1;
  const stepLoss = chartHtml(figures.stepLoss, 'chart-step-loss', 'No run recorded a loss per step (batch_loss): runs record one when trained by glyphlab train or the notebooks.');
  const learningRate = chartHtml(figures.learningRate, 'chart-learning-rate', 'No run recorded a learning rate (batch_lr or lr).');
  const accuracy = chartHtml(figures.accuracyCurves, 'chart-accuracy-curves', 'No run recorded accuracy per epoch (accuracy, val_accuracy).');
  const loss = chartHtml(figures.lossCurves, 'chart-loss-curves', 'No run recorded a loss per epoch (loss, val_loss).');
  const test = chartHtml(figures.testAccuracy, 'chart-test-accuracy', 'No run recorded test_accuracy or val_accuracy.');
  const lengths = chartHtml(figures.lengthAccuracy, 'chart-length-accuracy', 'No run has an eval-report artifact with accuracy per label length.');
  const confusions = chartHtml(figures.confusions, 'chart-confusions', 'No run has an eval-report artifact with character confusions (or none was confused).');
  // Two small charts a row: one point per run needs little room.
  const sweeps = figures.sweeps.map((figure, i) => chartHtml({ ...figure, layout: { ...figure.layout, height: 300 } }, `chart-sweep-${i}`, ''));
  const sweepNote = sweepsNote(comparison, figures.sweeps.length);
  // Lineage only where some run started from another's weights: otherwise every run started random (or from ImageNet, which the runs table's model.weights says).
  const lineage = options.lineage || anyInitialised(comparison.lineage) ? [{ id: 'lineage', heading: 'Where the weights started', html: lineageHtml(comparison), charts: 0 }] : [];
  return [
    { id: 'overview', heading: 'Overview', html: `${selection}\n${bestHtml}\n${trialSweepsHtml(comparison)}${warnings}`, charts: 0 },
    { id: 'runs', heading: 'Runs', html: htmlTable(columns, tableRows, { className: 'runs-table', highlightRow: bestIndex }), charts: 0 },
    ...lineage,
    { id: 'steps', heading: 'Loss and learning rate per step', html: `${stepLoss.html}\n${learningRate.html}`, charts: stepLoss.charts + learningRate.charts },
    { id: 'curves', heading: 'Learning curves per epoch', html: `${accuracy.html}\n${loss.html}`, charts: accuracy.charts + loss.charts },
    ...(options.minutes ? [minutesSection(comparison)] : []),
    { id: 'test-accuracy', heading: 'Test accuracy', html: test.html, charts: test.charts },
    { id: 'sweeps', heading: 'Params against the result', html: `${sweepNote}\n<div class="sweeps">${sweeps.map((s) => `<div>${s.html}</div>`).join('\n')}</div>`, charts: sweeps.length },
    { id: 'length-accuracy', heading: 'Accuracy per label length', html: `${lengths.html}\n${lengthPivotHtml(comparison)}`, charts: lengths.charts },
    { id: 'confusions', heading: 'Character confusions', html: `${confusions.html}\n${confusionPivotHtml(comparison)}`, charts: confusions.charts },
    { id: 'misreads', heading: 'Misread images', html: misreadsHtml(comparison), charts: 0 },
  ];
}

/** Where the runs are trials of sweeps: which, and how to see one. */
function trialSweepsHtml(comparison: Pick<Comparison, 'trialSweeps' | 'runs'>): string {
  if (comparison.trialSweeps.length === 0) return '';
  const inSweeps = comparison.trialSweeps.map((s) => `<code>${escapeHtml(s.name)}</code> (${s.runs} ${s.runs === 1 ? 'run' : 'runs'})`).join(', ');
  return `<p class="trial-sweeps">Some of these runs are trials of ${comparison.trialSweeps.length === 1 ? 'a sweep' : 'sweeps'}: ${inSweeps}. See a sweep's trials, its params against validation accuracy and its best trial with <code>glyphlab dashboard --sweep NAME</code> (notebook 04: the <code>sweep</code> parameter).</p>\n`;
}

/** The curves against wall-clock minutes (see {@link DashboardSectionsOptions.minutes}). */
function minutesSection(comparison: Comparison): DashboardSection {
  const figures = minutesFigures(comparison);
  const loss = chartHtml(figures.loss, 'chart-minutes-loss', 'No run recorded a loss (batch_loss or val_loss).');
  const accuracy = chartHtml(figures.accuracy, 'chart-minutes-accuracy', 'No run recorded a validation accuracy per epoch.');
  return {
    id: 'minutes',
    heading: 'Against wall-clock minutes',
    html: `<p class="minutes-note">Runs of different speed at equal cost: each curve against the minutes since its run started.</p>\n${loss.html}\n${accuracy.html}`,
    charts: loss.charts + accuracy.charts,
  };
}

/** The lineage table: each run, where its weights started, the source's data, what was loaded, re-initialised and frozen. */
export function lineageHtml(comparison: Pick<Comparison, 'runs' | 'lineage'>): string {
  const label = new Map(comparison.runs.map((r) => [r.id, r.label]));
  const rows = comparison.lineage.map((l) => [
    label.get(l.runId) ?? l.runId,
    l.startedFrom,
    l.sourceData ?? '–',
    l.loaded === null ? '–' : String(l.loaded),
    l.reinitialised.length > 0 ? l.reinitialised.join(', ') : '–',
    l.freezeEpochs > 0 ? String(l.freezeEpochs) : '–',
  ]);
  return htmlTable(['run', 'started from', "source's data", 'layers loaded', 're-initialised', 'epochs frozen'], rows, { className: 'lineage-table' });
}

/** What the params section draws, or why it draws nothing. */
function sweepsNote(comparison: Comparison, drawn: number): string {
  const metric = comparison.best?.metric === 'test_accuracy' ? 'test accuracy' : 'best validation accuracy';
  if (comparison.runs.length < 2) return '<p class="missing">One run: there are no params to compare across runs.</p>';
  if (drawn === 0) return `<p class="missing">The runs do not differ in any param recorded with their ${escapeHtml(metric)}.</p>`;
  const leftOut = comparison.sweepsLeftOut.length ? ` They also differ in ${comparison.sweepsLeftOut.map((p) => `<code>${escapeHtml(p)}</code>`).join(', ')} (not drawn).` : '';
  return `<p class="sweeps-note">Each point is a run: a param the runs differ in against their ${escapeHtml(metric)}.${leftOut}</p>`;
}

/** Runs x label lengths: accuracy (correct/samples) in each cell, lengths in numeric order. */
function lengthPivotHtml(comparison: Comparison): string {
  if (comparison.byLength.length === 0) return '';
  const lengths = labelLengths(comparison);
  const rows = comparison.byLength.map((run) => {
    const byLength = new Map(run.byLength.map((l) => [String(l.length), l]));
    return [run.label, ...lengths.map((length) => {
      const l = byLength.get(length);
      return l ? `${percent(l.accuracy, 1, '–')} (${l.correct}/${l.samples})` : '–';
    })];
  });
  return htmlTable(['run \\ label length', ...lengths], rows, { className: 'length-table' });
}

/** Confusions x runs: the count of each pair per run, most frequent pair first, with each run's share of its confusions. */
function confusionPivotHtml(comparison: Comparison): string {
  const withPairs = comparison.confusions.filter((c) => c.confusions.length > 0);
  if (withPairs.length === 0) return '';
  const rows = confusionTotals(comparison).map(([label, total]) => [
    label,
    ...withPairs.map((run) => {
      const pair = run.confusions.find((p) => confusionLabel(p) === label);
      return pair ? `${pair.count} (${percent(run.totalConfusions ? pair.count / run.totalConfusions : 0, 1, '–')})` : '–';
    }),
    String(total),
  ]);
  return htmlTable(['truth→read', ...withPairs.map((run) => run.label), 'all runs'], rows, { className: 'confusion-table' });
}

/** Each run's misread images with what was read, under the run's label. */
function misreadsHtml(comparison: Comparison): string {
  if (comparison.misreads.length === 0) return '<p class="missing">No run has an eval-report artifact listing misread images.</p>';
  return comparison.misreads
    .map((run) => {
      const heading = `<h4>${escapeHtml(run.label)}: ${run.listed} misread of ${run.samples} ${escapeHtml(run.split)} images${run.listed >= 100 ? ' (the report keeps the first 100)' : ''}</h4>`;
      return `<div class="misreads" data-run="${escapeHtml(run.runId)}">${heading}${misreadGalleryHtml(run.misreads, { total: run.listed, maxImages: run.misreads.length })}</div>`;
    })
    .join('\n');
}

/** Styles shared by the page and notebook displays. */
const STYLE = `<style>
.glyphlab-dashboard { font-family: sans-serif; color: #222; }
.glyphlab-dashboard table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
.glyphlab-dashboard td, .glyphlab-dashboard th { border: 1px solid #ccc; padding: 2px 8px; text-align: right; }
.glyphlab-dashboard th { background: #f3f3f3; }
.glyphlab-dashboard tr.best td { background: #eaf6ea; font-weight: bold; }
.glyphlab-dashboard .warnings { color: #8a4b00; }
.glyphlab-dashboard .missing, .glyphlab-dashboard .empty { color: #666; font-style: italic; }
.glyphlab-dashboard .dashboard-chart { max-width: 1000px; }
/* Two fixed columns: a chart draws as soon as its div is parsed, before its neighbour exists, so the width must not depend on it. */
.glyphlab-dashboard .sweeps { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 0 16px; max-width: 1000px; }
@media (max-width: 800px) { .glyphlab-dashboard .sweeps { grid-template-columns: minmax(0, 1fr); } }
.glyphlab-dashboard table.glyphlab-misreads td { text-align: left; vertical-align: middle; }
</style>`;

/** One section as a notebook display: `display.html(dashboardSectionHtml(section))` after `display.html(plotlyScriptTag())`. */
export function dashboardSectionHtml(section: DashboardSection): string {
  return `${STYLE}<div class="glyphlab-dashboard"><section id="${escapeHtml(section.id)}" data-charts="${section.charts}">\n<h3>${escapeHtml(section.heading)}</h3>\n${section.html}\n</section></div>`;
}

/**
 * The whole dashboard as one HTML page that opens offline: plotly.js inlined, no network. The
 * page records errors thrown while it draws (and pictures it cannot decode) in
 * `<pre id="dashboard-errors">`, and sets `data-charts-rendered` and `data-images-decoded` on
 * `<body>` as charts draw and pictures decode — what the browser test reads.
 */
export function renderDashboardHtml(comparison: Comparison, options: DashboardHtmlOptions = {}): string {
  return renderDashboardPage(dashboardSections(comparison, options), options);
}

/**
 * Any sections (a comparison's, a sweep's) as one offline page, as {@link renderDashboardHtml}
 * describes it.
 */
export function renderDashboardPage(sections: readonly DashboardSection[], options: DashboardPageOptions = {}): string {
  const title = options.title ?? 'glyphlab: run comparison';
  const expected = sections.reduce((sum, s) => sum + s.charts, 0);
  const body = sections.map((s) => `<section id="${escapeHtml(s.id)}" data-charts="${s.charts}">\n<h2>${escapeHtml(s.heading)}</h2>\n${s.html}\n</section>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<script>
// Errors while loading plotly or drawing land in the page, where a headless browser test can read them.
window.__dashboardErrors = [];
window.addEventListener('error', function (e) { window.__dashboardErrors.push(String(e.message)); });
window.addEventListener('unhandledrejection', function (e) { window.__dashboardErrors.push(String(e.reason)); });
</script>
${STYLE}
<style>body { margin: 2em; }</style>
${plotlyScriptTag()}
</head>
<body class="glyphlab-dashboard" data-charts-expected="${expected}" data-charts-rendered="0" data-images-decoded="0">
<h1>${escapeHtml(title)}</h1>
${body}
<pre id="dashboard-errors"></pre>
<script>
(function () {
  var expected = ${expected};
  var start = Date.now();
  // An inlined picture the browser cannot decode is an error too, reported like a script's.
  var images = document.querySelectorAll('img');
  for (var i = 0; i < images.length; i++) {
    images[i].addEventListener('error', function (e) { window.__dashboardErrors.push('image not shown: ' + (e.target.title || e.target.alt)); });
  }
  function check() {
    var drawn = document.querySelectorAll('.dashboard-chart[data-rendered="true"]').length;
    var decoded = 0;
    for (var i = 0; i < images.length; i++) if (images[i].complete && images[i].naturalWidth > 0) decoded++;
    document.body.setAttribute('data-charts-rendered', String(drawn));
    document.body.setAttribute('data-images-decoded', String(decoded));
    document.getElementById('dashboard-errors').textContent = window.__dashboardErrors.join('\\n');
    if ((drawn < expected || decoded < images.length) && Date.now() - start < 20000) setTimeout(check, 50);
  }
  check();
})();
</script>
</body>
</html>
`;
}

/**
 * Writes the dashboard page to `path`, whole or not at all, and returns the path. A `path` that
 * is a SQLite database (the store the comparison came from, most likely) is refused untouched.
 */
export function writeDashboardHtml(path: string, comparison: Comparison, options: DashboardHtmlOptions = {}): string {
  const conflict = outputConflict(path);
  if (conflict) throw new ConfigError(`the dashboard's file ${path} ${conflict}: refusing to write over it; choose another file`);
  writeFileAtomic(path, renderDashboardHtml(comparison, options));
  return path;
}
