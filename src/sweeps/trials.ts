/**
 * Who holds which trial, kept in `sweep_trials`: every change is one conditional UPDATE that
 * names the attempt it expects, so two workers (processes, or machines sharing a PostgreSQL
 * store) never both take, finish or give back the same attempt. A worker holds a trial by a
 * lease it renews while the trial trains; a trial whose lease ran out, or whose worker process
 * is gone from this machine, is lost and goes back to the queue, at most `retries` times.
 */
import { finishRun, noteRun } from '../tracker/record';
import { execute, inTransaction, selectAll, selectOne, type TrackerStore } from '../tracker/store';
import { checkRecordedProcess, currentProcessIdentity, type ProcessIdentity } from '../tracker/process-identity';
import type { FieldValue } from './space';
import type { Sweep } from './sweep';
import { type AttemptOutcome, changedRows, type TrialRow, trialRowOf } from './tables';

/** A trial a worker holds: the attempt it is on. */
export interface TrialClaim {
  sweep: Sweep;
  trial: number;
  params: Record<string, FieldValue>;
  /** 1 for the first try. */
  attempt: number;
  /** The pg-boss job that handed it out, on a PostgreSQL store. */
  jobId: string | null;
}

/** A trial taken back from a worker that lost it. */
export interface LostTrial {
  sweep: string;
  trial: number;
  attempt: number;
  jobId: string | null;
  /** No retry was left: the trial failed. */
  gaveUp: boolean;
  why: string;
}

/** Why the holder of a running trial has lost it, or undefined while it holds it. */
function lostBecause(row: TrialRow, now: number): string | undefined {
  if (row.owner_json !== null) {
    const owner = JSON.parse(row.owner_json) as ProcessIdentity;
    const check = checkRecordedProcess(owner);
    if (check.state === 'dead') return `its worker died (${check.reason})`;
  }
  if (row.lease_until !== null && row.lease_until < now) return `its worker's lease ran out ${Math.round((now - row.lease_until) / 1000)} s ago`;
  return undefined;
}

/**
 * Takes back every running trial of `sweeps` whose worker lost it (see {@link lostBecause}): it
 * goes back to pending, or fails when it had all its retries; its attempt is recorded as lost.
 */
export function reclaimLostTrials(store: TrackerStore, sweeps: readonly Sweep[], now: number = Date.now()): LostTrial[] {
  const lost: LostTrial[] = [];
  for (const sweep of sweeps) {
    const running = selectAll<TrialRow>(store, "SELECT * FROM sweep_trials WHERE sweep = @sweep AND state = 'running'", { sweep: sweep.name }).map(trialRowOf);
    for (const row of running) {
      const why = lostBecause(row, now);
      if (why === undefined) continue;
      const gaveUp = row.failures + 1 > sweep.retries;
      const error = gaveUp ? `attempt ${row.attempts} lost: ${why}; no retry left (--retries ${sweep.retries})` : null;
      const taken = inTransaction(store, () => {
        const result = execute(
          store,
          'UPDATE sweep_trials SET state = @state, failures = failures + 1, owner_json = NULL, lease_until = NULL, error = @error, updated_at = @now ' +
            "WHERE sweep = @sweep AND trial = @trial AND attempts = @attempt AND state = 'running'",
          { state: gaveUp ? 'failed' : 'pending', error, now, sweep: sweep.name, trial: row.trial, attempt: row.attempts },
        );
        if (changedRows(result) === 0) return false;
        endAttempt(store, sweep.name, row.trial, row.attempts, 'lost', why, now);
        return true;
      });
      if (taken) lost.push({ sweep: sweep.name, trial: row.trial, attempt: row.attempts, jobId: row.job_id, gaveUp, why });
    }
  }
  return lost;
}

/** Records how an attempt ended (once: a later call for the same attempt changes nothing). */
function endAttempt(store: TrackerStore, sweep: string, trial: number, attempt: number, outcome: AttemptOutcome, note: string | null, now: number): void {
  execute(store, 'UPDATE sweep_attempts SET outcome = @outcome, note = @note, ended_at = @now WHERE sweep = @sweep AND trial = @trial AND attempt = @attempt AND outcome IS NULL', {
    outcome,
    note,
    now,
    sweep,
    trial,
    attempt,
  });
}

/** Options of {@link claimTrial}. */
export interface ClaimOptions {
  /** How long the lease lasts unless renewed, in ms. */
  leaseMs: number;
  /** Take this trial (a pg-boss job named it), even from a holder whose job pg-boss took back. Defaults to the first pending trial. */
  trial?: number;
  /** The job that handed it out. Defaults to none. */
  jobId?: string;
  now?: number;
  owner?: ProcessIdentity;
}

/**
 * Takes a trial of `sweep` for this process: the first pending one, or `options.trial`. Returns
 * undefined when there is none (or that one is finished or failed, or has no retry left).
 */
export function claimTrial(store: TrackerStore, sweep: Sweep, options: ClaimOptions): TrialClaim | undefined {
  const now = options.now ?? Date.now();
  const owner = JSON.stringify(options.owner ?? currentProcessIdentity());
  return inTransaction(store, () => {
    const row =
      options.trial === undefined
        ? selectOne<TrialRow>(store, "SELECT * FROM sweep_trials WHERE sweep = @sweep AND state = 'pending' ORDER BY trial LIMIT 1", { sweep: sweep.name })
        : selectOne<TrialRow>(store, "SELECT * FROM sweep_trials WHERE sweep = @sweep AND trial = @trial AND state IN ('pending', 'running')", { sweep: sweep.name, trial: options.trial });
    if (!row) return undefined;
    const trial = trialRowOf(row);
    if (trial.failures > sweep.retries) return undefined;
    const attempt = trial.attempts + 1;
    const result = execute(
      store,
      "UPDATE sweep_trials SET state = 'running', attempts = @attempt, failures = @failures, owner_json = @owner, lease_until = @until, job_id = @jobId, run_id = NULL, updated_at = @now " +
        'WHERE sweep = @sweep AND trial = @trial AND attempts = @previous AND state = @state',
      { attempt, failures: trial.failures + (trial.state === 'running' ? 1 : 0), owner, until: now + options.leaseMs, jobId: options.jobId ?? null, now, sweep: sweep.name, trial: trial.trial, previous: trial.attempts, state: trial.state },
    );
    if (changedRows(result) === 0) return undefined;
    // A holder pg-boss took the job back from has lost its attempt.
    if (trial.state === 'running') endAttempt(store, sweep.name, trial.trial, trial.attempts, 'lost', 'its job came back from the queue (expired)', now);
    execute(store, 'INSERT INTO sweep_attempts (sweep, trial, attempt, owner_json, started_at) VALUES (@sweep, @trial, @attempt, @owner, @now)', { sweep: sweep.name, trial: trial.trial, attempt, owner, now });
    return { sweep, trial: trial.trial, params: JSON.parse(trial.params_json) as Record<string, FieldValue>, attempt, jobId: options.jobId ?? null };
  });
}

/** The WHERE clause that matches a claim's attempt while it still holds its trial. */
const HELD = "sweep = @sweep AND trial = @trial AND attempts = @attempt AND state = 'running'";

function heldParams(claim: TrialClaim): { sweep: string; trial: number; attempt: number } {
  return { sweep: claim.sweep.name, trial: claim.trial, attempt: claim.attempt };
}

/** Extends the claim's lease; false when it no longer holds its trial (lost to another worker). */
export function renewLease(store: TrackerStore, claim: TrialClaim, leaseMs: number, now: number = Date.now()): boolean {
  return changedRows(execute(store, `UPDATE sweep_trials SET lease_until = @until WHERE ${HELD}`, { ...heldParams(claim), until: now + leaseMs })) > 0;
}

/** Records the run of the claim's attempt (once it opened); false when the claim lost its trial. */
export function recordTrialRun(store: TrackerStore, claim: TrialClaim, runId: string): boolean {
  return inTransaction(store, () => {
    execute(store, 'UPDATE sweep_attempts SET run_id = @runId WHERE sweep = @sweep AND trial = @trial AND attempt = @attempt', { ...heldParams(claim), runId });
    return changedRows(execute(store, `UPDATE sweep_trials SET run_id = @runId, updated_at = @now WHERE ${HELD}`, { ...heldParams(claim), runId, now: Date.now() })) > 0;
  });
}

/**
 * Finishes the claim's trial with its run and validation accuracy, if the claim still holds it.
 * The UPDATE's condition is the guard: only the attempt holding the trial can finish it, once.
 * Returns false when another attempt holds it or finished it: this run is a late duplicate.
 */
export function finishTrial(store: TrackerStore, claim: TrialClaim, runId: string, valAccuracy: number | null): boolean {
  const now = Date.now();
  return inTransaction(store, () => {
    const result = execute(
      store,
      `UPDATE sweep_trials SET state = 'finished', run_id = @runId, val_accuracy = @valAccuracy, owner_json = NULL, lease_until = NULL, error = NULL, updated_at = @now WHERE ${HELD}`,
      { ...heldParams(claim), runId, valAccuracy, now },
    );
    const finished = changedRows(result) > 0;
    endAttempt(store, claim.sweep.name, claim.trial, claim.attempt, finished ? 'finished' : 'duplicate', finished ? null : duplicateNote(store, claim), now);
    return finished;
  });
}

/** Who holds or finished the claim's trial instead, in words. */
export function duplicateNote(store: TrackerStore, claim: TrialClaim): string {
  const row = selectOne<TrialRow>(store, 'SELECT * FROM sweep_trials WHERE sweep = @sweep AND trial = @trial', { sweep: claim.sweep.name, trial: claim.trial });
  const now = row ? trialRowOf(row) : undefined;
  const by = now?.run_id ? ` (run ${now.run_id})` : '';
  const state = now?.state === 'finished' ? `was finished by attempt ${now.attempts}${by}` : `was taken over by attempt ${now?.attempts ?? '?'}${by}`;
  return `duplicate run of sweep ${claim.sweep.name} trial ${claim.trial} (attempt ${claim.attempt}): the trial ${state} after this worker lost its lease`;
}

/**
 * Records the run of an attempt that lost its trial (another attempt holds or finished it) as
 * interrupted, with a note and stop reason naming the trial, so that the store shows each trial
 * finished once. Returns the note.
 */
export function recordDuplicateRun(store: TrackerStore, claim: TrialClaim, runId: string): string {
  const note = duplicateNote(store, claim);
  finishRun(store, runId, 'interrupted', { stopReason: note });
  noteRun(store, runId, note);
  return note;
}

/**
 * Gives the claim's trial back after its run failed or was interrupted: a failure counts against
 * the retries (the trial fails for good when none is left), an interrupt (the worker was asked
 * to stop) does not. Returns the trial's new state, or undefined when the claim no longer held it.
 */
export function releaseTrial(store: TrackerStore, claim: TrialClaim, outcome: 'failed' | 'interrupted', error?: string): 'pending' | 'failed' | undefined {
  const now = Date.now();
  return inTransaction(store, () => {
    const row = selectOne<TrialRow>(store, `SELECT * FROM sweep_trials WHERE ${HELD}`, heldParams(claim));
    if (!row) return undefined;
    const failures = trialRowOf(row).failures + (outcome === 'failed' ? 1 : 0);
    const state = failures > claim.sweep.retries ? 'failed' : 'pending';
    const result = execute(
      store,
      `UPDATE sweep_trials SET state = @state, failures = @failures, owner_json = NULL, lease_until = NULL, error = @error, updated_at = @now WHERE ${HELD}`,
      { ...heldParams(claim), state, failures, error: error ?? null, now },
    );
    if (changedRows(result) === 0) return undefined;
    endAttempt(store, claim.sweep.name, claim.trial, claim.attempt, outcome, error ?? null, now);
    return state;
  });
}

/** Whether every trial of `sweeps` is finished or failed. */
export function sweepsDone(store: TrackerStore, sweeps: readonly Sweep[]): boolean {
  return sweeps.every(
    (sweep) => !selectOne(store, "SELECT trial FROM sweep_trials WHERE sweep = @sweep AND state IN ('pending', 'running') LIMIT 1", { sweep: sweep.name }),
  );
}

/** The pending trials of `sweep` (their index and job), for a queue that must hand them out. */
export function pendingTrials(store: TrackerStore, sweep: Sweep): { trial: number; jobId: string | null }[] {
  return selectAll<Pick<TrialRow, 'trial' | 'job_id'>>(store, "SELECT trial, job_id FROM sweep_trials WHERE sweep = @sweep AND state = 'pending' ORDER BY trial", { sweep: sweep.name }).map(
    (row) => ({ trial: Number(row.trial), jobId: row.job_id }),
  );
}
