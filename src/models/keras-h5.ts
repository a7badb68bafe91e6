/**
 * Pretrained weights from files other tools wrote: Keras HDF5 weight files (read with h5wasm, a
 * WebAssembly build of the HDF5 library, so nothing native is needed) and tfjs layers-format
 * folders. Weights are matched to a model's layers by layer name, as Keras' `by_name` loading
 * does, and every shape is checked before any value is written, so a bad file never leaves a
 * model half-loaded.
 */
import { existsSync, openSync, readSync, closeSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import type * as H5 from 'h5wasm';
import { ConfigError, DataError } from '../errors';

/** One weight array read from a file. */
export interface NamedWeight {
  /** The name the file gives it, e.g. `block1_conv1_W_1:0` or `block1_conv1/kernel`. */
  name: string;
  shape: number[];
  values: Float32Array;
}

/** Weights read from a file, by layer name, each layer's weights in the file's order. */
export interface LayerWeightsFile {
  /** Absolute path of the file (or of the tfjs `model.json`). */
  path: string;
  format: 'keras-h5' | 'tfjs-layers';
  /** Every layer name the file lists, including those without weights (pooling, input). */
  layerNames: string[];
  /** Weights of the layers that were read (all, or those asked for). */
  layers: Map<string, NamedWeight[]>;
}

/** Options of {@link readLayerWeights}. */
export interface ReadLayerWeightsOptions {
  /** Read only these layers (others are listed but not read). Defaults to all layers. */
  layers?: readonly string[];
}

type H5Module = typeof H5;
let h5Module: Promise<H5Module> | undefined;

/**
 * h5wasm's Node build (loaded once), also for code that writes HDF5 files. The package is
 * ES-module-only and exports no `require` condition, so its file is required by path (Node
 * 20.19+ can `require()` an ES module without top-level await); older Nodes fall back to a
 * dynamic `import()` hidden from the CommonJS transpilers of tsx and tslab, which would turn it
 * into a `require()`.
 */
export function loadH5wasm(): Promise<H5Module> {
  h5Module ??= (async () => {
    const file = require.resolve
      .paths('h5wasm')
      ?.map((dir) => join(dir, 'h5wasm', 'dist', 'node', 'hdf5_hl.js'))
      .find((candidate) => existsSync(candidate));
    if (!file) throw new ConfigError('the npm package h5wasm is not installed; it reads Keras .h5 weight files (`npm ci` installs it)');
    let module: H5Module;
    try {
      module = require(file) as H5Module;
    } catch (error) {
      if ((error as { code?: string }).code !== 'ERR_REQUIRE_ESM') throw error;
      const dynamicImport = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<H5Module>;
      module = await dynamicImport(pathToFileURL(file).href);
    }
    await module.ready;
    return module;
  })();
  return h5Module;
}

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Whether `path` starts like an HDF5 file. The signature sits at byte 0, or at 512, 1024, ...
 * when a user block precedes it. Checked before opening because the HDF5 library answers a
 * non-HDF5 file with a page of diagnostics on stderr and no exception.
 */
function hasHdf5Signature(path: string): boolean {
  const size = statSync(path).size;
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(HDF5_SIGNATURE.length);
    for (let offset = 0; offset + head.length <= size; offset = offset === 0 ? 512 : offset * 2) {
      readSync(fd, head, 0, head.length, offset);
      if (head.equals(HDF5_SIGNATURE)) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

/** Keras splits long name-list attributes into `name0`, `name1`, ... (HDF5's 64 KB header limit). */
function stringListAttribute(object: H5.Group, name: string): string[] | undefined {
  const attrs = object.attrs;
  const toList = (value: unknown): string[] => (Array.isArray(value) ? value.map((v) => String(v)) : value === null || value === undefined ? [] : [String(value)]);
  if (name in attrs) return toList(attrs[name]?.value);
  if (!(`${name}0` in attrs)) return undefined;
  const list: string[] = [];
  for (let chunk = 0; `${name}${chunk}` in attrs; chunk++) list.push(...toList(attrs[`${name}${chunk}`]?.value));
  return list;
}

/** The innermost reason of an HDF5 error stack (its last `#nnn: ... in fn(): reason` line). */
function hdf5Reason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const reasons = [...text.matchAll(/#\d+: .* in [\w.]+\(\): (.*)$/gm)].map((m) => m[1]?.trim());
  return reasons[reasons.length - 1] ?? text.split('\n')[0] ?? 'unknown HDF5 error';
}

function readDataset(file: string, group: H5.Group, layer: string, weightName: string): NamedWeight {
  const entity = group.get(weightName);
  if (!entity || entity.constructor.name !== 'Dataset') {
    throw new DataError(`${file}: layer ${layer} names weight ${weightName} in its weight_names, but there is no such dataset; the file is incomplete or corrupted`);
  }
  const dataset = entity as H5.Dataset;
  const shape = dataset.shape ?? [];
  let raw: unknown;
  try {
    raw = dataset.value;
  } catch (error) {
    throw new DataError(`${file}: cannot read weight ${layer}/${weightName} (${hdf5Reason(error)}); the file is truncated or corrupted`, { cause: error });
  }
  let values: Float32Array;
  if (raw instanceof Float32Array) values = raw;
  else if (raw instanceof Float64Array) values = Float32Array.from(raw);
  else throw new DataError(`${file}: weight ${layer}/${weightName} has type ${JSON.stringify(dataset.dtype)}; accepted are float32 and float64`);
  const size = shape.reduce((a, b) => a * b, 1);
  if (values.length !== size) {
    throw new DataError(`${file}: weight ${layer}/${weightName} holds ${values.length} values but its shape [${shape.join(', ')}] needs ${size}`);
  }
  return { name: weightName, shape, values };
}

/**
 * Reads a Keras HDF5 weights file (`model.save_weights(...)` or the `model_weights` group of a
 * whole-model save), e.g. `vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5`. The layout, as
 * Keras 1 and 2 write it: a root attribute `layer_names`; one group per layer with an attribute
 * `weight_names` listing dataset paths inside the group (`block1_conv1_W_1:0` in the original
 * VGG files, `block1_conv1/kernel:0` from Keras 2), in the order of the layer's weights.
 */
export async function readKerasH5Weights(path: string, options: ReadLayerWeightsOptions = {}): Promise<LayerWeightsFile> {
  const file = resolve(path);
  if (!existsSync(file)) throw new DataError(`Keras weights file ${file} does not exist`);
  if (statSync(file).isDirectory()) throw new DataError(`${file} is a folder; expected a Keras .h5 weights file (or a tfjs folder holding model.json)`);
  if (!hasHdf5Signature(file)) throw new DataError(`${file} is not an HDF5 file (no HDF5 signature); expected a Keras .h5 weights file`);
  const h5 = await loadH5wasm();
  // HDF5 reports failures by printing its error stack to stderr; this handler throws it instead.
  h5.Module.activate_throwing_error_handler();
  let handle: H5.File | undefined;
  try {
    handle = new h5.File(file, 'r');
    if (handle.file_id < 0n) throw new Error('H5Fopen returned no file');
    const root = handle.keys().includes('model_weights') ? (handle.get('model_weights') as H5.Group) : handle;
    const layerNames = stringListAttribute(root, 'layer_names');
    if (!layerNames) throw new DataError(`${file} has no layer_names attribute; expected a Keras weights file written by save_weights()`);
    const wanted = options.layers ? new Set(options.layers) : undefined;
    const layers = new Map<string, NamedWeight[]>();
    for (const layer of layerNames) {
      if (wanted && !wanted.has(layer)) continue;
      const group = root.get(layer);
      if (!group || group.constructor.name !== 'Group') {
        throw new DataError(`${file}: layer_names lists ${layer} but the file has no group of that name; the file is incomplete or corrupted`);
      }
      const weightNames = stringListAttribute(group as H5.Group, 'weight_names') ?? [];
      layers.set(layer, weightNames.map((name) => readDataset(file, group as H5.Group, layer, name)));
    }
    return { path: file, format: 'keras-h5', layerNames, layers };
  } catch (error) {
    if (error instanceof DataError) throw error;
    throw new DataError(`${file} could not be read as HDF5 (${hdf5Reason(error)}); the file is truncated or corrupted`, { cause: error });
  } finally {
    if (handle && handle.file_id >= 0n) handle.close();
    h5.Module.deactivate_throwing_error_handler();
  }
}

interface TfjsManifestGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

/**
 * Reads the weights of a tfjs layers-format model (`model.json` plus its weight shards, as
 * `tensorflowjs_converter` or glyphlab's `saveModel` write them). `path` is the folder or its
 * `model.json`. A weight `block1_conv1/kernel` belongs to layer `block1_conv1` (the part before
 * the first `/`).
 */
export async function readTfjsLayersWeights(path: string, options: ReadLayerWeightsOptions = {}): Promise<LayerWeightsFile> {
  const jsonPath = resolve(existsSync(path) && statSync(path).isDirectory() ? join(path, 'model.json') : path);
  if (!existsSync(jsonPath)) throw new DataError(`tfjs model file ${jsonPath} does not exist; expected a folder holding model.json and its weight files`);
  let manifest: TfjsManifestGroup[];
  try {
    manifest = (JSON.parse(readFileSync(jsonPath, 'utf8')) as { weightsManifest?: TfjsManifestGroup[] }).weightsManifest ?? [];
  } catch (error) {
    throw new DataError(`${jsonPath} is not valid JSON (${(error as Error).message}); expected a tfjs layers-format model.json`, { cause: error });
  }
  if (!Array.isArray(manifest) || manifest.length === 0) throw new DataError(`${jsonPath} has no weightsManifest; expected a tfjs layers-format model.json`);
  const wanted = options.layers ? new Set(options.layers) : undefined;
  const layerNames: string[] = [];
  const layers = new Map<string, NamedWeight[]>();
  for (const group of manifest) {
    const shards = group.paths.map((p) => {
      const shard = join(dirname(jsonPath), p);
      if (!existsSync(shard)) throw new DataError(`weights file ${shard}, named by ${jsonPath}, does not exist`);
      return readFileSync(shard);
    });
    const bytes = Buffer.concat(shards);
    let decoded: tf.NamedTensorMap;
    try {
      decoded = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, group.weights);
    } catch (error) {
      throw new DataError(`${jsonPath}: cannot decode weights ${group.paths.join(', ')} (${(error as Error).message}); the files are truncated or do not match the manifest`, { cause: error });
    }
    try {
      for (const spec of group.weights) {
        const layer = spec.name.split('/')[0] ?? spec.name;
        if (!layerNames.includes(layer)) layerNames.push(layer);
        if (wanted && !wanted.has(layer)) continue;
        const tensor = decoded[spec.name] as tf.Tensor;
        if (tensor.dtype !== 'float32') throw new DataError(`${jsonPath}: weight ${spec.name} has dtype ${tensor.dtype}; accepted is float32`);
        const list = layers.get(layer) ?? [];
        list.push({ name: spec.name, shape: [...spec.shape], values: tensor.dataSync() as Float32Array });
        layers.set(layer, list);
      }
    } finally {
      tf.dispose(decoded);
    }
  }
  return { path: jsonPath, format: 'tfjs-layers', layerNames, layers };
}

/**
 * Reads layer weights from a Keras `.h5` file or a tfjs layers-format folder / `model.json`,
 * choosing by what `path` is.
 */
export function readLayerWeights(path: string, options: ReadLayerWeightsOptions = {}): Promise<LayerWeightsFile> {
  const isTfjs = (existsSync(path) && statSync(path).isDirectory()) || basename(path).endsWith('.json');
  return isTfjs ? readTfjsLayersWeights(path, options) : readKerasH5Weights(path, options);
}

function shapeText(shape: readonly (number | null)[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Writes the weights of `layers` (names) from `file` into `model`, matching layers by name and
 * weights by order (as Keras does). Every layer and shape is checked first; on any mismatch
 * nothing is written and the error names the layer, the expected and found shapes, and the file.
 * Returns the names of the layers loaded.
 */
export function setLayerWeights(model: tf.LayersModel, file: LayerWeightsFile, layers: readonly string[]): string[] {
  const plan: { layer: tf.layers.Layer; weights: NamedWeight[] }[] = [];
  for (const name of layers) {
    const layer = model.layers.find((l) => l.name === name);
    if (!layer) throw new ConfigError(`model ${model.name} has no layer ${name}; its layers are ${model.layers.map((l) => l.name).join(', ')}`);
    const weights = file.layers.get(name);
    if (!weights) {
      throw new DataError(`${file.path} has no weights for layer ${name}; the file lists ${file.layerNames.slice(0, 30).join(', ') || 'no layers'}`);
    }
    const expected = layer.weights;
    if (weights.length !== expected.length) {
      throw new DataError(`${file.path}: layer ${name} has ${weights.length} weights in the file (${weights.map((w) => w.name).join(', ') || 'none'}) but the model's layer has ${expected.length} (${expected.map((w) => w.originalName).join(', ')})`);
    }
    expected.forEach((variable, i) => {
      const found = weights[i] as NamedWeight;
      if (found.shape.length !== variable.shape.length || found.shape.some((d, k) => d !== variable.shape[k])) {
        throw new DataError(`${file.path}: layer ${name} weight ${found.name}: the model expects shape ${shapeText(variable.shape)} but the file holds ${shapeText(found.shape)}`);
      }
    });
    plan.push({ layer, weights });
  }
  for (const { layer, weights } of plan) {
    const tensors = weights.map((w) => tf.tensor(w.values, w.shape, 'float32'));
    try {
      layer.setWeights(tensors);
    } finally {
      tf.dispose(tensors);
    }
  }
  return plan.map((p) => p.layer.name);
}
