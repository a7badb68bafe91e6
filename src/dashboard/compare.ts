/**
 * The comparison behind the dashboard (notebook 04 and `glyphlab dashboard`): runs chosen by a
 * query, read from the experiment store into plain data — learning curves per epoch, a table
 * of test results, accuracy per label length and character confusions (from each run's
 * `eval-report` artifact), and the best run. Figures and HTML are built from this object, so a
 * notebook, the CLI and tests all look at the same numbers.
 */
import { ConfigError, errorMessage } from '../errors';
import type { ConfusionPair, LengthAccuracy } from '../metrics/sequence';
import { type RunRecord, getMetricHistory, getRun, listRuns } from '../tracker/query';
import type { TrackerStore } from '../tracker/store';
import { type RunFilter, parseWhere } from '../tracker/where';
import { EVAL_REPORT_KIND, readEvalReport } from '../runs/eval-report';

/** Options of {@link buildComparison}. */
export interface BuildComparisonOptions {
  /** Only runs of this experiment. Defaults to all experiments. */
  experiment?: string;
  /** A filter, e.g. `'params.model in ("crnn", "vgg19-crnn")'`. Defaults to none. */
  where?: RunFilter | string;
  /** Only these runs, in this order; an unknown id is a ConfigError. Defaults to every matching run. */
  ids?: readonly string[];
  /** At most this many runs (newest first); the rest are named in `warnings`. Defaults to 30. */
  limit?: number;
  /** Confusion pairs kept per run. Defaults to 10. */
  topConfusions?: number;
}

/** One compared run: the table's numbers. `null` where the run did not record the value. */
export interface DashboardRun {
  id: string;
  /** Short unique label for legends: name (or model) and the id's random suffix. */
  label: string;
  name: string | null;
  model: string | null;
  experiment: string;
  status: string;
  startedAt: string;
  testAccuracy: number | null;
  testCer: number | null;
  bestValAccuracy: number | null;
  /** Epochs with a recorded loss or validation accuracy. */
  epochs: number;
  wallTimeS: number;
  parameterCount: number | null;
  tags: string[];
}

/** One learning curve: a metric of one run per epoch. */
export interface CurveSeries {
  runId: string;
  label: string;
  /** Metric key, e.g. `'val_accuracy'`. */
  key: string;
  split: 'train' | 'val';
  epochs: number[];
  values: number[];
}

/** Accuracy per label length of one run. */
export interface RunLengthAccuracy {
  runId: string;
  label: string;
  split: string;
  byLength: LengthAccuracy[];
}

/** The most frequent character confusions of one run. */
export interface RunConfusions {
  runId: string;
  label: string;
  /** Most frequent first, at most `topConfusions`. */
  confusions: ConfusionPair[];
  /** Every confusion counted, including those not kept. */
  totalConfusions: number;
}

/** The best of the compared runs. */
export interface BestRunSummary {
  runId: string;
  label: string;
  model: string | null;
  /** `'test_accuracy'` when any run has it, else `'val_accuracy'` (its best value). */
  metric: 'test_accuracy' | 'val_accuracy';
  value: number;
}

/** Everything the dashboard shows, as plain data. */
export interface Comparison {
  generatedAt: string;
  /** The experiment database read. */
  database: string;
  selection: { experiment?: string; where?: string; ids?: string[] };
  /** Runs matching the selection before `limit`. */
  matched: number;
  runs: DashboardRun[];
  curves: { accuracy: CurveSeries[]; loss: CurveSeries[] };
  /** The comparison table, one row per run, with readable column names (for HTML and DataFrames). */
  table: Record<string, string | number | null>[];
  byLength: RunLengthAccuracy[];
  confusions: RunConfusions[];
  best: BestRunSummary | null;
  /** What could not be shown and why (missing or unreadable eval reports, runs left out). */
  warnings: string[];
}

/** The epoch-curve metric keys: [key, split, chart]. */
const CURVE_KEYS: readonly [string, 'train' | 'val', 'accuracy' | 'loss'][] = [
  ['accuracy', 'train', 'accuracy'],
  ['val_accuracy', 'val', 'accuracy'],
  ['loss', 'train', 'loss'],
  ['val_loss', 'val', 'loss'],
];

const finiteOrNull = (value: number | undefined): number | null => (value !== undefined && Number.isFinite(value) ? value : null);

/** A run's short unique label for legends and tables: its name (or model) and the id's random suffix, e.g. `custom · 3f9a2c`. */
export function runLabel(run: Pick<RunRecord, 'id' | 'name' | 'params'>): string {
  const model = typeof run.params.model === 'string' ? run.params.model : null;
  return `${run.name ?? model ?? 'run'} · ${run.id.slice(-6)}`;
}

function toDashboardRun(run: RunRecord, epochs: number): DashboardRun {
  const parameterCount = run.params.parameter_count;
  return {
    id: run.id,
    label: runLabel(run),
    name: run.name,
    model: typeof run.params.model === 'string' ? run.params.model : null,
    experiment: run.experiment,
    status: run.status,
    startedAt: run.startedAt,
    testAccuracy: finiteOrNull(run.metrics.test_accuracy?.last),
    testCer: finiteOrNull(run.metrics.test_cer?.last),
    bestValAccuracy: finiteOrNull(run.metrics.val_accuracy?.best),
    epochs,
    wallTimeS: run.durationS,
    parameterCount: typeof parameterCount === 'number' && Number.isFinite(parameterCount) ? parameterCount : null,
    tags: run.tags,
  };
}

/** The runs the selection names: by query, narrowed to `ids` (in that order) when given. */
function selectRuns(store: TrackerStore, options: BuildComparisonOptions, warnings: string[]): RunRecord[] {
  const filters: RunFilter[] = [];
  if (typeof options.where === 'string' ? options.where.trim() !== '' : options.where !== undefined) {
    filters.push(typeof options.where === 'string' ? parseWhere(options.where) : (options.where as RunFilter));
  }
  const ids = options.ids ?? [];
  if (ids.length === 0) return listRuns(store, { experiment: options.experiment, where: filters.length ? { and: filters } : undefined });

  const idFilter: RunFilter = { field: 'id', op: 'in', value: [...ids] };
  const known = new Set(listRuns(store, { where: idFilter, details: false }).map((r) => r.id));
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new ConfigError(`no run ${unknown.map((id) => JSON.stringify(id)).join(', ')} in ${store.file}; list runs with \`glyphlab runs ls\``);
  }
  const found = new Map(listRuns(store, { experiment: options.experiment, where: { and: [idFilter, ...filters] } }).map((r) => [r.id, r]));
  const excluded = ids.filter((id) => !found.has(id));
  if (excluded.length > 0) warnings.push(`runs ${excluded.join(', ')} were asked for by id but do not match the experiment or filter, so they are left out`);
  return ids.map((id) => found.get(id)).filter((r): r is RunRecord => r !== undefined);
}

/** One curve per run and metric key: the last value recorded for each epoch, epochs ascending. */
function buildCurves(store: TrackerStore, runs: readonly DashboardRun[]): { curves: Comparison['curves']; epochsByRun: Map<string, number> } {
  const curves: Comparison['curves'] = { accuracy: [], loss: [] };
  const epochsByRun = new Map<string, number>();
  if (runs.length === 0) return { curves, epochsByRun };
  const points = getMetricHistory(store, runs.map((r) => r.id), CURVE_KEYS.map(([key]) => key));
  const byRunKey = new Map<string, Map<number, number>>();
  for (const point of points) {
    const mapKey = `${point.runId}\u0000${point.key}`;
    let perEpoch = byRunKey.get(mapKey);
    if (!perEpoch) byRunKey.set(mapKey, (perEpoch = new Map()));
    // Points come ordered by step: a resumed run's later value for an epoch wins.
    perEpoch.set(point.epoch ?? point.step, point.value);
  }
  for (const run of runs) {
    const epochs = new Set<number>();
    for (const [key, split, chart] of CURVE_KEYS) {
      const perEpoch = byRunKey.get(`${run.id}\u0000${key}`);
      if (!perEpoch) continue;
      const sorted = [...perEpoch].sort((a, b) => a[0] - b[0]);
      sorted.forEach(([epoch]) => epochs.add(epoch));
      curves[chart].push({ runId: run.id, label: run.label, key, split, epochs: sorted.map(([e]) => e), values: sorted.map(([, v]) => v) });
    }
    epochsByRun.set(run.id, epochs.size);
  }
  return { curves, epochsByRun };
}

function pickBest(runs: readonly DashboardRun[]): BestRunSummary | null {
  const metric: BestRunSummary['metric'] = runs.some((r) => r.testAccuracy !== null) ? 'test_accuracy' : 'val_accuracy';
  let best: BestRunSummary | null = null;
  for (const run of runs) {
    const value = metric === 'test_accuracy' ? run.testAccuracy : run.bestValAccuracy;
    if (value !== null && (best === null || value > best.value)) best = { runId: run.id, label: run.label, model: run.model, metric, value };
  }
  return best;
}

/** The comparison table's rows, readable column names first. */
export function comparisonTableRows(runs: readonly DashboardRun[]): Record<string, string | number | null>[] {
  return runs.map((run) => ({
    run: run.label,
    id: run.id,
    model: run.model,
    status: run.status,
    'test accuracy': run.testAccuracy,
    'test CER': run.testCer,
    'best val accuracy': run.bestValAccuracy,
    epochs: run.epochs,
    'wall time (s)': Math.round(run.wallTimeS * 10) / 10,
    parameters: run.parameterCount,
  }));
}

/**
 * Reads the runs chosen by `options` from the store into a {@link Comparison}. Runs without
 * an `eval-report` artifact, or with one that cannot be read, still appear in the table and
 * curves; `warnings` says what is missing for which run.
 *
 * @example
 * const comparison = buildComparison(openStore(), { experiment: 'equations', where: 'params.model in ("crnn", "vgg19-crnn")' });
 * comparison.best; // { runId, label, model, metric: 'test_accuracy', value: 0.9947 }
 */
export function buildComparison(store: TrackerStore, options: BuildComparisonOptions = {}): Comparison {
  const limit = options.limit ?? 30;
  const topConfusions = options.topConfusions ?? 10;
  if (!Number.isInteger(limit) || limit < 1) throw new ConfigError(`limit ${limit} is not valid: expected a whole number >= 1`);
  if (!Number.isInteger(topConfusions) || topConfusions < 0) throw new ConfigError(`topConfusions ${topConfusions} is not valid: expected a whole number >= 0`);
  const warnings: string[] = [];
  const matched = selectRuns(store, options, warnings);
  const records = matched.slice(0, limit);
  if (matched.length > limit) {
    warnings.push(`${matched.length} runs match; showing the ${limit} newest (left out: ${matched.slice(limit).map((r) => r.id).join(', ')}). Narrow the selection with --where or --ids.`);
  }
  const provisional = records.map((r) => toDashboardRun(r, 0));
  const { curves, epochsByRun } = buildCurves(store, provisional);
  const runs = records.map((r) => toDashboardRun(r, epochsByRun.get(r.id) ?? 0));

  const byLength: RunLengthAccuracy[] = [];
  const confusions: RunConfusions[] = [];
  const withoutReport: string[] = [];
  for (const run of runs) {
    const artifact = getRun(store, run.id).artifacts.filter((a) => a.kind === EVAL_REPORT_KIND).pop();
    if (!artifact) {
      withoutReport.push(run.id);
      continue;
    }
    try {
      // getRun resolves the path against the database's folder, so a copied experiments folder reads its own reports.
      const report = readEvalReport(artifact.path);
      byLength.push({ runId: run.id, label: run.label, split: report.split, byLength: report.byLength });
      confusions.push({ runId: run.id, label: run.label, confusions: report.confusions.slice(0, topConfusions), totalConfusions: report.confusions.reduce((sum, c) => sum + c.count, 0) });
    } catch (error) {
      warnings.push(`run ${run.id}: ${errorMessage(error)}; its accuracy per length and confusions are not shown`);
    }
  }
  if (withoutReport.length > 0) {
    warnings.push(`${withoutReport.length === 1 ? 'run' : 'runs'} ${withoutReport.join(', ')} recorded no ${EVAL_REPORT_KIND} artifact: no accuracy per length or confusions for ${withoutReport.length === 1 ? 'it' : 'them'}`);
  }
  const selection: Comparison['selection'] = {};
  if (options.experiment !== undefined) selection.experiment = options.experiment;
  if (options.where !== undefined) selection.where = typeof options.where === 'string' ? options.where : JSON.stringify(options.where);
  if (options.ids && options.ids.length > 0) selection.ids = [...options.ids];
  return {
    generatedAt: new Date().toISOString(),
    database: store.file,
    selection,
    matched: matched.length,
    runs,
    curves,
    table: comparisonTableRows(runs),
    byLength,
    confusions,
    best: pickBest(runs),
    warnings,
  };
}

/**
 * One line saying what a dashboard compares, or clearly why there is nothing to compare: no
 * database yet (`comparison` undefined) or no run matching the selection.
 */
export function describeComparison(comparison: Comparison | undefined, database: string): string {
  if (!comparison) return `No experiment database at ${database} yet, so there are no runs to compare: train a model first (notebooks 02 and 03, or \`glyphlab train\`).`;
  if (comparison.runs.length === 0) {
    return `No runs in ${database} match this selection, so there is nothing to compare yet: train a model (notebooks 02 and 03) or widen the selection (check it with \`glyphlab runs ls\`).`;
  }
  return `Comparing ${comparison.runs.length} of ${comparison.matched} matching runs from ${database}.`;
}
