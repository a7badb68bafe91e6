/**
 * Query results as danfojs DataFrames for notebooks. danfojs-node is loaded on first use, so the
 * CLI and code that never asks for a DataFrame do not pay its start-up time (about a second).
 */
import type { MetricPoint, RunRecord } from './query';
import { runsToRows } from './query';

// Only the type: a value import would load danfojs-node with this module.
type Danfo = typeof import('danfojs-node');
/** A danfojs DataFrame. */
export type DataFrame = InstanceType<Danfo['DataFrame']>;

let danfo: Danfo | undefined;
function loadDanfo(): Danfo {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  danfo ??= require('danfojs-node') as Danfo;
  return danfo;
}

/** Runs as a DataFrame: one row per run, columns as in CSV exports (`params.*`, `metrics.*`, `metrics.*.best`). */
export function runsToDataFrame(runs: readonly RunRecord[]): DataFrame {
  const rows = runsToRows(runs);
  const { DataFrame } = loadDanfo();
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  // danfo infers a column's type from its values; give every row every column so missing ones are null, not shifted.
  return new DataFrame(rows.map((r) => columns.map((c) => r[c] ?? null)), { columns });
}

/** Metric history as a long DataFrame: runId, key, step, epoch, value, wallTime, context. */
export function metricHistoryToDataFrame(points: readonly MetricPoint[]): DataFrame {
  const { DataFrame } = loadDanfo();
  const columns = ['runId', 'key', 'step', 'epoch', 'value', 'wallTime', 'context'] as const;
  return new DataFrame(points.map((p) => columns.map((c) => p[c])), { columns: [...columns] });
}
