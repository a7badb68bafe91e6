/**
 * The two-output view of a CRNN that center-loss training needs: the logits, and the per-frame
 * features that feed the logits layer, sharing the original model's weights.
 */
import * as tf from '@tensorflow/tfjs';
import { SampleDropout } from '../../models/layers/sample-dropout';
import { ConfigError } from '../../errors';

/** Dropout layers: tfjs's own and glyphlab's per-sample one. */
const DROPOUT_CLASSES = ['Dropout', SampleDropout.className];

/** Options of {@link withFeatureOutput}. */
export interface FeatureOutputOptions {
  /** The output layer whose input is the feature. Defaults to 'logits' (the CRNN's last dense layer). */
  logitsLayer?: string;
  /**
   * When the layer before the logits is a dropout, take the dropout's input instead: in training
   * mode dropout zeroes and rescales features at random, and centers of such vectors mean
   * little. Defaults to true.
   */
  skipDropout?: boolean;
}

/**
 * A model with two outputs sharing `model`'s weights: `[logits, features]`, where `features`
 * (`[batch, time, D]`) is the tensor that feeds the logits layer. Train the returned model; the
 * original sees the same weights.
 *
 * @example
 * const twoHeads = withFeatureOutput(buildCrnn());
 * const [logits, features] = twoHeads.predict(x) as tf.Tensor[];
 */
export function withFeatureOutput(model: tf.LayersModel, options: FeatureOutputOptions = {}): tf.LayersModel {
  const name = options.logitsLayer ?? 'logits';
  let logitsLayer: tf.layers.Layer;
  try {
    logitsLayer = model.getLayer(name);
  } catch (error) {
    throw new ConfigError(`model ${model.name} has no layer ${JSON.stringify(name)}; its layers are ${model.layers.map((l) => l.name).join(', ')}`, { cause: error });
  }
  let features = logitsLayer.input as tf.SymbolicTensor;
  if (Array.isArray(features)) throw new ConfigError(`layer ${name} has several inputs; give the layer whose single input is the feature`);
  const source = features.sourceLayer;
  if ((options.skipDropout ?? true) && DROPOUT_CLASSES.includes(source.getClassName())) features = source.input as tf.SymbolicTensor;
  return tf.model({ inputs: model.inputs, outputs: [logitsLayer.output as tf.SymbolicTensor, features], name: `${model.name}_with_features` });
}
