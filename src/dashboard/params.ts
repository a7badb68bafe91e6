/**
 * Params against a metric across runs, for sweeps: which params the runs differ in, and one
 * point per run (its param value, its metric) for `paramMetricFigure` (viz/).
 */
import { ConfigError } from '../errors';
import type { ParamValue, RunRecord } from '../tracker/query';
import type { TrackerStore } from '../tracker/store';
import type { ParamMetricPoint, ParamScalar } from '../viz/param-charts';
import { requireRuns, runLabel } from './run-lookup';

/** Which value of a metric stands for a run. */
export type MetricSummaryKind = 'best' | 'last';

/** Options of {@link paramMetricPoints} and {@link readParamMetricPoints}. */
export interface ParamMetricOptions {
  /** The run's best value of the metric (by its recorded mode) or its last. Defaults to `'best'`. */
  summary?: MetricSummaryKind;
}

/** A param value as a point's x: lists and objects as their JSON text. */
function scalar(value: ParamValue | undefined): ParamScalar {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return JSON.stringify(value);
}

/** One point per run: `param`'s value and `metric`'s best (or last) value, null where not recorded. */
export function paramMetricPoints(runs: readonly RunRecord[], param: string, metric: string, options: ParamMetricOptions = {}): ParamMetricPoint[] {
  const summary = options.summary ?? 'best';
  if (summary !== 'best' && summary !== 'last') throw new ConfigError(`summary ${JSON.stringify(summary)} is not valid: expected best or last`);
  return runs.map((run) => {
    const value = run.metrics[metric]?.[summary];
    return { runId: run.id, label: runLabel(run), param: scalar(run.params[param]), value: value !== undefined && Number.isFinite(value) ? value : null };
  });
}

/**
 * The params whose values differ between `runs` (a param some run lacks counts as differing),
 * numeric ones first, then by key: the candidates for a params-against-metric chart. A param
 * every run holds a different text value of (a path, a timestamp) says nothing about a metric
 * and is left out, as are lists and objects.
 */
export function differingParams(runs: readonly RunRecord[]): string[] {
  if (runs.length < 2) return [];
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
  const differing = keys.filter((key) => {
    const values = runs.map((r) => r.params[key]);
    if (values.some((v) => v !== undefined && v !== null && typeof v === 'object')) return false;
    const distinct = new Set(values.map((v) => (v === undefined ? '\u0000missing' : JSON.stringify(v))));
    if (distinct.size < 2) return false;
    const numeric = values.every((v) => v === undefined || typeof v === 'number');
    return numeric || distinct.size < runs.length || runs.length === 2;
  });
  const isNumeric = (key: string): boolean => runs.every((r) => r.params[key] === undefined || typeof r.params[key] === 'number');
  return differing.sort((a, b) => Number(isNumeric(b)) - Number(isNumeric(a)) || a.localeCompare(b));
}

/**
 * {@link paramMetricPoints} of the runs `runIds`, read from the store, in the order given; an
 * unknown id is a ConfigError naming it.
 *
 * @example
 * paramMetricFigure(readParamMetricPoints(store, ids, 'lr', 'val_accuracy'), { param: 'lr', metric: 'val_accuracy' });
 */
export function readParamMetricPoints(store: TrackerStore, runIds: readonly string[], param: string, metric: string, options: ParamMetricOptions = {}): ParamMetricPoint[] {
  return paramMetricPoints(requireRuns(store, runIds), param, metric, options);
}
