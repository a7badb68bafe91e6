/**
 * The columns of a table of runs, one language for every table: `runs ls --columns`, the
 * `glyphlab ui` page and its `--columns`. A column is a run field as a filter or sort names it
 * (`started_at`, `git_commit`), a short alias (`started`, `test_acc`), `params.KEY`,
 * `metrics.KEY`, `metrics.KEY.best`, or a bare key some run recorded. Each resolves to one
 * spelling, a sort key, so a table can be sorted by any column it shows. How a value is written
 * (a terminal's percentages, a page's local times) is the table's own business.
 */
import { ConfigError } from '../errors';
import { closeKeys, isAcceptedKey, isRecordedKey, listKeys, recordedKeys } from './keys';
import type { MetricSummary, ParamValue, RunRecord } from './query';
import type { TrackerStore } from './store';
import { type OrderBy, sortTarget } from './where';

/** A value of a table cell: a number, text, a flag, or null where the run has no such value. */
export type CellValue = string | number | boolean | null;

/** One column of a table of runs. */
export interface RunColumn {
  /** Its one spelling, a sort key: `started_at`, `metrics.val_accuracy`, `metrics.loss.best`, `params.model`. */
  name: string;
  /** The header: the name asked for, without a `params.` or `metrics.` prefix (`test_acc`, `val_accuracy.best`, `lr`). */
  header: string;
  /** What it shows: a field of the run, a metric (its last or best value) or a param. */
  kind: 'run' | 'metric' | 'param';
  /** The run field's name, or the metric's or param's key. */
  key: string;
  /** Its value for one run. */
  read(run: RunRecord): CellValue;
}

/** The run fields a table can show, by the name filters and sorts use, and how each reads from a run. */
const RUN_FIELD_READERS: Readonly<Record<string, (run: RunRecord) => CellValue>> = {
  id: (r) => r.id,
  name: (r) => r.name,
  experiment: (r) => r.experiment,
  status: (r) => r.status,
  started_at: (r) => r.startedAt,
  ended_at: (r) => r.endedAt,
  heartbeat_at: (r) => r.heartbeatAt,
  duration: (r) => r.durationS,
  tags: (r) => r.tags.join(' '),
  note: (r) => r.note,
  error: (r) => r.error,
  host: (r) => r.host,
  pid: (r) => r.pid,
  backend: (r) => r.backend,
  threads: (r) => r.threads,
  source: (r) => r.source,
  git_commit: (r) => r.gitCommit,
  data_fingerprint: (r) => r.dataFingerprint,
};

/** The run fields a column may name, in the order a column picker lists them. */
export const RUN_FIELD_COLUMNS: readonly string[] = Object.keys(RUN_FIELD_READERS);

/** Short names for common columns, and the column each stands for. */
export const COLUMN_ALIASES: Readonly<Record<string, string>> = {
  test_acc: 'metrics.test_accuracy',
  val_acc: 'metrics.val_accuracy',
  train_acc: 'metrics.accuracy',
  best_val_acc: 'metrics.val_accuracy.best',
  cer: 'metrics.test_cer',
  recipe: 'params.recipe',
  model: 'params.model',
  stop: 'params.stop.reason',
  // The names runs ls used before it shared the filter's names, kept so scripts keep working.
  started: 'started_at',
  ended: 'ended_at',
  git: 'git_commit',
};

/** The metrics tables show by default, in order, by key and by the header a terminal gives them: those some listed run has. */
const DEFAULT_METRICS: readonly [key: string, header: string][] = [
  ['test_accuracy', 'test_acc'],
  ['val_accuracy', 'val_acc'],
  ['val_cer', 'val_cer'],
  ['val_loss', 'val_loss'],
  ['loss', 'loss'],
];

/** Options of {@link resolveColumn} and {@link parseColumns}. */
export interface ResolveColumnOptions {
  /**
   * What a metric or param key that no run of the store recorded is: `'error'` (a ConfigError
   * saying what it was probably meant to be), or `'accept'` (a column with no values, for a
   * page that says so in a warning while the name is still being typed). Defaults to `'error'`.
   */
  unrecorded?: 'error' | 'accept';
}

const COLUMN_FORMS =
  `Columns are run fields (${RUN_FIELD_COLUMNS.join(', ')}), aliases (${Object.entries(COLUMN_ALIASES)
    .map(([short, target]) => `${short} (${target})`)
    .join(', ')}), params.KEY, metrics.KEY, metrics.KEY.best, or a recorded key.`;

/**
 * The column spelt `name` (trimmed), where it can be told without a store: an alias becomes what
 * it stands for, `metrics.KEY.last` becomes `metrics.KEY`; a bare key stays bare (whether it is a
 * metric or a param, only the store can tell: see {@link resolveColumn}). A sort direction
 * (`-val_accuracy`, `loss:desc`) or an empty name is a ConfigError naming it.
 *
 * @example
 * normalizeColumn('test_acc');            // 'metrics.test_accuracy'
 * normalizeColumn('metrics.loss.last');   // 'metrics.loss'
 */
export function normalizeColumn(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '' || /^[-+]|:(asc|desc)$/i.test(trimmed)) {
    const why = trimmed === '' ? 'it names nothing' : 'a column takes no sort direction (sort with --sort or a header)';
    throw new ConfigError(`column ${JSON.stringify(name)} is not valid: ${why}. ${COLUMN_FORMS}`);
  }
  const target = COLUMN_ALIASES[trimmed] ?? trimmed;
  return target.replace(/^(metrics\..+)\.last$/, '$1');
}

/**
 * The column `name` asks for, where `store` tells which metric and param keys exist: a run
 * field, an alias, `params.KEY`, `metrics.KEY` or `metrics.KEY.best`, or a bare key some run
 * recorded as a metric (first) or a param. Anything else is a ConfigError naming it, what it was
 * probably meant to be and every accepted form (unless `options.unrecorded` is `'accept'`: then
 * a bare key no run has is a metric).
 *
 * @example
 * resolveColumn(store, 'test_acc'); // { name: 'metrics.test_accuracy', header: 'test_acc', kind: 'metric', ... }
 */
export function resolveColumn(store: TrackerStore, name: string, options: ResolveColumnOptions = {}): RunColumn {
  const strict = (options.unrecorded ?? 'error') === 'error';
  const target = normalizeColumn(name);
  const asked = name.trim();
  const header = asked in COLUMN_ALIASES ? asked : asked.replace(/^(params|metrics)\./, '');
  const isAlias = asked in COLUMN_ALIASES;
  const known = (kind: 'metric' | 'param', key: string): boolean => isAlias || !strict || isAcceptedKey(store, kind, key);
  const read = RUN_FIELD_READERS[target];
  if (read) return { name: target, header, kind: 'run', key: target, read };
  if (target.startsWith('params.') && target.length > 'params.'.length) {
    const key = target.slice('params.'.length);
    if (known('param', key)) return paramColumn(header, key);
  } else if (target.startsWith('metrics.') && target.length > 'metrics.'.length) {
    const [key, which] = metricKey(target.slice('metrics.'.length));
    if (known('metric', key)) return metricColumn(header, key, which);
  } else {
    const [key, which] = metricKey(target);
    if (isRecordedKey(store, 'metric', key)) return metricColumn(header, key, which);
    if (isRecordedKey(store, 'param', target)) return paramColumn(header, target);
    if (known('metric', target)) return metricColumn(header, target, 'last');
  }
  throw unknownColumn(store, asked);
}

/**
 * The columns of `a,b,c` (or of a list of names), each resolved against `store` (see
 * {@link resolveColumn}); a column named twice (`test_acc,metrics.test_accuracy`) is shown once.
 *
 * @example
 * parseColumns(store, 'id,name,test_acc,params.training.learningRate');
 */
export function parseColumns(store: TrackerStore, spec: string | readonly string[], options: ResolveColumnOptions = {}): RunColumn[] {
  // Empty items of a comma list (`a,,b`) are dropped; an empty name in a list is refused by name.
  const names = typeof spec === 'string' ? spec.split(',').filter((name) => name.trim() !== '') : spec;
  if (names.length === 0) {
    throw new ConfigError(`--columns ${JSON.stringify(typeof spec === 'string' ? spec : spec.join(','))} names no column; give names separated by commas, e.g. --columns id,name,test_acc,duration`);
  }
  const columns = names.map((name) => resolveColumn(store, name, options));
  return columns.filter((column, i) => columns.findIndex((other) => other.name === column.name) === i);
}

/** Options of {@link defaultColumns}. */
export interface DefaultColumnsOptions {
  /** The listing's sort: its first key, when a metric or param, is shown after the run fields. Defaults to none. */
  orderBy?: readonly OrderBy[];
  /** Whether rows need the run's id and name (and experiment, when the runs span several) and tags: false where each row is labelled already, as on the ui page. Defaults to true. */
  identity?: boolean;
  /** Params shown after the run fields when some listed run has them (`model`). Defaults to none. */
  params?: readonly string[];
  /** Most of the usual metrics (test and validation accuracy, validation CER, validation and training loss) shown. Defaults to all that some listed run has. */
  metricCount?: number;
}

/**
 * The columns a table of `runs` shows when none are chosen: (id, the experiment when the runs
 * span several, name,) status, start and duration; the chosen params some run has; what the
 * listing is sorted by, when that is a metric or param; the usual metrics that some run has,
 * under short headers (`test_acc`); (the tags, when some run has any).
 *
 * @example
 * defaultColumns(store, runs, { identity: false, params: ['model'] }).map((c) => c.name);
 * // ['status', 'started_at', 'duration', 'params.model', 'metrics.test_accuracy', ...]
 */
export function defaultColumns(store: TrackerStore, runs: readonly RunRecord[], options: DefaultColumnsOptions = {}): RunColumn[] {
  const identity = options.identity ?? true;
  const several = new Set(runs.map((r) => r.experiment)).size > 1;
  const names = [...(identity ? ['id', ...(several ? ['experiment'] : []), 'name'] : []), 'status', 'started', 'duration'];
  const columns = names.map((name) => resolveColumn(store, name));
  for (const key of options.params ?? []) if (runs.some((r) => r.params[key] !== undefined)) columns.push(paramColumn(key, key));
  const present = new Set(runs.flatMap((r) => Object.keys(r.metrics)));
  const usual = DEFAULT_METRICS.filter(([key]) => present.has(key)).map(([key, header]) => metricColumn(header, key, 'last'));
  const first = options.orderBy?.[0];
  const sorted = first ? sortTarget(first) : undefined;
  if (first && sorted && sorted.kind !== 'run') {
    const column = resolveColumn(store, first.field);
    const shown = usual.findIndex((c) => c.name === column.name);
    // A usual metric that is sorted by moves to the front of the metrics, under its short header.
    columns.push(shown >= 0 ? usual.splice(shown, 1)[0]! : column);
  }
  columns.push(...usual.slice(0, options.metricCount ?? usual.length));
  if (identity && runs.some((r) => r.tags.length > 0)) columns.push(resolveColumn(store, 'tags'));
  return columns.filter((column, i) => columns.findIndex((other) => other.name === column.name) === i);
}

function metricColumn(header: string, key: string, which: 'last' | 'best'): RunColumn {
  return {
    name: which === 'best' ? `metrics.${key}.best` : `metrics.${key}`,
    header,
    kind: 'metric',
    key,
    read: (r) => {
      const summary: MetricSummary | undefined = r.metrics[key];
      return summary === undefined ? null : summary[which];
    },
  };
}

function paramColumn(header: string, key: string): RunColumn {
  return { name: `params.${key}`, header, kind: 'param', key, read: (r) => paramCell(r.params[key]) };
}

function paramCell(value: ParamValue | undefined): CellValue {
  if (value === undefined || value === null) return null;
  // Tested type by type: TypeScript 5.0 (tslab's) does not narrow `typeof value === 'object'` here.
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return JSON.stringify(value);
}

/** `val_accuracy.best` as its key and which value; a key without `.best` or `.last` is its last value. */
function metricKey(text: string): [key: string, which: 'last' | 'best'] {
  const match = /^(.+)\.(last|best)$/.exec(text);
  return match ? [match[1]!, match[2] as 'last' | 'best'] : [text, 'last'];
}

function unknownColumn(store: TrackerStore, name: string): ConfigError {
  const { metrics, params } = recordedKeys(store);
  const candidates = [
    ...RUN_FIELD_COLUMNS.map((field) => ({ name: field, key: field })),
    ...Object.entries(COLUMN_ALIASES).map(([short, target]) => ({ name: short, key: target.replace(/^(params|metrics)\./, '') })),
    ...metrics.map((key) => ({ name: key, key })),
    ...params.map((key) => ({ name: `params.${key}`, key })),
  ];
  const meant = closeKeys(name.replace(/^(params|metrics)\./, ''), candidates);
  return new ConfigError(
    `--columns: no column ${JSON.stringify(name)}: it is no run field or alias, and no run in ${store.file} recorded it` +
      (meant.length > 0 ? `; did you mean ${meant.map((m) => JSON.stringify(m)).join(' or ')}?` : '.') +
      ` ${COLUMN_FORMS} Recorded metrics: ${listKeys(metrics)}; params: ${listKeys(params.map((key) => `params.${key}`))}.`,
  );
}
