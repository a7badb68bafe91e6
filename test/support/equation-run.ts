/** A tiny trained CRNN run to start from (center-loss fine-tuning, evaluation, run queries). */
import { existsSync, readFileSync } from 'node:fs';
import type * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { synthesizeEquations } from '../../src/data/equations/synth';
import type { CrnnOptions } from '../../src/models/crnn';
import { saveModel } from '../../src/models/io';
import { writeSavedFolder } from '../../src/models/saved-folder';
import { type EquationRunResult, runEquationTraining } from '../../src/runs/equation-run';
import { READER_FILE, READER_FORMAT, type ReaderInfo } from '../../src/runs/readers';

/** The tiny CRNN of {@link trainTinyBaseRun}: three conv blocks, one bidirectional GRU of 8 units. */
export const TINY_CRNN: CrnnOptions = { inputHeight: 32, inputWidth: 128, convFilters: [8, 16, 16], rnn: 'gru', rnnUnits: 8, rnnLayers: 1, dropout: 0 };

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
    crnn: { ...TINY_CRNN, ...crnn },
    logBatches: false,
    handleSignals: false,
  });
}

/**
 * Writes `model` as a reader folder at `dir` (model files and a `reader.json` naming `runId`),
 * as `exportReader` would for a run: for models the equation pipeline cannot train itself (another alphabet).
 */
export async function writeReaderFolder(dir: string, model: tf.LayersModel, options: { name: string; runId: string }): Promise<ReaderInfo> {
  await saveModel(model, dir);
  const [, height, width, channels] = model.inputs[0]!.shape as [null, number, number, number];
  const info: ReaderInfo = {
    format: READER_FORMAT,
    name: options.name,
    model: 'crnn',
    alphabet: '+-*=()0123456789x',
    input: { height, width, channels },
    config: null,
    run: { id: options.runId, experiment: 'test', name: null, commit: null, dirty: false, command: null, startedAt: '2026-12-06T00:00:00.000Z', endedAt: null, durationS: null },
    data: null,
    scores: [],
    modelBytes: 0,
    exportedAt: '2026-12-06T00:00:00.000Z',
  };
  writeSavedFolder(dir, { 'model.json': readFileSync(join(dir, 'model.json')), 'weights.bin': readFileSync(join(dir, 'weights.bin')), [READER_FILE]: JSON.stringify(info) });
  return info;
}
