/**
 * Training throughput of the custom CRNN (src/models/crnn.ts): glyphlab on all cores
 * (data-parallel replicas) and on one, side by side with the same architecture in PyTorch
 * (scripts/bench/torch_crnn.py, run by `/usr/bin/python3` when it can import torch, e.g.
 * Debian's `python3-torch`) at 1 thread and at all cores.
 *
 * Each configuration is its own process (train-peer.ts for glyphlab), so peak memory is its own;
 * rounds alternate between them (`--repeats` rounds of `--steps` steps each) on a machine whose
 * load changes, and figures are medians over rounds. The ratio compares glyphlab on all cores
 * with PyTorch's faster thread count. The load average is printed with the figures.
 *
 * PyTorch's speed depends on the BLAS it loads: Debian's torch links `libblas.so.3`, which is the
 * slow *reference* BLAS until `apt-get install libopenblas0-pthread` switches it to OpenBLAS.
 * The benchmark reads the peer's `/proc/<pid>/maps` and refuses to print a ratio against the
 * reference BLAS.
 *
 *   node --import tsx scripts/bench/train.ts [--height 32] [--width 128] [--batch 32]
 *     [--steps 5] [--warmup 2] [--repeats 5] [--replicas N] [--rnn lstm|gru]
 *     [--filters 32,64,128,128] [--units 128] [--profile] [--no-torch]
 *
 * `--profile` prints the kernels of one single-replica glyphlab step sorted by time.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';

interface BenchArgs {
  height: number;
  width: number;
  batch: number;
  steps: number;
  warmup: number;
  repeats: number;
  replicas: number;
  rnn: string;
  filters: string;
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
    replicas: numberArgument('replicas', availableParallelism()),
    rnn: argument('rnn', 'lstm'),
    filters: argument('filters', '32,64,128,128'),
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

/** One timed round of a peer. */
interface Round {
  imagesPerSecond: number;
  loss: number;
  peakRssMb: number;
}

/** A peer process speaking the run/quit line protocol. */
interface Peer {
  name: string;
  ready: Record<string, unknown>;
  pid: number;
  run(): Promise<Round>;
  close(): void;
}

async function startPeer(name: string, command: string, args: string[]): Promise<Peer> {
  const child: ChildProcessWithoutNullStreams = spawn(command, args);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines: Interface = createInterface({ input: child.stdout });
  const iterator = lines[Symbol.asyncIterator]();
  const nextJson = async (): Promise<Record<string, unknown>> => {
    for (;;) {
      const next = await iterator.next();
      if (next.done) throw new Error(`${name} exited: ${stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 500)}`);
      if (next.value.startsWith('{')) return JSON.parse(next.value) as Record<string, unknown>;
    }
  };
  const ready = await nextJson();
  return {
    name,
    ready,
    pid: child.pid ?? -1,
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

const PYTHON = '/usr/bin/python3';

/** Why PyTorch cannot run here, or undefined when it can. */
function torchMissing(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (!probe.error && probe.status === 0) return undefined;
  const why = probe.error ? probe.error.message : (probe.stderr.trim().split('\n').pop() ?? `exit ${probe.status}`);
  return `${PYTHON} cannot import torch (${why}); install Debian's python3-torch for the comparison`;
}

/** The BLAS a process has mapped: OpenBLAS, MKL, the reference BLAS, or unknown. */
function loadedBlas(pid: number): 'openblas' | 'mkl' | 'reference' | 'unknown' {
  let maps = '';
  try {
    maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
  } catch {
    return 'unknown';
  }
  if (/openblas/i.test(maps)) return 'openblas';
  if (/libmkl/i.test(maps)) return 'mkl';
  if (/\/blas\/libblas\.so/.test(maps)) return 'reference';
  return 'unknown';
}

function formatRound(name: string, round: Round): string {
  return `  ${name.padEnd(22)} ${round.imagesPerSecond.toFixed(1).padStart(7)} img/s  loss ${round.loss.toFixed(2).padStart(6)}  peak RSS ${round.peakRssMb.toFixed(0)} MB`;
}

function loadText(): string {
  return loadavg().map((v) => v.toFixed(2)).join(' ');
}

async function main(): Promise<void> {
  const args = parseArgs();
  const cores = availableParallelism();
  const model = ['--height', String(args.height), '--width', String(args.width), '--batch', String(args.batch), '--steps', String(args.steps), '--warmup', String(args.warmup)];
  const filters = args.filters.split(',');
  const pools = filters.map((_, i) => (i < 2 ? '2x2' : '2x1')).join(',');
  console.log(
    `CRNN ${args.height}x${args.width}x1, conv ${filters.join('-')}, 2x Bi${args.rnn.toUpperCase()}(${args.units}), batch ${args.batch}; ` +
      `${args.repeats} rounds of ${args.steps} steps after ${args.warmup} warm-up steps, each configuration in its own process`,
  );
  console.log(`load average at start: ${loadText()} (${cores} cores)`);

  const peers: Peer[] = [];
  const glyphlabArgs = (replicas: number, profile: boolean): string[] => [
    '--import',
    'tsx',
    join(__dirname, 'train-peer.ts'),
    ...model,
    ...['--replicas', String(replicas), '--rnn', args.rnn, '--filters', args.filters, '--units', String(args.units)],
    ...(profile ? ['--profile', '--profile-rows', '20'] : []),
  ];
  const all = await startPeer(`glyphlab ${args.replicas} replicas`, process.execPath, glyphlabArgs(args.replicas, false));
  console.log(`${all.name}: ${String(all.ready['backend'])}, ${String(all.ready['parameters'])} parameters, ${String(all.ready['timeSteps'])} time steps`);
  peers.push(all);
  let one: Peer | undefined;
  if (args.replicas !== 1) {
    one = await startPeer('glyphlab 1 replica', process.execPath, glyphlabArgs(1, args.profile));
    peers.push(one);
  }
  const profile = (one ?? all).ready['profile'];
  if (Array.isArray(profile)) console.log(`kernels of one single-replica glyphlab step:\n${profile.join('\n')}`);

  const missing = args.torch ? torchMissing() : 'PyTorch was not run (--no-torch)';
  const torchPeers: Peer[] = [];
  if (missing === undefined) {
    const torchScript = join(__dirname, 'torch_crnn.py');
    const torchArgs = [...model, '--filters', args.filters, '--pools', pools, '--units', String(args.units), '--rnn', args.rnn, '--layers', '2', '--classes', '17'];
    for (const threads of [...new Set([1, cores])]) {
      const peer = await startPeer(`pytorch ${threads} thread${threads === 1 ? '' : 's'}`, PYTHON, [torchScript, ...torchArgs, '--threads', String(threads)]);
      torchPeers.push(peer);
      peers.push(peer);
    }
  }

  const results = new Map<string, Round[]>();
  for (let r = 0; r < args.repeats; r++) {
    for (const peer of peers) {
      const round = await peer.run();
      results.set(peer.name, [...(results.get(peer.name) ?? []), round]);
      console.log(formatRound(peer.name, round));
    }
  }
  const blas = torchPeers.length > 0 ? loadedBlas(torchPeers[0]!.pid) : undefined;
  for (const peer of peers) peer.close();

  console.log(`\nload average at end: ${loadText()}`);
  if (torchPeers.length > 0) console.log(`PyTorch ${String(torchPeers[0]!.ready['torch'])} loaded BLAS: ${blas}`);
  const medians = new Map<string, number>();
  for (const [name, rounds] of results) {
    const speeds = rounds.map((r) => r.imagesPerSecond);
    medians.set(name, median(speeds));
    console.log(
      `median ${name.padEnd(22)} ${median(speeds).toFixed(1).padStart(7)} img/s over ${rounds.length} round(s) ` +
        `(min ${Math.min(...speeds).toFixed(1)}, max ${Math.max(...speeds).toFixed(1)}); peak RSS ${Math.max(...rounds.map((r) => r.peakRssMb)).toFixed(0)} MB`,
    );
  }
  if (missing !== undefined) {
    console.log(`train-speed ratio (glyphlab/pytorch): none, ${missing}`);
    return;
  }
  if (blas === 'reference') {
    console.log('train-speed ratio (glyphlab/pytorch): none, PyTorch loaded the reference BLAS (blas/libblas.so), a handicapped peer; run `apt-get install libopenblas0-pthread` and measure again');
    return;
  }
  const best = torchPeers.reduce((a, b) => ((medians.get(a.name) ?? 0) >= (medians.get(b.name) ?? 0) ? a : b));
  const bestSpeed = medians.get(best.name) as number;
  const bestRss = Math.max(...(results.get(best.name) ?? []).map((r) => r.peakRssMb));
  const allRss = Math.max(...(results.get(all.name) ?? []).map((r) => r.peakRssMb));
  if (one) console.log(`one-replica ratio (glyphlab 1 replica / ${best.name}): ${((medians.get(one.name) as number) / bestSpeed).toFixed(2)}`);
  console.log(`peak memory: glyphlab ${args.replicas} replicas ${allRss.toFixed(0)} MB, ${best.name} ${bestRss.toFixed(0)} MB (${(allRss / bestRss).toFixed(2)}x)`);
  console.log(`train-speed ratio (glyphlab/pytorch): ${((medians.get(all.name) as number) / bestSpeed).toFixed(2)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
