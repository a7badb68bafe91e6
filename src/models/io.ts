/**
 * Saving and loading models in the tfjs layers format (`model.json` + `weights.bin`) on the
 * local file system. Plain `@tensorflow/tfjs` has no `file://` handler (that comes with
 * tfjs-node, which most users lack), so glyphlab writes the artifacts itself. Writes are atomic:
 * a crash while saving leaves the previous checkpoint intact.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DataError } from '../errors';
// A saved model may use any of glyphlab's layer classes: register them before loading one.
import './custom-layers';

/** File names of a saved model. */
export const MODEL_JSON = 'model.json';
export const MODEL_WEIGHTS = 'weights.bin';
const OPTIMIZER_JSON = 'optimizer.json';
const OPTIMIZER_WEIGHTS = 'optimizer.bin';

/** Writes `files` into `dir` atomically: into a sibling temp folder, then renamed over `dir`. */
function writeFolderAtomically(dir: string, files: Record<string, string | Uint8Array>): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(tmp, name), content);
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}

function concatBuffers(data: ArrayBuffer | ArrayBuffer[] | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  const parts = Array.isArray(data) ? data : [data];
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), offset);
    offset += p.byteLength;
  }
  return out;
}

/** Options of {@link saveModel}. */
export interface SaveModelOptions {
  /** Also save the optimizer's state (moments, iterations) so that training resumes exactly. Defaults to none. */
  optimizer?: tf.Optimizer;
  /** Extra JSON written as `meta.json` (epoch, learning rate, ...). Defaults to none. */
  meta?: Record<string, unknown>;
}

/**
 * Saves `model` into folder `dir` (created; replaced atomically when it exists) and returns the
 * path of its `model.json`.
 */
export async function saveModel(model: tf.LayersModel, dir: string, options: SaveModelOptions = {}): Promise<string> {
  const files: Record<string, string | Uint8Array> = {};
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const { weightData, weightSpecs, ...rest } = artifacts;
      files[MODEL_WEIGHTS] = concatBuffers(weightData as ArrayBuffer | ArrayBuffer[] | undefined);
      files[MODEL_JSON] = JSON.stringify({
        format: rest.format ?? 'layers-model',
        generatedBy: rest.generatedBy,
        convertedBy: rest.convertedBy ?? null,
        modelTopology: rest.modelTopology,
        weightsManifest: [{ paths: [`./${MODEL_WEIGHTS}`], weights: weightSpecs ?? [] }],
      });
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (options.optimizer) {
    const named = await options.optimizer.getWeights();
    const { data, specs } = await tf.io.encodeWeights(named);
    files[OPTIMIZER_WEIGHTS] = new Uint8Array(data);
    files[OPTIMIZER_JSON] = JSON.stringify({ className: options.optimizer.getClassName(), specs });
  }
  if (options.meta) files['meta.json'] = JSON.stringify(options.meta, null, 1);
  writeFolderAtomically(dir, files);
  return join(dir, MODEL_JSON);
}

function readJson(path: string, what: string): unknown {
  if (!existsSync(path)) throw new DataError(`${what} ${path} does not exist; expected a folder written by saveModel (model.json + weights.bin)`);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new DataError(`${what} ${path} is not valid JSON (${(error as Error).message})`);
  }
}

/** Loads a model saved by {@link saveModel} (or any tfjs layers-format folder with one weights file per group). */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const jsonPath = join(dir, MODEL_JSON);
  const json = readJson(jsonPath, 'model file') as {
    modelTopology?: object;
    weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
    format?: string;
  };
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new DataError(`model file ${jsonPath} has no modelTopology or weightsManifest; expected the tfjs layers format`);
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      const file = join(dir, p);
      if (!existsSync(file)) throw new DataError(`weights file ${file}, named by ${jsonPath}, does not exist`);
      buffers.push(readFileSync(file));
    }
  }
  const weightData = concatBuffers(buffers.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer)).buffer as ArrayBuffer;
  const expected = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (weightData.byteLength < expected) {
    throw new DataError(`weights of ${jsonPath} hold ${weightData.byteLength} bytes but the manifest needs ${expected}; the checkpoint is truncated`);
  }
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData, format: json.format }));
}

/** Restores an optimizer's state saved with the model, when `dir` holds one. Returns whether it did. */
export async function loadOptimizerState(dir: string, optimizer: tf.Optimizer): Promise<boolean> {
  const jsonPath = join(dir, OPTIMIZER_JSON);
  if (!existsSync(jsonPath)) return false;
  const json = readJson(jsonPath, 'optimizer state') as { className: string; specs: tf.io.WeightsManifestEntry[] };
  if (json.className !== optimizer.getClassName()) {
    throw new DataError(`optimizer state ${jsonPath} is for ${json.className}, not ${optimizer.getClassName()}; resume with the same --optimizer`);
  }
  const bytes = readFileSync(join(dir, OPTIMIZER_WEIGHTS));
  const map = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, json.specs);
  // setWeights wants the saved order (iterations first, then per-variable slots).
  await optimizer.setWeights(json.specs.map((s) => ({ name: s.name, tensor: map[s.name] as tf.Tensor })));
  return true;
}

/** Reads the `meta.json` a checkpoint was saved with, or undefined. */
export function readModelMeta(dir: string): Record<string, unknown> | undefined {
  const path = join(dir, 'meta.json');
  return existsSync(path) ? (readJson(path, 'checkpoint metadata') as Record<string, unknown>) : undefined;
}
