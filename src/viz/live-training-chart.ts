/**
 * The live view of a training in progress: a line that says where the run is (step, images per
 * second, ETAs), every batch's loss by step with each ended epoch's losses over it, and the
 * validation scores by epoch. Drawn from plain values (the reports of `BatchProgressCallback` in
 * training/batch-progress.ts have this shape) with the dashboard's curve charts, so the live chart
 * reads like a recorded run's.
 */
import type { FigureSpec } from '../types';
import { type MetricCurve, metricCurveFigure } from './curve-charts';
import { escapeHtml } from './html';
import { figureHtml } from './plotly-html';

/** What the live view draws: a batch-progress report, or any value of its shape. */
export interface LiveTrainingProgress {
  /** Every batch so far, as parallel arrays: its step (from 1), epochs done (fractional), minutes since training began, loss. */
  batches: { steps: readonly number[]; epochs: readonly number[]; minutes: readonly number[]; losses: readonly number[] };
  /** Each ended epoch: the step of its last batch, minutes since training began, and its logs. */
  epochLogs: readonly { step: number; minutes: number; logs: Readonly<Record<string, number>> }[];
  /** Where the run is, e.g. `epoch 3/10 · step 245/380 · ... · run ETA 3m10s`. */
  summary: string;
}

/** Options of {@link liveTrainingHtml}. */
export interface LiveTrainingOptions {
  /** Epoch keys drawn with the batch loss, by step. Defaults to `['loss', 'val_loss']` (those present). */
  lossKeys?: readonly string[];
  /** Epoch keys of the score chart, by epoch. Defaults to `['val_accuracy', 'val_cer']` (those present). */
  scoreKeys?: readonly string[];
  /** Smoothing of the batch loss (see `metricCurveFigure`). Defaults to 0.8: a batch loss is noisy. */
  smoothing?: number;
}

/** The run's lines as the curve charts take them (one run, so one colour; a line style per key). */
const LIVE_RUN = { runId: 'live', label: 'this run' } as const;

/** The epoch curve of `key`, from the epochs whose logs have it. */
function epochCurve(progress: LiveTrainingProgress, key: string): MetricCurve {
  const ended = progress.epochLogs.map((e, i) => ({ ...e, epoch: i + 1 })).filter((e) => e.logs[key] !== undefined);
  return {
    ...LIVE_RUN,
    key,
    per: 'epoch',
    steps: ended.map((e) => e.step),
    epochs: ended.map((e) => e.epoch),
    minutes: ended.map((e) => e.minutes),
    values: ended.map((e) => e.logs[key] as number),
  };
}

/**
 * The live view's curves: `batch_loss` per step, then each of `keys` per epoch (those some epoch logged).
 *
 * @example
 * liveTrainingCurves(progress, ['loss', 'val_loss']).map((c) => c.key); // ['batch_loss', 'loss', 'val_loss'] after an epoch
 */
export function liveTrainingCurves(progress: LiveTrainingProgress, keys: readonly string[]): MetricCurve[] {
  const { batches } = progress;
  const batchLoss: MetricCurve = {
    ...LIVE_RUN,
    key: 'batch_loss',
    per: 'step',
    steps: [...batches.steps],
    epochs: [...batches.epochs],
    minutes: [...batches.minutes],
    values: [...batches.losses],
  };
  const epochCurves = keys.map((key) => epochCurve(progress, key)).filter((curve) => curve.values.length > 0);
  return [...(batchLoss.values.length > 0 ? [batchLoss] : []), ...epochCurves];
}

/**
 * The live view as HTML for a notebook display: the summary line (which reads even where a
 * front end runs no scripts), the losses by step and, once an epoch has ended, the validation
 * scores by epoch.
 *
 * @example
 * const view = tslab.newDisplay();
 * const progress = new BatchProgressCallback((p) => view.html(liveTrainingHtml(p)), { batchSize: 32 });
 */
export function liveTrainingHtml(progress: LiveTrainingProgress, options: LiveTrainingOptions = {}): string {
  const figures: { figure: FigureSpec; height: string }[] = [];
  const losses = liveTrainingCurves(progress, options.lossKeys ?? ['loss', 'val_loss']);
  if (losses.length > 0) figures.push({ figure: metricCurveFigure(losses, { x: 'step', smoothing: options.smoothing ?? 0.8, title: 'loss per step', yTitle: 'loss' }), height: '360px' });
  // Only the epoch curves: no copy of every batch's loss is made to be thrown away.
  const scores = (options.scoreKeys ?? ['val_accuracy', 'val_cer']).map((key) => epochCurve(progress, key)).filter((curve) => curve.values.length > 0);
  if (scores.length > 0) figures.push({ figure: metricCurveFigure(scores, { x: 'epoch', yScale: 'linear', title: 'validation per epoch', yTitle: 'accuracy / CER' }), height: '300px' });
  const summary = `<p style="font: 13px monospace; margin: 4px 0;">${escapeHtml(progress.summary)}</p>`;
  return [summary, ...figures.map(({ figure, height }) => figureHtml(figure, { height }))].join('\n');
}
