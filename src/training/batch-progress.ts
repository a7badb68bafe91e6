/**
 * Progress within an epoch, for live views: a callback that reports, every few seconds (or N
 * batches) and at every epoch's end, the step counter, images per second, the time left in the
 * epoch and in the run, every batch's loss and the epoch logs so far. An epoch of the quick
 * recipe takes minutes, so a chart redrawn only at epoch ends looks stuck; notebook 02 redraws
 * its live chart from these reports.
 */
import { formatSeconds } from '../util/format';
import { Callback, type Logs, type TrainBeginEvent } from './callbacks';

/** Options of {@link BatchProgressCallback}. */
export interface BatchProgressOptions {
  /** Least time between two reports within an epoch, in milliseconds. Defaults to 3000. */
  everyMs?: number;
  /** Also report once this many batches have ended since the last report, however soon. Defaults to 0: by time only. */
  everySteps?: number;
  /** Images per batch, for images per second (an epoch's last batch may hold fewer). Defaults to none: no rate of images. */
  batchSize?: number;
  /** The run's time budget in minutes (its `TimeBudget`): the run ends soon after it, whatever `epochs` says. Defaults to none. */
  minutes?: number | null;
  /** The clock, in milliseconds. Defaults to `Date.now`. */
  now?: () => number;
}

/** One report of {@link BatchProgressCallback}. */
export interface BatchProgress {
  /** The epoch in progress (or just ended), from 0. */
  epoch: number;
  /** Epochs the loop plans; a time budget may end the run sooner. */
  epochs: number;
  /** Batches ended in the run, over all its epochs (a resumed run counts its earlier epochs). */
  step: number;
  /** Batches ended in this epoch. */
  epochStep: number;
  /** Batches per epoch, when the data says. */
  stepsPerEpoch: number | undefined;
  /** Images per second over this epoch's batches, when the batch size is known. */
  imagesPerSecond: number | undefined;
  /** Time left in this epoch, its evaluation included (estimated from the last one), when it can be told. */
  epochRemainingMs: number | undefined;
  /** Time left in the run: the epochs left, or the time budget when that ends it first. */
  runRemainingMs: number | undefined;
  /** Whether the time budget, not the epochs, ends the run. */
  budgetBound: boolean;
  /** Whether this report comes at an epoch's end (its logs are the last of `epochLogs`). */
  epochEnded: boolean;
  /** Every batch so far, as parallel arrays: its step (from 1), epochs done (fractional: 2.5 is half-way through the third), minutes since training began, loss. */
  batches: { steps: number[]; epochs: number[]; minutes: number[]; losses: number[] };
  /** Each ended epoch: the step of its last batch, minutes since training began, and its logs. */
  epochLogs: { step: number; minutes: number; logs: Logs }[];
  /** One line, e.g. `epoch 3/10 · step 245/380 · 1005 steps in all · 41.2 images/s · epoch ETA 32s · run ETA 3m10s`. */
  summary: string;
}

/** The clock readings a report is computed from. */
interface ProgressClock {
  now: number;
  trainStartedAt: number;
  epochStartedAt: number;
  /** When this epoch's last batch so far ended (`epochStartedAt` before its first). */
  batchesEndedAt: number;
  /** Time from an epoch's last batch to the next epoch's start (evaluation, checkpoints), or 0 before one is seen. */
  epochOverheadMs: number;
}

/**
 * Calls `listener` with the training's progress every `everyMs` (and every `everySteps`
 * batches, when given) within an epoch and at each epoch's end, from the loop's batch events.
 *
 * @example
 * const chart = tslab.newDisplay();
 * const progress = new BatchProgressCallback((p) => chart.html(liveTrainingHtml(p)), { batchSize: 32, minutes: 5 });
 * await runEquationSpec(spec, { callbacks: [progress] });
 */
export class BatchProgressCallback extends Callback {
  private readonly everyMs: number;
  private readonly everySteps: number;
  private readonly now: () => number;
  private epochs = 0;
  private stepsPerEpoch: number | undefined;
  private epoch = 0;
  private step = 0;
  private epochStep = 0;
  private trainStartedAt = 0;
  private epochStartedAt = 0;
  private lastBatchAt: number | undefined;
  private epochOverheadMs = 0;
  private lastReportAt = 0;
  private stepsSinceReport = 0;
  private readonly batches: BatchProgress['batches'] = { steps: [], epochs: [], minutes: [], losses: [] };
  private readonly epochLogs: BatchProgress['epochLogs'] = [];

  constructor(
    private readonly listener: (progress: BatchProgress) => void | Promise<void>,
    private readonly options: BatchProgressOptions = {},
  ) {
    super();
    this.everyMs = options.everyMs ?? 3000;
    this.everySteps = options.everySteps ?? 0;
    this.now = options.now ?? Date.now;
  }

  override async onTrainBegin(event: TrainBeginEvent): Promise<void> {
    this.epochs = event.epochs;
    this.stepsPerEpoch = event.stepsPerEpoch;
    // A run trained in phases begins once per phase: its clock starts at the first.
    if (this.trainStartedAt === 0) this.trainStartedAt = this.now();
    this.lastReportAt = this.now();
  }

  override async onEpochBegin(epoch: number): Promise<void> {
    const now = this.now();
    if (this.lastBatchAt !== undefined) this.epochOverheadMs = now - this.lastBatchAt;
    this.epoch = epoch;
    this.epochStep = 0;
    this.epochStartedAt = now;
  }

  override async onBatchEnd(step: number, logs: Logs): Promise<void> {
    const now = this.now();
    this.lastBatchAt = now;
    this.step = step + 1;
    this.epochStep++;
    this.stepsSinceReport++;
    const loss = logs['loss'];
    if (loss !== undefined) {
      this.batches.steps.push(this.step);
      this.batches.epochs.push(this.epoch + (this.stepsPerEpoch ? Math.min(1, this.epochStep / this.stepsPerEpoch) : 1));
      this.batches.minutes.push((now - this.trainStartedAt) / 60_000);
      this.batches.losses.push(loss);
    }
    const due = now - this.lastReportAt >= this.everyMs || (this.everySteps > 0 && this.stepsSinceReport >= this.everySteps);
    if (due) await this.report(false);
  }

  override async onEpochEnd(_epoch: number, logs: Logs): Promise<void> {
    this.epochLogs.push({ step: this.step, minutes: (this.now() - this.trainStartedAt) / 60_000, logs });
    await this.report(true);
  }

  private async report(epochEnded: boolean): Promise<void> {
    const now = this.now();
    this.lastReportAt = now;
    this.stepsSinceReport = 0;
    const batchesEndedAt = this.epochStep > 0 && this.lastBatchAt !== undefined ? this.lastBatchAt : this.epochStartedAt;
    const clock = { now, trainStartedAt: this.trainStartedAt, epochStartedAt: this.epochStartedAt, batchesEndedAt, epochOverheadMs: this.epochOverheadMs };
    await this.listener(this.progress(clock, epochEnded));
  }

  private progress(clock: ProgressClock, epochEnded: boolean): BatchProgress {
    const estimate = estimateRemaining(
      { epoch: this.epoch, epochs: this.epochs, epochStep: this.epochStep, stepsPerEpoch: this.stepsPerEpoch, epochEnded },
      clock,
      this.options.minutes ?? undefined,
    );
    const batchMs = clock.batchesEndedAt - clock.epochStartedAt;
    const imagesPerSecond = this.options.batchSize !== undefined && batchMs > 0 ? (this.epochStep * this.options.batchSize * 1000) / batchMs : undefined;
    const progress: Omit<BatchProgress, 'summary'> = {
      epoch: this.epoch,
      epochs: this.epochs,
      step: this.step,
      epochStep: this.epochStep,
      stepsPerEpoch: this.stepsPerEpoch,
      imagesPerSecond,
      ...estimate,
      epochEnded,
      // Copies: a listener may keep a report while training goes on.
      batches: { steps: [...this.batches.steps], epochs: [...this.batches.epochs], minutes: [...this.batches.minutes], losses: [...this.batches.losses] },
      epochLogs: [...this.epochLogs],
    };
    return { ...progress, summary: describeBatchProgress(progress) };
  }
}

/** Where a run stands, for {@link estimateRemaining}. */
interface ProgressPosition {
  epoch: number;
  epochs: number;
  epochStep: number;
  stepsPerEpoch: number | undefined;
  epochEnded: boolean;
}

/**
 * The time left in the epoch and in the run, from this epoch's time per batch and the last
 * epoch's overhead (evaluation, checkpoints). A time budget ends the run after the batch during
 * which it runs out, then evaluates once more: the run's estimate is whichever ends first.
 */
function estimateRemaining(
  position: ProgressPosition,
  clock: ProgressClock,
  minutes: number | undefined,
): Pick<BatchProgress, 'epochRemainingMs' | 'runRemainingMs' | 'budgetBound'> {
  const { epoch, epochs, epochStep, stepsPerEpoch, epochEnded } = position;
  // Time per batch from this epoch's batches only: an epoch-end report comes after the evaluation.
  const msPerStep = epochStep > 0 ? (clock.batchesEndedAt - clock.epochStartedAt) / epochStep : undefined;
  let epochRemainingMs: number | undefined;
  let runRemainingMs: number | undefined;
  if (stepsPerEpoch !== undefined && msPerStep !== undefined) {
    // The batches left, then the evaluation, which takes about what the last epoch's took.
    epochRemainingMs = epochEnded ? 0 : Math.max(0, stepsPerEpoch - epochStep) * msPerStep + clock.epochOverheadMs;
    const epochsAfter = Math.max(0, epochs - epoch - 1);
    runRemainingMs = epochRemainingMs + epochsAfter * (stepsPerEpoch * msPerStep + clock.epochOverheadMs);
  }
  if (minutes === undefined || !Number.isFinite(minutes)) return { epochRemainingMs, runRemainingMs, budgetBound: false };
  const budgetLeftMs = Math.max(0, minutes * 60_000 - (clock.now - clock.trainStartedAt));
  const byBudget = epochEnded && budgetLeftMs === 0 ? 0 : budgetLeftMs + clock.epochOverheadMs;
  const budgetBound = runRemainingMs === undefined || byBudget < runRemainingMs;
  return {
    epochRemainingMs: epochRemainingMs === undefined ? undefined : Math.min(epochRemainingMs, byBudget),
    runRemainingMs: budgetBound ? byBudget : runRemainingMs,
    budgetBound,
  };
}

/**
 * A report as one line: the epoch (of how many, unless a time budget ends the run first), the
 * step in the epoch and in the run, images per second and the two ETAs.
 *
 * @example
 * describeBatchProgress(progress); // 'epoch 3/10 · step 245/380 · 1005 steps in all · 41.2 images/s · epoch ETA 32s · run ETA 3m10s'
 */
export function describeBatchProgress(progress: Omit<BatchProgress, 'summary'>): string {
  const parts = [
    progress.budgetBound ? `epoch ${progress.epoch + 1}` : `epoch ${progress.epoch + 1}/${progress.epochs}`,
    progress.stepsPerEpoch !== undefined ? `step ${progress.epochStep}/${progress.stepsPerEpoch}` : `step ${progress.epochStep}`,
    `${progress.step} step${progress.step === 1 ? '' : 's'} in all`,
  ];
  if (progress.imagesPerSecond !== undefined) parts.push(`${progress.imagesPerSecond.toFixed(1)} images/s`);
  if (progress.epochRemainingMs !== undefined) parts.push(`epoch ETA ${formatSeconds(progress.epochRemainingMs / 1000)}`);
  if (progress.runRemainingMs !== undefined) parts.push(`run ETA ${formatSeconds(progress.runRemainingMs / 1000)}${progress.budgetBound ? ' (time budget)' : ''}`);
  return parts.join(' · ');
}
