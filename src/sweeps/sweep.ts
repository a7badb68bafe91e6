/**
 * A sweep as the store records it: created once with its trials drawn from the search space,
 * then read by `sweep status|ls|best`, notebooks and the dashboard. Each trial trains an ordinary
 * equation run (see `worker.ts`) from the sweep's fixed train options with the trial's params
 * over them, tagged `sweep:NAME` and named `NAME/TRIAL`.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors';
import { parseSynthDataArg } from '../data/equations/synth-sets';
import type { EquationModelName } from '../runs/models';
import { EQUATION_RECIPE_NAMES, type EquationRecipeName, type EquationRunOptions, resolveEquationRunSpec } from '../runs/spec/index';
import type { EquationMachine } from '../runs/spec/resolve';
import { execute, inTransaction, selectAll, selectOne, type TrackerStore } from '../tracker/store';
import { checkFieldValue, type FieldValue, parseSearchSpace, sampleTrials, type SearchSpace, sweepField } from './space';
import { type AttemptRow, attemptRowOf, checkSweepName, ensureSweepTables, hasSweepTables, type SweepRow, sweepRowOf, type TrialRow, trialRowOf, type TrialState } from './tables';

/** The train options every trial of a sweep shares (the trial's params go over `fields`). */
export interface SweepTrainOptions {
  /** A data folder (made absolute), or `synth`, `synth:PRESET`, `synth:SPEC.json`, as `glyphlab train --data`. */
  data: string;
  /** The recipe. Defaults to the one `glyphlab train` picks. */
  recipe?: EquationRecipeName;
  /** The model family. Defaults to the recipe's. */
  model?: EquationModelName;
  /** Use at most this many training images (and an eighth of it for val and test), as `--limit`. Defaults to all. */
  limit?: number;
  /** Experiment of the trials' runs. Defaults to 'equations'. */
  experiment?: string;
  /** Fixed values of train options, by flag (`{ epochs: 2, 'batch-size': 8 }`). Defaults to none. */
  fields?: Record<string, FieldValue>;
}

/** Options of {@link createSweep}. */
export interface CreateSweepOptions {
  name: string;
  /** The search space, as parsed JSON (see `space.ts`). */
  space: unknown;
  train: SweepTrainOptions;
  /** Trials of a random space; a grid runs each of its points once. Defaults to the grid's size (required for a random space). */
  trials?: number;
  /** Each trial's time budget in minutes (its run's `minutes`). Defaults to 5. */
  trialMinutes?: number;
  /** How often a trial is tried again after its worker died or its run failed. Defaults to 2. */
  retries?: number;
  /** Seed of the random draws. Defaults to 0. */
  seed?: number;
  /** The machine the trial specs are checked for. Defaults to this one. */
  machine?: EquationMachine;
}

/** A sweep as read back. */
export interface Sweep {
  name: string;
  space: SearchSpace;
  train: SweepTrainOptions;
  trials: number;
  trialMinutes: number;
  retries: number;
  seed: number;
  /** How trials reach workers: leases in the store ('local', SQLite), or pg-boss jobs ('pg-boss', PostgreSQL). */
  queue: 'local' | 'pg-boss';
  createdAt: number;
}

/** One attempt at a trial. */
export interface TrialAttempt {
  attempt: number;
  runId: string | null;
  startedAt: number;
  endedAt: number | null;
  /** null while it runs. */
  outcome: AttemptRow['outcome'];
  note: string | null;
}

/** One trial of a sweep, with its params, state and result. */
export interface SweepTrial {
  trial: number;
  params: Record<string, FieldValue>;
  state: TrialState;
  /** Attempts begun. */
  attempts: number;
  /** Attempts that failed or were lost with their worker. */
  failures: number;
  /** The run that finished the trial, or the one of the attempt under way (null before any began training). */
  runId: string | null;
  /** The finished run's best validation accuracy. */
  valAccuracy: number | null;
  error: string | null;
  /** Every attempt, oldest first. */
  attemptRuns: TrialAttempt[];
}

/** A sweep with its trials: what `sweep status`, notebooks and a dashboard show. */
export interface SweepView extends Sweep {
  trialList: SweepTrial[];
  /** Trials by state. */
  counts: Record<TrialState, number>;
  /** The finished trial of the highest validation accuracy (the lowest index on a tie), if any. */
  best: SweepTrial | undefined;
  /** Every trial finished or given up. */
  done: boolean;
}

/** The default trial budget. */
export const SWEEP_DEFAULTS = { trialMinutes: 5, retries: 2, seed: 0 } as const;

/** Checks the fixed train options: the data exists, fields are known with good values, and the budget is `--trial-minutes`. */
function checkTrainOptions(train: SweepTrainOptions): SweepTrainOptions {
  if (typeof train.data !== 'string' || train.data.trim() === '') throw new ConfigError('a sweep needs its training data: --data DIR (a folder with labels.csv) or --data synth');
  const synth = parseSynthDataArg(train.data);
  const data = synth ? train.data : resolve(train.data);
  if (!synth && !(existsSync(data) && statSync(data).isDirectory())) throw new ConfigError(`data folder ${data} does not exist; give --data a folder with labels.csv and images (every worker must see it at this path)`);
  if (train.recipe !== undefined && !EQUATION_RECIPE_NAMES.includes(train.recipe)) throw new ConfigError(`recipe ${JSON.stringify(train.recipe)} is not one of: ${EQUATION_RECIPE_NAMES.join(', ')}`);
  if (train.limit !== undefined && !(Number.isInteger(train.limit) && train.limit >= 1)) throw new ConfigError(`limit ${train.limit} must be a whole number >= 1`);
  const fields: Record<string, FieldValue> = {};
  for (const [name, value] of Object.entries(train.fields ?? {})) {
    const field = sweepField(name);
    if (field.flag === 'minutes') throw new ConfigError('a sweep sets each trial\'s minutes with --trial-minutes, not --minutes');
    fields[field.flag] = checkFieldValue(field, value, `--${field.flag}`);
  }
  return { ...train, data, fields };
}

/** Sets `value` at the dotted `path` of `target`. */
function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[keys[keys.length - 1]!] = value;
}

/**
 * The run options of one trial: the sweep's fixed options, the trial's params over them, its
 * time budget, tag `sweep:NAME` and name `NAME/TRIAL`.
 */
export function trialRunOptions(sweep: Pick<Sweep, 'name' | 'train' | 'trialMinutes'>, trial: number, params: Record<string, FieldValue>): EquationRunOptions {
  const options: Record<string, unknown> = {};
  for (const [flag, value] of Object.entries({ ...sweep.train.fields, ...params })) setPath(options, sweepField(flag).option, Array.isArray(value) ? [...value] : value);
  const synth = parseSynthDataArg(sweep.train.data);
  const limit = sweep.train.limit;
  return {
    ...(options as EquationRunOptions),
    ...(synth ? { synth } : { dataDir: sweep.train.data }),
    recipe: sweep.train.recipe,
    model: sweep.train.model,
    limit: limit === undefined ? undefined : { train: limit, val: Math.max(1, Math.ceil(limit / 8)), test: Math.max(1, Math.ceil(limit / 8)) },
    minutes: sweep.trialMinutes,
    experiment: sweep.train.experiment,
    name: `${sweep.name}/${trial}`,
    tags: [sweepTag(sweep.name)],
  };
}

/** The tag of a sweep's runs. */
export function sweepTag(name: string): string {
  return `sweep:${name}`;
}

/**
 * Records a new sweep and its trials in `store` (creating the sweep tables when needed). Every
 * trial's spec is resolved first, so a value no run accepts (a learning rate times weight decay
 * of 1 or more) is refused before anything is written. `queue` is how trials will reach the
 * workers; enqueuing pg-boss jobs is the caller's (see `createSweepIn`).
 *
 * @example
 * createSweepRecord(store, { name: 'lr', space: { lr: { loguniform: [1e-4, 1e-2] } }, trials: 8, train: { data: 'data/equations' } }, 'local');
 */
export function createSweepRecord(store: TrackerStore, options: CreateSweepOptions, queue: Sweep['queue']): Sweep {
  checkSweepName(options.name);
  const space = parseSearchSpace(options.space);
  const trialMinutes = options.trialMinutes ?? SWEEP_DEFAULTS.trialMinutes;
  if (!(Number.isFinite(trialMinutes) && trialMinutes > 0)) throw new ConfigError(`trial minutes ${trialMinutes} must be a number above 0 (--trial-minutes M)`);
  const retries = options.retries ?? SWEEP_DEFAULTS.retries;
  if (!(Number.isInteger(retries) && retries >= 0 && retries <= 100)) throw new ConfigError(`retries ${retries} must be a whole number from 0 to 100 (--retries R)`);
  const seed = options.seed ?? SWEEP_DEFAULTS.seed;
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= 2 ** 31 - 1)) throw new ConfigError(`sweep seed ${seed} must be a whole number from 0 to ${2 ** 31 - 1}`);
  const train = checkTrainOptions(options.train);
  const points = sampleTrials(space, { trials: options.trials, seed });
  const sweep: Sweep = { name: options.name, space, train, trials: points.length, trialMinutes, retries, seed, queue, createdAt: Date.now() };
  points.forEach((params, trial) => {
    try {
      resolveEquationRunSpec(trialRunOptions(sweep, trial, params), options.machine);
    } catch (error) {
      if (error instanceof ConfigError) throw new ConfigError(`trial ${trial} (${JSON.stringify(params)}) cannot run: ${error.message}`, { cause: error });
      throw error;
    }
  });
  ensureSweepTables(store);
  inTransaction(store, () => {
    if (selectOne(store, 'SELECT name FROM sweeps WHERE name = @name', { name: sweep.name })) {
      throw new ConfigError(`sweep ${sweep.name} already exists in ${store.file}; pick another name, or see it with \`glyphlab sweep status ${sweep.name}\``);
    }
    execute(
      store,
      'INSERT INTO sweeps (name, space_json, train_json, trials, trial_minutes, retries, seed, queue, created_at) VALUES (@name, @space, @train, @trials, @trialMinutes, @retries, @seed, @queue, @now)',
      { name: sweep.name, space: JSON.stringify(space), train: JSON.stringify(train), trials: sweep.trials, trialMinutes, retries, seed, queue, now: sweep.createdAt },
    );
    points.forEach((params, trial) => {
      execute(store, "INSERT INTO sweep_trials (sweep, trial, params_json, state, attempts, failures, updated_at) VALUES (@sweep, @trial, @params, 'pending', 0, 0, @now)", {
        sweep: sweep.name,
        trial,
        params: JSON.stringify(params),
        now: sweep.createdAt,
      });
    });
  });
  return sweep;
}

/** Removes a sweep's rows (its runs stay): what a create whose jobs could not be queued undoes. */
export function deleteSweepRecord(store: TrackerStore, name: string): void {
  inTransaction(store, () => {
    execute(store, 'DELETE FROM sweep_attempts WHERE sweep = @name', { name });
    execute(store, 'DELETE FROM sweep_trials WHERE sweep = @name', { name });
    execute(store, 'DELETE FROM sweeps WHERE name = @name', { name });
  });
}

function sweepOf(row: SweepRow): Sweep {
  const r = sweepRowOf(row);
  return {
    name: r.name,
    space: JSON.parse(r.space_json) as SearchSpace,
    train: JSON.parse(r.train_json) as SweepTrainOptions,
    trials: r.trials,
    trialMinutes: r.trial_minutes,
    retries: r.retries,
    seed: r.seed,
    queue: r.queue === 'pg-boss' ? 'pg-boss' : 'local',
    createdAt: r.created_at,
  };
}

/** Every sweep of the store, oldest first (none when no sweep was ever created). */
export function listSweeps(store: TrackerStore): Sweep[] {
  if (!hasSweepTables(store)) return [];
  return selectAll<SweepRow>(store, 'SELECT * FROM sweeps ORDER BY created_at, name').map(sweepOf);
}

/** The sweep `name`; an unknown name is a ConfigError listing the sweeps. */
export function getSweep(store: TrackerStore, name: string): Sweep {
  const row = hasSweepTables(store) ? selectOne<SweepRow>(store, 'SELECT * FROM sweeps WHERE name = @name', { name }) : undefined;
  if (!row) {
    const names = listSweeps(store).map((s) => s.name);
    throw new ConfigError(`no sweep ${JSON.stringify(name)} in ${store.file}; ${names.length > 0 ? `sweeps: ${names.join(', ')}` : 'create one with `glyphlab sweep create`'}`);
  }
  return sweepOf(row);
}

/**
 * A sweep with every trial, its params, state, attempts and result, the counts by state and the
 * best finished trial: the read behind `sweep status`, notebooks and a dashboard.
 *
 * @example
 * const view = readSweep(store, 'lr');
 * view.trialList.map((t) => [t.params.lr, t.valAccuracy]);
 */
export function readSweep(store: TrackerStore, name: string): SweepView {
  const sweep = getSweep(store, name);
  const attempts = selectAll<AttemptRow>(store, 'SELECT * FROM sweep_attempts WHERE sweep = @name ORDER BY trial, attempt', { name }).map(attemptRowOf);
  const trialList = selectAll<TrialRow>(store, 'SELECT * FROM sweep_trials WHERE sweep = @name ORDER BY trial', { name })
    .map(trialRowOf)
    .map(
      (row): SweepTrial => ({
        trial: row.trial,
        params: JSON.parse(row.params_json) as Record<string, FieldValue>,
        state: row.state,
        attempts: row.attempts,
        failures: row.failures,
        runId: row.run_id,
        valAccuracy: row.val_accuracy,
        error: row.error,
        attemptRuns: attempts
          .filter((a) => a.trial === row.trial)
          .map((a) => ({ attempt: a.attempt, runId: a.run_id, startedAt: a.started_at, endedAt: a.ended_at, outcome: a.outcome, note: a.note })),
      }),
    );
  const counts: Record<TrialState, number> = { pending: 0, running: 0, finished: 0, failed: 0 };
  for (const trial of trialList) counts[trial.state]++;
  return { ...sweep, trialList, counts, best: bestOf(trialList), done: counts.pending === 0 && counts.running === 0 };
}

/** The finished trial of the highest validation accuracy, the lowest index on a tie. */
function bestOf(trials: readonly SweepTrial[]): SweepTrial | undefined {
  let best: SweepTrial | undefined;
  for (const trial of trials) {
    if (trial.state !== 'finished' || trial.valAccuracy === null || !Number.isFinite(trial.valAccuracy)) continue;
    if (!best || trial.valAccuracy > best.valAccuracy!) best = trial;
  }
  return best;
}

/**
 * The best finished trial of sweep `name` (its params, run and validation accuracy), or
 * undefined while none has finished.
 *
 * @example
 * bestTrial(store, 'lr')?.params; // { lr: 0.0021 }
 */
export function bestTrial(store: TrackerStore, name: string): SweepTrial | undefined {
  return readSweep(store, name).best;
}
