/** A tiny trained CRNN run to start from (center-loss fine-tuning, evaluation). */
import { join } from 'node:path';
import { synthesizeEquations } from '../../src/data/equations/synth';
import { type EquationRunResult, runEquationTraining } from '../../src/runs/equation-run';

/**
 * Synthesises `count` 128x32 equations into `dir/data` and trains a tiny CRNN on them for one
 * epoch, recorded in `dbPath`. A few seconds on wasm; the model reads next to nothing.
 */
export async function trainTinyBaseRun(dir: string, dbPath: string, count = 30): Promise<EquationRunResult> {
  await synthesizeEquations({ outDir: join(dir, 'data'), count, seed: 5, workers: 0, width: 128, height: 32 });
  return runEquationTraining({
    dataDir: join(dir, 'data'),
    epochs: 1,
    batchSize: 8,
    workers: 0,
    dbPath,
    crnn: { inputHeight: 32, inputWidth: 128, convFilters: [8, 16, 16], rnn: 'gru', rnnUnits: 8, rnnLayers: 1, dropout: 0 },
    logBatches: false,
  });
}
