/**
 * The sweep scenario the store drivers share: a sweep of 4 short trials on tiny synthesised
 * equations, 2 `glyphlab worker` child processes, one SIGKILLed while its trial trains; then the
 * checks of issue 35: every trial finished exactly once, the killed trial retried, no metric
 * point lost, the store sound.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { synthesizeEquations } from '../../src/data/equations/synth';
import { readSweep, type SweepView } from '../../src/sweeps/sweep';
import { getMetricHistory, getRun, listRuns } from '../../src/tracker/query';
import { closeStore, openStore, selectOne, type TrackerStore } from '../../src/tracker/store';
import { projectRoot } from '../../src/util/paths';
import { cli } from '../support/cli';

/** A worker child process and its output so far. */
export interface WorkerProcess {
  child: ChildProcess;
  err: () => string;
  exited: Promise<number | null>;
}

/** Starts `glyphlab worker ARGS` as a child process. */
export function startWorker(args: string[]): WorkerProcess {
  const child = spawn(process.execPath, [join(projectRoot(), 'scripts', 'glyphlab.js'), 'worker', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  child.stdout!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, err: () => err, exited };
}

/** 30 tiny 128x32 equations in `dir/data` (once). */
export async function tinyData(dir: string): Promise<string> {
  const data = join(dir, 'data');
  if (!existsSync(join(data, 'labels.csv'))) await synthesizeEquations({ outDir: data, count: 30, seed: 5, workers: 0, width: 128, height: 32 });
  return data;
}

/** The fixed options of a tiny trial: a 1-layer GRU(8) CRNN at 32x128, batch 8, on the main thread. */
export const TINY_TRIAL = ['--recipe', 'reference', '--epochs', '1000', '--batch-size', '8', '--workers', '0', '--replicas', '1', '--input-height', '32', '--input-width', '128', '--filters', '8,16,16', '--rnn', 'gru', '--rnn-layers', '1', '--dropout', '0'];

/** Creates sweep `name` of 4 trials (a 2x2 grid of lr and rnn-units) of `minutes` each, retries 1, through the CLI. */
export async function createTinySweep(dir: string, db: string, name: string, minutes: number): Promise<void> {
  const space = join(dir, `${name}.json`);
  writeFileSync(space, JSON.stringify({ grid: { lr: [0.001, 0.003], 'rnn-units': [4, 8] } }));
  const created = await cli(['sweep', 'create', '--name', name, '--space', space, '--data', await tinyData(dir), '--trial-minutes', String(minutes), '--retries', '1', ...TINY_TRIAL, '--db', db]);
  assert.equal(created.code, 0, created.err);
  assert.match(created.out, new RegExp(`sweep ${name}: 4 trials of ${minutes} min, retries 1`));
}

/** Polls `check` every 200 ms until it returns a value (no fixed sleep: a busy machine takes what it takes). */
export async function waitFor<T>(what: string, check: () => T | undefined, give: () => string, limitMs = 300_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() - start > limitMs) throw new Error(`gave up waiting for ${what} after ${limitMs / 1000} s:\n${give()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Runs the scenario on the store `db` (a file or a URL): creates the sweep, starts two workers,
 * SIGKILLs the first of them whose trial's run has recorded metric points (whichever started
 * first on a busy machine), waits for the other to finish the sweep, and returns the sweep as the
 * store then has it, with the killed trial's index and run.
 */
export async function killOneWorkerMidTrial(dir: string, db: string, name: string): Promise<{ view: SweepView; killedTrial: number; killedRun: string }> {
  // Trials stop on their time budget (6 s of training), long enough to be killed in.
  await createTinySweep(dir, db, name, 0.1);
  const workers = [startWorker(['--sweep', name, '--db', db]), startWorker(['--sweep', name, '--db', db])];
  const reader = openStore(db, { readonly: true });
  try {
    const outputs = (): string => workers.map((w, i) => `worker ${i + 1} (pid ${w.child.pid}):\n${w.err()}`).join('\n');
    const [killedTrial, killedRun, victim] = await waitFor(
      'a trial of a worker to record metric points',
      () => {
        for (const trial of readSweep(reader, name).trialList) {
          if (trial.state !== 'running' || trial.runId === null) continue;
          const worker = workers.find((w) => w.child.pid === ownerPid(reader, name, trial.trial));
          if (worker && getMetricHistory(reader, trial.runId).length > 0) return [trial.trial, trial.runId, worker] as const;
        }
        return undefined;
      },
      outputs,
    );
    victim.child.kill('SIGKILL');
    assert.equal(await victim.exited, null);
    const survivor = workers.find((w) => w !== victim)!;
    assert.equal(await survivor.exited, 0, outputs());
    assert.match(survivor.err(), new RegExp(`sweep ${name} trial ${killedTrial}: attempt 1 lost \\(its worker died`), outputs());
    return { view: readSweep(reader, name), killedTrial, killedRun };
  } finally {
    for (const worker of workers) worker.child.kill('SIGKILL');
    closeStore(reader);
  }
}

/** The pid of the worker holding a trial, from its lease. */
function ownerPid(store: TrackerStore, sweep: string, trial: number): number | undefined {
  const view = readSweep(store, sweep).trialList.find((t) => t.trial === trial);
  const attempt = view?.attemptRuns[view.attemptRuns.length - 1];
  if (!attempt) return undefined;
  const row = selectOne<{ owner_json: string }>(store, 'SELECT owner_json FROM sweep_attempts WHERE sweep = @sweep AND trial = @trial AND attempt = @attempt', { sweep, trial, attempt: attempt.attempt });
  return row ? (JSON.parse(row.owner_json) as { pid: number }).pid : undefined;
}

/** The checks of the scenario's end: each trial finished once, the killed one retried, no metric point lost. */
export function checkSweepEnd(store: TrackerStore, name: string, result: { view: SweepView; killedTrial: number; killedRun: string }): void {
  const { view, killedTrial, killedRun } = result;
  assert.deepEqual(view.counts, { pending: 0, running: 0, finished: 4, failed: 0 });
  const runs = listRuns(store).filter((run) => run.tags.includes(`sweep:${name}`));
  const finished = runs.filter((run) => run.status === 'finished');
  // Every trial finished exactly once: four finished runs, one per trial, each the trial's.
  assert.deepEqual(finished.map((run) => run.params['sweep.trial']).sort(), [0, 1, 2, 3]);
  for (const trial of view.trialList) {
    assert.equal(finished.find((run) => run.params['sweep.trial'] === trial.trial)?.id, trial.runId);
    assert.equal(trial.attemptRuns.filter((a) => a.outcome === 'finished').length, 1);
    assert.equal(getRun(store, trial.runId!).name, `${name}/${trial.trial}`);
    assert.ok(trial.valAccuracy !== null && trial.valAccuracy >= 0 && trial.valAccuracy <= 1);
  }
  // The killed trial was retried: attempt 1 lost with its run, which reads as crashed; attempt 2 finished it.
  const killed = view.trialList.find((t) => t.trial === killedTrial)!;
  assert.equal(killed.attempts, 2);
  assert.deepEqual(killed.attemptRuns.map((a) => [a.attempt, a.outcome]), [[1, 'lost'], [2, 'finished']]);
  assert.equal(killed.attemptRuns[0]!.runId, killedRun);
  assert.notEqual(killed.runId, killedRun);
  assert.equal(getRun(store, killedRun).status, 'crashed');
  assert.equal(runs.length, 5, 'four finished runs and the crashed one, nothing else');
  // No metric point lost: every finished run has each batch's loss, steps 1..N without a gap, and one val_accuracy per epoch begun.
  for (const run of finished) {
    const history = getMetricHistory(store, run.id);
    const steps = history.filter((p) => p.key === 'batch_loss').map((p) => p.step);
    assert.ok(steps.length > 0);
    assert.deepEqual(steps, Array.from({ length: steps.length }, (_, i) => steps[0]! + i), `run ${run.id}: batch_loss steps have a gap`);
    const perEpoch = Number(run.params['steps_per_epoch']);
    const epochs = history.filter((p) => p.key === 'val_accuracy').length;
    assert.equal(epochs, Math.ceil(steps.length / perEpoch), `run ${run.id}: ${steps.length} batches of ${perEpoch} an epoch, ${epochs} validations`);
    assert.ok(history.some((p) => p.key === 'test_accuracy'));
  }
}
