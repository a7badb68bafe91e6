/**
 * A sweep's sections of the dashboard: the page `glyphlab dashboard --sweep NAME` writes, and
 * the displays of notebook 04 with its `sweep` parameter set.
 */
import { escapeHtml } from '../viz/html';
import { percent } from '../util/format';
import { type DashboardPageOptions, type DashboardSection, chartHtml, htmlTable, renderDashboardPage } from './html';
import { SWEEP_TAG_PREFIX } from './compare';
import { type SweepDashboard, sweepCurveFigures, sweepParamFigures, trialLabel } from './sweep';

/** A table cell: accuracies as percentages, lists as written, missing values as a dash. */
function cell(column: string, value: string | number | null): string {
  if (value === null) return '–';
  if (typeof value === 'number' && column === 'val accuracy') return percent(value, 2, '–');
  return String(value);
}

/** The trial's params in words: `lr=0.001, rnn-units=8`. */
function paramsText(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([name, value]) => `${name}=${Array.isArray(value) ? value.join(',') : String(value)}`)
    .join(', ');
}

/** The overview: the sweep's shape and budget, its trials by state, the best trial, and where its runs are. */
function overviewHtml(dashboard: SweepDashboard): string {
  const { sweep } = dashboard;
  const c = sweep.counts;
  const shape = sweep.space.kind === 'grid' ? 'a grid' : `random draws (seed ${sweep.seed})`;
  const params = dashboard.params.map((p) => `<code>${escapeHtml(p)}</code>`).join(', ');
  const state = `finished ${c.finished}, running ${c.running}, pending ${c.pending}, failed ${c.failed}${sweep.done ? ' (done)' : ''}`;
  const best = sweep.best
    ? `<p class="best-run">Best trial: <b>${escapeHtml(trialLabel(sweep.best))}</b> (${escapeHtml(paramsText(sweep.best.params))}, run <code>${escapeHtml(sweep.best.runId ?? '–')}</code>) with validation accuracy <b>${percent(sweep.best.valAccuracy, 2, '–')}</b>.</p>`
    : '<p class="best-run">No trial has finished yet, so there is no best trial.</p>';
  const tag = `${SWEEP_TAG_PREFIX}${sweep.name}`;
  return [
    `<p class="selection">Sweep <b>${escapeHtml(sweep.name)}</b> from <code>${escapeHtml(dashboard.database)}</code>: ${sweep.trials} trials, ${shape} over ${params}, ${sweep.trialMinutes} min each, retries ${sweep.retries}, queue ${escapeHtml(sweep.queue)}; generated ${escapeHtml(dashboard.generatedAt)}.</p>`,
    `<p class="trial-states">Trials: ${state}.</p>`,
    best,
    `<p class="sweep-runs">Each trial is a recorded run tagged <code>${escapeHtml(tag)}</code>: compare them all with <code>glyphlab dashboard --where 'tags contains "${escapeHtml(tag)}"'</code>.</p>`,
  ].join('\n');
}

/**
 * The sweep's sections in page order: overview (shape, budget, trials by state, best trial),
 * the trials table (best row highlighted), each swept param against validation accuracy (best
 * ringed), and the learning curves of the finished trials. Section ids start with `sweep-`, so
 * they sit beside a comparison's on one page or notebook.
 */
export function sweepSections(dashboard: SweepDashboard): DashboardSection[] {
  const { sweep } = dashboard;
  const columns = Object.keys(dashboard.table[0] ?? {});
  const rows = dashboard.table.map((row) => columns.map((c) => cell(c, row[c] ?? null)));
  const bestIndex = sweep.best ? sweep.trialList.findIndex((t) => t.trial === sweep.best!.trial) : -1;
  const trials = sweep.trialList.length === 0 ? '<p class="missing">The sweep has no trials.</p>' : htmlTable(columns, rows, { className: 'sweep-trials', highlightRow: bestIndex });
  // Two small charts a row, as the comparison's params section draws them.
  const params = sweepParamFigures(dashboard).map((figure, i) => chartHtml({ ...figure, layout: { ...figure.layout, height: 320 } }, `chart-sweep-param-${i}`, ''));
  const drawnTrials = dashboard.paramPoints[0]?.points.length ?? 0;
  const paramsNote =
    params.length === 0
      ? '<p class="missing">No trial has finished with a validation accuracy yet: nothing to draw against the params.</p>'
      : `<p class="sweeps-note">Each point is a finished trial (${drawnTrials} of ${sweep.trials}): a swept param against the trial's best validation accuracy; the best trial is ringed.</p>`;
  const curves = sweepCurveFigures(dashboard);
  const accuracy = chartHtml(curves.accuracy, 'chart-sweep-accuracy', 'No finished trial recorded a validation accuracy per epoch.');
  const loss = chartHtml(curves.loss, 'chart-sweep-loss', 'No finished trial recorded a loss.');
  return [
    { id: 'sweep-overview', heading: `Sweep ${sweep.name}`, html: overviewHtml(dashboard), charts: 0 },
    { id: 'sweep-trials', heading: 'Trials', html: trials, charts: 0 },
    {
      id: 'sweep-params',
      heading: 'Params against validation accuracy',
      html: `${paramsNote}\n<div class="sweeps">${params.map((p) => `<div>${p.html}</div>`).join('\n')}</div>`,
      charts: params.length,
    },
    { id: 'sweep-curves', heading: 'Learning curves of the finished trials', html: `${accuracy.html}\n${loss.html}`, charts: accuracy.charts + loss.charts },
  ];
}

/**
 * The sweep's dashboard as one self-contained page that opens offline (plotly.js inlined), as
 * `glyphlab dashboard --sweep NAME --out FILE` writes it.
 */
export function renderSweepDashboardHtml(dashboard: SweepDashboard, options: DashboardPageOptions = {}): string {
  return renderDashboardPage(sweepSections(dashboard), { title: options.title ?? `glyphlab: sweep ${dashboard.sweep.name}` });
}
