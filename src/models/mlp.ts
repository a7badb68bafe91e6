/**
 * The reference implementation's multilayer perceptron: flatten the image, dense ReLU layers with
 * dropout, and a dense output of one logit per class. Outputs logits (apply `tf.softmax` for
 * probabilities); the classification loss works on logits for numerical stability.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors';
import { sampleDropout } from './layers/sample-dropout';

export interface MlpOptions {
  /** Input shape [height, width, channels]. Defaults to [28, 28, 1]. */
  inputShape?: [number, number, number];
  /** Number of classes. Defaults to 10. */
  numClasses?: number;
  /** Units of each hidden layer. Defaults to [512, 512] (the reference implementation's MLP). */
  hiddenUnits?: number[];
  /** Dropout after each hidden layer. Defaults to 0.2. */
  dropout?: number;
  /** L2 weight penalty on the dense kernels; 0 for none. Defaults to 0. */
  l2?: number;
  /** Model name. Defaults to 'mlp'. */
  name?: string;
}

/** The resolved options of an MLP, as recorded with a run. */
export type MlpConfig = Required<MlpOptions>;

/** Resolves defaults and checks the values. */
export function resolveMlpOptions(options: MlpOptions = {}): MlpConfig {
  const config: MlpConfig = {
    inputShape: options.inputShape ?? [28, 28, 1],
    numClasses: options.numClasses ?? 10,
    hiddenUnits: options.hiddenUnits ?? [512, 512],
    dropout: options.dropout ?? 0.2,
    l2: options.l2 ?? 0,
    name: options.name ?? 'mlp',
  };
  if (!(config.numClasses >= 2)) throw new ConfigError(`MLP: numClasses must be at least 2, got ${config.numClasses}`);
  if (config.hiddenUnits.some((u) => !Number.isInteger(u) || u <= 0)) {
    throw new ConfigError(`MLP: hiddenUnits must be positive integers, got [${config.hiddenUnits.join(', ')}]`);
  }
  if (!(config.dropout >= 0 && config.dropout < 1)) throw new ConfigError(`MLP: dropout must be in [0, 1), got ${config.dropout}`);
  if (!(config.l2 >= 0)) throw new ConfigError(`MLP: l2 must be >= 0, got ${config.l2}`);
  return config;
}

/**
 * Builds the MLP classifier.
 *
 * @example
 * const model = buildMlp({ hiddenUnits: [128], numClasses: 26 });
 */
export function buildMlp(options: MlpOptions = {}): tf.LayersModel {
  const config = resolveMlpOptions(options);
  const regularizer = config.l2 > 0 ? tf.regularizers.l2({ l2: config.l2 }) : undefined;
  const input = tf.input({ shape: config.inputShape, name: 'image' });
  let x = tf.layers.flatten({ name: 'flatten' }).apply(input) as tf.SymbolicTensor;
  config.hiddenUnits.forEach((units, i) => {
    x = tf.layers.dense({ units, activation: 'relu', kernelRegularizer: regularizer, name: `dense_${i + 1}` }).apply(x) as tf.SymbolicTensor;
    if (config.dropout > 0) x = sampleDropout({ rate: config.dropout, name: `dropout_${i + 1}` }).apply(x) as tf.SymbolicTensor;
  });
  const logits = tf.layers.dense({ units: config.numClasses, kernelRegularizer: regularizer, name: 'logits' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: config.name });
}
