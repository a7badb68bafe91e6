/**
 * A param against a metric across runs, for sweeps: one point per run, the run's name on hover.
 * A numeric param gets a numeric axis (logarithmic where it spans more than a decade, as a
 * learning rate swept from 1e-4 to 1e-2 does); any other param, a category axis in numeric order
 * where its values are numbers.
 */
import { ConfigError } from '../errors';
import type { FigureSpec } from '../types';
import { percent } from '../util/format';
import { RUN_PALETTE, niceTickStep, sortCategories, spansDecades } from './axes';

/** A param value as a point's x: scalars only (a list or object param is shown as its JSON text). */
export type ParamScalar = string | number | boolean | null;

/** One run's point: its param value and its metric value. */
export interface ParamMetricPoint {
  runId: string;
  /** The run as legends name it. */
  label: string;
  /** The param's value; null where the run did not record it. */
  param: ParamScalar;
  /** The metric's value; null where the run did not record it. */
  value: number | null;
}

/** Options of {@link paramMetricFigure}. */
export interface ParamMetricFigureOptions {
  /** The param's key, for the axis title, e.g. `'training.learningRate'`. */
  param: string;
  /** The metric's key, for the axis title, e.g. `'test_accuracy'`. */
  metric: string;
  /** `'auto'`: log where a numeric param's positive values span more than a decade. Defaults to `'auto'`. */
  xScale?: 'auto' | 'linear' | 'log';
  /** Colour of each run, by id. Defaults to one colour for every point. */
  colors?: ReadonlyMap<string, string>;
  /** Title. Defaults to `'<metric> by <param>'`. */
  title?: string;
  /** The run whose point is ringed and named in the legend as the best (a sweep's best trial). Defaults to none. */
  highlight?: string;
}

/** Ticks on whole numbers only, for a param every run holds a whole number of (epochs, layers): never 3.2 epochs. */
function wholeNumberTicks(values: readonly number[]): Record<string, unknown> {
  if (!values.every(Number.isInteger)) return {};
  const span = Math.max(...values) - Math.min(...values);
  return { tickmode: 'linear', tick0: 0, dtick: niceTickStep(span, 8, 1) };
}

/** Decades a numeric param must span before its axis goes logarithmic by itself. */
const PARAM_LOG_DECADES = 1;

/** Whether a metric reads as a share in [0, 1] (shown as a percentage on hover). */
const isShare = (metric: string): boolean => /accuracy|cer|rate$/i.test(metric) && !/learning_rate|lr$/i.test(metric);

/**
 * A scatter of `options.metric` against `options.param`, one point per run that recorded both;
 * the runs missing either are named under the chart. Hovering a point shows the run, the param
 * and the metric.
 *
 * @example
 * paramMetricFigure(readParamMetricPoints(store, ids, 'lr', 'val_accuracy'), { param: 'lr', metric: 'val_accuracy' });
 */
export function paramMetricFigure(points: readonly ParamMetricPoint[], options: ParamMetricFigureOptions): FigureSpec {
  const xScale = options.xScale ?? 'auto';
  if (!['auto', 'linear', 'log'].includes(xScale)) throw new ConfigError(`xScale ${JSON.stringify(xScale)} is not valid: expected auto, linear or log`);
  const drawn = points.filter((p) => p.param !== null && p.value !== null && Number.isFinite(p.value));
  const missing = points.filter((p) => !drawn.includes(p)).map((p) => p.label);
  const numeric = drawn.length > 0 && drawn.every((p) => typeof p.param === 'number' && Number.isFinite(p.param));
  const log = numeric && (xScale === 'log' || (xScale === 'auto' && spansDecades(drawn.map((p) => p.param as number), PARAM_LOG_DECADES)));
  if (xScale === 'log' && !numeric) throw new ConfigError(`param ${options.param} is not numeric in every run, so it cannot have a log axis; use xScale 'auto' or 'linear'`);
  const xs = drawn.map((p) => (numeric ? (p.param as number) : String(p.param)));
  const share = isShare(options.metric);
  const categories = numeric ? [] : sortCategories(xs as string[]);
  const annotations = missing.length
    ? [{ text: `not drawn (no ${options.param} or ${options.metric}): ${missing.join(', ')}`, xref: 'paper', yref: 'paper', x: 0, y: -0.28, xanchor: 'left', showarrow: false, font: { size: 11, color: '#666' } }]
    : [];
  // A ring drawn over the highlighted point, as a trace of its own so the legend can name it.
  const highlighted = drawn.findIndex((p) => p.runId === options.highlight);
  const ring = highlighted < 0
    ? []
    : [
        {
          type: 'scatter',
          mode: 'markers',
          name: `best: ${drawn[highlighted]!.label}`,
          x: [xs[highlighted]],
          y: [drawn[highlighted]!.value],
          hoverinfo: 'skip',
          marker: { size: 20, symbol: 'circle-open', color: '#222', line: { width: 2.5, color: '#222' } },
        },
      ];
  return {
    data: [
      {
        type: 'scatter',
        mode: 'markers',
        name: options.metric,
        showlegend: false,
        x: xs,
        y: drawn.map((p) => p.value),
        text: drawn.map((p) => p.label),
        customdata: drawn.map((p) => (share ? percent(p.value) : String(Number((p.value as number).toPrecision(4))))),
        hovertemplate: `%{text}<br>${options.param} %{x}<br>${options.metric} %{customdata}<extra></extra>`,
        marker: { size: 10, color: drawn.map((p) => options.colors?.get(p.runId) ?? RUN_PALETTE[0]), line: { width: 1, color: '#fff' } },
      },
      ...ring,
    ],
    layout: {
      title: { text: options.title ?? `${options.metric} by ${options.param}` },
      xaxis: numeric
        ? { title: { text: options.param }, type: log ? 'log' : 'linear', ...(log ? { exponentformat: 'power' } : wholeNumberTicks(xs as number[])) }
        : { title: { text: options.param }, type: 'category', categoryorder: 'array', categoryarray: categories },
      yaxis: { title: { text: options.metric }, ...(share ? { tickformat: '.0%' } : {}) },
      // The legend (the ring's name) under the axis title, and under the note of runs not drawn where there is one.
      ...(ring.length ? { showlegend: true, legend: { orientation: 'h', x: 0, xanchor: 'left', y: missing.length ? -0.4 : -0.28, yanchor: 'top' } } : { showlegend: false }),
      margin: { t: 50, b: (missing.length ? 80 : 50) + (ring.length ? 30 : 0) },
      ...(annotations.length ? { annotations } : {}),
    },
  };
}
