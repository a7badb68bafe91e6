/**
 * One writer process of `bench:tracker`'s concurrent-writers part: records RUNS runs of POINTS
 * metric points each (three keys a step) into the store TARGET, one logMetrics call per step, as
 * a training does, then prints the run ids it finished, one a line.
 * Usage: node --import tsx scripts/bench/tracker-writer.ts TARGET LABEL RUNS POINTS
 */
import { closeStore, openStore } from '../../src/tracker/store';
import { finishRun, logMetrics, startRun } from '../../src/tracker/record';

const [target, label, runs, points] = process.argv.slice(2);
const steps = Math.ceil(Number(points) / 3);
const store = openStore(target!);
try {
  for (let r = 0; r < Number(runs); r++) {
    const runId = startRun(store, { experiment: 'writers', name: `${label}-${r}`, config: { label, r }, git: false, source: 'bench:tracker' });
    for (let step = 0; step < steps; step++) logMetrics(store, runId, { loss: 1 / (step + 1), val_accuracy: step / steps, lr: 1e-3 }, { step, epoch: step });
    finishRun(store, runId);
    process.stdout.write(`${runId}\n`);
  }
} finally {
  closeStore(store);
}
