/**
 * Finding and loading the model a recorded run saved, for evaluation and prediction.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors';
import { loadModel } from '../models/io';
import { getRun } from '../tracker/query';
import { closeStore, openStore } from '../tracker/store';
import { runsDirFor } from '../util/paths';
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
 * Loads the final model of run `runId` (artifact kind 'model'), else its best checkpoint, else
 * its last checkpoint.
 */
export async function loadRunModel(runId: string, options: { dbPath?: string; checkpoint?: 'model' | 'best' | 'last' } = {}): Promise<RunModel> {
  const store = openStore(options.dbPath, { readonly: true });
  let run;
  try {
    run = getRun(store, runId);
  } finally {
    closeStore(store);
  }
  const wanted = options.checkpoint;
  const byKind = new Map(run.artifacts.map((a) => [a.kind, dirname(a.path)]));
  const candidates = [
    ...(wanted === undefined || wanted === 'model' ? [byKind.get('model')] : []),
    ...(wanted === undefined || wanted === 'best' ? [byKind.get('checkpoint-best')] : []),
    ...(wanted === undefined || wanted === 'last' ? [byKind.get('checkpoint-last')] : []),
    join(runsDirFor(store.file), run.id, wanted ?? 'model'),
  ].filter((d): d is string => d !== undefined);
  const modelDir = candidates.find((d) => existsSync(join(d, 'model.json')));
  if (!modelDir) {
    throw new ConfigError(
      `run ${run.id} (${run.status}) has no saved ${wanted ?? 'model or checkpoint'}; looked in ${[...new Set(candidates)].join(', ')}`,
    );
  }
  const model = await loadModel(modelDir);
  const [, height, width, channels] = model.inputs[0]!.shape as [null, number, number, number];
  if (channels !== 1 && channels !== 3) throw new ConfigError(`the model of run ${run.id} takes ${channels} channels; glyphlab reads 1 or 3`);
  return { runId: run.id, model, modelDir, inputShape: [height, width, channels], config: run.config, architecture: readArchitecture(run) };
}
