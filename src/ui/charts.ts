/**
 * The charts of `glyphlab ui`, built on the server from the store with the same figure code as
 * the static dashboard and notebook 04 (`readMetricCurves` and `readParamMetricPoints` in
 * dashboard/, `metricCurveFigure` and `paramMetricFigure` in viz/), and sent to the page as
 * plotly specs: the page only draws them.
 */
import { ConfigError } from '../errors';
import type { FigureSpec } from '../types';
import { readMetricCurves } from '../dashboard/curves';
import { readParamMetricPoints } from '../dashboard/params';
import { listRuns } from '../tracker/query';
import type { TrackerStore } from '../tracker/store';
import { CURVE_X_AXES, type CurveXAxis, metricCurveFigure } from '../viz/curve-charts';
import { runColorMap } from '../viz/axes';
import { paramMetricFigure } from '../viz/param-charts';

/** Most runs overlaid in one chart: beyond the palette's ten colours lines repeat, beyond this they are unreadable. */
export const MAX_OVERLAID_RUNS = 30;

/** Options of {@link curvesFigure}, as the page sends them. */
export interface CurvesFigureOptions {
  /** The runs, in the order their colours are given. */
  runIds: readonly string[];
  /** Metric keys, e.g. `batch_loss` (per step), `val_loss` (per epoch). Defaults to `batch_loss` when a run has it, else `loss`. */
  keys?: readonly string[];
  /** `step`, `epoch` or `minutes`. Defaults to `step` when every curve knows its steps, else `epoch`. */
  x?: string;
  /** EMA weight in [0, 1) over per-step curves. Defaults to 0.6. */
  smoothing?: number;
  /** `auto`, `linear` or `log`. Defaults to `auto` (log where a loss spans decades). */
  y?: string;
}

const Y_SCALES = ['auto', 'linear', 'log'] as const;

/** The loss per step when a run recorded one, else per epoch. */
function defaultCurveKeys(store: TrackerStore, runIds: readonly string[]): string[] {
  const runs = runIds.length === 0 ? [] : listRuns(store, { where: { field: 'id', op: 'in', value: [...runIds] } });
  return [runs.some((run) => run.metrics.batch_loss !== undefined) ? 'batch_loss' : 'loss'];
}

/**
 * The overlaid curves of the chosen runs and keys. Colours follow the order of `runIds`, so the
 * page can show each selected run's colour beside it. A bad axis, scale or smoothing, too many
 * runs or an unknown run is a ConfigError naming it.
 */
export function curvesFigure(store: TrackerStore, options: CurvesFigureOptions): FigureSpec {
  const runIds = [...new Set(options.runIds)];
  if (runIds.length > MAX_OVERLAID_RUNS) throw new ConfigError(`${runIds.length} runs selected: at most ${MAX_OVERLAID_RUNS} are overlaid in one chart; select fewer`);
  if (options.x !== undefined && !(CURVE_X_AXES as readonly string[]).includes(options.x)) {
    throw new ConfigError(`x ${JSON.stringify(options.x)} is not valid: expected one of ${CURVE_X_AXES.join(', ')}`);
  }
  if (options.y !== undefined && !(Y_SCALES as readonly string[]).includes(options.y)) throw new ConfigError(`y ${JSON.stringify(options.y)} is not valid: expected one of ${Y_SCALES.join(', ')}`);
  const keys = options.keys && options.keys.length > 0 ? options.keys : defaultCurveKeys(store, runIds);
  const curves = readMetricCurves(store, runIds, { keys });
  return metricCurveFigure(curves, {
    x: options.x as CurveXAxis | undefined,
    smoothing: options.smoothing,
    yScale: options.y as (typeof Y_SCALES)[number] | undefined,
    colors: runColorMap(runIds),
  });
}

/** Options of {@link paramsFigure}, as the page sends them. */
export interface ParamsFigureOptions {
  /** The runs to plot, coloured as in the curves. Defaults to every run `where` matches. */
  runIds?: readonly string[];
  /** Without `runIds`: the table's filter. Defaults to every run. */
  where?: string;
  /** Most runs plotted without `runIds`. Defaults to 1000, as the table. */
  limit?: number;
  /** The param on the x axis, e.g. `lr`. */
  param: string;
  /** The metric on the y axis (each run's best value), e.g. `val_accuracy`. */
  metric: string;
}

/**
 * A param against a metric, one point per run: the selected runs, or every run of the table's
 * filter when none is selected. A missing param or metric name is a ConfigError.
 */
export function paramsFigure(store: TrackerStore, options: ParamsFigureOptions): FigureSpec {
  if (options.param.trim() === '' || options.metric.trim() === '') throw new ConfigError('a params chart needs a param and a metric, e.g. param=lr&metric=val_accuracy');
  const selected = options.runIds && options.runIds.length > 0 ? [...new Set(options.runIds)] : undefined;
  const runIds = selected ?? listRuns(store, { where: options.where?.trim() ? options.where : undefined, limit: options.limit ?? 1000, details: false }).map((run) => run.id);
  const points = readParamMetricPoints(store, runIds, options.param, options.metric);
  return paramMetricFigure(points, { param: options.param, metric: options.metric, colors: selected ? runColorMap(selected) : undefined });
}
