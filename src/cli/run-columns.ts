/**
 * What the run tables of `glyphlab runs` show and how: the columns `runs ls --columns` accepts
 * (run fields, `params.KEY`, `metrics.KEY[.best]`, a bare recorded key, short aliases), the
 * default set, and one way to write each kind of value: shares (accuracy, CER) as percentages
 * through `percent`, durations as `formatSeconds` does, other numbers to 4 significant digits.
 */
import { ConfigError } from '../errors';
import { closeKeys, isAcceptedKey, isRecordedKey, listKeys, recordedKeys } from '../tracker/keys';
import type { ParamValue, RunRecord } from '../tracker/query';
import type { TrackerStore } from '../tracker/store';
import { type OrderBy, sortTarget } from '../tracker/where';
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

/** One column of a run table. */
export interface RunColumn {
  /** The header: the name asked for, without a `params.` or `metrics.` prefix. */
  header: string;
  /** The cell of one run. */
  cell(run: RunRecord): string;
  /** Whether its cells may be elided to fit the table in the width (free text; never ids or numbers). */
  elidable: boolean;
}

/** The run fields a table can show, by the name `--columns` takes. */
const RUN_FIELD_COLUMNS: Record<string, Omit<RunColumn, 'header'>> = {
  id: { cell: (r) => r.id, elidable: false },
  name: { cell: (r) => r.name ?? '', elidable: true },
  experiment: { cell: (r) => r.experiment, elidable: true },
  status: { cell: (r) => r.status, elidable: false },
  started: { cell: (r) => formatTime(r.startedAt), elidable: false },
  ended: { cell: (r) => formatTime(r.endedAt), elidable: false },
  duration: { cell: (r) => formatSeconds(r.durationS), elidable: false },
  tags: { cell: (r) => r.tags.join(','), elidable: true },
  note: { cell: (r) => r.note ?? '', elidable: true },
  error: { cell: (r) => r.error ?? '', elidable: true },
  host: { cell: (r) => r.host ?? '', elidable: true },
  backend: { cell: (r) => `${r.backend ?? ''}${r.threads ? ` x${r.threads}` : ''}`, elidable: false },
  source: { cell: (r) => r.source ?? '', elidable: true },
  git: { cell: (r) => (r.gitCommit ? `${r.gitCommit.slice(0, 10)}${r.gitDirty ? '+' : ''}` : ''), elidable: false },
};

/** Short names for common columns, and what they stand for. */
export const COLUMN_ALIASES: Readonly<Record<string, string>> = {
  test_acc: 'metrics.test_accuracy',
  val_acc: 'metrics.val_accuracy',
  train_acc: 'metrics.accuracy',
  best_val_acc: 'metrics.val_accuracy.best',
  cer: 'metrics.test_cer',
  recipe: 'params.recipe',
  model: 'params.model',
  stop: 'params.stop.reason',
};

/** The metric columns `runs ls` shows by default, in order, by key and header: at most {@link DEFAULT_METRIC_COUNT} of those some listed run has. */
const DEFAULT_METRICS: readonly [key: string, header: string][] = [
  ['test_accuracy', 'test_acc'],
  ['val_accuracy', 'val_acc'],
  ['val_cer', 'val_cer'],
  ['val_loss', 'val_loss'],
  ['loss', 'loss'],
];
const DEFAULT_METRIC_COUNT = 3;

function metricColumn(header: string, key: string, which: 'last' | 'best'): RunColumn {
  return { header, cell: (r) => formatMetric(key, r.metrics[key]?.[which]), elidable: false };
}

function paramColumn(header: string, key: string): RunColumn {
  return {
    header,
    cell: (r) => (r.params[key] === undefined ? '' : formatParam(r.params[key])),
    // Numbers and booleans stay whole; text and JSON may be long.
    elidable: true,
  };
}

/**
 * The column `name` asks for, where `store` tells which metric and param keys exist: a run
 * field, an alias, `params.KEY`, `metrics.KEY` or `metrics.KEY.best`, or a bare key some run
 * recorded as a metric (first) or a param. Anything else is a ConfigError naming it, what it was
 * probably meant to be and every accepted form.
 */
export function resolveColumn(store: TrackerStore, name: string): RunColumn {
  const field = RUN_FIELD_COLUMNS[name];
  if (field) return { header: name, ...field };
  const alias = COLUMN_ALIASES[name];
  const target = alias ?? name;
  const header = alias !== undefined ? name : name.replace(/^(params|metrics)\./, '');
  if (target.startsWith('params.') && target.length > 'params.'.length) {
    const key = target.slice('params.'.length);
    if (alias !== undefined || isAcceptedKey(store, 'param', key)) return paramColumn(header, key);
  } else if (target.startsWith('metrics.') && target.length > 'metrics.'.length) {
    const [key, which] = metricKey(target.slice('metrics.'.length));
    if (alias !== undefined || isAcceptedKey(store, 'metric', key)) return metricColumn(header, key, which);
  } else {
    const [key, which] = metricKey(name);
    if (isRecordedKey(store, 'metric', key)) return metricColumn(header, key, which);
    if (isRecordedKey(store, 'param', name)) return paramColumn(header, name);
    if (isAcceptedKey(store, 'metric', name)) return metricColumn(header, name, 'last');
  }
  throw unknownColumn(store, name);
}

/** `val_accuracy.best` as its key and which value; a key without `.best` or `.last` is its last value. */
function metricKey(text: string): [key: string, which: 'last' | 'best'] {
  const match = /^(.+)\.(last|best)$/.exec(text);
  return match ? [match[1]!, match[2] as 'last' | 'best'] : [text, 'last'];
}

function unknownColumn(store: TrackerStore, name: string): ConfigError {
  const { metrics, params } = recordedKeys(store);
  const candidates = [
    ...Object.keys(RUN_FIELD_COLUMNS).map((field) => ({ name: field, key: field })),
    ...Object.entries(COLUMN_ALIASES).map(([short, target]) => ({ name: short, key: target.replace(/^(params|metrics)\./, '') })),
    ...metrics.map((key) => ({ name: key, key })),
    ...params.map((key) => ({ name: `params.${key}`, key })),
  ];
  const meant = closeKeys(name.replace(/^(params|metrics)\./, ''), candidates);
  const aliases = Object.entries(COLUMN_ALIASES).map(([short, target]) => `${short} (${target})`);
  return new ConfigError(
    `--columns: no column ${JSON.stringify(name)}: it is no run field or alias, and no run in ${store.file} recorded it` +
      (meant.length > 0 ? `; did you mean ${meant.map((m) => JSON.stringify(m)).join(' or ')}?` : '.') +
      ` Columns are run fields (${Object.keys(RUN_FIELD_COLUMNS).join(', ')}), aliases (${aliases.join(', ')}), ` +
      `params.KEY, metrics.KEY, metrics.KEY.best, or a recorded key. Recorded metrics: ${listKeys(metrics)}; params: ${listKeys(params.map((key) => `params.${key}`))}.`,
  );
}

/**
 * The columns of `--columns a,b,c`, each checked against `store` (see {@link resolveColumn}).
 *
 * @example
 * parseColumns(store, 'id,name,test_acc,params.training.learningRate');
 */
export function parseColumns(store: TrackerStore, spec: string): RunColumn[] {
  const names = spec
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) throw new ConfigError(`--columns ${JSON.stringify(spec)} names no column; give names separated by commas, e.g. --columns id,name,test_acc,duration`);
  return names.map((name) => resolveColumn(store, name));
}

/**
 * The columns `runs ls` shows without `--columns`: id, the experiment when the runs span
 * several, name, status, start and duration; what the listing is sorted by, when that is a
 * metric or param; up to three of test accuracy, validation accuracy, validation CER,
 * validation and training loss that some run has; the tags when some run has any.
 */
export function defaultColumns(store: TrackerStore, runs: readonly RunRecord[], orderBy: readonly OrderBy[]): RunColumn[] {
  const names = ['id', ...(new Set(runs.map((r) => r.experiment)).size > 1 ? ['experiment'] : []), 'name', 'status', 'started', 'duration'];
  const columns = names.map((name) => resolveColumn(store, name));
  const first = orderBy[0];
  const sorted = first ? sortTarget(first) : undefined;
  let sortedDefault: string | undefined;
  if (first && sorted && sorted.kind !== 'run') {
    const plain = sorted.kind === 'metric' && !first.field.endsWith('.best') ? DEFAULT_METRICS.find(([key]) => key === sorted.key) : undefined;
    sortedDefault = plain?.[0];
    columns.push(plain ? metricColumn(plain[1], plain[0], 'last') : resolveColumn(store, first.field));
  }
  const present = new Set(runs.flatMap((r) => Object.keys(r.metrics)));
  const metrics = DEFAULT_METRICS.filter(([key]) => present.has(key) && key !== sortedDefault).slice(0, DEFAULT_METRIC_COUNT);
  columns.push(...metrics.map(([key, header]) => metricColumn(header, key, 'last')));
  if (runs.some((r) => r.tags.length > 0)) columns.push(resolveColumn(store, 'tags'));
  return columns;
}
