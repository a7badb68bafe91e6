/**
 * Metric curves of recorded runs, read from the store point by point: per-step values (the
 * `batch_*` keys the tracker records for every gradient step) and per-epoch ones, each with the
 * step, epoch and wall-clock minutes it was recorded at, ready for `metricCurveFigure` (viz/).
 * The static dashboard, notebook 04 and `glyphlab ui` all read curves here.
 */
import { type MetricPoint, type RunRecord, getMetricHistory, lastStepOfEpochs } from '../tracker/query';
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

/** Whether a point is one of a gradient step rather than an epoch. */
function isStepPoint(point: MetricPoint): boolean {
  return point.context === 'batch' || point.key.startsWith('batch_');
}

/** A run's recorded steps per epoch (`steps_per_epoch`, a param the tracker records), or undefined. */
function stepsPerEpoch(run: RunRecord): number | undefined {
  const value = run.params.steps_per_epoch;
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

/**
 * Where a run's steps fall in its epochs, from its per-step points: the epochs done at each step
 * (fractional; used where the run did not record `steps_per_epoch`) and the last step of each epoch
 * (also from `lastSteps`, the store's, when the per-step points were not read).
 */
interface StepLayout {
  epochsAt: Map<number, number>;
  lastStepOf: Map<number, number>;
}

function stepLayout(points: readonly MetricPoint[], lastSteps: ReadonlyMap<number, number> = new Map()): StepLayout {
  const byEpoch = new Map<number, Set<number>>();
  for (const point of points) {
    if (!isStepPoint(point) || point.epoch === null) continue;
    let steps = byEpoch.get(point.epoch);
    if (!steps) byEpoch.set(point.epoch, (steps = new Set()));
    steps.add(point.step);
  }
  const layout: StepLayout = { epochsAt: new Map(), lastStepOf: new Map(lastSteps) };
  for (const [epoch, set] of byEpoch) {
    const steps = [...set].sort((a, b) => a - b);
    steps.forEach((step, i) => layout.epochsAt.set(step, epoch + (i + 1) / steps.length));
    layout.lastStepOf.set(epoch, Math.max(layout.lastStepOf.get(epoch) ?? 0, steps[steps.length - 1] as number));
  }
  return layout;
}

const finiteOrNull = (value: number): number | null => (Number.isFinite(value) ? value : null);

/** The curve of one key of one run from its points (ordered by step, as the store gives them). */
function toCurve(run: RunRecord, key: string, points: readonly MetricPoint[], layout: StepLayout): MetricCurve {
  const started = Date.parse(run.startedAt);
  const perEpoch = stepsPerEpoch(run);
  const curve: MetricCurve = { runId: run.id, label: runLabel(run), key, per: points.some(isStepPoint) ? 'step' : 'epoch', steps: [], epochs: [], minutes: [], values: [] };
  const push = (step: number | null, epoch: number, wallTime: string, value: number): void => {
    curve.steps.push(step);
    curve.epochs.push(epoch);
    curve.minutes.push((Date.parse(wallTime) - started) / 60_000);
    curve.values.push(finiteOrNull(value));
  };
  if (curve.per === 'step') {
    for (const point of points) {
      // A step's value is recorded after it: `step` 0 is one step done.
      const done = point.step + 1;
      const epochs = perEpoch !== undefined ? done / perEpoch : (layout.epochsAt.get(point.step) ?? (point.epoch ?? 0) + 1);
      push(done, epochs, point.wallTime, point.value);
    }
    return curve;
  }
  // A resumed run may record an epoch twice: its later value wins, as in the run's summary.
  const last = new Map<number, MetricPoint>();
  for (const point of points) last.set(point.epoch ?? point.step, point);
  for (const [epoch, point] of [...last].sort((a, b) => a[0] - b[0])) {
    // The step the epoch reached where its steps were recorded: an epoch a time budget cut short ends before a full one.
    const lastStep = layout.lastStepOf.get(epoch);
    const steps = lastStep !== undefined ? lastStep + 1 : perEpoch !== undefined ? (epoch + 1) * perEpoch : null;
    push(steps, epoch + 1, point.wallTime, point.value);
  }
  return curve;
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
  const keys = options.keys ? [...options.keys] : undefined;
  if (keys && keys.length === 0) return [];
  const points = getMetricHistory(store, runIds, keys);
  const lastSteps = lastStepOfEpochs(store, runs.map((r) => r.id));
  const byRun = new Map<string, MetricPoint[]>();
  for (const point of points) {
    if (keys === undefined && (point.context === 'test' || point.key.startsWith('test_'))) continue;
    let list = byRun.get(point.runId);
    if (!list) byRun.set(point.runId, (list = []));
    list.push(point);
  }
  const curves: MetricCurve[] = [];
  for (const run of runs) {
    const runPoints = byRun.get(run.id) ?? [];
    const byKey = new Map<string, MetricPoint[]>();
    for (const point of runPoints) {
      let list = byKey.get(point.key);
      if (!list) byKey.set(point.key, (list = []));
      list.push(point);
    }
    const layout = stepLayout(runPoints, lastSteps.get(run.id));
    const order = keys ?? [...byKey.keys()].sort();
    for (const key of order) {
      const keyPoints = byKey.get(key);
      if (keyPoints && keyPoints.length > 0) curves.push(toCurve(run, key, keyPoints, layout));
    }
  }
  return curves;
}
