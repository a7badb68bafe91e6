/**
 * Sweeps: a search space over train options, its trials recorded in the experiment store, and
 * workers that train them as ordinary runs, on this machine (SQLite) or on many (PostgreSQL,
 * through pg-boss).
 */
export { createSweep } from './create';
export { type FieldValue, type Distribution, type SearchSpace, DISTRIBUTION_NAMES, parseSearchSpace, sampleTrials, gridSize } from './space';
export {
  type CreateSweepOptions,
  type Sweep,
  type SweepTrainOptions,
  type SweepTrial,
  type SweepView,
  type TrialAttempt,
  SWEEP_DEFAULTS,
  bestTrial,
  createSweepRecord,
  getSweep,
  listSweeps,
  readSweep,
  sweepTag,
  trialRunOptions,
} from './sweep';
export { type TrialState, TRIAL_STATES } from './tables';
export { type WorkerOptions, type WorkerSummary, runWorker } from './worker';
