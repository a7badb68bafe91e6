/**
 * Finding and loading the model a recorded run saved, for evaluation and prediction.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors';
import { loadModel } from '../models/io';
import { getRun, type RunDetail } from '../tracker/query';
import { closeStore, openStore } from '../tracker/store';
import { missingRunFolderHint, runsDirFor } from '../util/paths';
import { type ModelArchitecture, readArchitecture } from './architecture';

/** A run's saved model with what is needed to feed it. */
export interface RunModel {
  runId: string;
  model: tf.LayersModel;
  modelDir: string;
  /** Input height, width and channels. */
  inputShape: [number, number, 1 | 3];
  /** The run's recorded config (model, data, training), or null. */
  config: Record<string, unknown> | null;
  /** The run's architecture params (see `readArchitecture`), when it recorded a model glyphlab builds. */
  architecture?: ModelArchitecture;
}

/**
 * Run `ref` (id, short id or name) of the store at `dbPath` (default GLYPHLAB_DB, else
 * experiments/glyphlab.db), read with the store opened read-only for the lookup alone, and the
 * folder of that store's run folders.
 */
export function readRecordedRun(dbPath: string | undefined, ref: string): { run: RunDetail; runsDir: string } {
  const store = openStore(dbPath, { readonly: true });
  try {
    return { run: getRun(store, ref), runsDir: runsDirFor(store.file) };
  } finally {
    closeStore(store);
  }
}

/** Which saved model of a run: the final model, the best or the last checkpoint. */
export type RunCheckpoint = 'model' | 'best' | 'last';

/**
 * The folder of run `run`'s saved model: its final model (artifact kind 'model'), else its best
 * checkpoint, else its last checkpoint (only those of `wanted`, in that order, when given), looked
 * up among its artifacts and then in `<runsDir>/<run id>/`. None is a ConfigError naming where it
 * looked.
 */
export function findRunModelDir(run: RunDetail, runsDir: string, wanted?: RunCheckpoint | readonly RunCheckpoint[]): string {
  const kinds: readonly RunCheckpoint[] = wanted === undefined ? ['model', 'best', 'last'] : typeof wanted === 'string' ? [wanted] : wanted;
  const byKind = new Map(run.artifacts.map((a) => [a.kind, dirname(a.path)]));
  const artifactKind: Record<RunCheckpoint, string> = { model: 'model', best: 'checkpoint-best', last: 'checkpoint-last' };
  const candidates = [...kinds.map((kind) => byKind.get(artifactKind[kind])), ...kinds.map((kind) => join(runsDir, run.id, kind))].filter((d): d is string => d !== undefined);
  const modelDir = candidates.find((d) => existsSync(join(d, 'model.json')));
  if (!modelDir) {
    throw new ConfigError(`run ${run.id} (${run.status}) has no saved ${kinds.join(' or ')}; looked in ${[...new Set(candidates)].join(', ')}${missingRunFolderHint(run.id, runsDir)}`);
  }
  return modelDir;
}

/**
 * Loads the final model of run `runId` (artifact kind 'model'), else its best checkpoint, else
 * its last checkpoint (`checkpoint`: only those, in that order).
 */
export async function loadRunModel(runId: string, options: { dbPath?: string; checkpoint?: RunCheckpoint | readonly RunCheckpoint[] } = {}): Promise<RunModel> {
  const { run, runsDir } = readRecordedRun(options.dbPath, runId);
  const modelDir = findRunModelDir(run, runsDir, options.checkpoint);
  const model = await loadModel(modelDir);
  const [, height, width, channels] = model.inputs[0]!.shape as [null, number, number, number];
  if (channels !== 1 && channels !== 3) throw new ConfigError(`the model of run ${run.id} takes ${channels} channels; glyphlab reads 1 or 3`);
  return { runId: run.id, model, modelDir, inputShape: [height, width, channels], config: run.config, architecture: readArchitecture(run) };
}
