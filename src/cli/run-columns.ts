/**
 * How the run tables of `glyphlab runs` write their cells in a terminal (which columns there are
 * is the tracker's column language, src/tracker/columns.ts, shared with `glyphlab ui`): shares
 * (accuracy, CER) as percentages through `percent`, durations as `formatSeconds` does, other
 * numbers to 4 significant digits, times to the minute, commits short.
 */
import type { RunColumn } from '../tracker/columns';
import type { ParamValue, RunRecord } from '../tracker/query';
import { percent } from '../util/format';
import { formatSeconds } from './progress';

/** Significant digits of the numbers in run tables (`0.03472`, `5.132`, `1.000e-6`). */
const SIGNIFICANT_DIGITS = 4;

/**
 * A number for a table cell, rounded to {@link SIGNIFICANT_DIGITS} significant digits (zeros
 * that end the fraction dropped: `0.001`, not `0.001000`): whole numbers as they are, very
 * small or large ones in exponent form, NaN and Infinity spelled out; '' when absent.
 *
 * @example
 * formatNumber(0.034721); // '0.03472'
 * formatNumber(3.0004e-5); // '3e-5'
 * formatNumber(1600);     // '1600'
 */
export function formatNumber(value: number | null | undefined): string {
  if (value === undefined || value === null) return '';
  if (!Number.isFinite(value) || Number.isInteger(value)) return String(value);
  const size = Math.abs(value);
  // toPrecision turns to exponent form itself when rounding reaches 1e5 (99999.9).
  const text = (size >= 1e-3 && size < 1e5 ? value.toPrecision(SIGNIFICANT_DIGITS) : value.toExponential(SIGNIFICANT_DIGITS - 1)).replace('e+', 'e');
  return text.replace(/(\.\d*?)0+(?=e|$)/, '$1').replace(/\.(?=e|$)/, '');
}

/** Metric keys whose values are shares, written as percentages: accuracies and error rates (`val_accuracy`, `test_cer`). */
const SHARE_METRIC = /(^|_)(accuracy|acc|cer|wer)$/;

/**
 * A metric's value for a table cell: a share (accuracy, character error rate) as a percentage
 * with two decimals, any other value as {@link formatNumber}; NaN as `NaN`; '' when absent.
 *
 * @example
 * formatMetric('test_accuracy', 0.953); // '95.30%'
 * formatMetric('loss', 0.034721);       // '0.03472'
 */
export function formatMetric(key: string, value: number | null | undefined): string {
  if (value === undefined || value === null) return '';
  return SHARE_METRIC.test(key) && Number.isFinite(value) ? percent(value) : formatNumber(value);
}

/**
 * A param's value for a table cell: text as recorded, a number in its shortest form when that
 * is short (`0.003`, `1e-6`: a value someone chose) and to 4 significant digits otherwise, JSON
 * (lists, objects) compact; `-` when the run has no such param.
 */
export function formatParam(value: ParamValue | undefined): string {
  if (value === undefined) return '-';
  if (typeof value === 'number') return String(value).length <= 8 ? String(value) : formatNumber(value);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A time as `2026-12-06 08:34` (UTC, as recorded); '' when absent. */
export function formatTime(iso: string | null): string {
  return iso === null ? '' : iso.slice(0, 16).replace('T', ' ');
}

/** Run fields written otherwise than as their value's text. */
const RUN_FIELD_TEXT: Readonly<Record<string, (run: RunRecord) => string>> = {
  started_at: (r) => formatTime(r.startedAt),
  ended_at: (r) => formatTime(r.endedAt),
  heartbeat_at: (r) => formatTime(r.heartbeatAt),
  duration: (r) => formatSeconds(r.durationS),
  tags: (r) => r.tags.join(','),
  backend: (r) => `${r.backend ?? ''}${r.threads ? ` x${r.threads}` : ''}`,
  git_commit: (r) => (r.gitCommit ? `${r.gitCommit.slice(0, 10)}${r.gitDirty ? '+' : ''}` : ''),
};

/** Run fields whose cells may be elided to fit a table in the width: free text, never ids, times or numbers. */
const ELIDABLE_RUN_FIELDS = new Set(['name', 'experiment', 'tags', 'note', 'error', 'host', 'source']);

/** The text of `column`'s cell for `run` in a terminal table. */
export function columnText(column: RunColumn, run: RunRecord): string {
  if (column.kind === 'metric') return formatMetric(column.key, column.read(run) as number | null);
  if (column.kind === 'param') return run.params[column.key] === undefined ? '' : formatParam(run.params[column.key]);
  const text = RUN_FIELD_TEXT[column.name];
  if (text) return text(run);
  const value = column.read(run);
  return value === null ? '' : String(value);
}

/** Whether `column`'s cells may be elided to fit a table in the width (text and JSON params; never ids or numbers). */
export function isElidable(column: RunColumn): boolean {
  return column.kind === 'param' || (column.kind === 'run' && ELIDABLE_RUN_FIELDS.has(column.name));
}
