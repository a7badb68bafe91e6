/**
 * The comparison behind the dashboard (notebook 04 and `glyphlab dashboard`): runs chosen by a
 * query, read from the experiment store into plain data — learning curves per epoch, a table
 * of test results, accuracy per label length and character confusions (from each run's
 * `eval-report` artifact), and the best run. Figures and HTML are built from this object, so a
 * notebook, the CLI and tests all look at the same numbers.
 */
import { ConfigError, errorMessage } from '../errors';
import type { ConfusionPair, LengthAccuracy } from '../metrics/sequence';
import { type RunRecord, getRun, listRuns } from '../tracker/query';
import type { TrackerStore } from '../tracker/store';
import { resolveRunRefs } from '../tracker/run-ref';
import { type RunFilter, parseWhere } from '../tracker/where';
import { type RunLineage, runLineage } from './lineage';
import { EVAL_REPORT_KIND, readEvalReport } from '../runs/eval-report';
import type { MetricCurve } from '../viz/curve-charts';
import type { ParamMetricPoint } from '../viz/param-charts';
import { readMetricCurves } from './curves';
import { type RunMisreads, readRunMisreads } from './misreads';
import { differingParams, paramMetricPoints } from './params';
import { runLabel } from './run-lookup';
import { sweepTag } from '../sweeps/sweep';

// Where it lived first: src/ui imports it from here.
export { runLabel } from './run-lookup';

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
  /** Misread images kept per run (from its eval report). Defaults to 12. */
  misreadsPerRun?: number;
  /** Params drawn against the comparison's metric, at most; the other params that differ are named. Defaults to 6. */
  maxSweeps?: number;
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

/** One param against a metric, one point per run. */
export interface ParamSweep {
  param: string;
  /** `'test_accuracy'` when any run has it, else `'val_accuracy'` (each run's best). */
  metric: string;
  points: ParamMetricPoint[];
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
  /**
   * Every point of the curves the dashboard draws ({@link COMPARISON_CURVE_KEYS}: losses and the
   * learning rate per step and per epoch, accuracies per epoch), run by run: what `metricCurveFigure` takes.
   */
  metricCurves: MetricCurve[];
  /** The comparison table, one row per run, with readable column names (for HTML and DataFrames). */
  table: Record<string, string | number | null>[];
  byLength: RunLengthAccuracy[];
  confusions: RunConfusions[];
  /** Each run's misread images (the first `misreadsPerRun`), for runs with an eval report. */
  misreads: RunMisreads[];
  /** The params the runs differ in (numeric first, at most `maxSweeps`), each against the comparison's metric. */
  sweeps: ParamSweep[];
  /** Params the runs also differ in, not drawn (beyond `maxSweeps`). */
  sweepsLeftOut: string[];
  best: BestRunSummary | null;
  /** Where each run's weights started (random, ImageNet, another run or a reader), in the order of `runs`. */
  lineage: RunLineage[];
  /** The sweeps some of the runs are trials of (by their `sweep:NAME` tag), in the order first met, with how many of the runs each holds. */
  trialSweeps: { name: string; runs: number }[];
  /** What could not be shown and why (missing or unreadable eval reports, runs left out). */
  warnings: string[];
}

/** The epoch-curve metric keys of {@link Comparison.curves}: [key, split, chart]. */
const CURVE_KEYS: readonly [string, 'train' | 'val', 'accuracy' | 'loss'][] = [
  ['accuracy', 'train', 'accuracy'],
  ['val_accuracy', 'val', 'accuracy'],
  ['loss', 'train', 'loss'],
  ['val_loss', 'val', 'loss'],
];

/** The metric keys the dashboard draws as curves: per-epoch accuracies and losses, the loss per step, the learning rate. */
export const COMPARISON_CURVE_KEYS: readonly string[] = ['batch_loss', 'loss', 'val_loss', 'accuracy', 'val_accuracy', 'batch_lr', 'lr'];

const finiteOrNull = (value: number | undefined): number | null => (value !== undefined && Number.isFinite(value) ? value : null);

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

/** The runs the selection names: by query, narrowed to the runs `ids` name (in that order) when given. */
function selectRuns(store: TrackerStore, options: BuildComparisonOptions, warnings: string[]): RunRecord[] {
  const filters: RunFilter[] = [];
  if (typeof options.where === 'string' ? options.where.trim() !== '' : options.where !== undefined) {
    filters.push(typeof options.where === 'string' ? parseWhere(options.where) : (options.where as RunFilter));
  }
  // Short ids (the suffix the dashboard shows) and name prefixes name runs here as in every command.
  const ids = resolveRunRefs(store, options.ids ?? []);
  if (ids.length === 0) return listRuns(store, { experiment: options.experiment, where: filters.length ? { and: filters } : undefined });

  const idFilter: RunFilter = { field: 'id', op: 'in', value: [...ids] };
  const found = new Map(listRuns(store, { experiment: options.experiment, where: { and: [idFilter, ...filters] } }).map((r) => [r.id, r]));
  const excluded = ids.filter((id) => !found.has(id));
  if (excluded.length > 0) warnings.push(`runs ${excluded.join(', ')} were asked for by id but do not match the experiment or filter, so they are left out`);
  return ids.map((id) => found.get(id)).filter((r): r is RunRecord => r !== undefined);
}

/**
 * The comparison's curves, read once: every point of {@link COMPARISON_CURVE_KEYS}, and from
 * them the per-epoch series of {@link Comparison.curves} (epochs from 0, as recorded) and each
 * run's count of epochs.
 */
function buildCurves(store: TrackerStore, runs: readonly DashboardRun[]): { curves: Comparison['curves']; metricCurves: MetricCurve[]; epochsByRun: Map<string, number> } {
  const curves: Comparison['curves'] = { accuracy: [], loss: [] };
  const metricCurves = readMetricCurves(store, runs.map((r) => r.id), { keys: COMPARISON_CURVE_KEYS });
  const epochsByRun = new Map<string, number>();
  for (const [key, split, chart] of CURVE_KEYS) {
    for (const curve of metricCurves) {
      if (curve.key !== key || curve.per !== 'epoch') continue;
      curves[chart].push({ runId: curve.runId, label: curve.label, key, split, epochs: curve.epochs.map((e) => e - 1), values: curve.values.map((v) => v ?? NaN) });
    }
  }
  for (const run of runs) {
    const epochs = new Set(metricCurves.filter((c) => c.runId === run.id && c.per === 'epoch' && CURVE_KEYS.some(([key]) => key === c.key)).flatMap((c) => c.epochs));
    epochsByRun.set(run.id, epochs.size);
  }
  // Runs in the order of the comparison, then keys in CURVE_KEYS order, as before.
  const order = new Map(runs.map((r, i) => [r.id, i]));
  for (const chart of ['accuracy', 'loss'] as const) curves[chart].sort((a, b) => (order.get(a.runId) ?? 0) - (order.get(b.runId) ?? 0));
  return { curves, metricCurves, epochsByRun };
}

/** Each differing param (at most `max`) against the comparison's metric; the rest named. */
function buildSweeps(records: readonly RunRecord[], metric: string, max: number): { sweeps: ParamSweep[]; sweepsLeftOut: string[] } {
  const params = differingParams(records);
  return {
    sweeps: params.slice(0, max).map((param) => ({ param, metric, points: paramMetricPoints(records, param, metric, { summary: 'best' }) })),
    sweepsLeftOut: params.slice(max),
  };
}

/** The tag prefix of a sweep's trial runs (`sweep:lr`), as the sweep's worker tags them. */
export const SWEEP_TAG_PREFIX = sweepTag('');

/** The sweeps `runs` are trials of, by their tags, in the order first met, with how many of `runs` each holds. */
export function trialSweepsOf(runs: readonly Pick<DashboardRun, 'tags'>[]): { name: string; runs: number }[] {
  const counts = new Map<string, number>();
  for (const run of runs) {
    for (const tag of run.tags) {
      const name = tag.startsWith(SWEEP_TAG_PREFIX) ? tag.slice(SWEEP_TAG_PREFIX.length) : '';
      if (name !== '') counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  }
  return [...counts].map(([name, count]) => ({ name, runs: count }));
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
  const misreadsPerRun = options.misreadsPerRun ?? 12;
  const maxSweeps = options.maxSweeps ?? 6;
  if (!Number.isInteger(limit) || limit < 1) throw new ConfigError(`limit ${limit} is not valid: expected a whole number >= 1`);
  for (const [name, value] of [['topConfusions', topConfusions], ['misreadsPerRun', misreadsPerRun], ['maxSweeps', maxSweeps]] as const) {
    if (!Number.isInteger(value) || value < 0) throw new ConfigError(`${name} ${value} is not valid: expected a whole number >= 0`);
  }
  const warnings: string[] = [];
  const matched = selectRuns(store, options, warnings);
  const records = matched.slice(0, limit);
  if (matched.length > limit) {
    warnings.push(`${matched.length} runs match; showing the ${limit} newest (left out: ${matched.slice(limit).map((r) => r.id).join(', ')}). Narrow the selection with --where or --ids.`);
  }
  const provisional = records.map((r) => toDashboardRun(r, 0));
  const { curves, metricCurves, epochsByRun } = buildCurves(store, provisional);
  const runs = records.map((r) => toDashboardRun(r, epochsByRun.get(r.id) ?? 0));

  const byLength: RunLengthAccuracy[] = [];
  const confusions: RunConfusions[] = [];
  const misreads: RunMisreads[] = [];
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
    try {
      const found = readRunMisreads(store, run.id, { limit: misreadsPerRun });
      if (found) misreads.push(found);
    } catch (error) {
      warnings.push(`run ${run.id}: ${errorMessage(error)}; its misread images are not shown`);
    }
  }
  if (withoutReport.length > 0) {
    warnings.push(`${withoutReport.length === 1 ? 'run' : 'runs'} ${withoutReport.join(', ')} recorded no ${EVAL_REPORT_KIND} artifact: no accuracy per length or confusions for ${withoutReport.length === 1 ? 'it' : 'them'}`);
  }
  const best = pickBest(runs);
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
    metricCurves,
    table: comparisonTableRows(runs),
    byLength,
    confusions,
    misreads,
    ...buildSweeps(records, best?.metric ?? 'val_accuracy', maxSweeps),
    best,
    lineage: records.map((r) => runLineage(r)),
    trialSweeps: trialSweepsOf(runs),
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
