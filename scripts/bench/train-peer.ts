/**
 * glyphlab's side of `bench:train`: one process training the custom CRNN on a fixed random batch
 * with `--replicas` data-parallel replicas (1 = the main thread alone), speaking the same line
 * protocol as the PyTorch peer (torch_crnn.py): `{"ready": ...}` once, then one JSON line of
 * images/s and peak RSS for every "run" on stdin; "quit" ends it. `--profile` adds, to the ready
 * line, the kernels of one single-replica step sorted by time. The model: `--height`, `--width`,
 * `--filters`, `--rnn`, `--units`, `--layers`, `--pools 2x2,2x2,2x1,2x1` (the CRNN's default pools
 * when absent) and `--strided-stem`.
 *
 * One step = forward + CTC loss + backward (summed over replicas) + Adam update, as the training
 * loop does it (`createReplicaGroup`, then `fusedAdamStep` where the backend has its kernels, else
 * `optimizer.applyGradients`).
 */
import * as tf from '@tensorflow/tfjs';
import { createInterface } from 'node:readline';
import { describeBackend, initBackend } from '../../src/backend';
import { NUM_CLASSES } from '../../src/labels/alphabet';
import { ctcLoss } from '../../src/losses/ctc';
import { buildCrnn, crnnFeatureSize, defaultPools, resolveCrnnOptions } from '../../src/models/crnn';
import { createReplicaGroup } from '../../src/parallel/replicas';
import { canFuseAdam, fusedAdamStep } from '../../src/training/fused-adam';
import { createRng } from '../../src/util/rng';

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

async function profileStep(model: tf.LayersModel, x: tf.Tensor, labels: number[][], rows: number): Promise<string[]> {
  const optimizer = tf.train.adam(1e-3);
  const step = (): void => void optimizer.minimize(() => ctcLoss(model.apply(x, { training: true }) as tf.Tensor3D, labels) as tf.Scalar, true)?.dispose();
  step();
  const info = await tf.profile(step);
  optimizer.dispose();
  const byName = new Map<string, { ms: number; calls: number }>();
  for (const kernel of info.kernels) {
    // Ops that wrap a kernel (names ending in __op) would count its time twice.
    if (kernel.name.endsWith('__op')) continue;
    const entry = byName.get(kernel.name) ?? { ms: 0, calls: 0 };
    entry.ms += Number(kernel.kernelTimeMs);
    entry.calls += 1;
    byName.set(kernel.name, entry);
  }
  const total = [...byName.values()].reduce((sum, e) => sum + e.ms, 0);
  return [...byName.entries()]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, rows)
    .map(([name, e]) => `    ${name.padEnd(28)} ${e.ms.toFixed(1).padStart(8)} ms ${((100 * e.ms) / total).toFixed(1).padStart(5)}%  (${e.calls} calls)`)
    .concat(`    ${'all kernels'.padEnd(28)} ${total.toFixed(1).padStart(8)} ms`);
}

async function main(): Promise<void> {
  const height = Number(argument('height', '32'));
  const width = Number(argument('width', '128'));
  const batchSize = Number(argument('batch', '32'));
  const steps = Number(argument('steps', '5'));
  const warmup = Number(argument('warmup', '2'));
  const replicas = Number(argument('replicas', '1'));
  const filters = argument('filters', '32,64,128,128').split(',').map(Number);
  const poolsText = argument('pools', '');
  const config = resolveCrnnOptions({
    inputHeight: height,
    inputWidth: width,
    numClasses: NUM_CLASSES,
    convFilters: filters,
    pools: poolsText ? poolsText.split(',').map((p) => p.split('x').map(Number) as [number, number]) : defaultPools(filters.length),
    rnn: argument('rnn', 'lstm') as 'lstm' | 'gru',
    rnnUnits: Number(argument('units', '128')),
    rnnLayers: Number(argument('layers', '2')),
    stridedStem: process.argv.includes('--strided-stem'),
  });
  const info = await initBackend({ backend: 'wasm' });
  const model = buildCrnn(config);
  const rng = createRng('bench-train-images');
  const x = tf.tensor4d(Float32Array.from({ length: batchSize * height * width }, () => rng.normal()), [batchSize, height, width, 1]);
  const labelRng = createRng('bench-train-labels');
  const labels = Array.from({ length: batchSize }, () => Array.from({ length: 5 + labelRng.int(7) }, () => labelRng.int(NUM_CLASSES - 1)));
  const profile = process.argv.includes('--profile') ? await profileStep(model, x, labels, Number(argument('profile-rows', '15'))) : undefined;
  const group = await createReplicaGroup(model, { replicas, loss: { name: 'ctc' } });
  const optimizer: tf.Optimizer = tf.train.adam(1e-3);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  let stepIndex = 0;
  const step = async (): Promise<number> => {
    const { loss, grads } = await group.gradients({ x, size: batchSize, labels } as never, variables, stepIndex++);
    if (canFuseAdam(optimizer)) fusedAdamStep(optimizer, variables, grads, { weightDecay: 0 });
    else optimizer.applyGradients(grads);
    tf.dispose(grads);
    return loss;
  };
  const [, timeSteps] = crnnFeatureSize(config);
  console.log(JSON.stringify({ ready: true, backend: describeBackend(info), replicas, parameters: model.countParams(), timeSteps, profile }));
  let warmed = false;
  for await (const line of createInterface({ input: process.stdin })) {
    const command = line.trim();
    if (command === 'quit') break;
    if (command !== 'run') continue;
    if (!warmed) {
      for (let i = 0; i < warmup; i++) await step();
      warmed = true;
    }
    const start = performance.now();
    let loss = Number.NaN;
    for (let i = 0; i < steps; i++) loss = await step();
    const seconds = (performance.now() - start) / 1000;
    console.log(JSON.stringify({ imagesPerSecond: (batchSize * steps) / seconds, seconds, loss, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
  }
  await group.close();
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
