/**
 * CTC alone vs CTC + center loss, the reference implementation's experiment: fine-tunes a
 * trained CRNN run both ways from the same weights, then prints exact-match accuracy and CER on the base run's
 * test split and on a look-alike-rich set, and the held-out center statistics. Both arms are
 * recorded in the experiment store (experiment 'center-loss').
 *
 *   npm run bench:center-loss -- [--base RUN] [--lookalike-dir data/lookalike] [--lookalike-count 1000]
 *     [--epochs 1] [--max-minutes M] [--lambdas 0.003[,0.03...]] [--alpha 0.5] [--lr 0.0001] [--batch 32]
 *     [--limit-train N] [--limit-val N] [--limit-test N] [--limit-lookalike N] [--backend wasm|cpu]
 *
 * --base defaults to the run of experiment 'bench-accuracy' with the best test accuracy (made by
 * `npm run bench:accuracy`). Every lambda is one arm next to the CTC-only arm (lambda 0). The look-alike set is synthesised into --lookalike-dir when that
 * folder has no labels.csv.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeBackend, initBackend, type BackendName } from '../../src/backend';
import { synthesizeLookalikeSet } from '../../src/data/equations/lookalike';
import { bestRun } from '../../src/tracker/query';
import { closeStore, openStore } from '../../src/tracker/store';
import { Callback, type Logs } from '../../src/training/callbacks';
import { textTable } from '../../src/cli/table';
import { centerLossVariants, runCenterLossComparison } from '../../src/runs/center-loss-run';
import { databasePath } from '../../src/util/paths';
import { centerComparisonTable } from '../../src/viz/center-charts';

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

function optionalNumber(name: string): number | undefined {
  const value = argument(name, '');
  return value === '' ? undefined : Number(value);
}

class PrintEpochs extends Callback {
  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    const keys = ['loss', 'val_accuracy', 'val_cer', 'center_between', 'center_own_distance', 'center_lookalike', 'val_center_overlap', 'epoch_time_s'];
    console.log(`  epoch ${epoch + 1}: ${keys.filter((k) => k in logs).map((k) => `${k} ${(logs[k] as number).toFixed(4)}`).join(', ')}`);
  }
}

function baseRunFromStore(dbPath: string): string {
  const store = openStore(dbPath);
  try {
    const run = bestRun(store, { metric: 'test_accuracy', experiment: 'bench-accuracy' });
    if (!run) throw new Error(`no run of experiment 'bench-accuracy' in ${dbPath}: run \`npm run bench:accuracy\` first or give --base RUN`);
    return run.id;
  } finally {
    closeStore(store);
  }
}

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

async function main(): Promise<void> {
  const info = await initBackend({ backend: argument('backend', 'wasm') as BackendName });
  console.log(`backend: ${describeBackend(info)}`);
  const dbPath = databasePath();
  const baseRunId = argument('base', '') || baseRunFromStore(dbPath);
  const lookalikeDir = argument('lookalike-dir', join('data', 'lookalike'));
  if (!existsSync(join(lookalikeDir, 'labels.csv'))) {
    const count = Number(argument('lookalike-count', '1000'));
    const started = Date.now();
    const made = synthesizeLookalikeSet({ outDir: lookalikeDir, count });
    console.log(`synthesised ${count} look-alike images into ${lookalikeDir} (${pct(made.lookalikeShare)} look-alike characters) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  const lambdas = argument('lambdas', '0.003').split(',').map(Number);
  const started = Date.now();
  const cmp = await runCenterLossComparison({
    baseRunId,
    lookalikeDir,
    epochs: Number(argument('epochs', '1')),
    maxMinutes: optionalNumber('max-minutes'),
    learningRate: Number(argument('lr', '0.0001')),
    batchSize: Number(argument('batch', '32')),
    variants: centerLossVariants(lambdas),
    center: { alpha: Number(argument('alpha', '0.5')) },
    limit: { train: optionalNumber('limit-train'), val: optionalNumber('limit-val'), test: optionalNumber('limit-test'), lookalike: optionalNumber('limit-lookalike') },
    dbPath,
    source: 'npm run bench:center-loss',
    tags: ['bench'],
    callbacks: () => [new PrintEpochs()],
    log: (message) => console.log(message),
  });
  console.log(`\n${((Date.now() - started) / 60_000).toFixed(1)} min in all; base run ${cmp.baseRunId}; sizes ${JSON.stringify(cmp.sizes)}`);
  console.log(`look-alike characters: ${pct(cmp.lookalikeShare.test)} of the test split, ${pct(cmp.lookalikeShare.lookalike)} of the look-alike set\n`);
  const { columns, rows } = centerComparisonTable(cmp);
  console.log(textTable(columns, rows));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
