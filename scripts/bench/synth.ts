/**
 * Benchmark: synthesis speed (goal: 100,000 images in under 5 minutes on 2 cores, i.e. about
 * 340 images/s). Renders N images into a temporary folder and reports images/s and the label
 * distributions. Run: npm run bench:synth -- [--count N] [--workers W] [--fonts all]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatLabelDistributions } from '../../src/data/equations/forms';
import { synthesizeEquations } from '../../src/data/equations/synth';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { count: { type: 'string' }, workers: { type: 'string' }, fonts: { type: 'string' }, keep: { type: 'boolean' } } });
  const count = Number(values.count ?? 10000);
  const workers = Number(values.workers ?? 2);
  const dir = mkdtempSync(join(tmpdir(), 'glyphlab-bench-synth-'));
  try {
    const result = await synthesizeEquations({ outDir: dir, count, seed: 'bench', workers, fonts: values.fonts ? [values.fonts] : undefined });
    const perHundredK = (100000 / result.imagesPerSecond).toFixed(0);
    console.log(`${count} images, ${workers} workers, fonts ${values.fonts ?? 'dejavu-sans'}: ${(result.elapsedMs / 1000).toFixed(1)} s total, ${result.imagesPerSecond.toFixed(0)} images/s rendering (100,000 images would take about ${perHundredK} s; goal < 300 s)`);
    console.log(formatLabelDistributions(result.distributions));
    if (values.keep) console.log(`kept ${dir}`);
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
