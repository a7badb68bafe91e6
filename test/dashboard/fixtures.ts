/**
 * A real experiment database for dashboard tests: runs recorded through the store API the way
 * training records them (params, a loss per gradient step, per-epoch metrics, test metrics, an
 * eval-report artifact whose misreads point at real rendered images).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderEquation } from '../../src/data/equations/synth-render';
import { encodePng } from '../../src/image/png';
import { createRng } from '../../src/util/rng';
import { EVAL_REPORT_KIND, evalReportFromMetrics, writeEvalReport } from '../../src/runs/eval-report';
import { sequenceMetrics } from '../../src/metrics/sequence';
import { closeStore, openStore } from '../../src/tracker/store';
import { addArtifact, finishRun, logMetricPoints, logMetrics, startRun } from '../../src/tracker/record';
import { getRun } from '../../src/tracker/query';
import { createSweepRecord, sweepTag } from '../../src/sweeps/sweep';
import { claimTrial, finishTrial, recordTrialRun, releaseTrial, type TrialClaim } from '../../src/sweeps/trials';

/** What {@link fillDashboardDb} recorded. */
export interface DashboardFixture {
  vggId: string;
  crnnId: string;
  /** A crnn run of another experiment with no eval report. */
  otherId: string;
  /** Test-set truths and predictions of each model, as evaluated. */
  evaluations: Record<'vgg' | 'crnn', { truths: string[]; predictions: string[] }>;
}

/** Gradient steps per epoch of the fixture's runs, each recording `batch_loss`. */
export const FIXTURE_STEPS_PER_EPOCH = 25;

const TRUTHS = ['1+2*3=7', '(1+2)*3=9', '9-(7-4)=6', '7+8*2=23', '(1-8)*4=-28', '4*5-6=14', '2+2+2=6', '(9-1)*9=72'];

/** Records a VGG19 run and a custom CRNN run in `experiment`, and a third run elsewhere, into the database `file`. */
export async function fillDashboardDb(file: string, artifactDir: string, experiment = 'equations'): Promise<DashboardFixture> {
  const store = openStore(file);
  try {
    const evaluations = {
      // VGG misreads three labels (8 -> 3, 3 -> 8, a dropped "="), the custom CRNN one (8 -> 3).
      vgg: { truths: TRUTHS, predictions: TRUTHS.map((t, i) => (i === 4 ? '(1-3)*4=-28' : i === 3 ? '7+8*2=28' : i === 6 ? '2+2+26' : t)) },
      crnn: { truths: TRUTHS, predictions: TRUTHS.map((t, i) => (i === 3 ? '7+3*2=23' : t)) },
    };
    const record = async (model: 'vgg19-crnn' | 'crnn', key: 'vgg' | 'crnn', accuracies: number[], parameterCount: number): Promise<string> => {
      const runId = startRun(store, {
        experiment,
        name: model === 'crnn' ? 'custom' : 'vgg19',
        config: { model, lr: model === 'crnn' ? 5e-4 : 1e-3, batchSize: 64 },
        params: { parameter_count: parameterCount, epochs: accuracies.length, steps_per_epoch: FIXTURE_STEPS_PER_EPOCH },
        git: false,
        heartbeat: false,
      });
      // As the tracker records them: a loss per gradient step (seeded noise, a spike now and then), 2 s apart.
      const started = Date.parse(getRun(store, runId).startedAt);
      const rng = createRng(`${key}-steps`);
      const stepPoints = Array.from({ length: accuracies.length * FIXTURE_STEPS_PER_EPOCH }, (_, step) => ({
        key: 'batch_loss',
        value: 4 * Math.exp(-step / (model === 'crnn' ? 20 : 40)) * (1 + 0.3 * rng.next()) + (step % 17 === 5 ? 1 : 0) + 0.02,
        step,
        epoch: Math.floor(step / FIXTURE_STEPS_PER_EPOCH),
        context: 'batch',
        wallTime: started + (step + 1) * 2000,
      }));
      logMetricPoints(store, runId, stepPoints);
      accuracies.forEach((acc, epoch) =>
        logMetrics(store, runId, { loss: 3 * (1 - acc) + 0.1, val_loss: 3.2 * (1 - acc) + 0.15, val_accuracy: acc, val_cer: (1 - acc) / 10, lr: 1e-3 * 0.5 ** epoch }, { step: epoch, epoch }),
      );
      const { truths, predictions } = evaluations[key];
      const metrics = sequenceMetrics(truths, predictions);
      logMetrics(store, runId, { test_accuracy: metrics.accuracy, test_cer: metrics.characterErrorRate }, { step: accuracies.length - 1, epoch: accuracies.length - 1, context: 'test' });
      // As training writes it (src/runs/equation-run.ts): the report plus misread samples, with the absolute paths of their images.
      const imageDir = join(artifactDir, `${key}-images`);
      mkdirSync(imageDir, { recursive: true });
      const errors = truths.flatMap((truth, i) => {
        if (predictions[i] === truth) return [];
        const path = join(imageDir, `${i}.png`);
        writeFileSync(path, encodePng(renderEquation(truth, createRng(`${key}-${i}`), { width: 200, height: 48 })));
        return [{ path, truth, predicted: predictions[i] }];
      });
      const reportPath = writeEvalReport(join(artifactDir, `${key}-eval-report.json`), { ...evalReportFromMetrics(metrics), errors } as ReturnType<typeof evalReportFromMetrics>);
      await addArtifact(store, runId, { path: reportPath, kind: EVAL_REPORT_KIND });
      finishRun(store, runId);
      return runId;
    };
    const vggId = await record('vgg19-crnn', 'vgg', [0.2, 0.55, 0.7], 20_100_000);
    const crnnId = await record('crnn', 'crnn', [0.3, 0.6, 0.8, 0.86], 1_250_000);
    const otherId = startRun(store, { experiment: 'scratch', config: { model: 'crnn' }, git: false, heartbeat: false });
    logMetrics(store, otherId, { loss: 2.5, val_accuracy: 0.1 }, { step: 0, epoch: 0 });
    finishRun(store, otherId, 'failed', { error: 'stopped by hand' });
    return { vggId, crnnId, otherId, evaluations };
  } finally {
    closeStore(store);
  }
}

/** What {@link fillSweepDb} recorded: sweep `name` and the run of each trial that began one. */
export interface SweepFixture {
  name: string;
  /** The run of each finished trial, by trial index (0 to 3). */
  finishedRuns: string[];
  /** The failed trial (4) and its run. */
  failedTrial: number;
  failedRun: string;
  /** The trial no worker took (5). */
  pendingTrial: number;
  /** The finished trial of the highest validation accuracy. */
  bestTrial: number;
  /** Each finished trial's best validation accuracy, by trial index. */
  valAccuracies: number[];
}

/** Gradient steps per epoch of a sweep fixture's trial runs. */
export const SWEEP_STEPS_PER_EPOCH = 5;

/**
 * Records sweep `name` into the database `file` as workers record one, through the sweep and
 * store APIs (claim a trial, open its run tagged `sweep:NAME`, record a loss per step and
 * validation per epoch, finish the run and the trial), without training: a grid of rnn-units
 * (4, 8) by lr (1e-4, 1e-3, 1e-2: two decades), six trials; trials 0-3 finish (lr spanning both
 * decades), trial 4 fails (no retry left), trial 5 stays pending. `dataDir` must exist (a sweep checks its data).
 */
export function fillSweepDb(file: string, dataDir: string, name = 'tiny'): SweepFixture {
  const store = openStore(file);
  try {
    const sweep = createSweepRecord(store, { name, space: { grid: { 'rnn-units': [4, 8], lr: [1e-4, 1e-3, 1e-2] } }, retries: 0, train: { data: dataDir } }, 'local');
    // Validation accuracy per epoch of trials 0-3: trial 2 (4 units, lr 1e-2) ends best.
    const curves = [
      [0.1, 0.2, 0.25],
      [0.15, 0.3, 0.4],
      [0.3, 0.6, 0.82],
      [0.2, 0.5, 0.7],
    ];
    const open = (trial: number): { claim: TrialClaim; runId: string } => {
      const claim = claimTrial(store, sweep, { leaseMs: 60_000, trial })!;
      const runId = startRun(store, {
        experiment: 'equations',
        name: `${name}/${trial}`,
        tags: [sweepTag(name)],
        params: { 'sweep.trial': trial, steps_per_epoch: SWEEP_STEPS_PER_EPOCH },
        git: false,
        heartbeat: false,
      });
      recordTrialRun(store, claim, runId);
      return { claim, runId };
    };
    const finishedRuns: string[] = [];
    curves.forEach((accuracies, trial) => {
      const { claim, runId } = open(trial);
      const started = Date.parse(getRun(store, runId).startedAt);
      const rng = createRng(`${name}-${trial}`);
      logMetricPoints(
        store,
        runId,
        Array.from({ length: accuracies.length * SWEEP_STEPS_PER_EPOCH }, (_, step) => ({
          key: 'batch_loss',
          value: 3 * Math.exp(-step / (4 + trial)) * (1 + 0.2 * rng.next()) + 0.1,
          step,
          epoch: Math.floor(step / SWEEP_STEPS_PER_EPOCH),
          context: 'batch',
          wallTime: started + (step + 1) * 1500,
        })),
      );
      accuracies.forEach((acc, epoch) => logMetrics(store, runId, { val_accuracy: acc, val_loss: 2 * (1 - acc) + 0.1 }, { step: (epoch + 1) * SWEEP_STEPS_PER_EPOCH - 1, epoch }));
      finishRun(store, runId);
      finishTrial(store, claim, runId, Math.max(...accuracies));
      finishedRuns.push(runId);
    });
    const failed = open(4);
    finishRun(store, failed.runId, 'failed', { error: 'out of memory' });
    releaseTrial(store, failed.claim, 'failed', 'out of memory');
    const valAccuracies = curves.map((c) => Math.max(...c));
    return { name, finishedRuns, failedTrial: 4, failedRun: failed.runId, pendingTrial: 5, bestTrial: valAccuracies.indexOf(Math.max(...valAccuracies)), valAccuracies };
  } finally {
    closeStore(store);
  }
}
