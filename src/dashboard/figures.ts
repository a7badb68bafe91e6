/**
 * Plotly figure specs of a {@link Comparison}: pure functions from its plain data, drawn by the
 * figure builders of viz/ that `glyphlab ui` uses too. Each run keeps one colour across every
 * chart; a legend or title names a line style only where that style is drawn.
 */
import type { FigureSpec } from '../types';
import type { Comparison } from './compare';
import { percent } from '../util/format';
import { runColorMap, sortCategories } from '../viz/axes';
import { type MetricCurve, metricCurveFigure } from '../viz/curve-charts';
import { paramMetricFigure } from '../viz/param-charts';

/** The colour of each run, by id, in the comparison's run order. */
export function runColors(comparison: Comparison): Map<string, string> {
  return runColorMap(comparison.runs.map((run) => run.id));
}

/** The figures of a comparison; `null` (or an empty list) where no run has the data. */
export interface DashboardFigures {
  /** The loss of every gradient step (smoothed over the faint raw line) with the validation loss, against steps. */
  stepLoss: FigureSpec | null;
  /** The learning rate, per step where recorded so, else per epoch. */
  learningRate: FigureSpec | null;
  accuracyCurves: FigureSpec | null;
  lossCurves: FigureSpec | null;
  testAccuracy: FigureSpec | null;
  lengthAccuracy: FigureSpec | null;
  confusions: FigureSpec | null;
  /** One figure per param the runs differ in, against the comparison's metric. */
  sweeps: FigureSpec[];
}

/** The y axis of exact-match accuracy: a share from 0 to 1 (a little room above the top) as percentages; a new object each call, since plotly may change a layout it draws. */
export function accuracyAxis(): { range: number[]; tickformat: string } {
  return { range: [0, 1.02], tickformat: '.0%' };
}

/** `figure` with its y axis drawn as {@link accuracyAxis}, its title and other settings kept. */
export function withAccuracyAxis(figure: FigureSpec): FigureSpec {
  figure.layout.yaxis = { ...(figure.layout.yaxis as Record<string, unknown>), ...accuracyAxis() };
  return figure;
}

/** The curves of `keys` among `curves` (of `per` steps or epochs, when given), in key order then run order (the first key drawn solid). */
export function curvesOf(curves: readonly MetricCurve[], keys: readonly string[], per?: MetricCurve['per']): MetricCurve[] {
  return keys.flatMap((key) => curves.filter((c) => c.key === key && (per === undefined || c.per === per)));
}

/**
 * Overlaid per-epoch curves of every run, epochs numbered from 1: `'accuracy'` (validation solid,
 * training dashed where recorded) or `'loss'`; readable epoch ticks however long the runs, a log
 * axis where the losses span decades.
 */
export function comparisonCurveFigure(comparison: Comparison, chart: 'accuracy' | 'loss'): FigureSpec | null {
  const curves = curvesOf(comparison.metricCurves, chart === 'accuracy' ? ['val_accuracy', 'accuracy'] : ['val_loss', 'loss'], 'epoch');
  if (curves.length === 0) return null;
  const figure = metricCurveFigure(curves, {
    x: 'epoch',
    colors: runColors(comparison),
    title: chart === 'accuracy' ? 'Accuracy per epoch' : 'Loss per epoch',
    yTitle: chart === 'accuracy' ? 'exact-match accuracy' : 'CTC loss',
  });
  return chart === 'accuracy' ? withAccuracyAxis(figure) : figure;
}

/** The loss of every gradient step, smoothed, with the validation loss at each epoch's last step; null when no run recorded per-step losses. */
export function stepLossFigure(comparison: Comparison): FigureSpec | null {
  if (!comparison.metricCurves.some((c) => c.key === 'batch_loss')) return null;
  return metricCurveFigure(curvesOf(comparison.metricCurves, ['batch_loss', 'val_loss']), { colors: runColors(comparison), title: 'Loss per step', yTitle: 'CTC loss' });
}

/**
 * The learning rate of each run: per step (`batch_lr`) where the run recorded it so, else per
 * epoch (`lr`), so that older runs stay beside newer ones; null when no run recorded one.
 */
export function learningRateFigure(comparison: Comparison): FigureSpec | null {
  const perStep = curvesOf(comparison.metricCurves, ['batch_lr']);
  const stepRuns = new Set(perStep.map((c) => c.runId));
  const perEpoch = curvesOf(comparison.metricCurves, ['lr']).filter((c) => !stepRuns.has(c.runId));
  const curves = [...perStep, ...perEpoch];
  if (curves.length === 0) return null;
  const title = perEpoch.length === 0 ? 'Learning rate per step' : perStep.length === 0 ? 'Learning rate per epoch' : 'Learning rate (per step where recorded so, else per epoch)';
  return metricCurveFigure(curves, { colors: runColors(comparison), smoothing: 0, title, yTitle: 'learning rate' });
}

/**
 * The curves against wall-clock minutes since each run started, where arms of different speed
 * compare at equal cost (a transfer comparison): the loss of every step (smoothed) with the
 * validation loss, and the validation accuracy of each epoch; null where no run recorded them.
 */
export function minutesFigures(comparison: Comparison): { loss: FigureSpec | null; accuracy: FigureSpec | null } {
  const colors = runColors(comparison);
  const lossCurves = curvesOf(comparison.metricCurves, ['batch_loss', 'val_loss']);
  const accuracyCurves = curvesOf(comparison.metricCurves, ['val_accuracy'], 'epoch');
  const accuracy = accuracyCurves.length === 0 ? null : withAccuracyAxis(metricCurveFigure(accuracyCurves, { x: 'minutes', colors, title: 'Validation accuracy against minutes', yTitle: 'exact-match accuracy' }));
  return {
    loss: lossCurves.length === 0 ? null : metricCurveFigure(lossCurves, { x: 'minutes', colors, title: 'Loss against minutes', yTitle: 'CTC loss' }),
    accuracy,
  };
}

/** Bar chart of each run's test accuracy (best validation accuracy where a run has no test result). */
export function testAccuracyFigure(comparison: Comparison): FigureSpec | null {
  const runs = comparison.runs.filter((r) => r.testAccuracy !== null || r.bestValAccuracy !== null);
  if (runs.length === 0) return null;
  const colors = runColors(comparison);
  const values = runs.map((r) => r.testAccuracy ?? r.bestValAccuracy ?? 0);
  return {
    data: [
      {
        type: 'bar',
        x: runs.map((r) => r.label),
        y: values,
        text: runs.map((r, i) => `${percent(values[i] ?? 0)}${r.testAccuracy === null ? ' (val)' : ''}`),
        textposition: 'auto',
        marker: { color: runs.map((r) => colors.get(r.id)) },
        name: 'test accuracy',
      },
    ],
    layout: {
      title: { text: 'Test accuracy by run ("val": no test result, best validation)' },
      xaxis: { type: 'category', title: { text: 'run' } },
      yaxis: { title: { text: 'exact-match accuracy' }, ...accuracyAxis() },
      margin: { t: 50 },
    },
  };
}

/** The label lengths of every run, in numeric order: the columns of the per-length chart and table. */
export function labelLengths(comparison: Comparison): string[] {
  return sortCategories(comparison.byLength.flatMap((run) => run.byLength.map((l) => String(l.length))));
}

/** Grouped bars: exact-match accuracy per label length (in numeric order), one colour per run. */
export function lengthAccuracyFigure(comparison: Comparison): FigureSpec | null {
  if (comparison.byLength.length === 0) return null;
  const colors = runColors(comparison);
  const lengths = labelLengths(comparison);
  return {
    data: comparison.byLength.map((run) => {
      const byLength = new Map(run.byLength.map((l) => [String(l.length), l]));
      return {
        type: 'bar',
        name: run.label,
        x: lengths,
        y: lengths.map((length) => byLength.get(length)?.accuracy ?? null),
        text: lengths.map((length) => {
          const l = byLength.get(length);
          return l ? `${l.correct}/${l.samples}` : '';
        }),
        textposition: 'auto',
        marker: { color: colors.get(run.runId) },
      };
    }),
    layout: {
      title: { text: 'Accuracy per label length (correct/samples on the bars)' },
      barmode: 'group',
      xaxis: { type: 'category', categoryorder: 'array', categoryarray: lengths, title: { text: 'label length (characters)' } },
      yaxis: { title: { text: 'exact-match accuracy' }, ...accuracyAxis() },
      legend: { orientation: 'h', y: -0.25 },
      margin: { t: 50, b: 40 },
    },
  };
}

/** How a confusion pair reads: `3→8`, `∅→+` for an inserted `+`, `=→∅` for a dropped `=`. */
export function confusionLabel(pair: { truth: string; predicted: string }): string {
  return `${pair.truth === '' ? '∅' : pair.truth}→${pair.predicted === '' ? '∅' : pair.predicted}`;
}

/** Every confusion pair of every run with its count over all runs, most frequent first (ties by label). */
export function confusionTotals(comparison: Comparison): [label: string, count: number][] {
  const totals = new Map<string, number>();
  for (const run of comparison.confusions) for (const pair of run.confusions) totals.set(confusionLabel(pair), (totals.get(confusionLabel(pair)) ?? 0) + pair.count);
  return [...totals].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** Grouped horizontal bars of the most frequent confusions over all runs, counted per run. */
export function confusionFigure(comparison: Comparison): FigureSpec | null {
  const withPairs = comparison.confusions.filter((c) => c.confusions.length > 0);
  if (withPairs.length === 0) return null;
  // Most frequent at the top: plotly draws the first category of a horizontal bar at the bottom.
  const labels = confusionTotals(comparison).map(([label]) => label).reverse();
  const colors = runColors(comparison);
  const maxCount = Math.max(...withPairs.flatMap((run) => run.confusions.map((p) => p.count)));
  return {
    data: withPairs.map((run) => {
      const counts = new Map(run.confusions.map((p) => [confusionLabel(p), p.count]));
      return { type: 'bar', orientation: 'h', name: run.label, y: labels, x: labels.map((l) => counts.get(l) ?? 0), marker: { color: colors.get(run.runId) } };
    }),
    layout: {
      title: { text: 'Top confusions (truth→read; ∅: inserted/dropped)' },
      barmode: 'group',
      // Counts are whole numbers: at most about eight ticks, never fractional ones.
      xaxis: { title: { text: 'count on the test set' }, rangemode: 'tozero', dtick: Math.max(1, Math.ceil(maxCount / 8)) },
      yaxis: { type: 'category', automargin: true },
      legend: { orientation: 'h', y: -0.2 },
      height: Math.max(320, 90 + labels.length * 22 * Math.max(1, withPairs.length / 2)),
      margin: { t: 50 },
    },
  };
}

/** One figure per param the runs differ in, against the comparison's metric; a param fewer than two runs recorded with the metric is left out. */
export function sweepFigures(comparison: Comparison): FigureSpec[] {
  const colors = runColors(comparison);
  return comparison.sweeps
    .filter((sweep) => sweep.points.filter((p) => p.param !== null && p.value !== null).length >= 2)
    .map((sweep) => paramMetricFigure(sweep.points, { param: sweep.param, metric: sweep.metric, colors }));
}

/** Every figure of the dashboard. */
export function dashboardFigures(comparison: Comparison): DashboardFigures {
  return {
    stepLoss: stepLossFigure(comparison),
    learningRate: learningRateFigure(comparison),
    accuracyCurves: comparisonCurveFigure(comparison, 'accuracy'),
    lossCurves: comparisonCurveFigure(comparison, 'loss'),
    testAccuracy: testAccuracyFigure(comparison),
    lengthAccuracy: lengthAccuracyFigure(comparison),
    confusions: confusionFigure(comparison),
    sweeps: sweepFigures(comparison),
  };
}
