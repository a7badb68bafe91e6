/**
 * Starting a model from another model's weights (transfer learning): every weight is matched by
 * its layer and name (`conv2/kernel`, `bidirectional_1/forward/kernel`), and copied when both
 * models have it with the same shape. Anything else refuses the transfer, naming each key that
 * differs and both shapes, except the output layer's size: a source read over another alphabet
 * (more or fewer classes) leaves the target's freshly initialised output layer in place, and the
 * report says so.
 */
import type * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors';
import { layersWithWeights } from './freeze';

/** Options of {@link transferWeights}. */
export interface TransferWeightsOptions {
  /** The layer whose output size may differ (then it keeps its own initialisation). Defaults to 'logits', the equation models' output. */
  outputLayer?: string;
}

/** What {@link transferWeights} did: layer names, in model order. */
export interface TransferReport {
  /** Layers whose weights came from the source. */
  loaded: string[];
  /** Layers that kept their own (fresh) initialisation: the output layer of another alphabet. */
  reinitialised: string[];
}

/** One weight of a model: its key (`layer/name`), its layer and its shape. */
interface KeyedWeight {
  key: string;
  layer: string;
  shape: number[];
  variable: tf.LayerVariable;
}

/**
 * The weights of `model` by key. The key is the weight's original name (`conv2/kernel`), which
 * does not carry the suffix tfjs adds when a second copy of a model is loaded into one process.
 */
function keyedWeights(model: tf.LayersModel): Map<string, KeyedWeight> {
  const weights = new Map<string, KeyedWeight>();
  for (const layer of layersWithWeights(model)) {
    for (const variable of layer.weights) {
      weights.set(variable.originalName, { key: variable.originalName, layer: layer.name, shape: [...(variable.shape as number[])], variable });
    }
  }
  return weights;
}

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** How the weights of two models differ: keys only one has, and keys whose shapes differ. */
interface Differences {
  /** Weights of the target the source lacks, and their layers. */
  onlyTarget: KeyedWeight[];
  onlySource: KeyedWeight[];
  /** `key: source [..], target [..]`. */
  shapes: string[];
}

function differences(source: tf.LayersModel, target: tf.LayersModel, ignoreLayers: readonly string[]): Differences {
  const ignored = new Set(ignoreLayers);
  const from = keyedWeights(source);
  const to = keyedWeights(target);
  const result: Differences = { onlyTarget: [], onlySource: [], shapes: [] };
  for (const [key, weight] of to) {
    if (ignored.has(weight.layer)) continue;
    const other = from.get(key);
    if (!other) result.onlyTarget.push(weight);
    else if (shapeText(other.shape) !== shapeText(weight.shape)) result.shapes.push(`${key}: source ${shapeText(other.shape)}, target ${shapeText(weight.shape)}`);
  }
  for (const [key, weight] of from) if (!ignored.has(weight.layer) && !to.has(key)) result.onlySource.push(weight);
  return result;
}

/**
 * The differences between the weights of `source` and `target`, one line each: a key one model
 * lacks, or a shape that differs. Empty when every weight matches.
 *
 * @example
 * weightDifferences(readerModel, buildCrnn({ rnnUnits: 64 }));
 * // ['bidirectional_1/forward/kernel: source [256, 384], target [256, 192]', ...]
 */
export function weightDifferences(source: tf.LayersModel, target: tf.LayersModel, options: { ignoreLayers?: readonly string[] } = {}): string[] {
  const found = differences(source, target, options.ignoreLayers ?? []);
  return [
    ...found.onlyTarget.map((w) => `${w.key}: the source has no such weight (target ${shapeText(w.shape)})`),
    ...found.onlySource.map((w) => `${w.key}: the target has no such weight (source ${shapeText(w.shape)})`),
    ...found.shapes,
  ];
}

/** The differences in words: whole layers one model lacks by name, then each shape that differs. */
function describeDifferences(found: Differences): string {
  const layers = (weights: KeyedWeight[]): string => [...new Set(weights.map((w) => w.layer))].join(', ');
  const parts: string[] = [];
  if (found.shapes.length > 0) parts.push(`shapes differ: ${found.shapes.slice(0, 12).join('; ')}${found.shapes.length > 12 ? `; and ${found.shapes.length - 12} more` : ''}`);
  if (found.onlySource.length > 0) parts.push(`only the source has layers ${layers(found.onlySource)}`);
  if (found.onlyTarget.length > 0) parts.push(`only the target has layers ${layers(found.onlyTarget)}`);
  return parts.join('; ');
}

/**
 * Copies the weights of `source` into `target`, which must have the same architecture (the same
 * weight keys and shapes); only the output layer may differ in size (another alphabet), and it
 * then keeps its own initialisation. A mismatch is a ConfigError naming every differing key and
 * both shapes. The copies share no state with `source`: it may be disposed afterwards.
 *
 * @example
 * const report = transferWeights(await loadModel('data/readers/equations-wide'), buildCrnn(config));
 * report.reinitialised; // [] with the same alphabet, ['logits'] with another
 */
export function transferWeights(source: tf.LayersModel, target: tf.LayersModel, options: TransferWeightsOptions = {}): TransferReport {
  const outputLayer = options.outputLayer ?? 'logits';
  const beyondOutput = differences(source, target, [outputLayer]);
  const count = beyondOutput.onlySource.length + beyondOutput.onlyTarget.length + beyondOutput.shapes.length;
  if (count > 0) {
    throw new ConfigError(
      `the source model ${source.name} does not fit the target's architecture (${count} weight${count === 1 ? '' : 's'} differ): ${describeDifferences(beyondOutput)}. ` +
        "Build the target with the source run's architecture (its input size, filters, recurrent cell and units), or start from random weights",
    );
  }
  // Only the output layer may differ, and only in size (the alphabet): its weights are the same ones.
  const all = differences(source, target, []);
  if (all.onlySource.length + all.onlyTarget.length > 0) throw new ConfigError(`the output layer ${outputLayer} of the source and the target hold different weights: ${describeDifferences(all)}`);
  const reinitialised = all.shapes.length > 0 ? [outputLayer] : [];
  const from = keyedWeights(source);
  const loaded: string[] = [];
  for (const layer of layersWithWeights(target)) {
    if (reinitialised.includes(layer.name)) continue;
    // Cloned: the target's variables must not share memory with a model the caller disposes.
    const values = layer.weights.map((w) => from.get(w.originalName)!.variable.read().clone());
    try {
      layer.setWeights(values);
    } finally {
      for (const value of values) value.dispose();
    }
    loaded.push(layer.name);
  }
  return { loaded, reinitialised };
}
