/**
 * Freezing and unfreezing layers for two-phase fine-tuning (the reference implementation's VGG19
 * recipe): phase 1 trains only the last few layers on top of pretrained ones, phase 2 trains
 * everything. Only layers that hold weights count: pooling, permute or dropout layers have nothing
 * to freeze.
 */
import type * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors';

/** Options of {@link trainableLayerNames}. */
export interface TrainableLayerNamesOptions {
  /** How many of the last layers with weights train. Defaults to 5 (the reference implementation's phase 1). */
  lastN?: number;
}

/** The layers of `model` that hold weights, in model order. */
export function layersWithWeights(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.filter((layer) => layer.weights.length > 0);
}

/**
 * Names of the last `lastN` layers with weights, in model order: the layers that phase 1
 * trains. For the VGG19-CRNN with the default 5 they are `block5_conv3`, `block5_conv4`, the two
 * bidirectional layers and `logits`; `lastN: 3` trains the sequence head alone.
 *
 * @example
 * setTrainable(model, trainableLayerNames(model, { lastN: 5 }));  // phase 1
 * setTrainable(model, 'all');                                     // phase 2
 */
export function trainableLayerNames(model: tf.LayersModel, options: TrainableLayerNamesOptions = {}): string[] {
  const lastN = options.lastN ?? 5;
  const candidates = layersWithWeights(model);
  if (!Number.isInteger(lastN) || lastN < 1 || lastN > candidates.length) {
    throw new ConfigError(`lastN ${lastN} is not a layer count; model ${model.name} has ${candidates.length} layers with weights, so accepted are integers 1..${candidates.length}`);
  }
  return candidates.slice(candidates.length - lastN).map((layer) => layer.name);
}

/**
 * Makes exactly the named layers trainable and freezes every other layer with weights, or
 * unfreezes all of them with `'all'`. Wrappers (Bidirectional, TimeDistributed) pass the flag on
 * to the layers they wrap. Unknown names are refused, listing the names that would be accepted.
 */
export function setTrainable(model: tf.LayersModel, names: readonly string[] | 'all'): void {
  const candidates = layersWithWeights(model);
  if (names !== 'all') {
    const known = new Set(candidates.map((layer) => layer.name));
    const unknown = names.filter((name) => !known.has(name));
    if (unknown.length > 0) {
      throw new ConfigError(`setTrainable: model ${model.name} has no layer with weights named ${unknown.join(', ')}; accepted are ${[...known].join(', ')}`);
    }
  }
  const wanted = names === 'all' ? undefined : new Set(names);
  for (const layer of candidates) layer.trainable = wanted === undefined || wanted.has(layer.name);
}

/** The first layer of the equation models' sequence head (`crnn.ts` `sequenceHead`): where the convolution blocks end. */
export const SEQUENCE_HEAD_START = 'width_as_time';

/**
 * The layers with weights of the equation models' convolution blocks (the custom CRNN's
 * `conv1`, `bn1`, ...; the VGG19-CRNN's `block1_conv1` ...), and those of the sequence head after
 * them: every layer with weights before {@link SEQUENCE_HEAD_START}, and every one after. A
 * fine-tuning run freezes the first and trains the second (`--freeze-epochs`). A model without
 * that layer is a ConfigError naming it.
 *
 * @example
 * const { head } = convolutionAndHeadLayers(model);
 * await train(model, data, { ...options, trainableLayers: head });   // the conv blocks frozen
 */
export function convolutionAndHeadLayers(model: tf.LayersModel): { convolution: string[]; head: string[] } {
  const start = model.layers.findIndex((layer) => layer.name === SEQUENCE_HEAD_START);
  if (start < 0) {
    throw new ConfigError(`model ${model.name} has no layer ${SEQUENCE_HEAD_START}, where the equation models' sequence head begins; its convolution blocks cannot be told apart (layers: ${model.layers.map((l) => l.name).join(', ')})`);
  }
  const withWeights = (layers: tf.layers.Layer[]): string[] => layers.filter((layer) => layer.weights.length > 0).map((layer) => layer.name);
  return { convolution: withWeights(model.layers.slice(0, start)), head: withWeights(model.layers.slice(start)) };
}
