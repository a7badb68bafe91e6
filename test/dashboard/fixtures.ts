/**
 * A real experiment database for dashboard tests: runs recorded through the store API the way
 * training records them (params, per-epoch metrics, test metrics, an eval-report artifact).
 */
import { join } from 'node:path';
import { EVAL_REPORT_KIND, evalReportFromMetrics, writeEvalReport } from '../../src/runs/eval-report';
import { sequenceMetrics } from '../../src/metrics/sequence';
import { closeStore, openStore } from '../../src/tracker/store';
import { addArtifact, finishRun, logMetrics, startRun } from '../../src/tracker/record';

/** What {@link fillDashboardDb} recorded. */
export interface DashboardFixture {
  vggId: string;
  crnnId: string;
  /** A crnn run of another experiment with no eval report. */
  otherId: string;
  /** Test-set truths and predictions of each model, as evaluated. */
  evaluations: Record<'vgg' | 'crnn', { truths: string[]; predictions: string[] }>;
}

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
        params: { parameter_count: parameterCount, epochs: accuracies.length },
        git: false,
        heartbeat: false,
      });
      accuracies.forEach((acc, epoch) =>
        logMetrics(store, runId, { loss: 3 * (1 - acc) + 0.1, val_loss: 3.2 * (1 - acc) + 0.15, val_accuracy: acc, val_cer: (1 - acc) / 10 }, { step: epoch, epoch }),
      );
      const { truths, predictions } = evaluations[key];
      const metrics = sequenceMetrics(truths, predictions);
      logMetrics(store, runId, { test_accuracy: metrics.accuracy, test_cer: metrics.characterErrorRate }, { step: accuracies.length - 1, epoch: accuracies.length - 1, context: 'test' });
      // As training writes it (src/runs/equation-run.ts): the report plus misread samples.
      const errors = truths.flatMap((truth, i) => (predictions[i] === truth ? [] : [{ path: `test/${i}.png`, truth, predicted: predictions[i] }]));
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
