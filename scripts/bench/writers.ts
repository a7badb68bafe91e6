/**
 * Writer identification on the synthetic writers set: trains the
 * writer CNN on random 113x113 patches of each writer's training lines and prints top-1
 * accuracy over held-out lines (patch probabilities averaged per line) and over single patches.
 *
 *   node --import tsx scripts/bench/writers.ts [--writers 10] [--lines 10] [--epochs 4]
 *     [--patch 113] [--train-patches 24] [--eval-patches 16] [--backend wasm|cpu] [--seed 0]
 *
 * Each writer's lines split into 3 test, 2 validation and the rest training lines.
 */
import { initBackend, describeBackend, type BackendName } from '../../src/backend';
import { runWriterIdentification } from '../../src/writers/identify';
import type { Logs } from '../../src/training/callbacks';
import { Callback } from '../../src/training/callbacks';

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

class PrintEpochs extends Callback {
  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    const parts = Object.entries(logs).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(4)}`);
    console.log(`epoch ${epoch + 1}: ${parts.join(' ')}`);
  }
}

async function main(): Promise<void> {
  const info = await initBackend({ backend: argument('backend', 'wasm') as BackendName });
  console.log(describeBackend(info));
  const started = Date.now();
  const result = await runWriterIdentification({
    writers: Number(argument('writers', '10')),
    linesPerWriter: Number(argument('lines', '10')),
    epochs: Number(argument('epochs', '4')),
    patchSize: Number(argument('patch', '113')),
    trainPatchesPerLine: Number(argument('train-patches', '24')),
    evalPatchesPerLine: Number(argument('eval-patches', '16')),
    seed: argument('seed', '0'),
    model: { convFilters: [16, 32, 64], denseUnits: [128] },
    callbacks: [new PrintEpochs()],
  });
  const seconds = (Date.now() - started) / 1000;
  const { test, split, writers } = result;
  console.log(
    `writers ${writers.length}, lines train/val/test ${split.train}/${split.val}/${split.test}, best epoch ${(result.training.best?.epoch ?? -1) + 1}`,
  );
  console.log(
    `test top-1 over held-out lines: ${(test.lineAccuracy * 100).toFixed(1)}% (${test.lines} lines); over single patches: ${(test.patchAccuracy * 100).toFixed(1)}% (${test.patches} patches); ${seconds.toFixed(0)} s`,
  );
  result.model.dispose();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
