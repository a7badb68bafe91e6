/**
 * A sweep worker: takes a trial, trains it as an ordinary recorded equation run (the code path
 * of `glyphlab train`: `resolveEquationRunSpec` then `runEquationSpec`) with the trial's params,
 * the sweep's time budget, the tag `sweep:NAME` and the param `sweep.trial`, records the result
 * on the trial, and takes the next, until every trial of its sweeps is finished or failed. It
 * renews its lease on the trial while the run trains; a worker that finds its lease gone (it was
 * stopped or too slow, and another worker took the trial over) stops its run, which ends as
 * interrupted with a note naming the trial. A worker killed outright leaves its run to the
 * store's crash detection (the run reads as crashed) and its trial to the next worker that looks.
 */
import { basename } from 'node:path';
import { readyBackend } from '../backend/index';
import { errorMessage } from '../errors';
import { type EquationRunResult, runEquationSpec } from '../runs/equation-run';
import { resolveEquationRunSpec } from '../runs/spec/index';
import { logParams } from '../tracker/record';
import { closeStore, openStore, type TrackerStore } from '../tracker/store';
import { Callback, type TrainBeginEvent } from '../training/callbacks';
import { databasePath } from '../util/paths';
import { isPostgresUrl } from '../util/store-target';
import { localQueue, openPgBoss, pgBossQueue, type TrialQueue } from './queue';
import { getSweep, listSweeps, type Sweep, trialRunOptions } from './sweep';
import { finishTrial, reclaimLostTrials, recordDuplicateRun, recordTrialRun, releaseTrial, renewLease, sweepsDone, type TrialClaim } from './trials';

/** Options of {@link runWorker}. */
export interface WorkerOptions {
  /** The store: a SQLite file or a `postgres://` URL. Defaults to GLYPHLAB_DB or experiments/glyphlab.db. */
  db?: string;
  /** Work on this sweep only. Defaults to every sweep not done yet, oldest first. */
  sweep?: string;
  /** How long a trial's lease lasts unless renewed (every quarter of it). Defaults to 60000 ms. */
  leaseMs?: number;
  /** How often an idle worker looks for a free trial. Defaults to 2000 ms. */
  pollMs?: number;
  /** pg-boss maintenance interval (a PostgreSQL store). Defaults to 30 s. */
  maintenanceSeconds?: number;
  /** Stop: the trial under way ends as interrupted and goes back to the queue, and the worker returns. Defaults to none. */
  signal?: AbortSignal;
  /** Progress lines. Defaults to none. */
  log?: (line: string) => void;
  /** Callbacks of every trial's run (progress, a begun marker). Defaults to none. */
  callbacks?: Callback[];
  /** What started the runs, recorded as their source. Defaults to the process's command line. */
  source?: string;
}

/** What a worker did. */
export interface WorkerSummary {
  /** Trials this worker finished (the store's record of each). */
  finished: { sweep: string; trial: number; runId: string; valAccuracy: number | null }[];
  /** Attempts that failed here (the trial may have been retried). */
  failed: { sweep: string; trial: number; error: string }[];
  /** Runs that lost their trial to another worker and ended as interrupted. */
  duplicates: { sweep: string; trial: number; runId: string }[];
  /** Why the worker returned: every trial of its sweeps done, or stopped by the signal. */
  ended: 'done' | 'stopped';
}

/** Records the run id of the trial's attempt and its sweep params once training begins. */
class TrialRunCallback extends Callback {
  runId: string | undefined;

  constructor(
    private readonly store: TrackerStore,
    private readonly claim: TrialClaim,
    private readonly log: (line: string) => void,
  ) {
    super();
  }

  override async onTrainBegin(event: TrainBeginEvent): Promise<void> {
    if (event.runDir === undefined) return;
    // A recorded run's folder is named by its id (runs/recorded-run.ts).
    const runId = basename(event.runDir);
    this.runId = runId;
    try {
      logParams(this.store, runId, { 'sweep.name': this.claim.sweep.name, 'sweep.trial': this.claim.trial, 'sweep.attempt': this.claim.attempt });
      if (!recordTrialRun(this.store, this.claim, runId)) this.log(`run ${runId}: trial ${this.claim.trial} of ${this.claim.sweep.name} is held by another worker now`);
    } catch (error) {
      // The run goes on: its trial learns its run id when it finishes (finishTrial).
      this.log(`run ${runId}: could not record it on trial ${this.claim.trial} of ${this.claim.sweep.name}: ${errorMessage(error)}`);
    }
  }
}

/** Sleeps `ms`, or less when `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The sweeps a worker serves: the one named, or every one not done yet. */
function sweepsToServe(store: TrackerStore, name: string | undefined): Sweep[] {
  if (name !== undefined) return [getSweep(store, name)];
  return listSweeps(store).filter((sweep) => !sweepsDone(store, [sweep]));
}

/**
 * Works on trials until every trial of its sweeps is finished or failed (or `signal` aborts):
 * see the file comment. Several workers may run at once, in processes on this machine or, on a
 * PostgreSQL store, on any machine.
 *
 * @example
 * const summary = await runWorker({ db: 'experiments/glyphlab.db', sweep: 'lr' });
 * summary.finished.length;
 */
export async function runWorker(options: WorkerOptions = {}): Promise<WorkerSummary> {
  const db = options.db ?? databasePath();
  const leaseMs = options.leaseMs ?? 60_000;
  const pollMs = options.pollMs ?? 2_000;
  const log = options.log ?? (() => {});
  const store = openStore(db);
  const summary: WorkerSummary = { finished: [], failed: [], duplicates: [], ended: 'done' };
  let queue: TrialQueue | undefined;
  try {
    const sweeps = sweepsToServe(store, options.sweep);
    const postgres = isPostgresUrl(db);
    queue = postgres ? pgBossQueue(store, await openPgBoss(db, { maintenanceSeconds: options.maintenanceSeconds })) : localQueue(store);
    for (;;) {
      if (options.signal?.aborted) {
        summary.ended = 'stopped';
        break;
      }
      const lost = reclaimLostTrials(store, sweeps);
      for (const trial of lost) log(`sweep ${trial.sweep} trial ${trial.trial}: attempt ${trial.attempt} lost (${trial.why}); ${trial.gaveUp ? 'no retry left: failed' : 'back in the queue'}`);
      await queue.requeue(lost);
      let claim: TrialClaim | undefined;
      for (const sweep of sweeps) {
        claim = await queue.claim(sweep, leaseMs);
        if (claim) break;
      }
      if (claim) {
        await runTrial(store, queue, claim, { ...options, db, leaseMs, log }, summary);
        continue;
      }
      if (sweepsDone(store, sweeps)) break;
      await pause(pollMs, options.signal);
    }
  } finally {
    await queue?.close();
    closeStore(store);
  }
  return summary;
}

/** Trains one claimed trial and records how it ended, on the trial and in the queue. */
async function runTrial(store: TrackerStore, queue: TrialQueue, claim: TrialClaim, options: WorkerOptions & { db: string; leaseMs: number; log: (line: string) => void }, summary: WorkerSummary): Promise<void> {
  const { sweep, trial } = claim;
  const label = `sweep ${sweep.name} trial ${trial}`;
  options.log(`${label} (attempt ${claim.attempt}): ${JSON.stringify(claim.params)}`);
  const stop = new AbortController();
  const onStop = (): void => stop.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onStop, { once: true });
  let lostLease = false;
  const renew = setInterval(() => {
    try {
      if (renewLease(store, claim, options.leaseMs)) return;
      lostLease = true;
      options.log(`${label}: another worker took the trial over; stopping this run`);
      stop.abort(new Error('lost the trial'));
    } catch (error) {
      // A store busy past its timeout: the next renewal tries again, well within the lease.
      options.log(`${label}: could not renew the lease: ${errorMessage(error)}`);
    }
  }, Math.max(250, Math.floor(options.leaseMs / 4)));
  const recorder = new TrialRunCallback(store, claim, options.log);
  let result: EquationRunResult | undefined;
  let failure: unknown;
  try {
    await readyBackend();
    const spec = resolveEquationRunSpec(trialRunOptions(sweep, trial, claim.params));
    result = await runEquationSpec(spec, {
      dbPath: options.db,
      source: options.source,
      callbacks: [recorder, ...(options.callbacks ?? [])],
      log: options.log,
      signal: stop.signal,
      handleSignals: false,
    });
  } catch (error) {
    failure = error;
  } finally {
    clearInterval(renew);
    options.signal?.removeEventListener('abort', onStop);
  }
  const runId = result?.runId ?? recorder.runId;
  if (result?.status === 'finished' && runId !== undefined) {
    const valAccuracy = result.best?.value ?? null;
    if (finishTrial(store, claim, runId, valAccuracy)) {
      summary.finished.push({ sweep: sweep.name, trial, runId, valAccuracy });
      options.log(`${label}: finished, run ${runId}, best val_accuracy ${valAccuracy ?? '-'}`);
      await queue.settle(claim, 'finished');
      return;
    }
    markDuplicate(store, claim, runId, summary, options.log);
    return;
  }
  if (lostLease) {
    if (runId !== undefined) markDuplicate(store, claim, runId, summary, options.log);
    return;
  }
  if (result?.status === 'interrupted' || (failure !== undefined && options.signal?.aborted)) {
    releaseTrial(store, claim, 'interrupted', `worker stopped (${String(options.signal?.reason ?? 'signal')})`);
    await queue.settle(claim, 'interrupted');
    return;
  }
  const error = failure !== undefined ? errorMessage(failure) : `run ${runId ?? '?'} ended ${result?.status ?? 'without a result'}`;
  const state = releaseTrial(store, claim, 'failed', error);
  summary.failed.push({ sweep: sweep.name, trial, error });
  options.log(`${label}: attempt ${claim.attempt} failed: ${error}; ${state === 'failed' ? 'no retry left' : 'back in the queue'}`);
  await queue.settle(claim, 'failed');
}

/** Records a run whose trial another attempt holds or finished as a duplicate (see `recordDuplicateRun`). */
function markDuplicate(store: TrackerStore, claim: TrialClaim, runId: string, summary: WorkerSummary, log: (line: string) => void): void {
  const note = recordDuplicateRun(store, claim, runId);
  summary.duplicates.push({ sweep: claim.sweep.name, trial: claim.trial, runId });
  log(`run ${runId}: ${note}`);
}
