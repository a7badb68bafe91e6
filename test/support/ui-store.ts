/**
 * A real experiment store for `glyphlab ui` tests and screenshots, recorded through the tracker
 * API the way training records runs: per-step `batch_loss` (context `batch`) and per-epoch
 * metrics with wall-clock times, test metrics, and an eval report whose misread samples are real
 * rendered equation images. And a run that is still being recorded, to grow while a page watches.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderEquation } from '../../src/data/equations/synth-render';
import { encodePng } from '../../src/image/png';
import { EVAL_REPORT_KIND, buildEvalReport, writeEvalReport } from '../../src/runs/eval-report';
import { addArtifact, finishRun, logMetricPoints, type MetricPointInput, startRun } from '../../src/tracker/record';
import { closeStore, openStore, type TrackerStore } from '../../src/tracker/store';
import { createRng } from '../../src/util/rng';

/** One recorded run of the fixture. */
interface RunPlan {
  name: string;
  model: string;
  rnn: string;
  lr: number;
  epochs: number;
  /** Where its loss levels off. */
  floor: number;
  /** Test accuracy: the share of the test labels it reads right. */
  accuracy: number;
  status: 'finished' | 'failed';
  error?: string;
  /** Why it stopped before its planned epochs, as training records it. */
  stopReason?: string;
}

const PLANS: readonly RunPlan[] = [
  { name: 'gru-small', model: 'crnn', rnn: 'gru', lr: 1e-3, epochs: 6, floor: 0.08, accuracy: 0.9, status: 'finished' },
  { name: 'lstm-wide', model: 'crnn', rnn: 'lstm', lr: 5e-4, epochs: 6, floor: 0.04, accuracy: 0.95, status: 'finished' },
  { name: 'vgg19', model: 'vgg19-crnn', rnn: 'lstm', lr: 1e-3, epochs: 4, floor: 0.3, accuracy: 0.8, status: 'finished', stopReason: 'early stopping: val_accuracy did not improve for 2 epochs (best 0.7946 at epoch 4)' },
  { name: 'lr-too-high', model: 'crnn', rnn: 'gru', lr: 1e-2, epochs: 2, floor: 2.5, accuracy: 0, status: 'failed', error: 'the loss diverged (NaN) at step 61; lower the learning rate' },
];

/** Gradient steps per epoch of every fixture run. */
export const UI_STEPS_PER_EPOCH = 40;

/** Milliseconds between two recorded steps, so that the minutes axis spans a few minutes. */
const MS_PER_STEP = 1500;

/** The test labels of the fixture's eval reports (20 of them, as training keeps a sample). */
const TEST_LABELS = ['1+2*3=7', '(1+2)*3=9', '9-(7-4)=6', '7+8*2=23', '(1-8)*4=-28', '4*5-6=14', '2+2+2=6', '(9-1)*9=72', '3*3+3=12', '8-2*2=4', '5+5*5=30', '(4+4)*2=16', '6*6-6=30', '9-9+9=9', '2*(3+4)=14', '7-2-1=4', '1+1+1=3', '(8-3)*2=10', '4*4+4=20', '6-(2+1)=3'];

/** What a digit is misread as in the fixture. */
const MISREAD: Record<string, string> = { '8': '3', '3': '8', '1': '7', '7': '1', '6': '5', '4': '9' };

/** What {@link fillUiStore} recorded. */
export interface UiStoreFixture {
  /** The database file. */
  file: string;
  /** Run ids by name: `gru-small`, `lstm-wide`, `vgg19`, `lr-too-high`, and `other` (another experiment). */
  ids: Record<string, string>;
  /** Misreads each finished run's eval report lists, by run name. */
  misreads: Record<string, { truth: string; predicted: string }[]>;
}

/** The readings of a model that reads `accuracy` of the labels right: the others get one digit wrong. */
function readings(labels: readonly string[], accuracy: number): string[] {
  const wrong = Math.round(labels.length * (1 - accuracy));
  return labels.map((label, i) => {
    if (i >= wrong) return label;
    const at = [...label].findIndex((ch) => MISREAD[ch] !== undefined);
    return at < 0 ? `${label}0` : `${label.slice(0, at)}${MISREAD[label[at] as string]}${label.slice(at + 1)}`;
  });
}

/** Per-step and per-epoch points of one run: a loss decaying to `floor` with seeded noise. */
function curvePoints(plan: RunPlan, startedAt: number, seed: number): MetricPointInput[] {
  const rng = createRng(seed);
  const points: MetricPointInput[] = [];
  const steps = plan.epochs * UI_STEPS_PER_EPOCH;
  let epochLoss = 0;
  for (let step = 0; step < steps; step++) {
    const epoch = Math.floor(step / UI_STEPS_PER_EPOCH);
    const wallTime = startedAt + (step + 1) * MS_PER_STEP;
    const diverged = plan.status === 'failed' && step > 60;
    const loss = diverged ? NaN : (3.6 - plan.floor) * Math.exp(-step / (steps / 5)) + plan.floor + Math.abs(rng.normal()) * 0.15 * (plan.floor + 0.2);
    points.push({ key: 'batch_loss', value: loss, step, epoch, context: 'batch', wallTime });
    epochLoss += loss / UI_STEPS_PER_EPOCH;
    if ((step + 1) % UI_STEPS_PER_EPOCH === 0) {
      const progress = (epoch + 1) / plan.epochs;
      const valAccuracy = plan.status === 'failed' ? 0 : plan.accuracy * (1 - Math.exp(-4 * progress)) + rng.uniform(-0.01, 0.01);
      for (const [key, value] of Object.entries({ loss: epochLoss, val_loss: epochLoss * 1.1, val_accuracy: valAccuracy, val_cer: (1 - valAccuracy) / 8, lr: plan.lr })) {
        points.push({ key, value, step: epoch, epoch, wallTime });
      }
      epochLoss = 0;
    }
  }
  return points;
}

/** Renders each test label to `dir/images/<name>-<i>.png` and returns the paths, in order. */
function writeTestImages(dir: string, name: string, truths: readonly string[]): string[] {
  mkdirSync(join(dir, 'images'), { recursive: true });
  return truths.map((truth, i) => {
    const path = join(dir, 'images', `${name}-${i}.png`);
    writeFileSync(path, encodePng(renderEquation(truth, createRng(`${name}-${i}`), { width: 200, height: 48 })));
    return path;
  });
}

async function recordRun(store: TrackerStore, dir: string, plan: RunPlan, seed: number): Promise<{ id: string; misreads: { truth: string; predicted: string }[] }> {
  const id = startRun(store, {
    experiment: 'equations',
    name: plan.name,
    config: { model: plan.model, rnn: plan.rnn, lr: plan.lr, batchSize: 32, epochs: plan.epochs + (plan.stopReason ? 4 : 0) },
    params: { steps_per_epoch: UI_STEPS_PER_EPOCH },
    backend: 'wasm',
    git: false,
    heartbeat: false,
  });
  const startedAt = Date.now();
  logMetricPoints(store, id, curvePoints(plan, startedAt, seed));
  if (plan.status === 'failed') {
    finishRun(store, id, 'failed', { error: plan.error });
    return { id, misreads: [] };
  }
  const predictions = readings(TEST_LABELS, plan.accuracy);
  const paths = writeTestImages(dir, plan.name, TEST_LABELS);
  const report = buildEvalReport({ truths: [...TEST_LABELS], predictions, paths, loss: plan.floor }, 'test');
  logMetricPoints(store, id, [
    { key: 'test_accuracy', value: report.accuracy, step: plan.epochs - 1, epoch: plan.epochs - 1, context: 'test' },
    { key: 'test_cer', value: report.characterErrorRate, step: plan.epochs - 1, epoch: plan.epochs - 1, context: 'test' },
  ]);
  await addArtifact(store, id, { path: writeEvalReport(join(dir, `${plan.name}-eval-report.json`), report), kind: EVAL_REPORT_KIND });
  finishRun(store, id, 'finished', { stopReason: plan.stopReason });
  return { id, misreads: report.errors.map(({ truth, predicted }) => ({ truth, predicted })) };
}

/**
 * Records the fixture's runs into a new store `dir/glyphlab.db`: three finished runs of
 * `equations` (6, 6 and 4 epochs of 40 steps), a failed one, and one of another experiment. Each
 * finished run's eval report lists its misreads with real rendered images under `dir/images/`.
 */
export async function fillUiStore(dir: string): Promise<UiStoreFixture> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'glyphlab.db');
  const store = openStore(file);
  try {
    const ids: Record<string, string> = {};
    const misreads: UiStoreFixture['misreads'] = {};
    for (const [i, plan] of PLANS.entries()) {
      const recorded = await recordRun(store, dir, plan, i + 1);
      ids[plan.name] = recorded.id;
      misreads[plan.name] = recorded.misreads;
    }
    const other = startRun(store, { experiment: 'scratch', name: 'scratch', config: { model: 'crnn' }, git: false, heartbeat: false });
    logMetricPoints(store, other, [{ key: 'loss', value: 2.5, step: 0, epoch: 0 }]);
    finishRun(store, other);
    ids.other = other;
    return { file, ids, misreads };
  } finally {
    closeStore(store);
  }
}

/** A run being recorded by this process, as a training would: steps are added on demand. */
export interface LiveRun {
  id: string;
  /** How many per-step points it has recorded. */
  readonly steps: number;
  /** Records `count` more steps (and each epoch's metrics as one ends). */
  addSteps(count: number): void;
  /** Ends the run as finished and closes its connection. */
  finish(): void;
}

/**
 * Starts run `name` in the store `file` (its own connection, with a heartbeat, as a training
 * process has) and records `initialSteps` steps.
 */
export function startLiveRun(file: string, name = 'live', initialSteps = 10): LiveRun {
  const store = openStore(file);
  const id = startRun(store, { experiment: 'equations', name, config: { model: 'crnn', rnn: 'gru', lr: 2e-3, epochs: 20 }, params: { steps_per_epoch: UI_STEPS_PER_EPOCH }, git: false });
  const rng = createRng(name);
  let steps = 0;
  const live: LiveRun = {
    id,
    get steps() {
      return steps;
    },
    addSteps(count) {
      const points: MetricPointInput[] = [];
      for (let i = 0; i < count; i++, steps++) {
        const epoch = Math.floor(steps / UI_STEPS_PER_EPOCH);
        points.push({ key: 'batch_loss', value: 3.5 * Math.exp(-steps / 60) + 0.1 + Math.abs(rng.normal()) * 0.05, step: steps, epoch, context: 'batch' });
        if ((steps + 1) % UI_STEPS_PER_EPOCH === 0) points.push({ key: 'val_accuracy', value: 1 - Math.exp(-(epoch + 1) / 3), step: epoch, epoch });
      }
      logMetricPoints(store, id, points);
    },
    finish() {
      finishRun(store, id);
      closeStore(store);
    },
  };
  live.addSteps(initialSteps);
  return live;
}
