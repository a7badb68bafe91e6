/**
 * Times CTC loss + gradient at the equation model's size: batch 32, 75 time steps, 17 classes,
 * random labels of 10-11 symbols. Prints the median of several runs in ms per call, for the
 * full tfjs path (customGrad + tf.grad, on the wasm backend) and for the JS core alone.
 *
 *   npm run bench:ctc -- [--backend wasm|cpu] [--runs 30]
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, describeBackend, type BackendName } from '../../src/backend';
import { computeCtc, ctcLoss } from '../../src/losses/ctc';
import { createRng } from '../../src/util/rng';

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function main(): Promise<void> {
  const backend = argument('backend', 'wasm') as BackendName;
  const runs = Number(argument('runs', '30'));
  const info = await initBackend({ backend });
  const [batch, time, classes] = [32, 75, 17];
  const rng = createRng('bench-ctc');
  const logits = tf.tensor3d(Float32Array.from({ length: batch * time * classes }, () => rng.normal() * 2), [batch, time, classes]);
  const labels = Array.from({ length: batch }, () => Array.from({ length: rng.chance(0.1) ? 11 : 10 }, () => rng.int(16)));
  const lossAndGrad = tf.valueAndGrad((x: tf.Tensor) => ctcLoss(x as tf.Tensor3D, labels));

  const timeIt = (fn: () => void): number[] => {
    for (let i = 0; i < 5; i++) fn();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      fn();
      times.push(performance.now() - start);
    }
    return times;
  };

  const full = timeIt(() => {
    const { value, grad } = lossAndGrad(logits);
    grad.dataSync();
    tf.dispose([value, grad]);
  });
  const data = logits.dataSync();
  const out = new Float32Array(batch * time * classes);
  const ones = new Float64Array(batch).fill(1);
  const forwardOnly = timeIt(() => void computeCtc(data, [batch, time, classes], labels));
  const core = timeIt(() => computeCtc(data, [batch, time, classes], labels).gradient(ones, out));

  console.log(describeBackend(info));
  console.log(`CTC batch ${batch}, T=${time}, ${classes} classes, labels 10-11, median of ${runs} runs:`);
  console.log(`  loss + gradient through tf.valueAndGrad: ${median(full).toFixed(2)} ms per call`);
  console.log(`  JS core, loss + gradient:                ${median(core).toFixed(2)} ms per call`);
  console.log(`  JS core, loss only:                      ${median(forwardOnly).toFixed(2)} ms per call`);
  logits.dispose();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
