/** A tiny trained CRNN run to start from (center-loss fine-tuning, evaluation, run queries). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { synthesizeEquations } from '../../src/data/equations/synth';
import type { CrnnOptions } from '../../src/models/crnn';
import { type EquationRunResult, runEquationTraining } from '../../src/runs/equation-run';

/**
 * Synthesises `count` 128x32 equations into `dir/data` (once) and trains a tiny CRNN (a GRU
 * unless `crnn` says otherwise; the reference recipe otherwise) on them for one epoch, recorded in `dbPath`. A few seconds on
 * wasm; the model reads next to nothing.
 */
export async function trainTinyBaseRun(dir: string, dbPath: string, count = 30, crnn: CrnnOptions = {}): Promise<EquationRunResult> {
  if (!existsSync(join(dir, 'data', 'labels.csv'))) await synthesizeEquations({ outDir: join(dir, 'data'), count, seed: 5, workers: 0, width: 128, height: 32 });
  return runEquationTraining({
    dataDir: join(dir, 'data'),
    recipe: 'reference',
    epochs: 1,
    batchSize: 8,
    workers: 0,
    dbPath,
    crnn: { inputHeight: 32, inputWidth: 128, convFilters: [8, 16, 16], rnn: 'gru', rnnUnits: 8, rnnLayers: 1, dropout: 0, ...crnn },
    logBatches: false,
    handleSignals: false,
  });
}
