/**
 * Saving and loading models in the tfjs layers format (`model.json` + `weights.bin`) on the
 * local file system. Plain `@tensorflow/tfjs` has no `file://` handler (that comes with
 * tfjs-node, which most users lack), so glyphlab writes the artifacts itself, through
 * saved-folder.ts: a crash at any point of a save leaves one complete copy, and every file is
 * checked against the folder's `manifest.json` (size and SHA-256) when it is loaded.
 */
import { join, posix } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DataError, errorMessage } from '../errors';
import { type OpenSavedFolderOptions, readSavedFile, readSavedFolder, type SavedFolder, writeSavedFolder } from './saved-folder';
// A saved model may use any of glyphlab's layer classes: register them before loading one.
import './custom-layers';

/** File names of a saved model. */
export const MODEL_JSON = 'model.json';
export const MODEL_WEIGHTS = 'weights.bin';
const OPTIMIZER_JSON = 'optimizer.json';
const OPTIMIZER_WEIGHTS = 'optimizer.bin';
const META_JSON = 'meta.json';

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
 * Saves `model` into folder `dir` (created; replaced atomically when it exists, each file flushed
 * to the disk, with a `manifest.json` of every file's size and SHA-256) and returns the path of
 * its `model.json`.
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
  if (options.meta) files[META_JSON] = JSON.stringify(options.meta, null, 1);
  writeSavedFolder(dir, files);
  return join(dir, MODEL_JSON);
}

/**
 * Options of {@link loadModel}, {@link loadOptimizerState} and {@link readModelMeta}: `warn`, told
 * when a crash left the folder under a temporary name and it is recovered.
 */
export type LoadModelOptions = OpenSavedFolderOptions;

function parseJson(bytes: Buffer, path: string, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new DataError(`${what} ${path} is not valid JSON (${errorMessage(error)})`, { cause: error });
  }
}

/** Bytes per value of a weight as stored (quantised weights by their storage type); undefined for types of no fixed size. */
function storedBytes(spec: tf.io.WeightsManifestEntry): number | undefined {
  const sizes: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };
  const size = sizes[spec.quantization?.dtype ?? spec.dtype];
  return size === undefined ? undefined : size * spec.shape.reduce((a, b) => a * b, 1);
}

/** The bytes `specs` take, or undefined when one of them has no fixed size (strings). */
function specsBytes(specs: readonly tf.io.WeightsManifestEntry[]): number | undefined {
  let total = 0;
  for (const spec of specs) {
    const bytes = storedBytes(spec);
    if (bytes === undefined) return undefined;
    total += bytes;
  }
  return total;
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

interface ModelFiles {
  jsonPath: string;
  modelTopology: object;
  format: string | undefined;
  specs: tf.io.WeightsManifestEntry[];
  weightData: ArrayBuffer;
}

/** Reads (and checks) a model's files; builds nothing, so that a save racing the read can be retried. */
function readModelFiles(folder: SavedFolder): ModelFiles {
  const jsonPath = join(folder.dir, MODEL_JSON);
  const bytes = readSavedFile(folder, MODEL_JSON);
  if (bytes === undefined) throw new DataError(`model file ${jsonPath} does not exist; expected a folder written by saveModel (model.json + weights.bin)`);
  const json = parseJson(bytes, jsonPath, 'model file') as {
    modelTopology?: object;
    weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
    format?: string;
  };
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new DataError(`model file ${jsonPath} has no modelTopology or weightsManifest; expected the tfjs layers format`);
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  const files: string[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      // The manifest names files as saveModel wrote them: `weights.bin`, where model.json says `./weights.bin`.
      const name = posix.normalize(p);
      const file = join(folder.dir, name);
      const content = readSavedFile(folder, name);
      if (content === undefined) throw new DataError(`weights file ${file}, named by ${jsonPath}, does not exist`);
      buffers.push(content);
      files.push(file);
    }
  }
  const weightData = concatBuffers(buffers.map(toArrayBuffer)).buffer as ArrayBuffer;
  const expected = specsBytes(specs);
  if (expected !== undefined && weightData.byteLength !== expected) {
    throw new DataError(
      `${files.join(' + ')}: ${jsonPath} describes ${expected} bytes of weights, found ${weightData.byteLength}; the saved model is damaged (cut short or overwritten)`,
    );
  }
  return { jsonPath, modelTopology: json.modelTopology, format: json.format, specs, weightData };
}

/**
 * Loads a model saved by {@link saveModel} (or any tfjs layers-format folder with one weights file
 * per group). Every file is checked against the folder's `manifest.json` when it has one; a
 * file that does not match (or a folder saved without one whose weights do not fit model.json)
 * is a DataError naming it. A folder that a crash left under a temporary name is recovered (see
 * `openSavedFolder`), and `options.warn` is told.
 */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<tf.LayersModel> {
  const files = readSavedFolder(dir, options, readModelFiles);
  try {
    return await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: files.modelTopology, weightSpecs: files.specs, weightData: files.weightData, format: files.format }));
  } catch (error) {
    throw new DataError(`model file ${files.jsonPath} does not load (${errorMessage(error)})`, { cause: error });
  }
}

interface OptimizerFiles {
  jsonPath: string;
  binPath: string;
  className: string;
  specs: tf.io.WeightsManifestEntry[];
  bytes: Buffer;
}

function readOptimizerFiles(folder: SavedFolder): OptimizerFiles | undefined {
  const jsonPath = join(folder.dir, OPTIMIZER_JSON);
  const binPath = join(folder.dir, OPTIMIZER_WEIGHTS);
  const text = readSavedFile(folder, OPTIMIZER_JSON);
  if (text === undefined) return undefined;
  const json = parseJson(text, jsonPath, 'optimizer state') as { className?: unknown; specs?: unknown };
  if (typeof json.className !== 'string' || !Array.isArray(json.specs)) {
    throw new DataError(`optimizer state ${jsonPath} has no className or specs; expected a file written by saveModel`);
  }
  const specs = json.specs as tf.io.WeightsManifestEntry[];
  const bytes = readSavedFile(folder, OPTIMIZER_WEIGHTS);
  if (bytes === undefined) throw new DataError(`${binPath}: does not exist, though ${jsonPath} describes ${specs.length} tensors of optimizer state`);
  const expected = specsBytes(specs);
  if (expected !== undefined && bytes.byteLength !== expected) {
    throw new DataError(`${binPath}: ${jsonPath} describes ${expected} bytes of optimizer state, found ${bytes.byteLength}; the saved model is damaged (cut short or overwritten)`);
  }
  return { jsonPath, binPath, className: json.className, specs, bytes };
}

/** Restores an optimizer's state saved with the model, when `dir` holds one. Returns whether it did. */
export async function loadOptimizerState(dir: string, optimizer: tf.Optimizer, options: LoadModelOptions = {}): Promise<boolean> {
  const files = readSavedFolder(dir, options, readOptimizerFiles);
  if (files === undefined) return false;
  if (files.className !== optimizer.getClassName()) {
    throw new DataError(`optimizer state ${files.jsonPath} is for ${files.className}, not ${optimizer.getClassName()}; resume with the same --optimizer`);
  }
  let map: tf.NamedTensorMap;
  try {
    map = tf.io.decodeWeights(toArrayBuffer(files.bytes), files.specs);
  } catch (error) {
    throw new DataError(`${files.binPath}: does not decode as the optimizer state ${files.jsonPath} describes (${errorMessage(error)})`, { cause: error });
  }
  // setWeights wants the saved order (iterations first, then per-variable slots).
  await optimizer.setWeights(files.specs.map((s) => ({ name: s.name, tensor: map[s.name] as tf.Tensor })));
  return true;
}

/** Reads the `meta.json` a checkpoint was saved with (checked against its manifest), or undefined. */
export function readModelMeta(dir: string, options: LoadModelOptions = {}): Record<string, unknown> | undefined {
  return readSavedFolder(dir, options, (folder) => {
    const bytes = readSavedFile(folder, META_JSON);
    return bytes === undefined ? undefined : (parseJson(bytes, join(folder.dir, META_JSON), 'checkpoint metadata') as Record<string, unknown>);
  });
}
