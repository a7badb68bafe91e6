/**
 * The VGG19 transfer model of the equation pipeline (the reference implementation's transfer model): the Keras VGG19
 * convolutional stack (`block1_conv1` .. `block5_conv4`, Keras layer names, 3x3 'same' conv +
 * ReLU, 2x2 block pools, the last pool dropped), then the custom CRNN's sequence head (width as
 * time, BiLSTM x2, logits over 16 symbols + blank). ImageNet weights come from the Keras file
 * the user puts in place; without it the model trains from random initialisation and says so.
 *
 * Time steps: Keras' VGG19 halves the width in every block pool, so a 300-pixel-wide image
 * leaves 300/16 = 18 time steps. Labels have up to 11 characters (plus a blank between repeated
 * ones) and the text fills only the left part of the image, so the text gets about as many time
 * steps as it has characters: too few for CTC to align. glyphlab keeps the width in
 * `block4_pool` (pool 2x1, height still halves): 37 time steps at width 300, the height still 4
 * at height 64, the other pools exactly Keras'. Conv weights do not depend on pooling, so the
 * ImageNet weights load unchanged. `pools` changes it (e.g. `[2, 1]` also for `block3_pool`
 * gives the custom CRNN's 75 steps, at about 40% more compute).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError } from '../errors';
import { experimentsDir } from '../util/paths';
import { type CrnnOptions, crnnFeatureSize, resolveCrnnOptions, sequenceHead } from './crnn';
import { readLayerWeights, setLayerWeights } from './keras-h5';

/** Convolutions per block and filters per block of Keras' VGG19. */
export const VGG19_BLOCKS: readonly { convs: number; filters: number }[] = [
  { convs: 2, filters: 64 },
  { convs: 2, filters: 128 },
  { convs: 4, filters: 256 },
  { convs: 4, filters: 512 },
  { convs: 4, filters: 512 },
];

/** Keras' names of the 16 VGG19 conv layers, `block1_conv1` .. `block5_conv4`. */
export const VGG19_CONV_LAYERS: readonly string[] = VGG19_BLOCKS.flatMap((block, b) =>
  Array.from({ length: block.convs }, (_, c) => `block${b + 1}_conv${c + 1}`),
);

/** File name of Keras' VGG19 ImageNet weights without the classifier top. */
export const VGG19_WEIGHTS_FILE = 'vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5';

/** Per-channel ImageNet means in BGR order, subtracted by Keras' 'caffe' preprocessing. */
export const VGG19_BGR_MEAN: readonly [number, number, number] = [103.939, 116.779, 123.68];

/** Options of {@link buildVgg19Crnn}; the sequence-head options mean what they mean for `buildCrnn`. */
export interface Vgg19CrnnOptions extends Pick<CrnnOptions, 'numClasses' | 'rnn' | 'rnnUnits' | 'rnnLayers' | 'dropout'> {
  /** Input height in pixels (RGB input). Defaults to 64 (the reference implementation's). */
  inputHeight?: number;
  /** Input width in pixels. Defaults to 300 (the reference implementation's). */
  inputWidth?: number;
  /**
   * Pooling after blocks 1-4 as [height, width], `null` for none (block 5 has none). Defaults to
   * [[2, 2], [2, 2], [2, 2], [2, 1]]: Keras' pools except that `block4_pool` keeps the width
   * (37 time steps at width 300 instead of 18; see the file comment).
   */
  pools?: ([number, number] | null)[];
  /**
   * Divides every block's filter count (64..512), for tests and quick experiments; ImageNet
   * weights fit only 1. Defaults to 1.
   */
  filterDivisor?: number;
  /**
   * Convert the batches' RGB in [-1, 1] into what ImageNet VGG19 weights expect (BGR, 0-255,
   * ImageNet mean subtracted) inside the model. Defaults to true.
   */
  preprocess?: boolean;
  /** Model name. Defaults to 'vgg19_crnn'. */
  name?: string;
}

/** The resolved options of a VGG19-CRNN, as recorded with a run. */
export type Vgg19CrnnConfig = Required<Vgg19CrnnOptions>;


/** Resolves defaults once and checks that the conv stack leaves at least one row and one time step. */
export function resolveVgg19CrnnOptions(options: Vgg19CrnnOptions = {}): Vgg19CrnnConfig {
  // The head's defaults and checks are the custom CRNN's, so both models stay comparable.
  const head = resolveCrnnOptions({ numClasses: options.numClasses, rnn: options.rnn, rnnUnits: options.rnnUnits, rnnLayers: options.rnnLayers, dropout: options.dropout, convFilters: [], pools: [] });
  const config: Vgg19CrnnConfig = {
    inputHeight: options.inputHeight ?? 64,
    inputWidth: options.inputWidth ?? 300,
    pools: options.pools ?? [[2, 2], [2, 2], [2, 2], [2, 1]],
    filterDivisor: options.filterDivisor ?? 1,
    preprocess: options.preprocess ?? true,
    name: options.name ?? 'vgg19_crnn',
    numClasses: head.numClasses,
    rnn: head.rnn,
    rnnUnits: head.rnnUnits,
    rnnLayers: head.rnnLayers,
    dropout: head.dropout,
  };
  if (config.pools.length !== VGG19_BLOCKS.length - 1) {
    throw new ConfigError(`VGG19-CRNN: pools has ${config.pools.length} entries; give ${VGG19_BLOCKS.length - 1}, one (or null) for each of block1_pool .. block4_pool`);
  }
  if (!Number.isInteger(config.filterDivisor) || config.filterDivisor < 1 || 64 % config.filterDivisor !== 0) {
    throw new ConfigError(`VGG19-CRNN: filterDivisor ${config.filterDivisor} must be a positive integer dividing 64 (1, 2, 4, 8, 16, 32, 64)`);
  }
  // Pooling arithmetic is the custom CRNN's: the feature map is `crnnFeatureSize(config)`.
  const [height, width] = crnnFeatureSize(config);
  if (height < 1 || width < 1) {
    throw new ConfigError(`VGG19-CRNN: input ${config.inputHeight}x${config.inputWidth} is too small for its pools (features ${height}x${width}); use a larger input or pools of 1`);
  }
  return config;
}

/**
 * Keras' 'caffe' preprocessing of our batches: RGB in [-1, 1] (`x/255*2-1`) back to 0-255,
 * channels reversed to BGR, ImageNet means subtracted. Works on `[..., 3]` tensors.
 */
export function vgg19Preprocess<T extends tf.Tensor>(images: T): T {
  return tf.tidy(() => {
    const bgr = tf.reverse(images, -1);
    // (x + 1) * 127.5 - mean  ==  x * 127.5 - (mean - 127.5)
    const offset = tf.tensor1d(VGG19_BGR_MEAN.map((m) => m - 127.5));
    return tf.sub(tf.mul(bgr, 127.5), offset) as T;
  });
}

/**
 * {@link vgg19Preprocess} as a layer without weights, so that a saved model carries its own
 * preprocessing. Registered for (de)serialisation when this module loads: code that loads a
 * saved VGG19-CRNN must import glyphlab (or this module) first.
 */
export class Vgg19Preprocess extends tf.layers.Layer {
  static className = 'GlyphlabVgg19Preprocess';

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!input) throw new ConfigError('Vgg19Preprocess got no input tensor');
    return vgg19Preprocess(input);
  }
}
tf.serialization.registerClass(Vgg19Preprocess);

/**
 * Builds the VGG19-CRNN with random initialisation; {@link createVgg19Crnn} also loads the
 * ImageNet weights. Input `[batch, inputHeight, inputWidth, 3]` RGB in [-1, 1]; output
 * `[batch, time, numClasses]` logits, the last class the CTC blank.
 *
 * @example
 * const model = buildVgg19Crnn({ inputHeight: 64, inputWidth: 300 });  // 37 time steps
 */
export function buildVgg19Crnn(options: Vgg19CrnnOptions = {}): tf.LayersModel {
  const config = resolveVgg19CrnnOptions(options);
  const input = tf.input({ shape: [config.inputHeight, config.inputWidth, 3], name: 'image' });
  let x: tf.SymbolicTensor = input;
  if (config.preprocess) x = new Vgg19Preprocess({ name: 'vgg19_preprocess' }).apply(x) as tf.SymbolicTensor;
  VGG19_BLOCKS.forEach((block, b) => {
    for (let c = 0; c < block.convs; c++) {
      x = tf.layers
        .conv2d({ filters: block.filters / config.filterDivisor, kernelSize: 3, padding: 'same', activation: 'relu', name: `block${b + 1}_conv${c + 1}` })
        .apply(x) as tf.SymbolicTensor;
    }
    const pool = config.pools[b];
    if (pool) x = tf.layers.maxPooling2d({ poolSize: pool, strides: pool, name: `block${b + 1}_pool` }).apply(x) as tf.SymbolicTensor;
  });
  return tf.model({ inputs: input, outputs: sequenceHead(x, config), name: config.name });
}

/** Where the VGG19 weights are looked for, and who said so. */
export interface Vgg19WeightsLocation {
  path: string;
  source: 'option' | 'env' | 'default';
}

/**
 * The VGG19 weights path: `path` when given, else `GLYPHLAB_VGG19_WEIGHTS`, else
 * `<experiments>/weights/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5`.
 */
export function vgg19WeightsLocation(path?: string, env: Record<string, string | undefined> = process.env): Vgg19WeightsLocation {
  if (path !== undefined && path.trim() !== '') return { path: resolve(path), source: 'option' };
  const fromEnv = env['GLYPHLAB_VGG19_WEIGHTS'];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return { path: resolve(fromEnv), source: 'env' };
  return { path: defaultVgg19WeightsPath(env), source: 'default' };
}

/** `<experiments>/weights/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5`. */
export function defaultVgg19WeightsPath(env: Record<string, string | undefined> = process.env): string {
  return join(experimentsDir(env), 'weights', VGG19_WEIGHTS_FILE);
}

/** Options of {@link loadVgg19Weights}. */
export interface LoadVgg19WeightsOptions {
  /** A Keras `.h5` file, or a tfjs layers-format folder / `model.json`. Defaults to {@link vgg19WeightsLocation}. */
  path?: string;
  /** Environment for `GLYPHLAB_VGG19_WEIGHTS` and `GLYPHLAB_EXPERIMENTS_DIR`. Defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** Fail instead of keeping random weights when the default file is absent. Defaults to false. */
  required?: boolean;
}

/** What initialised the VGG19 conv stack; record it with the run. */
export interface Vgg19WeightsReport {
  weights: 'imagenet' | 'random';
  /** The file the weights came from, or where they were looked for. */
  weightsPath?: string;
  /** Why the weights are random, and how to get ImageNet ones. */
  message?: string;
}

/**
 * Loads ImageNet weights into the 16 conv layers of a VGG19-CRNN, by Keras layer name. When no
 * path was given and the default file is absent, the model keeps its random initialisation and
 * the report says where to put the file; a path given explicitly (option or
 * `GLYPHLAB_VGG19_WEIGHTS`) must exist. A file that is corrupt, lacks a layer or holds another
 * shape is an error naming the file, the layer and both shapes.
 */
export async function loadVgg19Weights(model: tf.LayersModel, options: LoadVgg19WeightsOptions = {}): Promise<Vgg19WeightsReport> {
  const location = vgg19WeightsLocation(options.path, options.env);
  if (!existsSync(location.path)) {
    const how = `put Keras' ${VGG19_WEIGHTS_FILE} (or a tfjs layers-format folder of VGG19) at ${defaultVgg19WeightsPath(options.env)}, or set GLYPHLAB_VGG19_WEIGHTS to its path`;
    if (location.source !== 'default' || options.required) {
      const origin = location.source === 'env' ? ' (from GLYPHLAB_VGG19_WEIGHTS)' : '';
      throw new DataError(`VGG19 weights ${location.path}${origin} do not exist; ${how}`);
    }
    return {
      weights: 'random',
      weightsPath: location.path,
      message: `VGG19 ImageNet weights not found at ${location.path}; the conv stack starts from random initialisation. To fine-tune from ImageNet, ${how}. Nothing is downloaded.`,
    };
  }
  const file = await readLayerWeights(location.path, { layers: VGG19_CONV_LAYERS });
  setLayerWeights(model, file, VGG19_CONV_LAYERS);
  return { weights: 'imagenet', weightsPath: file.path };
}

/** Options of {@link createVgg19Crnn}. */
export interface CreateVgg19CrnnOptions extends Vgg19CrnnOptions, LoadVgg19WeightsOptions {
  /** 'imagenet' loads the weights file when there is one; 'random' skips it. Defaults to 'imagenet'. */
  weights?: 'imagenet' | 'random';
}

/** A built VGG19-CRNN and what initialised it. */
export interface Vgg19CrnnBuild extends Vgg19WeightsReport {
  model: tf.LayersModel;
  config: Vgg19CrnnConfig;
}

/**
 * Builds the VGG19-CRNN and loads ImageNet weights when asked and available.
 *
 * @example
 * const { model, weights, message } = await createVgg19Crnn({ inputHeight: 64 });
 * if (message) console.warn(message);   // weights === 'random': the file was not found
 */
export async function createVgg19Crnn(options: CreateVgg19CrnnOptions = {}): Promise<Vgg19CrnnBuild> {
  const config = resolveVgg19CrnnOptions(options);
  const weightsChoice = options.weights ?? 'imagenet';
  if (weightsChoice !== 'imagenet' && weightsChoice !== 'random') {
    throw new ConfigError(`VGG19-CRNN weights ${JSON.stringify(weightsChoice)} is not one of: imagenet, random`);
  }
  const model = buildVgg19Crnn(config);
  if (weightsChoice === 'random') return { model, config, weights: 'random' };
  try {
    return { model, config, ...(await loadVgg19Weights(model, options)) };
  } catch (error) {
    model.dispose();
    throw error;
  }
}
