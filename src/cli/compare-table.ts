/**
 * `glyphlab runs compare` as text that fits the terminal: runs are headed by the short form of
 * their id (the random suffix the dashboard shows), JSON params are shown key by key, and a
 * value too long for its column is elided in the middle, since values that differ (two data
 * folders, two filter lists, two schedules) usually share their beginning and differ towards the
 * end, while the beginning says what kind of value it is. Too many runs for the width are shown
 * a block of runs at a time. `--wide` shows everything whole.
 */
import type { ParamValue, RunComparison, RunRecord } from '../tracker/query';
import { runIdSuffix } from '../tracker/run-ref';
import { formatSeconds } from './progress';
import { formatMetric, formatParam, formatTime } from './run-columns';
import { elide, textTable } from './table';

/** Options of {@link renderComparison}. */
export interface RenderComparisonOptions {
  /** The columns to fit in. Defaults to no limit (nothing elided: `--wide`). */
  width?: number;
}

/** The narrowest a run's column gets before the runs are split into blocks. */
const MIN_RUN_COLUMN = 14;

/** The narrowest the key column gets. */
const MIN_KEY_COLUMN = 20;

/**
 * What each run is headed by: the suffix of its id (`c262b8`), as the dashboard labels runs and
 * as every command accepts it; the whole id when two compared runs share a suffix.
 */
export function runLabels(runs: readonly RunRecord[]): string[] {
  const suffixes = runs.map((r) => runIdSuffix(r.id) ?? r.id);
  return new Set(suffixes).size === suffixes.length ? suffixes : runs.map((r) => r.id);
}

/** A JSON param as leaf values by sub-key: `phases[0].epochs`, `optimizer.lr`; lists of plain values stay whole. */
function flattenJson(value: unknown, prefix: string, into: Map<string, ParamValue>): void {
  const nested = (v: unknown): boolean => v !== null && typeof v === 'object' && !(Array.isArray(v) && v.every((e) => e === null || typeof e !== 'object' || (Array.isArray(e) && e.every((x) => x === null || typeof x !== 'object'))));
  if (!nested(value)) {
    into.set(prefix, value as ParamValue);
    return;
  }
  if (Array.isArray(value)) value.forEach((item, i) => flattenJson(item, `${prefix}[${i}]`, into));
  else for (const [key, item] of Object.entries(value as Record<string, unknown>)) flattenJson(item, `${prefix}.${key}`, into);
}

/**
 * The rows of the params that differ: `[key, value per run]`, JSON objects (and lists of
 * objects) flattened into their sub-keys, of which only those that differ are kept.
 */
export function paramDiffRows(comparison: RunComparison): [key: string, values: string[]][] {
  const rows: [string, string[]][] = [];
  for (const [key, byRun] of Object.entries(comparison.paramDiffs)) {
    const flat = comparison.runs.map((run) => {
      const into = new Map<string, ParamValue>();
      const value = byRun[run.id];
      if (value !== undefined) flattenJson(value, key, into);
      return into;
    });
    const subKeys = [...new Set(flat.flatMap((m) => [...m.keys()]))];
    for (const subKey of subKeys) {
      const values = flat.map((m) => (m.has(subKey) ? formatParam(m.get(subKey)) : '-'));
      if (subKeys.length === 1 || values.some((v) => v !== values[0])) rows.push([subKey, values]);
    }
  }
  return rows;
}

/** The rows of the metric table: `[key, "last / best" per run]`. */
function metricRows(comparison: RunComparison): [key: string, values: string[]][] {
  return Object.entries(comparison.metrics).map(([key, byRun]) => [
    key,
    comparison.runs.map((run) => {
      const summary = byRun[run.id];
      return summary ? `${formatMetric(key, summary.last)} / ${formatMetric(key, summary.best)}` : '-';
    }),
  ]);
}

/** The length of the longest line of `text`. */
function widest(text: string): number {
  return Math.max(0, ...text.split('\n').map((line) => line.length));
}

/**
 * A table of `rows` by run, fitted to `width`: the runs in blocks of as many as fit, each block's
 * cells elided in the middle to fit. Elidable values (params) give way first, down to
 * {@link MIN_RUN_COLUMN}, then the keys; values that are not (metric numbers, which an ellipsis
 * would make unreadable) keep their width, and fewer runs share a block.
 */
function fittedTable(labels: readonly string[], rows: readonly [string, string[]][], width: number | undefined, valuesElidable: boolean): string {
  if (width === undefined) return textTable(['', ...labels], rows.map(([key, values]) => [`  ${key}`, ...values]));
  const keyWidth = Math.max(0, ...rows.map(([key]) => key.length + 2));
  const keyShown = Math.min(keyWidth, Math.max(MIN_KEY_COLUMN, Math.floor(width / 3)));
  const runColumn = valuesElidable ? MIN_RUN_COLUMN : Math.max(...labels.map((l) => l.length), ...rows.flatMap(([, values]) => values.map((v) => v.length)));
  const perBlock = Math.max(1, Math.floor((width - keyShown) / (runColumn + 2)));
  const blocks: string[] = [];
  for (let start = 0; start < labels.length; start += perBlock) {
    const end = Math.min(labels.length, start + perBlock);
    const header = ['', ...labels.slice(start, end)];
    const body = rows.map(([key, values]) => [`  ${key}`, ...values.slice(start, end)]);
    const values = valuesElidable ? header.map((_, i) => i).slice(1) : [];
    let table = textTable(header, body, { width, elidable: values, minColumnWidth: MIN_RUN_COLUMN });
    if (widest(table) > width) {
      const narrowed = (row: string[]): string[] => row.map((cell, i) => (i === 0 || !valuesElidable ? cell : elide(cell, MIN_RUN_COLUMN)));
      table = textTable(narrowed(header), body.map(narrowed), { width, elidable: [0], minColumnWidth: MIN_KEY_COLUMN });
    }
    blocks.push(table);
  }
  return blocks.join('\n\n');
}

/**
 * `runs compare` as lines of text: the runs (label, id, name, status, start, duration), the
 * params that differ, how many are shared, and each metric's last and best value per run.
 *
 * @example
 * renderComparison(compareRuns(store, ['c262b8', 'd9d453']), { width: 120 }).forEach((line) => console.log(line));
 */
export function renderComparison(comparison: RunComparison, options: RenderComparisonOptions = {}): string[] {
  const { width } = options;
  const labels = runLabels(comparison.runs);
  const runRows = comparison.runs.map((run, i) => [`  ${labels[i]}`, run.id, run.name ?? '', run.status, formatTime(run.startedAt), formatSeconds(run.durationS)]);
  const lines = ['runs:', textTable(['', 'id', 'name', 'status', 'started', 'duration'], runRows, width === undefined ? {} : { width, elidable: [2] }).split('\n').slice(1).join('\n')];
  const params = paramDiffRows(comparison);
  lines.push('params that differ:', params.length > 0 ? fittedTable(labels, params, width, true) : '  (none)');
  lines.push(`params in common: ${Object.keys(comparison.sameParams).length}`);
  const metrics = metricRows(comparison);
  lines.push('metrics (last / best):', metrics.length > 0 ? fittedTable(labels, metrics, width, false) : '  (none)');
  return lines;
}
