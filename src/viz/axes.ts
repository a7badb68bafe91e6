/**
 * Axes every chart shares: one colour per run, tick steps that stay readable however many
 * epochs a run has, categories in numeric order, and the log-or-linear choice for a loss.
 */

/** Plotly's default colour cycle, so that a run keeps its colour across charts and pages. */
export const RUN_PALETTE: readonly string[] = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** The colour of each run id, in the order given (the palette repeats after ten runs). */
export function runColorMap(runIds: readonly string[]): Map<string, string> {
  const colors = new Map<string, string>();
  for (const id of runIds) if (!colors.has(id)) colors.set(id, RUN_PALETTE[colors.size % RUN_PALETTE.length] as string);
  return colors;
}

/**
 * A tick step of 1, 2 or 5 times a power of ten that puts at most `maxTicks` ticks on
 * `[0, span]`, never below `minStep`: 500 epochs get a tick every 50, 4 epochs one every 1.
 *
 * @example
 * niceTickStep(500, 10, 1); // 50
 * niceTickStep(4, 10, 1);   // 1
 */
export function niceTickStep(span: number, maxTicks = 10, minStep = 0): number {
  if (!(span > 0) || !Number.isFinite(span)) return Math.max(minStep, 1);
  const raw = span / Math.max(1, maxTicks);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= raw) ?? 10 * power;
  return Math.max(step, minStep);
}

/**
 * A plotly x axis of epochs numbered from 1, up to `lastEpoch`: whole-number ticks about ten
 * apart at most (plotly's own choice would put ticks at 0.5 for a short run, and a tick per
 * epoch smears a long one).
 */
export function epochAxis(lastEpoch: number, title = 'epoch'): Record<string, unknown> {
  return { title: { text: title }, tickmode: 'linear', tick0: 0, dtick: niceTickStep(lastEpoch, 10, 1), rangemode: 'tozero' };
}

/** Category labels in numeric order where each is a number (`'7', '8', '10'`), else in text order. */
export function sortCategories(labels: Iterable<string>): string[] {
  const unique = [...new Set(labels)];
  const numeric = unique.every((label) => label.trim() !== '' && Number.isFinite(Number(label)));
  return numeric ? unique.sort((a, b) => Number(a) - Number(b)) : unique.sort((a, b) => a.localeCompare(b));
}

/** Decades a loss must span before its axis goes logarithmic by itself. */
export const LOG_SCALE_DECADES = 1.5;

/** Keys whose values are losses or learning rates: the metrics whose interesting range is a ratio. */
export function isRatioScaleKey(key: string): boolean {
  return /(^|_)(loss|lr|learning_rate)$/i.test(key);
}

/**
 * Whether `values` belong on a log axis: every finite one is positive and the largest is more
 * than `decades` powers of ten above the smallest (a good run's loss of 0.05 under one of 4 is
 * flat on a linear axis).
 */
export function spansDecades(values: Iterable<number | null>, decades = LOG_SCALE_DECADES): boolean {
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    if (value === null || !Number.isFinite(value)) continue;
    if (value <= 0) return false;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return max > min && Math.log10(max / min) > decades;
}
