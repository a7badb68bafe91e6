/**
 * How trials reach workers. On a SQLite store every worker runs on this machine, and the lease
 * in `sweep_trials` is the whole queue: a worker takes the first pending trial in one write
 * transaction, so two local workers never take the same one. On a PostgreSQL store, shared by
 * many machines, the queue is pg-boss: each trial is a job of the sweep's queue, fetched with
 * `SELECT ... FOR UPDATE SKIP LOCKED`, with a retry limit (the sweep's retries) and an expiry
 * (a job active longer than twice the trial's budget plus ten minutes goes back to the queue,
 * for a worker that vanished without a trace, e.g. its machine lost power). `sweep_trials` stays
 * the record of who holds what: a worker whose lease ran out loses its job to whoever notices
 * (pg-boss `fail`, which retries it), long before the job would expire.
 *
 * Why pg-boss and not graphile-worker: graphile-worker's job locks expire only after a fixed 4
 * hours, for every job, so a trial whose machine died would wait hours; pg-boss has a per-job
 * `expireInSeconds` and `retryLimit`, a `fetch()` that hands one job to a loop that trains one
 * trial at a time (no handler callback owning the process), and `fail()` by job id, which lets
 * a worker hand a dead worker's trial back at once. Both need only PostgreSQL; pg-boss speaks
 * through `pg`, which the store already uses. (pg-boss 10: the newest for Node 20.)
 */
import PgBoss from 'pg-boss';
import { errorMessage, TrackerError } from '../errors';
import type { TrackerStore } from '../tracker/store';
import { redactSecret, redactUrl } from '../util/store-target';
import type { Sweep } from './sweep';
import { claimTrial, type LostTrial, type TrialClaim } from './trials';

/** What a worker does with the queue; the store's rows are changed by `trials.ts`. */
export interface TrialQueue {
  /** Takes the next trial of `sweep` for this worker, or undefined when none is free now. */
  claim(sweep: Sweep, leaseMs: number): Promise<TrialClaim | undefined>;
  /** Tells the queue how the claim's attempt ended. */
  settle(claim: TrialClaim, outcome: 'finished' | 'failed' | 'interrupted'): Promise<void>;
  /** Hands trials taken back from lost workers to the queue again. */
  requeue(lost: readonly LostTrial[]): Promise<void>;
  close(): Promise<void>;
}

/** The queue of a SQLite store: the leases in `sweep_trials` alone. */
export function localQueue(store: TrackerStore): TrialQueue {
  return {
    claim: async (sweep, leaseMs) => claimTrial(store, sweep, { leaseMs }),
    settle: async () => {},
    requeue: async () => {},
    close: async () => {},
  };
}

/** The pg-boss queue of sweep `name`. */
export function sweepQueueName(name: string): string {
  return `glyphlab-sweep-${name}`;
}

/** How long a trial's job may stay active before pg-boss hands it out again, in seconds (under pg-boss's 24-hour limit). */
export function trialExpirySeconds(trialMinutes: number): number {
  return Math.min(23 * 3600, Math.ceil(trialMinutes * 60 * 2 + 600));
}

/** Options of {@link openPgBoss}. */
export interface PgBossOptions {
  /** How often pg-boss's maintenance (expiring active jobs, archiving) runs. Defaults to 30 s. */
  maintenanceSeconds?: number;
  /** Where pg-boss's background errors go. Defaults to standard error. */
  onError?: (message: string) => void;
}

/** A started pg-boss on the store's database (it keeps its tables in the schema `pgboss`). */
export async function openPgBoss(url: string, options: PgBossOptions = {}): Promise<PgBoss> {
  const boss = new PgBoss({ connectionString: url, maintenanceIntervalSeconds: options.maintenanceSeconds ?? 30, schedule: false, application_name: 'glyphlab-sweep' });
  const onError = options.onError ?? ((message: string) => void process.stderr.write(`glyphlab: warning: sweep queue: ${message}\n`));
  // A driver's message may quote the connection string: its password never reaches a log.
  boss.on('error', (error) => onError(redactSecret(error.message, url)));
  try {
    await boss.start();
  } catch (error) {
    throw new TrackerError(`cannot start the sweep queue (pg-boss) on ${redactUrl(url)}: ${redactSecret(errorMessage(error), url)}`);
  }
  return boss;
}

/** The job data of a trial. */
interface TrialJob {
  sweep: string;
  trial: number;
}

/** Creates the sweep's pg-boss queue and one job per trial. */
export async function enqueueSweep(boss: PgBoss, sweep: Sweep, trials: readonly number[]): Promise<void> {
  const name = sweepQueueName(sweep.name);
  const expireInSeconds = trialExpirySeconds(sweep.trialMinutes);
  await boss.createQueue(name, { name, retryLimit: sweep.retries, expireInSeconds });
  await boss.insert(trials.map((trial) => ({ name, data: { sweep: sweep.name, trial } satisfies TrialJob, retryLimit: sweep.retries, expireInSeconds })));
}

/** The queue of a PostgreSQL store: pg-boss jobs, with the leases in `sweep_trials` beside them. */
export function pgBossQueue(store: TrackerStore, boss: PgBoss): TrialQueue {
  return {
    async claim(sweep, leaseMs) {
      const name = sweepQueueName(sweep.name);
      for (;;) {
        const [job] = await boss.fetch<TrialJob>(name);
        if (!job) return undefined;
        const claim = claimTrial(store, sweep, { leaseMs, trial: job.data.trial, jobId: job.id });
        if (claim) return claim;
        // The trial is finished or failed already (a job handed out again after its run ended): done.
        await boss.complete(name, job.id);
      }
    },
    async settle(claim, outcome) {
      const name = sweepQueueName(claim.sweep.name);
      if (claim.jobId === null) return;
      if (outcome === 'finished') await boss.complete(name, claim.jobId);
      else if (outcome === 'failed') await boss.fail(name, claim.jobId);
      else {
        // A worker asked to stop gives its trial back without spending a retry: a fresh job.
        await boss.complete(name, claim.jobId);
        await boss.send(name, { sweep: claim.sweep.name, trial: claim.trial } satisfies TrialJob, { retryLimit: claim.sweep.retries, expireInSeconds: trialExpirySeconds(claim.sweep.trialMinutes) });
      }
    },
    async requeue(lost) {
      for (const trial of lost) if (trial.jobId !== null) await boss.fail(sweepQueueName(trial.sweep), trial.jobId, { reason: trial.why });
    },
    close: () => boss.stop({ graceful: false, wait: true }),
  };
}
