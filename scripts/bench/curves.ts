/**
 * Reading curves for the dashboard and `glyphlab ui`: readMetricCurves of 3 runs x 100,000
 * batch_loss points (and 100 val_loss points each), the read behind every curves request of the
 * UI. A real file in a temp folder; each read is repeated and the median taken.
 * Run: npm run bench:curves
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readMetricCurves } from '../../src/dashboard/curves';
import { finishRun, logMetricPoints, startRun } from '../../src/tracker/record';
import { closeStore, openStore } from '../../src/tracker/store';

const RUNS = 3;
const STEPS = 100_000;
const STEPS_PER_EPOCH = 1000;
const REPEATS = 5;

const dir = mkdtempSync(join(tmpdir(), 'glyphlab-bench-curves-'));
try {
  const store = openStore(join(dir, 'curves.db'));
  const started = Date.now();
  const runIds = Array.from({ length: RUNS }, (_, r) => {
    const runId = startRun(store, { name: `run-${r}`, git: false, heartbeat: false });
    for (let from = 0; from < STEPS; from += 10_000) {
      const points = Array.from({ length: 10_000 }, (_, i) => {
        const step = from + i;
        return { key: 'batch_loss', value: 4 / (1 + step / 500) + 0.01 * Math.sin(step), step, epoch: Math.floor(step / STEPS_PER_EPOCH), wallTime: started + step * 20 };
      });
      logMetricPoints(store, runId, points);
    }
    const epochs = Array.from({ length: STEPS / STEPS_PER_EPOCH }, (_, epoch) => ({ key: 'val_loss', value: 4 / (2 + epoch), step: (epoch + 1) * STEPS_PER_EPOCH - 1, epoch, wallTime: started + (epoch + 1) * STEPS_PER_EPOCH * 20 }));
    logMetricPoints(store, runId, epochs);
    finishRun(store, runId, 'finished');
    return runId;
  });
  for (const keys of [['batch_loss'], ['batch_loss', 'val_loss'], undefined]) {
    const times: number[] = [];
    let points = 0;
    for (let i = 0; i < REPEATS; i++) {
      const t0 = performance.now();
      const curves = readMetricCurves(store, runIds, keys ? { keys } : {});
      times.push(performance.now() - t0);
      points = curves.reduce((sum, c) => sum + c.values.length, 0);
    }
    times.sort((a, b) => a - b);
    console.log(`readMetricCurves ${RUNS} runs, keys ${keys ? keys.join(',') : '(all)'}: ${points} points, median ${times[Math.floor(REPEATS / 2)]!.toFixed(0)} ms (min ${times[0]!.toFixed(0)} ms)`);
  }
  closeStore(store);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
