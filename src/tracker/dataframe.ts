/**
 * Query results as danfojs DataFrames for notebooks. danfojs-node is loaded on first use, so the
 * CLI and code that never asks for a DataFrame do not pay its start-up time (about a second).
 */
import { escapeHtml } from '../viz/html';
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

/** Options of {@link dataFrameHtml}. */
export interface DataFrameHtmlOptions {
  /** Rows shown; the rest are counted below the table. Defaults to 50. */
  maxRows?: number;
  /** Significant digits of fractional numbers. Defaults to 6. */
  digits?: number;
}

function formatValue(value: unknown, digits: number): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(digits)));
  }
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * A DataFrame as an HTML table for a notebook output, styled inline: every column and the full
 * text of every cell (danfo's `print()` draws box characters and cuts ids and numbers), numbers
 * right-aligned, and the shape underneath, as pandas shows it.
 *
 * @example
 * tslab.display.html(dataFrameHtml(runsToDataFrame(listRuns(store))));
 */
export function dataFrameHtml(frame: DataFrame, options: DataFrameHtmlOptions = {}): string {
  const maxRows = options.maxRows ?? 50;
  const digits = options.digits ?? 6;
  const [rowCount, columnCount] = frame.shape as [number, number];
  const columns = frame.columns.map(String);
  const values = (rowCount > 0 ? frame.values : []) as unknown[][];
  const index = frame.index as unknown[];
  const cell = 'border: 1px solid #ddd; padding: 2px 8px;';
  const head = `<tr><th style="${cell}"></th>${columns.map((c) => `<th style="${cell} background: #f3f3f3; text-align: left;">${escapeHtml(c)}</th>`).join('')}</tr>`;
  const body = values.slice(0, maxRows).map((row, i) => {
    const cells = columns.map((_, j) => {
      const value = row[j];
      const align = typeof value === 'number' ? 'right' : 'left';
      return `<td style="${cell} text-align: ${align}; white-space: nowrap;">${escapeHtml(formatValue(value, digits))}</td>`;
    });
    return `<tr><th style="${cell} background: #f3f3f3; text-align: right;">${escapeHtml(formatValue(index[i] ?? i, digits))}</th>${cells.join('')}</tr>`;
  });
  const more = rowCount > maxRows ? `, the first ${maxRows} shown` : '';
  const shape = `<p style="margin: 2px 0; color: #555; font-size: 12px;">${rowCount} row${rowCount === 1 ? '' : 's'} × ${columnCount} column${columnCount === 1 ? '' : 's'}${more}</p>`;
  return `<div class="glyphlab-dataframe" style="overflow-x: auto;"><table style="border-collapse: collapse; font-size: 12px; margin: 4px 0;"><thead>${head}</thead><tbody>${body.join('')}</tbody></table>${shape}</div>`;
}
