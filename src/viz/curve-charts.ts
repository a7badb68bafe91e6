/**
 * Metric curves of several runs overlaid, as TensorBoard draws them: per step, per epoch or
 * against wall-clock minutes; per-step lines smoothed (a debiased exponential moving average)
 * over the faint raw line; a log axis where a loss spans decades; one colour per run and one
 * line style per metric, the legend naming only the styles drawn.
 *
 * Long lines are downsampled, not handed to WebGL: every bucket of points keeps its smallest and
 * largest value, so a spike survives, and 100,000 points become at most `maxPoints` (4,000 by
 * default, more than a chart's width in pixels). The figure then stays an SVG plot, which draws
 * in any browser and in headless Chromium without a GPU, and a page may hold many of them
 * (browsers cap WebGL contexts at about 16 a page). `webgl: true` switches long lines to plotly's
 * `scattergl` for a page that wants to draw them whole.
 */
import { ConfigError } from '../errors';
import type { FigureSpec } from '../types';
import { epochAxis, isRatioScaleKey, runColorMap, spansDecades } from './axes';

/**
 * One metric of one run, point by point: what {@link metricCurveFigure} draws, as plain JSON-able
 * values (`readMetricCurves` in dashboard/ reads them from the store). The arrays are parallel.
 */
export interface MetricCurve {
  runId: string;
  /** The run as legends name it, e.g. `custom · 3f9a2c`. */
  label: string;
  /** Metric key, e.g. `'batch_loss'`, `'val_accuracy'`. */
  key: string;
  /** `'step'`: a value per gradient step (`batch_*` keys); `'epoch'`: a value per epoch. */
  per: 'step' | 'epoch';
  /** Gradient steps done when the value was recorded (an epoch's value: the steps to its end); null where unknown. */
  steps: (number | null)[];
  /** Epochs done, numbered from 1 (the end of the first epoch); fractional for per-step values. */
  epochs: number[];
  /** Minutes since the run started. */
  minutes: number[];
  /** The values; null for one that was not a finite number (a diverged loss). */
  values: (number | null)[];
}

/** What a curve figure's x axis measures. */
export type CurveXAxis = 'step' | 'epoch' | 'minutes';

/** The x axes {@link metricCurveFigure} takes. */
export const CURVE_X_AXES: readonly CurveXAxis[] = ['step', 'epoch', 'minutes'];

/** Options of {@link metricCurveFigure}. */
export interface MetricCurveFigureOptions {
  /** The x axis. Defaults to `'step'` when every curve knows its steps, else `'epoch'`. */
  x?: CurveXAxis;
  /**
   * Weight of the exponential moving average drawn over per-step curves, in [0, 1): 0 draws them
   * raw, 0.9 smooths hard (TensorBoard's slider). Per-epoch curves are never smoothed: they have
   * few points, each an average already. Defaults to 0.6.
   */
  smoothing?: number;
  /** `'auto'`: log when every curve is a loss or learning rate and their values span more than 1.5 decades. Defaults to `'auto'`. */
  yScale?: 'auto' | 'linear' | 'log';
  /** Most points drawn for one line; longer lines keep the smallest and largest value of each bucket. Defaults to 4000. */
  maxPoints?: number;
  /** Draw lines longer than 2,000 points (after downsampling) with WebGL (`scattergl`). Defaults to false (SVG; see the module's comment). */
  webgl?: boolean;
  /** Colour of each run, by id. Defaults to plotly's colour cycle in the order the runs first appear. */
  colors?: ReadonlyMap<string, string>;
  /** Title. Defaults to the keys drawn, e.g. `'batch_loss, val_loss per step'`. */
  title?: string;
  /** Title of the y axis. Defaults to the key when one is drawn, else `'value'`. */
  yTitle?: string;
  /** Height in pixels. Defaults to none (the page's). */
  height?: number;
}

/** The options of {@link metricCurveFigure} with every default filled. */
type ResolvedCurveOptions = Required<Omit<MetricCurveFigureOptions, 'title' | 'yTitle' | 'height' | 'colors'>> & { colors: ReadonlyMap<string, string> };

/** Line styles by metric, in the order the keys first appear. */
const DASHES = ['solid', 'dash', 'dot', 'dashdot', 'longdash', 'longdashdot'] as const;
const DASH_WORDS: Record<(typeof DASHES)[number], string> = { solid: 'solid', dash: 'dashed', dot: 'dotted', dashdot: 'dash-dot', longdash: 'long-dashed', longdashdot: 'long-dash-dot' };

/** Lines longer than this (after downsampling) go to WebGL when `webgl` is set. */
const WEBGL_POINTS = 2000;

function resolveCurveOptions(curves: readonly MetricCurve[], options: MetricCurveFigureOptions): ResolvedCurveOptions {
  const smoothing = options.smoothing ?? 0.6;
  if (!(smoothing >= 0 && smoothing < 1)) throw new ConfigError(`smoothing ${smoothing} is not valid: expected a number in [0, 1), e.g. 0.6 (0 draws the raw line)`);
  const maxPoints = options.maxPoints ?? 4000;
  if (!(Number.isInteger(maxPoints) && maxPoints >= 4)) throw new ConfigError(`maxPoints ${maxPoints} is not valid: expected a whole number >= 4`);
  if (options.x !== undefined && !CURVE_X_AXES.includes(options.x)) throw new ConfigError(`x axis ${JSON.stringify(options.x)} is not valid: expected one of ${CURVE_X_AXES.join(', ')}`);
  const yScale = options.yScale ?? 'auto';
  if (!['auto', 'linear', 'log'].includes(yScale)) throw new ConfigError(`yScale ${JSON.stringify(yScale)} is not valid: expected auto, linear or log`);
  return {
    x: options.x ?? (curves.every((c) => c.steps.every((s) => s !== null)) ? 'step' : 'epoch'),
    smoothing,
    yScale,
    maxPoints,
    webgl: options.webgl ?? false,
    colors: options.colors ?? runColorMap(curves.map((c) => c.runId)),
  };
}

/**
 * TensorBoard's smoothing: an exponential moving average with weight `weight`, debiased so that
 * the first points are not pulled towards 0 (each is divided by `1 - weight^n` after n values).
 * A null (or non-finite) value stays null and leaves the average unchanged.
 *
 * @example
 * smoothEma([1, 2, 3], 0.5); // [1, 1.667, 2.429]
 */
export function smoothEma(values: readonly (number | null)[], weight: number): (number | null)[] {
  if (!(weight >= 0 && weight < 1)) throw new ConfigError(`smoothing weight ${weight} is not valid: expected a number in [0, 1)`);
  let average = 0;
  let seen = 0;
  return values.map((value) => {
    if (value === null || !Number.isFinite(value)) return null;
    average = average * weight + (1 - weight) * value;
    seen++;
    return average / (1 - weight ** seen);
  });
}

/**
 * At most `maxPoints` of a line: the points split into `maxPoints / 2` runs of neighbours, each
 * keeping its smallest and largest value in their order, so spikes and the band the line fills
 * survive; the first and last points are always kept. A bucket holding a null keeps one, so a
 * gap stays a gap. Points are taken in the order given (sorted by x).
 */
export function downsampleMinMax(x: readonly number[], y: readonly (number | null)[], maxPoints: number): { x: number[]; y: (number | null)[] } {
  const n = Math.min(x.length, y.length);
  if (n <= maxPoints) return { x: x.slice(0, n), y: y.slice(0, n) };
  const buckets = Math.max(1, Math.floor((maxPoints - 2) / 2));
  const outX: number[] = [x[0] as number];
  const outY: (number | null)[] = [y[0] ?? null];
  const interior = n - 2;
  for (let b = 0; b < buckets; b++) {
    const start = 1 + Math.floor((b * interior) / buckets);
    const end = 1 + Math.floor(((b + 1) * interior) / buckets);
    let minAt = -1;
    let maxAt = -1;
    let nullAt = -1;
    for (let i = start; i < end; i++) {
      const value = y[i];
      if (value === null || value === undefined || !Number.isFinite(value)) {
        if (nullAt < 0) nullAt = i;
        continue;
      }
      if (minAt < 0 || value < (y[minAt] as number)) minAt = i;
      if (maxAt < 0 || value > (y[maxAt] as number)) maxAt = i;
    }
    const kept = [...new Set([minAt, maxAt, nullAt].filter((i) => i >= 0))].sort((a, b) => a - b);
    for (const i of kept) {
      outX.push(x[i] as number);
      outY.push(i === nullAt ? null : (y[i] as number));
    }
  }
  outX.push(x[n - 1] as number);
  outY.push(y[n - 1] ?? null);
  return { x: outX, y: outY };
}

/** The x values of a curve on the chosen axis, and its points that have one (a step may be unknown). */
function curvePoints(curve: MetricCurve, axis: CurveXAxis): { x: number[]; y: (number | null)[]; missing: number } {
  const source = axis === 'step' ? curve.steps : axis === 'epoch' ? curve.epochs : curve.minutes;
  const x: number[] = [];
  const y: (number | null)[] = [];
  source.forEach((value, i) => {
    if (value === null || value === undefined || !Number.isFinite(value)) return;
    x.push(value);
    const v = curve.values[i];
    y.push(v === null || v === undefined || !Number.isFinite(v) ? null : v);
  });
  return { x, y, missing: curve.values.length - x.length };
}

const AXIS_TITLES: Record<CurveXAxis, string> = { step: 'step', epoch: 'epoch', minutes: 'minutes since the run started' };

/** How each line reads in the legend: the run, the metric, or both when several of each are drawn. */
function lineName(curve: MetricCurve, manyRuns: boolean, manyKeys: boolean): string {
  if (manyRuns && manyKeys) return `${curve.label} · ${curve.key}`;
  return manyRuns ? curve.label : curve.key;
}

/**
 * Overlaid metric curves of one or more runs: one colour per run, one line style per metric
 * key. Per-step curves are smoothed (see {@link smoothEma}) over their faint raw line; long lines
 * are downsampled (see {@link downsampleMinMax}). The y axis is logarithmic where losses span
 * decades. The title says what each line style means, for the styles drawn only. Curves that
 * cannot be drawn on the chosen axis (no step count recorded) are named under the chart.
 *
 * @example
 * const curves = readMetricCurves(store, [runA, runB], { keys: ['batch_loss', 'val_loss'] });
 * display.html(figureHtml(metricCurveFigure(curves, { x: 'minutes', smoothing: 0.8 })));
 */
export function metricCurveFigure(curves: readonly MetricCurve[], options: MetricCurveFigureOptions = {}): FigureSpec {
  const resolved = resolveCurveOptions(curves, options);
  const keys = [...new Set(curves.map((c) => c.key))];
  const runs = [...new Set(curves.map((c) => c.runId))];
  const dashOf = new Map(keys.map((key, i) => [key, DASHES[i % DASHES.length] as (typeof DASHES)[number]]));
  const traces: Record<string, unknown>[] = [];
  const notDrawn: string[] = [];
  const drawnValues: (number | null)[] = [];
  const shown = new Set<string>();
  let lastEpoch = 0;
  for (const curve of curves) {
    const { x, y, missing } = curvePoints(curve, resolved.x);
    if (missing > 0) notDrawn.push(`${curve.label} ${curve.key} (${missing === curve.values.length ? 'all' : missing} of ${curve.values.length} points: no ${resolved.x} recorded)`);
    if (x.length === 0) continue;
    if (resolved.x === 'epoch') lastEpoch = Math.max(lastEpoch, x[x.length - 1] as number);
    const color = resolved.colors.get(curve.runId) ?? RUN_FALLBACK_COLOR;
    const dash = dashOf.get(curve.key) ?? 'solid';
    const name = lineName(curve, runs.length > 1, keys.length > 1);
    const smoothed = curve.per === 'step' && resolved.smoothing > 0;
    const line = (values: (number | null)[], extra: Record<string, unknown>): Record<string, unknown> => {
      const thin = downsampleMinMax(x, values, resolved.maxPoints);
      const type = resolved.webgl && thin.x.length > WEBGL_POINTS ? 'scattergl' : 'scatter';
      const markers = curve.per === 'epoch' && thin.x.length <= 60;
      return {
        type,
        mode: markers ? 'lines+markers' : 'lines',
        x: thin.x,
        y: thin.y,
        legendgroup: curve.runId,
        line: { color, dash, width: curve.per === 'step' ? 1.5 : 2 },
        ...(markers ? { marker: { color, size: 5 } } : {}),
        ...extra,
      };
    };
    if (smoothed) traces.push(line(y, { name: `${name} (raw)`, showlegend: false, opacity: 0.25, hoverinfo: 'skip', line: { color, dash, width: 1 } }));
    const values = smoothed ? smoothEma(y, resolved.smoothing) : y;
    // One legend entry per line; a run drawn in several keys repeats its colour, named in each entry.
    const key = `${curve.runId}\u0000${curve.key}`;
    traces.push(
      line(values, {
        name,
        showlegend: !shown.has(key),
        hovertemplate: `${escapeTemplate(curve.label)}<br>${escapeTemplate(curve.key)}${smoothed ? ' (smoothed)' : ''}: %{y:.4g}<br>${AXIS_TITLES[resolved.x]} %{x}<extra></extra>`,
      }),
    );
    shown.add(key);
    drawnValues.push(...y);
  }
  const log = resolved.yScale === 'log' || (resolved.yScale === 'auto' && keys.length > 0 && keys.every(isRatioScaleKey) && spansDecades(drawnValues));
  const styles = keys.length > 1 ? keys.map((key) => `${DASH_WORDS[dashOf.get(key) ?? 'solid']}: ${key}`).join(', ') : '';
  const title = options.title ?? `${keys.join(', ') || 'metrics'} per ${resolved.x === 'minutes' ? 'minute' : resolved.x}`;
  const notes = [
    resolved.smoothing > 0 && curves.some((c) => c.per === 'step') ? `smoothing ${resolved.smoothing} (faint: raw)` : '',
    notDrawn.length > 0 ? `not drawn: ${notDrawn.join('; ')}` : '',
  ].filter(Boolean);
  const xaxis = resolved.x === 'epoch' ? epochAxis(Math.max(1, lastEpoch)) : { title: { text: AXIS_TITLES[resolved.x] }, rangemode: 'tozero' };
  return {
    data: traces,
    layout: {
      title: { text: styles ? `${title}<br><sub>${escapeTemplate(styles)}</sub>` : title },
      xaxis,
      yaxis: { title: { text: options.yTitle ?? (keys.length === 1 ? keys[0] : 'value') }, type: log ? 'log' : 'linear', ...(log ? { exponentformat: 'power' } : {}) },
      legend: { orientation: 'h', y: -0.25 },
      margin: { t: styles ? 70 : 50, b: 40 },
      ...(notes.length > 0
        ? { annotations: [{ text: escapeTemplate(notes.join(' · ')), xref: 'paper', yref: 'paper', x: 0, y: 1.02, xanchor: 'left', yanchor: 'bottom', showarrow: false, font: { size: 11, color: '#666' } }] }
        : {}),
      ...(options.height !== undefined ? { height: options.height } : {}),
    },
  };
}

/** The colour of a run missing from `colors`. */
const RUN_FALLBACK_COLOR = '#444';

/** Text for plotly's templates and titles, which read a small set of HTML tags and `%{...}`. */
function escapeTemplate(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/%\{/g, '%\u200b{');
}
