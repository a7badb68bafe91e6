/**
 * Training throughput of the custom CRNN (src/models/crnn.ts) on glyphlab's backends, side by
 * side with the same architecture in PyTorch (scripts/bench/torch_crnn.py, run by
 * `/usr/bin/python3` when it can import torch, e.g. Debian's `python3-torch`).
 *
 * One step = forward + CTC loss + backward + Adam update on a fixed random batch. Input size
 * defaults to 32x128 grayscale (the CPU-friendly size; the seed's 64x300 via `--height 64
 * --width 300`) with the model's default conv filters [32, 64, 128, 128], pools
 * [2x2, 2x2, 2x1, 2x1] (32 time steps at width 128) and 2 BiLSTM(128) layers, batch 32.
 *
 * The machine is shared, so wasm and PyTorch measurements alternate within one run (`--repeats`
 * rounds of `--steps` steps each), and the figures are medians over rounds; the ratio is the
 * median of the per-round ratios. The load average is printed with the figures.
 *
 *   node --import tsx scripts/bench/train.ts [--height 32] [--width 128] [--batch 32]
 *     [--steps 5] [--warmup 2] [--repeats 5] [--backends wasm,cpu] [--cpu-steps 1]
 *     [--filters 32,64,128,128] [--units 128] [--profile] [--no-torch]
 *
 * `--profile` also prints, per backend, the kernels of one step sorted by time.
 */
import * as tf from '@tensorflow/tfjs';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { initBackend, describeBackend, type BackendName } from '../../src/backend';
import { ctcLoss } from '../../src/losses/ctc';
import { buildCrnn, crnnFeatureSize, resolveCrnnOptions, type CrnnConfig } from '../../src/models/crnn';
import { BLANK_INDEX, NUM_CLASSES } from '../../src/labels/alphabet';
import { createRng } from '../../src/util/rng';

interface BenchArgs {
  height: number;
  width: number;
  batch: number;
  steps: number;
  warmup: number;
  repeats: number;
  backends: BackendName[];
  cpuSteps: number;
  filters: number[];
  units: number;
  profile: boolean;
  torch: boolean;
}

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

function numberArgument(name: string, fallback: number): number {
  const value = Number(argument(name, String(fallback)));
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a non-negative number, got ${argument(name, '')}`);
  return value;
}

function parseArgs(): BenchArgs {
  return {
    height: numberArgument('height', 32),
    width: numberArgument('width', 128),
    batch: numberArgument('batch', 32),
    steps: numberArgument('steps', 5),
    warmup: numberArgument('warmup', 2),
    repeats: numberArgument('repeats', 5),
    backends: argument('backends', 'wasm').split(',').filter(Boolean) as BackendName[],
    cpuSteps: numberArgument('cpu-steps', 1),
    filters: argument('filters', '32,64,128,128').split(',').map(Number),
    units: numberArgument('units', 128),
    profile: process.argv.includes('--profile'),
    torch: !process.argv.includes('--no-torch'),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const MB = 1024 * 1024;

/** One timed round: images/s over the round's steps, and memory after it. */
interface Round {
  imagesPerSecond: number;
  loss: number;
  peakRssMb: number;
  tfMb?: number;
  wasmHeapMb?: number;
}

/** A CRNN, its optimizer and one fixed batch on the current tfjs backend. */
interface TfjsSession {
  backend: string;
  run(steps: number): Round;
  profile(): Promise<string[]>;
  dispose(): void;
}

function randomLabels(batch: number, seed: string): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: batch }, () => Array.from({ length: 5 + rng.int(7) }, () => rng.int(BLANK_INDEX)));
}

function wasmHeapMb(): number | undefined {
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return backend.wasm?.HEAPU8 ? backend.wasm.HEAPU8.length / MB : undefined;
}

function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

function createTfjsSession(config: CrnnConfig, batch: number): TfjsSession {
  const model = buildCrnn(config);
  const optimizer = tf.train.adam(1e-3);
  const rng = createRng('bench-train-images');
  const x = tf.tensor4d(
    Float32Array.from({ length: batch * config.inputHeight * config.inputWidth * config.channels }, () => rng.normal()),
    [batch, config.inputHeight, config.inputWidth, config.channels],
  );
  const labels = randomLabels(batch, 'bench-train-labels');
  let peakTfBytes = 0;
  const step = (): number => {
    const loss = optimizer.minimize(() => ctcLoss(model.apply(x, { training: true }) as tf.Tensor3D, labels) as tf.Scalar, true);
    peakTfBytes = Math.max(peakTfBytes, tf.memory().numBytes);
    const value = loss ? (loss.dataSync()[0] as number) : Number.NaN;
    loss?.dispose();
    return value;
  };
  return {
    backend: tf.getBackend(),
    run(steps) {
      const start = performance.now();
      let loss = Number.NaN;
      for (let i = 0; i < steps; i++) loss = step();
      const seconds = (performance.now() - start) / 1000;
      return { imagesPerSecond: (batch * steps) / seconds, loss, peakRssMb: peakRssMb(), tfMb: peakTfBytes / MB, wasmHeapMb: wasmHeapMb() };
    },
    async profile() {
      const info = await tf.profile(() => void step());
      const byName = new Map<string, { ms: number; calls: number }>();
      for (const kernel of info.kernels) {
        const entry = byName.get(kernel.name) ?? { ms: 0, calls: 0 };
        entry.ms += Number(kernel.kernelTimeMs);
        entry.calls += 1;
        byName.set(kernel.name, entry);
      }
      const total = [...byName.values()].reduce((sum, e) => sum + e.ms, 0);
      return [...byName.entries()]
        .sort((a, b) => b[1].ms - a[1].ms)
        .slice(0, 15)
        .map(([name, e]) => `    ${name.padEnd(28)} ${e.ms.toFixed(1).padStart(8)} ms ${((100 * e.ms) / total).toFixed(1).padStart(5)}%  (${e.calls} calls)`)
        .concat(`    ${'all kernels'.padEnd(28)} ${total.toFixed(1).padStart(8)} ms`);
    },
    dispose() {
      tf.dispose([x]);
      optimizer.dispose();
      model.dispose();
    },
  };
}

/** The PyTorch peer process, or why there is none. */
interface TorchPeer {
  description: string;
  run(): Promise<Round>;
  close(): void;
}

const PYTHON = '/usr/bin/python3';

async function startTorch(args: BenchArgs, config: CrnnConfig, threads: number): Promise<TorchPeer | string> {
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    const why = probe.error ? probe.error.message : (probe.stderr.trim().split('\n').pop() ?? `exit ${probe.status}`);
    return `${PYTHON} cannot import torch (${why}); install Debian's python3-torch for the comparison`;
  }
  const script = join(__dirname, 'torch_crnn.py');
  const pools = config.pools.map((p) => (p ? `${p[0]}x${p[1]}` : 'none')).join(',');
  const child: ChildProcessWithoutNullStreams = spawn(PYTHON, [
    script,
    ...['--height', String(config.inputHeight), '--width', String(config.inputWidth), '--batch', String(args.batch)],
    ...['--steps', String(args.steps), '--warmup', String(args.warmup), '--threads', String(threads)],
    ...['--filters', config.convFilters.join(','), '--pools', pools, '--units', String(config.rnnUnits)],
    ...['--layers', String(config.rnnLayers), '--classes', String(config.numClasses)],
  ]);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines: Interface = createInterface({ input: child.stdout });
  const iterator = lines[Symbol.asyncIterator]();
  const nextJson = async (): Promise<Record<string, unknown>> => {
    const next = await iterator.next();
    if (next.done) throw new Error(`the PyTorch peer exited: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return JSON.parse(next.value) as Record<string, unknown>;
  };
  const ready = await nextJson();
  return {
    description: `PyTorch ${String(ready['torch'])}, ${String(ready['threads'])} thread(s), ${String(ready['parameters'])} parameters, ${String(ready['timeSteps'])} time steps`,
    async run() {
      child.stdin.write('run\n');
      return (await nextJson()) as unknown as Round;
    },
    close() {
      child.stdin.end('quit\n');
      lines.close();
    },
  };
}

function formatRound(name: string, round: Round): string {
  const memory = [`peak RSS ${round.peakRssMb.toFixed(0)} MB`];
  if (round.tfMb !== undefined) memory.push(`tf.memory after step ${round.tfMb.toFixed(0)} MB`);
  if (round.wasmHeapMb !== undefined) memory.push(`wasm heap ${round.wasmHeapMb.toFixed(0)} MB`);
  return `  ${name.padEnd(8)} ${round.imagesPerSecond.toFixed(1).padStart(7)} img/s  loss ${round.loss.toFixed(2).padStart(6)}  ${memory.join(', ')}`;
}

function loadText(): string {
  return loadavg().map((v) => v.toFixed(2)).join(' ');
}

async function main(): Promise<void> {
  const args = parseArgs();
  const config = resolveCrnnOptions({
    inputHeight: args.height,
    inputWidth: args.width,
    numClasses: NUM_CLASSES,
    convFilters: args.filters,
    pools: args.filters.map((_, i) => (i < 2 ? [2, 2] : [2, 1]) as [number, number]),
    rnnUnits: args.units,
  });
  const [, timeSteps] = crnnFeatureSize(config);
  console.log(
    `CRNN ${config.inputHeight}x${config.inputWidth}x${config.channels}, conv ${config.convFilters.join('-')}, ` +
      `${config.rnnLayers}x BiLSTM(${config.rnnUnits}), ${timeSteps} time steps, batch ${args.batch}; ` +
      `${args.repeats} rounds of ${args.steps} steps after ${args.warmup} warm-up steps`,
  );
  console.log(`load average at start: ${loadText()} (${(await import('node:os')).cpus().length} cores)`);

  const results = new Map<string, Round[]>();
  const ratios: number[] = [];
  let torch: TorchPeer | string | undefined;
  let wasmThreads = 1;

  for (const backendName of args.backends) {
    const info = await initBackend({ backend: backendName });
    console.log(`\n${describeBackend(info)}; added kernels: ${info.addedKernels.join(', ') || 'none'}`);
    const session = createTfjsSession(config, args.batch);
    try {
      const isCpu = info.name === 'cpu';
      const steps = isCpu ? args.cpuSteps : args.steps;
      const warmup = isCpu ? Math.min(args.warmup, 1) : args.warmup;
      const started = performance.now();
      session.run(warmup);
      console.log(`  warm-up: ${warmup} step(s) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      if (args.profile) console.log(`  kernels of one step:\n${(await session.profile()).join('\n')}`);
      if (info.name === 'wasm') {
        wasmThreads = info.threads;
        if (args.torch && torch === undefined) torch = await startTorch(args, config, wasmThreads);
      }
      // Only wasm rounds alternate with PyTorch; the cpu backend is far too slow to repeat.
      const rounds = isCpu ? 1 : args.repeats;
      for (let r = 0; r < rounds; r++) {
        const round = session.run(steps);
        results.set(info.name, [...(results.get(info.name) ?? []), round]);
        console.log(formatRound(info.name, round));
        if (info.name === 'wasm' && typeof torch === 'object') {
          const peer = await torch.run();
          results.set('pytorch', [...(results.get('pytorch') ?? []), peer]);
          console.log(formatRound('pytorch', peer));
          ratios.push(round.imagesPerSecond / peer.imagesPerSecond);
        }
      }
    } finally {
      session.dispose();
    }
  }
  if (typeof torch === 'object') torch.close();

  console.log(`\nload average at end: ${loadText()}`);
  if (typeof torch === 'object') console.log(torch.description);
  else if (typeof torch === 'string') console.log(torch);
  for (const [name, rounds] of results) {
    const speeds = rounds.map((r) => r.imagesPerSecond);
    console.log(
      `median ${name.padEnd(8)} ${median(speeds).toFixed(1).padStart(7)} img/s over ${rounds.length} round(s) ` +
        `(min ${Math.min(...speeds).toFixed(1)}, max ${Math.max(...speeds).toFixed(1)}); ` +
        `peak RSS ${Math.max(...rounds.map((r) => r.peakRssMb)).toFixed(0)} MB`,
    );
  }
  const wasmSpeed = results.get('wasm');
  const torchSpeed = results.get('pytorch');
  if (wasmSpeed && torchSpeed && ratios.length > 0) {
    const ratio = median(ratios);
    console.log(
      `bench:train: wasm ${median(wasmSpeed.map((r) => r.imagesPerSecond)).toFixed(1)} img/s vs PyTorch ` +
        `${median(torchSpeed.map((r) => r.imagesPerSecond)).toFixed(1)} img/s = ${ratio.toFixed(2)}x (goal >= 0.5x, ${wasmThreads} thread(s) each)`,
    );
    console.log(`train-speed ratio (glyphlab/pytorch): ${ratio.toFixed(2)}`);
  } else {
    const why = !wasmSpeed
      ? 'the wasm backend was not measured (add wasm to --backends)'
      : typeof torch === 'string'
        ? torch
        : 'PyTorch was not run (--no-torch)';
    console.log(`train-speed ratio (glyphlab/pytorch): none, ${why}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
