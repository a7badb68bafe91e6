/**
 * Metric curves of recorded runs, read from the store point by point: per-step values (the
 * `batch_*` keys the tracker records for every gradient step) and per-epoch ones, each with the
 * step, epoch and wall-clock minutes it was recorded at, ready for `metricCurveFigure` (viz/).
 * The static dashboard, notebook 04 and `glyphlab ui` all read curves here.
 */
import { type MetricSeries, type RunRecord, getMetricSeries, lastStepOfEpochs } from '../tracker/query';
import type { TrackerStore } from '../tracker/store';
import type { MetricCurve } from '../viz/curve-charts';
import { requireRuns, runLabel } from './run-lookup';

/** Options of {@link readMetricCurves}. */
export interface ReadMetricCurvesOptions {
  /**
   * Metric keys, e.g. `['batch_loss', 'val_loss']`; a key a run did not record gives no curve for
   * that run. Defaults to every key the runs recorded, except the test set's single values (`test_*`).
   */
  keys?: readonly string[];
}

/** Whether point `i` of `series` is one of a gradient step rather than an epoch. */
function isStepPoint(series: MetricSeries, i: number): boolean {
  return series.contexts[i] === 'batch' || series.key.startsWith('batch_');
}

/** Whether `series` has a point of a gradient step. */
function hasStepPoints(series: MetricSeries): boolean {
  return series.key.startsWith('batch_') || series.contexts.includes('batch');
}

/** A run's recorded steps per epoch (`steps_per_epoch`, a param the tracker records), or undefined. */
function stepsPerEpoch(run: RunRecord): number | undefined {
  const value = run.params.steps_per_epoch;
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

/**
 * The epochs done at each per-step point of a run (fractional: `epoch + (i + 1) / n` for the
 * i-th of an epoch's n steps), for a run that did not record `steps_per_epoch`.
 */
function epochsAtSteps(series: readonly MetricSeries[]): Map<number, number> {
  const byEpoch = new Map<number, Set<number>>();
  for (const one of series) {
    if (!hasStepPoints(one)) continue;
    for (let i = 0; i < one.steps.length; i++) {
      const epoch = one.epochs[i];
      if (epoch === null || epoch === undefined || !isStepPoint(one, i)) continue;
      let steps = byEpoch.get(epoch);
      if (!steps) byEpoch.set(epoch, (steps = new Set()));
      steps.add(one.steps[i]!);
    }
  }
  const epochsAt = new Map<number, number>();
  for (const [epoch, set] of byEpoch) {
    const steps = [...set].sort((a, b) => a - b);
    steps.forEach((step, i) => epochsAt.set(step, epoch + (i + 1) / steps.length));
  }
  return epochsAt;
}

/**
 * Where a run's steps fall in its epochs: the epochs done at each step (only where the run did
 * not record `steps_per_epoch`) and the last step of each epoch (the store's, {@link lastStepOfEpochs}).
 */
interface StepLayout {
  epochsAt: ReadonlyMap<number, number>;
  lastStepOf: ReadonlyMap<number, number>;
}

const finiteOrNull = (value: number): number | null => (Number.isFinite(value) ? value : null);

/** The curve of one key of one run from its series (ordered by step, as the store gives them). */
function toCurve(run: RunRecord, series: MetricSeries, layout: StepLayout): MetricCurve {
  const started = Date.parse(run.startedAt);
  const perEpoch = stepsPerEpoch(run);
  const curve: MetricCurve = { runId: run.id, label: runLabel(run), key: series.key, per: hasStepPoints(series) ? 'step' : 'epoch', steps: [], epochs: [], minutes: [], values: [] };
  const push = (step: number | null, epoch: number, i: number): void => {
    curve.steps.push(step);
    curve.epochs.push(epoch);
    curve.minutes.push((series.wallTimes[i]! - started) / 60_000);
    curve.values.push(finiteOrNull(series.values[i]!));
  };
  if (curve.per === 'step') {
    for (let i = 0; i < series.steps.length; i++) {
      const step = series.steps[i]!;
      // A step's value is recorded after it: `step` 0 is one step done.
      const done = step + 1;
      const epochs = perEpoch !== undefined ? done / perEpoch : (layout.epochsAt.get(step) ?? (series.epochs[i] ?? 0) + 1);
      push(done, epochs, i);
    }
    return curve;
  }
  // A resumed run may record an epoch twice: its later value wins, as in the run's summary.
  const last = new Map<number, number>();
  for (let i = 0; i < series.steps.length; i++) last.set(series.epochs[i] ?? series.steps[i]!, i);
  for (const [epoch, i] of [...last].sort((a, b) => a[0] - b[0])) {
    // The step the epoch reached where its steps were recorded: an epoch a time budget cut short ends before a full one.
    const lastStep = layout.lastStepOf.get(epoch);
    const steps = lastStep !== undefined ? lastStep + 1 : perEpoch !== undefined ? (epoch + 1) * perEpoch : null;
    push(steps, epoch + 1, i);
  }
  return curve;
}

/** `series` without its test-set points (single values, no curve): all of a `test_*` key, those recorded in the test context. */
function withoutTestPoints(series: MetricSeries): MetricSeries | undefined {
  if (series.key.startsWith('test_')) return undefined;
  if (!series.contexts.includes('test')) return series;
  const keep = series.contexts.flatMap((context, i) => (context === 'test' ? [] : [i]));
  if (keep.length === 0) return undefined;
  const pick = <T>(values: readonly T[]): T[] => keep.map((i) => values[i]!);
  return { ...series, steps: pick(series.steps), epochs: pick(series.epochs), values: pick(series.values), wallTimes: pick(series.wallTimes), contexts: pick(series.contexts) };
}

/**
 * The curves of `keys` for the runs `runIds`, run by run in the order given and key by key:
 * every recorded point with the steps done (per-epoch values at the epoch's last step), the
 * epochs done (from 1; fractional for per-step values) and the minutes since the run started.
 * An unknown run id is a ConfigError naming it. Reads the store each call, so a running run's
 * curves grow from one call to the next.
 *
 * @example
 * const curves = readMetricCurves(store, [runA, runB], { keys: ['batch_loss', 'val_loss'] });
 * metricCurveFigure(curves, { x: 'step', smoothing: 0.6 });
 */
export function readMetricCurves(store: TrackerStore, runIds: readonly string[], options: ReadMetricCurvesOptions = {}): MetricCurve[] {
  const runs = requireRuns(store, runIds);
  if (runs.length === 0) return [];
  const keys = options.keys ? [...new Set(options.keys)] : undefined;
  if (keys && keys.length === 0) return [];
  // A run named twice is read once (and drawn as often as named, as before).
  const ids = [...new Set(runs.map((r) => r.id))];
  const lastSteps = lastStepOfEpochs(store, ids);
  const byRun = new Map<string, MetricSeries[]>();
  for (const read of getMetricSeries(store, ids, keys)) {
    const series = keys === undefined ? withoutTestPoints(read) : read;
    if (!series) continue;
    let list = byRun.get(series.runId);
    if (!list) byRun.set(series.runId, (list = []));
    list.push(series);
  }
  const curves: MetricCurve[] = [];
  for (const run of runs) {
    const runSeries = byRun.get(run.id) ?? [];
    // Placing each step in its epoch is the costly part of a long run; a recorded steps_per_epoch makes it arithmetic.
    const layout: StepLayout = { epochsAt: stepsPerEpoch(run) === undefined ? epochsAtSteps(runSeries) : new Map(), lastStepOf: lastSteps.get(run.id) ?? new Map() };
    for (const series of runSeries) curves.push(toCurve(run, series, layout));
  }
  return curves;
}
