/**
 * A sweep as the dashboard shows it (`glyphlab dashboard --sweep NAME`, notebook 04's `sweep`):
 * its trials by state, each swept param against the trials' validation accuracy with the best
 * trial ringed, and the learning curves of the finished trials. Read from the sweep's tables
 * (`readSweep`) and its trial runs, as plain data; the figures are pure functions of it.
 */
import type { FigureSpec } from '../types';
import { readSweep, type SweepTrial, type SweepView } from '../sweeps/sweep';
import type { FieldValue } from '../sweeps/space';
import type { TrackerStore } from '../tracker/store';
import { runColorMap } from '../viz/axes';
import { type MetricCurve, metricCurveFigure } from '../viz/curve-charts';
import { type ParamMetricPoint, type ParamScalar, paramMetricFigure } from '../viz/param-charts';
import type { ParamSweep } from './compare';
import { readMetricCurves } from './curves';
import { curvesOf, withAccuracyAxis } from './figures';

/** The metric a trial is judged by: its run's best validation accuracy, as the sweep records it. */
export const SWEEP_METRIC = 'val_accuracy';

/** The curve keys drawn for the finished trials: validation accuracy per epoch, the loss per step and the validation loss. */
const SWEEP_CURVE_KEYS: readonly string[] = ['val_accuracy', 'batch_loss', 'val_loss'];

/** Everything the dashboard shows of one sweep, as plain data. */
export interface SweepDashboard {
  generatedAt: string;
  /** The store read (a password shown as `***`). */
  database: string;
  /** The sweep with its trials, counts by state and best trial. */
  sweep: SweepView;
  /** The swept params (the space's options), in the order the trials name them. */
  params: string[];
  /** Each swept param against the finished trials' validation accuracy, one point per finished trial. */
  paramPoints: ParamSweep[];
  /** The curves of {@link SWEEP_CURVE_KEYS} of the finished trials' runs, in trial order. */
  curves: MetricCurve[];
  /** The trials table, one row per trial, readable column names: trial, state, attempts, each param, val accuracy, run id. */
  table: Record<string, string | number | null>[];
}

/** A param value as a point's x or a table cell: a list (`filters`) as its JSON text. */
function paramScalar(value: FieldValue | undefined): ParamScalar {
  if (value === undefined) return null;
  return Array.isArray(value) ? JSON.stringify(value) : value;
}

/** The trial as tables and hovers name it. */
export function trialLabel(trial: Pick<SweepTrial, 'trial'>): string {
  return `trial ${trial.trial}`;
}

/** The params the trials set, in the order first met. */
function sweptParams(trials: readonly SweepTrial[]): string[] {
  return [...new Set(trials.flatMap((t) => Object.keys(t.params)))];
}

/** The finished trials with a run and a validation accuracy: the ones drawn. */
function finishedTrials(view: SweepView): SweepTrial[] {
  return view.trialList.filter((t) => t.state === 'finished' && t.runId !== null && t.valAccuracy !== null && Number.isFinite(t.valAccuracy));
}

/** The trials table's rows: trial, state, attempts, one column per param, val accuracy, run id (and the error where a trial failed). */
export function sweepTrialRows(view: SweepView): Record<string, string | number | null>[] {
  const params = sweptParams(view.trialList);
  const anyError = view.trialList.some((t) => t.error !== null);
  return view.trialList.map((trial) => ({
    trial: trial.trial,
    state: trial.state,
    attempts: trial.attempts,
    ...Object.fromEntries(params.map((param) => [param, paramScalar(trial.params[param]) as string | number | null])),
    'val accuracy': trial.valAccuracy,
    'run id': trial.runId,
    ...(anyError ? { error: trial.error } : {}),
  }));
}

/**
 * Reads sweep `name` and its finished trials' curves from the store into a {@link SweepDashboard}.
 * An unknown name is a ConfigError listing the store's sweeps. Reads only, so a read-only store
 * (or role) is enough.
 *
 * @example
 * const dashboard = buildSweepDashboard(openStore(db, { readonly: true }), 'lr');
 * dashboard.sweep.best?.params; // { lr: 0.0021 }
 */
export function buildSweepDashboard(store: TrackerStore, name: string): SweepDashboard {
  const sweep = readSweep(store, name);
  const params = sweptParams(sweep.trialList);
  const finished = finishedTrials(sweep);
  const points = (param: string): ParamMetricPoint[] =>
    finished.map((trial) => ({ runId: trial.runId!, label: trialLabel(trial), param: paramScalar(trial.params[param]), value: trial.valAccuracy }));
  return {
    generatedAt: new Date().toISOString(),
    database: store.file,
    sweep,
    params,
    paramPoints: params.map((param) => ({ param, metric: SWEEP_METRIC, points: points(param) })),
    curves: readMetricCurves(store, finished.map((t) => t.runId!), { keys: SWEEP_CURVE_KEYS }),
    table: sweepTrialRows(sweep),
  };
}

/** The colour of each finished trial's run, in trial order: the same in every chart of the sweep. */
export function sweepColors(dashboard: SweepDashboard): Map<string, string> {
  return runColorMap(finishedTrials(dashboard.sweep).map((t) => t.runId!));
}

/**
 * One figure per swept param against the finished trials' validation accuracy (a log axis where
 * a param spans decades, as a learning rate does), the best trial ringed; none for a param no
 * finished trial drew.
 */
export function sweepParamFigures(dashboard: SweepDashboard): FigureSpec[] {
  const colors = sweepColors(dashboard);
  const best = dashboard.sweep.best?.runId ?? undefined;
  return dashboard.paramPoints
    .filter((p) => p.points.some((point) => point.param !== null))
    .map((p) => paramMetricFigure(p.points, { param: p.param, metric: p.metric, colors, highlight: best, title: `val_accuracy by ${p.param}` }));
}

/** The figures of the finished trials' learning curves; null where no trial recorded them. */
export interface SweepCurveFigures {
  /** Validation accuracy per epoch, epochs from 1. */
  accuracy: FigureSpec | null;
  /** The loss of every gradient step, smoothed, with the validation loss at each epoch's end. */
  loss: FigureSpec | null;
}

/** The learning curves of the finished trials, each trial in its colour. */
export function sweepCurveFigures(dashboard: SweepDashboard): SweepCurveFigures {
  const colors = sweepColors(dashboard);
  const accuracyCurves = curvesOf(dashboard.curves, ['val_accuracy']);
  const lossCurves = curvesOf(dashboard.curves, ['batch_loss', 'val_loss']);
  const accuracy = accuracyCurves.length === 0 ? null : withAccuracyAxis(metricCurveFigure(accuracyCurves, { x: 'epoch', colors, title: 'Validation accuracy per epoch of the finished trials', yTitle: 'exact-match accuracy' }));
  const loss = lossCurves.length === 0 ? null : metricCurveFigure(lossCurves, { colors, title: 'Loss of the finished trials', yTitle: 'CTC loss' });
  return { accuracy, loss };
}
