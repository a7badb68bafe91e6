/**
 * Weight quantisation for deployment ("INT8 weight quantisation", as the reference implementation
 * asks). Each float32 weight tensor is stored as 8-bit (or 16-bit) integers with its own scale and
 * minimum, the affine scheme of tfjs-converter (`--quantize_uint8`): `q = round((w - min) /
 * scale)`, `w ~ q * scale + min`, with `min` nudged so that 0 stays exactly representable. Files in
 * 'uint8'/'uint16' are standard tfjs layers models (any tfjs loader dequantises them); 'int8' is
 * symmetric (`w ~ q * scale`, q in -127..127) and only this module reads it back.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError, errorMessage } from '../errors';
import './custom-layers';

/** Integer types weights can be stored in. */
export type QuantizationDtype = 'uint8' | 'uint16' | 'int8';

const QUANTIZATION_DTYPES: readonly QuantizationDtype[] = ['uint8', 'uint16', 'int8'];

/** A weight's quantisation parameters as written in `model.json` (tfjs's field, plus int8). */
interface QuantizationSpec {
  dtype: QuantizationDtype;
  scale: number;
  min?: number;
}

type WeightSpec = Omit<tf.io.WeightsManifestEntry, 'quantization'> & { quantization?: QuantizationSpec };

export interface QuantizeOptions {
  /** Integer type of the stored weights. Defaults to 'uint8'. */
  dtype?: QuantizationDtype;
  /**
   * Weights with fewer values than this stay float32: biases and batch-norm scales and
   * statistics, a sliver of the size but the most sensitive to rounding (a batch norm's moving
   * variance rounded to 0 divides its channel by sqrt(epsilon), which took a batch-normalised
   * MNIST CNN from 98.6% to 10% test accuracy). 0 quantises every float32 weight. Defaults to 1024.
   */
  minElements?: number;
}

/** A model's artifacts with quantised weights, and how much smaller they are. */
export interface QuantizedArtifacts {
  modelTopology: object;
  weightSpecs: WeightSpec[];
  weightData: ArrayBuffer;
  /** Bytes of the quantised weights. */
  weightBytes: number;
  /** Bytes the same weights take as float32. */
  floatWeightBytes: number;
}

function concat(weightData: ArrayBuffer | ArrayBuffer[] | undefined): Uint8Array {
  const parts = weightData === undefined ? [] : Array.isArray(weightData) ? weightData : [weightData];
  const out = new Uint8Array(parts.reduce((n, b) => n + b.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(new Uint8Array(part), offset);
    offset += part.byteLength;
  }
  return out;
}

/** Affine range of tfjs-converter: scale and a min nudged so that 0.0 maps to an integer. */
function affineRange(values: Float32Array, levels: number): { scale: number; min: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(hi > lo)) return { scale: 1, min: Number.isFinite(lo) ? lo : 0 };
  const scale = (hi - lo) / levels;
  const zeroPoint = Math.min(levels, Math.max(0, Math.round(-lo / scale)));
  return { scale, min: -zeroPoint * scale };
}

/** Quantises one tensor's values; returns the integer bytes and the spec's quantisation field. */
export function quantizeValues(values: Float32Array, dtype: QuantizationDtype): { bytes: Uint8Array; quantization: QuantizationSpec } {
  if (dtype === 'int8') {
    let maxAbs = 0;
    for (const v of values) maxAbs = Math.max(maxAbs, Math.abs(v));
    const scale = maxAbs > 0 ? maxAbs / 127 : 1;
    const q = new Int8Array(values.length);
    for (let i = 0; i < values.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(values[i]! / scale)));
    return { bytes: new Uint8Array(q.buffer), quantization: { dtype, scale } };
  }
  const levels = dtype === 'uint8' ? 255 : 65535;
  const { scale, min } = affineRange(values, levels);
  const q = dtype === 'uint8' ? new Uint8Array(values.length) : new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) q[i] = Math.max(0, Math.min(levels, Math.round((values[i]! - min) / scale)));
  return { bytes: new Uint8Array(q.buffer), quantization: { dtype, scale, min } };
}

/**
 * The model's topology and weights with every float32 weight of at least `minElements` values
 * quantised (smaller ones and other dtypes are kept as they are).
 */
export async function quantizeModel(model: tf.LayersModel, options: QuantizeOptions = {}): Promise<QuantizedArtifacts> {
  const dtype = options.dtype ?? 'uint8';
  const minElements = options.minElements ?? 1024;
  if (!(minElements >= 0)) throw new ConfigError(`minElements ${minElements} must be a number >= 0`);
  if (!QUANTIZATION_DTYPES.includes(dtype)) throw new ConfigError(`quantisation dtype ${JSON.stringify(dtype)} is not one of: ${QUANTIZATION_DTYPES.join(', ')}`);
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (saved) => {
      artifacts = saved;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts?.modelTopology || !artifacts.weightSpecs) throw new ConfigError(`model ${model.name} produced no topology or weights to quantise`);
  const data = concat(artifacts.weightData as ArrayBuffer | ArrayBuffer[] | undefined);
  const parts: Uint8Array[] = [];
  const weightSpecs: WeightSpec[] = [];
  let offset = 0;
  let floatWeightBytes = 0;
  for (const spec of artifacts.weightSpecs) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const byteLength = count * 4; // float32 and int32 weights alike
    const slice = data.slice(offset, offset + byteLength);
    offset += byteLength;
    floatWeightBytes += byteLength;
    if (spec.dtype !== 'float32' || count < minElements) {
      parts.push(slice);
      weightSpecs.push({ ...(spec as WeightSpec) });
      continue;
    }
    const { bytes, quantization } = quantizeValues(new Float32Array(slice.buffer), dtype);
    parts.push(bytes);
    weightSpecs.push({ ...(spec as WeightSpec), quantization });
  }
  const weightData = concat(parts.map((p) => p.buffer.slice(p.byteOffset, p.byteOffset + p.byteLength) as ArrayBuffer));
  return { modelTopology: artifacts.modelTopology, weightSpecs, weightData: weightData.buffer as ArrayBuffer, weightBytes: weightData.byteLength, floatWeightBytes };
}

/** Turns int8 weights (which tfjs cannot read) back into float32; uint8/uint16 are left to tfjs. */
function dequantizeInt8(specs: WeightSpec[], data: Uint8Array, source: string): { specs: WeightSpec[]; data: ArrayBuffer } {
  const outSpecs: WeightSpec[] = [];
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const spec of specs) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const q = spec.quantization;
    const bytesPerValue = q ? (q.dtype === 'uint16' ? 2 : 1) : 4;
    const byteLength = count * bytesPerValue;
    if (offset + byteLength > data.length) {
      throw new DataError(`${source}: weight ${spec.name} needs bytes ${offset}-${offset + byteLength} but the weights hold ${data.length}; the file is truncated`);
    }
    const slice = data.slice(offset, offset + byteLength);
    offset += byteLength;
    if (q?.dtype === 'int8') {
      const ints = new Int8Array(slice.buffer);
      const floats = new Float32Array(count);
      for (let i = 0; i < count; i++) floats[i] = ints[i]! * q.scale;
      parts.push(new Uint8Array(floats.buffer));
      const { quantization: _dropped, ...plain } = spec;
      outSpecs.push(plain);
    } else {
      parts.push(slice);
      outSpecs.push(spec);
    }
  }
  if (offset !== data.length) throw new DataError(`${source}: weights hold ${data.length} bytes but the manifest describes ${offset}`);
  return { specs: outSpecs, data: concat(parts.map((p) => p.buffer as ArrayBuffer)).buffer as ArrayBuffer };
}

/** Builds a float model back from quantised artifacts (for prediction; weights are dequantised). */
export async function loadQuantizedArtifacts(artifacts: Pick<QuantizedArtifacts, 'modelTopology' | 'weightSpecs' | 'weightData'>, source = 'quantised model'): Promise<tf.LayersModel> {
  const { specs, data } = dequantizeInt8(artifacts.weightSpecs, new Uint8Array(artifacts.weightData), source);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: artifacts.modelTopology, weightSpecs: specs as tf.io.WeightsManifestEntry[], weightData: data, format: 'layers-model' }));
}

/** What {@link saveQuantizedModel} wrote. */
export interface SavedQuantizedModel {
  modelPath: string;
  weightsPath: string;
  /** Bytes of the weights file. */
  weightBytes: number;
  /** Bytes the weights take as float32. */
  floatWeightBytes: number;
  /** Bytes of model.json + weights. */
  totalBytes: number;
  dtype: QuantizationDtype;
}

/**
 * Saves `model` with quantised weights into folder `dir` as `model.json` + `weights.bin` (the
 * tfjs layers format; 'uint8'/'uint16' load in any tfjs) and reports the sizes.
 *
 * @example
 * const saved = await saveQuantizedModel(model, 'experiments/digits/int8', { dtype: 'uint8' });
 * console.log(`${saved.weightBytes} bytes, ${(saved.floatWeightBytes / saved.weightBytes).toFixed(1)}x smaller`);
 */
export async function saveQuantizedModel(model: tf.LayersModel, dir: string, options: QuantizeOptions = {}): Promise<SavedQuantizedModel> {
  const quantized = await quantizeModel(model, options);
  mkdirSync(dir, { recursive: true });
  const modelPath = join(dir, 'model.json');
  const weightsPath = join(dir, 'weights.bin');
  writeFileSync(weightsPath, new Uint8Array(quantized.weightData));
  writeFileSync(
    modelPath,
    JSON.stringify({
      format: 'layers-model',
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
      convertedBy: 'glyphlab quantize',
      modelTopology: quantized.modelTopology,
      weightsManifest: [{ paths: ['./weights.bin'], weights: quantized.weightSpecs }],
    }),
  );
  return {
    modelPath,
    weightsPath,
    weightBytes: quantized.weightBytes,
    floatWeightBytes: quantized.floatWeightBytes,
    totalBytes: quantized.weightBytes + statSync(modelPath).size,
    dtype: options.dtype ?? 'uint8',
  };
}

/** Loads a model saved by {@link saveQuantizedModel} (or any single-weights-file tfjs layers model) for prediction. */
export async function loadQuantizedModel(dir: string): Promise<tf.LayersModel> {
  const modelPath = join(dir, 'model.json');
  if (!existsSync(modelPath)) throw new DataError(`${modelPath} does not exist; expected a folder written by saveQuantizedModel (model.json + weights.bin)`);
  let json: { modelTopology?: object; weightsManifest?: { paths: string[]; weights: WeightSpec[] }[] };
  try {
    json = JSON.parse(readFileSync(modelPath, 'utf8')) as typeof json;
  } catch (error) {
    throw new DataError(`${modelPath} is not valid JSON (${errorMessage(error)})`, { cause: error });
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new DataError(`${modelPath} has no modelTopology or weightsManifest; expected the tfjs layers format`);
  }
  const specs: WeightSpec[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const path of group.paths) {
      const file = join(dir, path);
      if (!existsSync(file)) throw new DataError(`weights file ${file}, named by ${modelPath}, does not exist`);
      const bytes = readFileSync(file);
      buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    }
  }
  return loadQuantizedArtifacts({ modelTopology: json.modelTopology, weightSpecs: specs, weightData: concat(buffers).buffer as ArrayBuffer }, modelPath);
}
