/**
 * Benchmark: images decoded and preprocessed per second by the streaming batch source
 * (goal: at least 2,000 images/s on 2 cores). Synthesises a small set first if needed.
 * Run: npm run bench:batches -- [--count N] [--channels 1|3] [--dir DIR]
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createBatchSource } from '../../src/data/equations/batches';
import { loadLabeledImages } from '../../src/data/equations/load';
import { synthesizeEquations } from '../../src/data/equations/synth';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { count: { type: 'string' }, channels: { type: 'string' }, dir: { type: 'string' }, epochs: { type: 'string' } } });
  const count = Number(values.count ?? 4000);
  const dir = values.dir ?? join(tmpdir(), `glyphlab-bench-batches-${count}`);
  if (!existsSync(join(dir, 'labels.csv'))) {
    console.log(`synthesising ${count} images into ${dir} ...`);
    await synthesizeEquations({ outDir: dir, count, seed: 'bench', workers: 2 });
  }
  const set = await loadLabeledImages(dir, { check: 'header' });
  const channels = Number(values.channels ?? 1) as 1 | 3;
  const source = createBatchSource(set.samples, { batchSize: 64, channels, height: 64, width: 300, seed: 1, prefetch: 4 });
  const epochs = Number(values.epochs ?? 2);
  for (let epoch = 0; epoch < epochs; epoch++) {
    const started = process.hrtime.bigint();
    let images = 0;
    for await (const batch of source.epoch(epoch)) images += batch.shape[0];
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(`epoch ${epoch}: ${images} images (${channels} channel${channels > 1 ? 's' : ''}, 64x300) in ${seconds.toFixed(2)} s = ${(images / seconds).toFixed(0)} images/s`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
