/**
 * Charts and tables of the center-loss comparison: per-epoch center statistics of each arm, and
 * the accuracy table of the base model and the fine-tuned arms. They read plain values, the
 * shape of what `runCenterLossComparison` returns.
 */
import type { FigureSpec } from '../types';
import { percent } from '../util/format';
import { epochAxis } from './axes';

/** One line of the chart: an arm's name and its epoch logs. */
export interface CenterHistorySeries {
  name: string;
  history: readonly Record<string, number>[];
}

/** Exact-match accuracy and CER of one model on the test split and on the look-alike set. */
export interface CenterTableScores {
  testAccuracy: number;
  testCer: number;
  lookalikeAccuracy: number;
  lookalikeCer: number;
}

/** What {@link centerComparisonTable} reads of a center-loss comparison. */
export interface CenterTableInput {
  baseRunId: string;
  base: CenterTableScores;
  variants: readonly (CenterTableScores & { name: string; lambda: number; runId: string; metrics: Record<string, number> })[];
}

/** What each statistic is called on the chart. */
const STATISTICS: Record<string, string> = {
  center_own_distance: 'to own center (train)',
  center_lookalike: 'to look-alike center (train)',
  center_between: 'between centers (train)',
  val_center_own_distance: 'to own center (val)',
  val_center_lookalike: 'to look-alike center (val)',
  val_center_overlap: 'look-alike overlap (val, right axis)',
};

/**
 * Lines of the center statistics per epoch, one per arm and statistic (those present): the
 * distances on the left axis, the scale-free look-alike overlap (own / look-alike distance,
 * lower is better separated) on the right.
 *
 * @example
 * tslab.display.html(figureHtml(centerHistoryFigure(cmp.variants)));
 */
export function centerHistoryFigure(series: readonly CenterHistorySeries[], keys: readonly string[] = Object.keys(STATISTICS)): FigureSpec {
  const data: Record<string, unknown>[] = [];
  const dashes = ['solid', 'dash', 'dot', 'dashdot'];
  series.forEach((arm, a) => {
    for (const key of keys) {
      const points = arm.history.map((logs, epoch) => [epoch + 1, logs[key]] as const).filter(([, v]) => typeof v === 'number' && Number.isFinite(v));
      if (points.length === 0) continue;
      data.push({
        type: 'scatter',
        mode: 'lines+markers',
        name: `${arm.name}: ${STATISTICS[key] ?? key}`,
        x: points.map(([e]) => e),
        y: points.map(([, v]) => v),
        yaxis: key.endsWith('overlap') ? 'y2' : 'y',
        line: { dash: dashes[a % dashes.length] },
      });
    }
  });
  return {
    data,
    layout: {
      title: { text: 'Center statistics by epoch' },
      xaxis: epochAxis(Math.max(1, ...series.map((arm) => arm.history.length))),
      yaxis: { title: { text: 'mean distance' } },
      yaxis2: { title: { text: 'overlap (own / look-alike)' }, overlaying: 'y', side: 'right' },
      legend: { orientation: 'h', y: -0.25 },
    },
  };
}


/**
 * The comparison as a table: one row for the base model and one per arm, with exact-match
 * accuracy and CER on the test split and on the look-alike set, and the look-alike overlap of
 * the look-alike set's features.
 */
export function centerComparisonTable(comparison: CenterTableInput): { columns: string[]; rows: string[][] } {
  const columns = ['model', 'run', 'test exact', 'test CER', 'look-alike exact', 'look-alike CER', 'look-alike overlap'];
  const { base } = comparison;
  const rows = [['base (before fine-tuning)', comparison.baseRunId, percent(base.testAccuracy, 2, ''), percent(base.testCer, 2, ''), percent(base.lookalikeAccuracy, 2, ''), percent(base.lookalikeCer, 2, ''), '']];
  for (const v of comparison.variants) {
    const overlap = v.metrics['lookalike_center_overlap'];
    rows.push([
      `${v.name} (lambda ${v.lambda})`,
      v.runId,
      percent(v.testAccuracy, 2, ''),
      percent(v.testCer, 2, ''),
      percent(v.lookalikeAccuracy, 2, ''),
      percent(v.lookalikeCer, 2, ''),
      typeof overlap === 'number' && Number.isFinite(overlap) ? overlap.toFixed(4) : '',
    ]);
  }
  return { columns, rows };
}
