/**
 * Experiment store speed: recording 100,000 metric points (goal < 2 s) and listing + sorting
 * 10,000 runs by a metric (goal < 200 ms), and upgrading a schema-1 file of 10,000 runs. Real files
 * in a temp folder.
 * Run: npm run bench:tracker --
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { closeStore, openStore } from '../../src/tracker/store';
import { finishRun, logMetricPoints, logMetrics, startRun } from '../../src/tracker/record';
import { listRuns } from '../../src/tracker/query';

// Wall time is what the goals mean; this process's CPU time is given beside it because on a shared,
// loaded machine the wall time mostly measures waiting for a core.
const cpuMs = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

const dir = mkdtempSync(join(tmpdir(), 'glyphlab-bench-tracker-'));
try {
  // 1. 100,000 points into one run: 1,000 flushes of 100 points (the callback's batch path),
  //    and the same count as 20,000 logMetrics calls of 5 keys (one transaction per epoch-like call).
  {
    const store = openStore(join(dir, 'points.db'));
    const runId = startRun(store, { git: false });
    const t0 = performance.now();
    const c0 = cpuMs();
    for (let flush = 0; flush < 1000; flush++) {
      const points = [];
      for (let i = 0; i < 100; i++) points.push({ key: 'batch_loss', value: Math.random(), step: flush * 100 + i, context: 'batch' });
      logMetricPoints(store, runId, points);
    }
    const bulkMs = performance.now() - t0;
    const bulkCpuMs = cpuMs() - c0;
    const runId2 = startRun(store, { git: false });
    const t1 = performance.now();
    const c1 = cpuMs();
    for (let step = 0; step < 20_000; step++) {
      logMetrics(store, runId2, { loss: Math.random(), val_loss: Math.random(), val_accuracy: Math.random(), val_cer: Math.random(), lr: 1e-3 }, { step, epoch: step });
    }
    const perCallMs = performance.now() - t1;
    const perCallCpuMs = cpuMs() - c1;
    finishRun(store, runId);
    finishRun(store, runId2);
    closeStore(store);
    console.log(`record 100,000 points, 1,000 transactions of 100: ${bulkMs.toFixed(0)} ms (cpu ${bulkCpuMs.toFixed(0)} ms) (goal < 2000)`);
    console.log(`record 100,000 points, 20,000 logMetrics calls of 5 keys: ${perCallMs.toFixed(0)} ms (cpu ${perCallCpuMs.toFixed(0)} ms)`);
  }
  // 2. 10,000 runs with params, metrics and tags; list and sort by a metric.
  {
    const store = openStore(join(dir, 'runs.db'));
    const t0 = performance.now();
    const c0 = cpuMs();
    store.db.transaction(() => {
      for (let r = 0; r < 10_000; r++) {
        const runId = startRun(store, { experiment: r % 2 ? 'eq' : 'mnist', config: { model: r % 3 ? 'crnn' : 'vgg19-crnn', lr: 10 ** -(2 + (r % 3)), batch: 32, rnn: 'gru', seed: r }, git: false, heartbeat: false, source: 'bench' });
        logMetricPoints(store, runId, [0, 1, 2].flatMap((step) => [
          { key: 'val_accuracy', value: Math.random(), step },
          { key: 'loss', value: Math.random(), step },
          { key: 'val_cer', value: Math.random(), step },
        ]));
        finishRun(store, runId);
      }
    }, 'write');
    console.log(`(setup: 10,000 runs recorded in ${(performance.now() - t0).toFixed(0)} ms, cpu ${(cpuMs() - c0).toFixed(0)} ms)`);
    const time = (label: string, fn: () => unknown[], goal?: number): void => {
      fn(); // warm: statements prepared, pages cached
      const wall: number[] = [];
      const cpu: number[] = [];
      let n = 0;
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        const c = cpuMs();
        n = fn().length;
        wall.push(performance.now() - t);
        cpu.push(cpuMs() - c);
      }
      wall.sort((a, b) => a - b);
      cpu.sort((a, b) => a - b);
      console.log(`${label}: ${n} runs, median ${wall[2]!.toFixed(1)} ms (cpu ${cpu[2]!.toFixed(1)} ms)${goal ? ` (goal < ${goal})` : ''}`);
    };
    time('list 10,000 runs sorted by -val_accuracy, with params/metrics/tags', () => listRuns(store, { orderBy: '-val_accuracy' }), 200);
    time('list 10,000 runs sorted by -val_accuracy, run columns only', () => listRuns(store, { orderBy: '-val_accuracy', details: false }), 200);
    time('top 20 of 10,000 by -val_accuracy', () => listRuns(store, { orderBy: '-val_accuracy', limit: 20 }));
    time('filter params.model = "crnn" and metrics.val_accuracy > 0.9 or not experiment = "eq", sorted', () =>
      listRuns(store, { where: 'params.model = "crnn" and metrics.val_accuracy > 0.9 or not experiment = "eq"', orderBy: '-val_accuracy' }));
    // 3. Upgrading a schema-1 file of 10,000 runs: put this file back to version 1 (no JSON columns,
    //    no triggers) and reopen it, which backfills the columns in the migration's transaction.
    for (const column of ['params_json', 'metrics_json']) {
      store.db.exec(`DROP TRIGGER ${column}_insert; DROP TRIGGER ${column}_update; DROP TRIGGER ${column}_delete; ALTER TABLE runs DROP COLUMN ${column};`);
    }
    store.db.setSchemaVersion(1);
    closeStore(store);
    const t1 = performance.now();
    const c1 = cpuMs();
    closeStore(openStore(join(dir, 'runs.db')));
    console.log(`upgrade a 10,000-run schema-1 database (backfill params_json, metrics_json): ${(performance.now() - t1).toFixed(0)} ms (cpu ${(cpuMs() - c1).toFixed(0)} ms)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
