/**
 * Plotly figure specs of a {@link Comparison}: pure functions from its plain data. Each run
 * keeps one colour across every chart; training curves are dashed, validation curves solid.
 */
import type { FigureSpec } from '../types';
import type { Comparison } from './compare';
import { percent } from '../util/format';

/** Plotly's default colour cycle, so a run's colour is stable across charts. */
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** The colour of each run, by id, in the comparison's run order. */
export function runColors(comparison: Comparison): Map<string, string> {
  return new Map(comparison.runs.map((run, i) => [run.id, PALETTE[i % PALETTE.length] as string]));
}

/** The figures of a comparison; `null` where no run has the data. */
export interface DashboardFigures {
  accuracyCurves: FigureSpec | null;
  lossCurves: FigureSpec | null;
  testAccuracy: FigureSpec | null;
  lengthAccuracy: FigureSpec | null;
  confusions: FigureSpec | null;
}

/** Overlaid per-epoch curves of every run: `'accuracy'` (train and validation) or `'loss'`. */
export function comparisonCurveFigure(comparison: Comparison, chart: 'accuracy' | 'loss'): FigureSpec | null {
  const series = comparison.curves[chart];
  if (series.length === 0) return null;
  const colors = runColors(comparison);
  return {
    data: series.map((s) => ({
      type: 'scatter',
      mode: s.epochs.length > 1 ? 'lines+markers' : 'markers',
      name: `${s.label} ${s.split}`,
      legendgroup: s.runId,
      // Epochs are recorded from 0; charts, the CLI and the notebooks number them from 1.
      x: s.epochs.map((epoch) => epoch + 1),
      // JSON has no NaN: a diverged loss becomes a gap in the line.
      y: s.values.map((v) => (Number.isFinite(v) ? v : null)),
      line: { color: colors.get(s.runId), dash: s.split === 'train' ? 'dash' : 'solid' },
      marker: { color: colors.get(s.runId), size: 5 },
    })),
    layout: {
      title: { text: chart === 'accuracy' ? 'Accuracy per epoch (solid: validation, dashed: training)' : 'Loss per epoch (solid: validation, dashed: training)' },
      xaxis: { title: { text: 'epoch' }, dtick: 1 },
      yaxis: chart === 'accuracy' ? { title: { text: 'exact-match accuracy' }, range: [0, 1.02] } : { title: { text: 'CTC loss' }, rangemode: 'tozero' },
      legend: { orientation: 'h', y: -0.25 },
      margin: { t: 50, b: 40 },
    },
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
      yaxis: { title: { text: 'exact-match accuracy' }, range: [0, 1.02] },
      margin: { t: 50 },
    },
  };
}

/** Grouped bars: exact-match accuracy per label length, one colour per run. */
export function lengthAccuracyFigure(comparison: Comparison): FigureSpec | null {
  if (comparison.byLength.length === 0) return null;
  const colors = runColors(comparison);
  return {
    data: comparison.byLength.map((run) => ({
      type: 'bar',
      name: run.label,
      x: run.byLength.map((l) => String(l.length)),
      y: run.byLength.map((l) => l.accuracy),
      text: run.byLength.map((l) => `${l.correct}/${l.samples}`),
      textposition: 'auto',
      marker: { color: colors.get(run.runId) },
    })),
    layout: {
      title: { text: 'Accuracy per label length (correct/samples on the bars)' },
      barmode: 'group',
      xaxis: { type: 'category', title: { text: 'label length (characters)' } },
      yaxis: { title: { text: 'exact-match accuracy' }, range: [0, 1.02] },
      legend: { orientation: 'h', y: -0.25 },
      margin: { t: 50, b: 40 },
    },
  };
}

/** How a confusion pair reads: `3→8`, `∅→+` for an inserted `+`, `=→∅` for a dropped `=`. */
export function confusionLabel(pair: { truth: string; predicted: string }): string {
  return `${pair.truth === '' ? '∅' : pair.truth}→${pair.predicted === '' ? '∅' : pair.predicted}`;
}

/** Grouped horizontal bars of the most frequent confusions over all runs, counted per run. */
export function confusionFigure(comparison: Comparison): FigureSpec | null {
  const withPairs = comparison.confusions.filter((c) => c.confusions.length > 0);
  if (withPairs.length === 0) return null;
  const totals = new Map<string, number>();
  for (const run of withPairs) for (const pair of run.confusions) totals.set(confusionLabel(pair), (totals.get(confusionLabel(pair)) ?? 0) + pair.count);
  // Most frequent at the top: plotly draws the first category of a horizontal bar at the bottom.
  const labels = [...totals].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([label]) => label).reverse();
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

/** Every figure of the dashboard. */
export function dashboardFigures(comparison: Comparison): DashboardFigures {
  return {
    accuracyCurves: comparisonCurveFigure(comparison, 'accuracy'),
    lossCurves: comparisonCurveFigure(comparison, 'loss'),
    testAccuracy: testAccuracyFigure(comparison),
    lengthAccuracy: lengthAccuracyFigure(comparison),
    confusions: confusionFigure(comparison),
  };
}
