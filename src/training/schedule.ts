/**
 * Learning-rate schedules fixed before training: the rate of every epoch is known in advance,
 * unlike ReduceLROnPlateau, which reacts to a validation score. A fixed schedule is what a
 * final model trained on train + validation needs, since it has no validation set to react to;
 * `stepSchedule` replays the rates a validated run ended up using.
 */
import { ConfigError } from '../errors';

/** The learning rate for a 0-based epoch. */
export type LearningRateSchedule = (epoch: number) => number;

/** One constant stretch of a step schedule. */
export interface ScheduleStep {
  learningRate: number;
  /** Epochs at this rate (a positive integer). */
  epochs: number;
}

/** A step schedule, with its total length; past the last step the last rate holds. */
export interface StepSchedule {
  schedule: LearningRateSchedule;
  steps: ScheduleStep[];
  /** Sum of the steps' epochs. */
  epochs: number;
}

/** Builds a schedule from constant stretches; rates must be positive and epochs positive integers. */
export function stepSchedule(steps: readonly ScheduleStep[]): StepSchedule {
  if (steps.length === 0) throw new ConfigError('a step schedule needs at least one step, e.g. 0.002x6,0.001x2');
  for (const [i, step] of steps.entries()) {
    if (!(step.learningRate > 0) || !Number.isFinite(step.learningRate)) {
      throw new ConfigError(`schedule step ${i + 1}: learning rate ${step.learningRate} must be a positive number`);
    }
    if (!Number.isInteger(step.epochs) || step.epochs < 1) {
      throw new ConfigError(`schedule step ${i + 1}: ${step.epochs} epochs must be a positive integer`);
    }
  }
  const copy = steps.map((s) => ({ ...s }));
  const ends: number[] = [];
  let total = 0;
  for (const step of copy) ends.push((total += step.epochs));
  const schedule: LearningRateSchedule = (epoch) => {
    const index = ends.findIndex((end) => epoch < end);
    return copy[index < 0 ? copy.length - 1 : index]!.learningRate;
  };
  return { schedule, steps: copy, epochs: total };
}

/**
 * Parses `RATExEPOCHS` items separated by commas, e.g. `0.002x6,0.001x2,0.0005x7` (6 epochs at
 * 0.002, then 2 at 0.001, then 7 at 0.0005); a bare rate counts one epoch.
 */
export function parseStepSchedule(text: string): StepSchedule {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const steps = items.map((item) => {
    const match = /^([0-9.eE+-]+)(?:x(\d+))?$/.exec(item);
    const learningRate = match ? Number(match[1]) : NaN;
    if (!match || !Number.isFinite(learningRate)) {
      throw new ConfigError(`learning-rate schedule item ${JSON.stringify(item)} is not RATExEPOCHS (e.g. 0.002x6) or a bare rate`);
    }
    return { learningRate, epochs: match[2] === undefined ? 1 : Number(match[2]) };
  });
  return stepSchedule(steps);
}

/**
 * The step schedule a finished run followed, from its per-epoch `lr` logs (first `epochs`
 * epochs only, e.g. up to the best epoch); consecutive equal rates merge into one step.
 */
export function scheduleFromHistory(rates: readonly number[], epochs = rates.length): StepSchedule {
  if (!Number.isInteger(epochs) || epochs < 1 || epochs > rates.length) {
    throw new ConfigError(`cannot replay ${epochs} epochs from a history of ${rates.length}`);
  }
  const steps: ScheduleStep[] = [];
  for (const rate of rates.slice(0, epochs)) {
    const last = steps[steps.length - 1];
    if (last && last.learningRate === rate) last.epochs++;
    else steps.push({ learningRate: rate, epochs: 1 });
  }
  return stepSchedule(steps);
}

/** `0.002x6,0.001x2` text of a step schedule (what `parseStepSchedule` reads back). */
export function formatStepSchedule(schedule: Pick<StepSchedule, 'steps'>): string {
  return schedule.steps.map((s) => `${s.learningRate}x${s.epochs}`).join(',');
}

/** Options of {@link warmupCosine}. */
export interface WarmupCosineOptions {
  /** The highest rate, reached at the end of the warm-up. */
  peak: number;
  /** Share of training spent warming up linearly from 0. Defaults to 0.1. */
  warmup?: number;
  /** The rate at the very end. Defaults to peak / 100. */
  floor?: number;
  /** Training's length in milliseconds (a time budget). Give it, `totalSteps` or both. */
  budgetMs?: number;
  /** Training's length in batches. With `budgetMs` too, the schedule follows whichever ends training first. */
  totalSteps?: number;
}

/**
 * A per-batch learning rate: a linear warm-up to `peak`, then a half cosine down to `floor`
 * over the rest of a time budget or a number of batches, whichever is further along (a run
 * ends at the first of the two). Past the end it stays at `floor`.
 *
 * @example
 * train(model, data, { ..., batchLearningRate: warmupCosine({ peak: 3e-3, budgetMs: 10 * 60_000 }) });
 */
export function warmupCosine(options: WarmupCosineOptions): (progress: { step: number; elapsedMs: number }) => number {
  const { peak } = options;
  const warmup = options.warmup ?? 0.1;
  const floor = options.floor ?? peak / 100;
  if (!(peak > 0) || !Number.isFinite(peak)) throw new ConfigError(`warm-up cosine: peak rate ${peak} must be a positive number`);
  if (!(warmup >= 0 && warmup < 1)) throw new ConfigError(`warm-up cosine: warm-up share ${warmup} must be in [0, 1)`);
  if (!(floor > 0 && floor <= peak)) throw new ConfigError(`warm-up cosine: floor ${floor} must be positive and at most the peak ${peak}`);
  const length = options.budgetMs ?? options.totalSteps;
  if (!(length !== undefined && length > 0)) throw new ConfigError('warm-up cosine needs budgetMs or totalSteps (a positive number)');
  return ({ step, elapsedMs }) => {
    const byTime = options.budgetMs !== undefined ? elapsedMs / options.budgetMs : 0;
    const bySteps = options.totalSteps !== undefined ? step / options.totalSteps : 0;
    const done = Math.min(1, Math.max(byTime, bySteps));
    if (done < warmup) return Math.max(floor, (peak * done) / warmup);
    return floor + (peak - floor) * 0.5 * (1 + Math.cos((Math.PI * (done - warmup)) / (1 - warmup)));
  };
}
