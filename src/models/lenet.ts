/**
 * A LeNet-5-style CNN: conv + max-pool blocks, an optional
 * squeeze-and-excitation block after each conv (channel attention: global average pool, a
 * bottleneck dense, a sigmoid gate that rescales the channels), dense layers, dropout, L2 on
 * every kernel, and one logit per class. Outputs logits (apply `tf.softmax` for probabilities).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors';
import { batchNorm } from './layers/batch-norm';
import { sampleDropout } from './layers/sample-dropout';

export interface LenetOptions {
  /** Input shape [height, width, channels]. Defaults to [28, 28, 1]. */
  inputShape?: [number, number, number];
  /** Number of classes. Defaults to 10. */
  numClasses?: number;
  /** Filters of each conv block. Defaults to [6, 16] (LeNet-5); [32, 64] trains to higher accuracy. */
  convFilters?: number[];
  /** Kernel size of the convs. Defaults to 5 (LeNet-5). */
  kernelSize?: number;
  /** Units of the dense layers before the output. Defaults to [120, 84] (LeNet-5). */
  denseUnits?: number[];
  /** Convs in each block before its pool (2 gives a VGG-style block). Defaults to 1 (LeNet-5). */
  convsPerBlock?: number;
  /** Batch normalisation after each conv, before its ReLU. Defaults to false (LeNet-5). */
  batchNorm?: boolean;
  /** Add a squeeze-and-excitation block after each conv block. Defaults to false. */
  squeezeExcitation?: boolean;
  /** Channel reduction of the squeeze-and-excitation bottleneck. Defaults to 4. */
  seRatio?: number;
  /** Dropout before the output layer. Defaults to 0.5 (the reference implementation's). */
  dropout?: number;
  /** L2 penalty on every kernel; 0 for none. Defaults to 0.001 (the reference implementation's). */
  l2?: number;
  /** Model name. Defaults to 'lenet'. */
  name?: string;
}

/** The resolved options of a LeNet, as recorded with a run. */
export type LenetConfig = Required<LenetOptions>;

/** Resolves defaults and checks that the conv stack leaves at least one pixel. */
export function resolveLenetOptions(options: LenetOptions = {}): LenetConfig {
  const config: LenetConfig = {
    inputShape: options.inputShape ?? [28, 28, 1],
    numClasses: options.numClasses ?? 10,
    convFilters: options.convFilters ?? [6, 16],
    kernelSize: options.kernelSize ?? 5,
    convsPerBlock: options.convsPerBlock ?? 1,
    batchNorm: options.batchNorm ?? false,
    denseUnits: options.denseUnits ?? [120, 84],
    squeezeExcitation: options.squeezeExcitation ?? false,
    seRatio: options.seRatio ?? 4,
    dropout: options.dropout ?? 0.5,
    l2: options.l2 ?? 0.001,
    name: options.name ?? 'lenet',
  };
  if (!(config.numClasses >= 2)) throw new ConfigError(`LeNet: numClasses must be at least 2, got ${config.numClasses}`);
  if (config.convFilters.length === 0 || config.convFilters.some((f) => !Number.isInteger(f) || f <= 0)) {
    throw new ConfigError(`LeNet: convFilters must be one or more positive integers, got [${config.convFilters.join(', ')}]`);
  }
  if (!Number.isInteger(config.convsPerBlock) || config.convsPerBlock < 1) throw new ConfigError(`LeNet: convsPerBlock must be a positive integer, got ${config.convsPerBlock}`);
  if (!(config.dropout >= 0 && config.dropout < 1)) throw new ConfigError(`LeNet: dropout must be in [0, 1), got ${config.dropout}`);
  if (!(config.l2 >= 0)) throw new ConfigError(`LeNet: l2 must be >= 0, got ${config.l2}`);
  const side = Math.min(config.inputShape[0], config.inputShape[1]) >> config.convFilters.length;
  if (side < 1) {
    throw new ConfigError(`LeNet: ${config.convFilters.length} pooling blocks shrink a ${config.inputShape[0]}x${config.inputShape[1]} input below one pixel; use fewer convFilters`);
  }
  return config;
}

/** Squeeze-and-excitation (Hu et al. 2018): rescale each channel by a learned gate in (0, 1). */
function squeezeExcitation(x: tf.SymbolicTensor, channels: number, ratio: number, name: string, regularizer?: ReturnType<typeof tf.regularizers.l2>): tf.SymbolicTensor {
  const squeezed = tf.layers.globalAveragePooling2d({ name: `${name}_squeeze` }).apply(x) as tf.SymbolicTensor;
  const bottleneck = tf.layers
    .dense({ units: Math.max(1, Math.round(channels / ratio)), activation: 'relu', kernelRegularizer: regularizer, name: `${name}_reduce` })
    .apply(squeezed) as tf.SymbolicTensor;
  const gate = tf.layers.dense({ units: channels, activation: 'sigmoid', kernelRegularizer: regularizer, name: `${name}_expand` }).apply(bottleneck) as tf.SymbolicTensor;
  const gate4d = tf.layers.reshape({ targetShape: [1, 1, channels], name: `${name}_gate` }).apply(gate) as tf.SymbolicTensor;
  return tf.layers.multiply({ name: `${name}_scale` }).apply([x, gate4d]) as tf.SymbolicTensor;
}

/**
 * Builds the LeNet-style classifier. Conv blocks use 'same' padding so that any number of them
 * fits the input; each halves the size with a 2x2 max pool.
 *
 * @example
 * const model = buildLenet({ convFilters: [32, 64], squeezeExcitation: true });
 */
export function buildLenet(options: LenetOptions = {}): tf.LayersModel {
  const config = resolveLenetOptions(options);
  const regularizer = config.l2 > 0 ? tf.regularizers.l2({ l2: config.l2 }) : undefined;
  const input = tf.input({ shape: config.inputShape, name: 'image' });
  let x: tf.SymbolicTensor = input;
  config.convFilters.forEach((filters, i) => {
    const block = `conv${i + 1}`;
    for (let j = 0; j < config.convsPerBlock; j++) {
      // LeNet-5 names (conv1, conv2) when there is one conv a block; conv1_1, conv1_2 otherwise.
      const name = config.convsPerBlock === 1 ? block : `${block}_${j + 1}`;
      x = tf.layers
        .conv2d({ filters, kernelSize: config.kernelSize, padding: 'same', activation: config.batchNorm ? 'linear' : 'relu', useBias: !config.batchNorm, kernelRegularizer: regularizer, name })
        .apply(x) as tf.SymbolicTensor;
      // Batch norm with its ReLU, statistics shared across data-parallel replicas.
      if (config.batchNorm) x = batchNorm({ relu: true, name: `${name}_bn` }).apply(x) as tf.SymbolicTensor;
    }
    if (config.squeezeExcitation) x = squeezeExcitation(x, filters, config.seRatio, `${block}_se`, regularizer);
    x = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `${block}_pool` }).apply(x) as tf.SymbolicTensor;
  });
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  config.denseUnits.forEach((units, i) => {
    x = tf.layers.dense({ units, activation: 'relu', kernelRegularizer: regularizer, name: `dense_${i + 1}` }).apply(x) as tf.SymbolicTensor;
  });
  if (config.dropout > 0) x = sampleDropout({ rate: config.dropout, name: 'dropout' }).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: config.numClasses, kernelRegularizer: regularizer, name: 'logits' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: config.name });
}
