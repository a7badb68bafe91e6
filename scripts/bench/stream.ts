/**
 * `npm run bench:stream`: what training from the synthesis stream costs against training from
 * decoded files. The same model (the quick recipe's CRNN), batch, replicas and machine train on
 * (a) a folder of the same style's images, written at 300x64 as `npm start` used to, decoded and
 * halved by the batch workers, and (b) the stream, rendering each image at the model's 32x150 on
 * the same number of worker threads; the two alternate, `--rounds` times each, and the training
 * images per second of every later epoch are reported (the first epoch warms up). Goal: the
 * stream at most 10% below the files.
 *
 *   npm run bench:stream -- [--images 6400] [--epochs 3] [--rounds 2] [--style wide]
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeBackend, initBackend } from '../../src/backend/index';
import { synthesizeEquations } from '../../src/data/equations/synth';
import { stylePreset } from '../../src/data/equations/synth-style';
import { runEquationTraining } from '../../src/runs/equation-run';
import { dataDir } from '../../src/util/paths';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { images: { type: 'string', default: '6400' }, epochs: { type: 'string', default: '3' }, rounds: { type: 'string', default: '2' }, style: { type: 'string', default: 'wide' } } });
  const images = Number(values.images);
  const epochs = Number(values.epochs);
  const rounds = Number(values.rounds);
  const info = await initBackend();
  console.log(`bench:stream: backend ${describeBackend(info)}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const style = stylePreset(String(values.style));
  // The files: one epoch's images plus validation, at 300x64 (decoded and halved as a folder's are).
  const folder = join(dataDir(), `bench-stream-${values.style}-${images}`);
  if (!existsSync(join(folder, 'labels.csv'))) {
    console.log(`writing ${images + 640} ${values.style} images into ${folder}`);
    await synthesizeEquations({ outDir: folder, count: Math.round((images + 640) / 0.8), seed: 'bench-stream', style });
  }
  const store = mkdtempSync(join(tmpdir(), 'glyphlab-bench-stream-'));
  const common = { recipe: 'quick' as const, minutes: null, epochs, limit: { train: images, val: 64, test: 1 }, imageCheck: 'header' as const, dbPath: join(store, 'bench.db'), experiment: 'bench-stream' };
  const rates: Record<'files' | 'stream', number[]> = { files: [], stream: [] };
  try {
    for (let round = 0; round < rounds; round++) {
      for (const kind of ['files', 'stream'] as const) {
        const result = await runEquationTraining(
          kind === 'files'
            ? { ...common, dataDir: folder, name: 'files' }
            : { ...common, synth: { style: values.style, epochImages: images, val: 64, test: 1, heldOut: 0 }, name: 'stream' },
        );
        const perEpoch = result.history.slice(1).map((logs) => images / Number(logs['epoch_time_s']));
        rates[kind].push(...perEpoch);
        console.log(`round ${round + 1} ${kind.padEnd(6)}: ${perEpoch.map((r) => r.toFixed(1)).join(', ')} training images/s (epochs 2-${epochs}); load ${loadavg()[0]!.toFixed(2)}`);
      }
    }
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const files = mean(rates.files);
  const stream = mean(rates.stream);
  console.log(`files ${files.toFixed(1)} images/s, stream ${stream.toFixed(1)} images/s: the stream is ${(((files - stream) / files) * 100).toFixed(1)}% ${stream <= files ? 'slower' : 'faster'} (goal: at most 10% slower)`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
