/**
 * The custom CRNN of the equation pipeline (the reference implementation's custom model): conv
 * blocks with batch normalisation, `Permute` so that image width becomes time, each time step's
 * features flattened (the reference's bare `Reshape`, without the permute, scrambled features
 * and never converged), two bidirectional recurrent
 * layers, and a dense layer over the alphabet plus the CTC blank.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors';
import { hashString32 } from '../util/rng';
import { batchNorm } from './layers/batch-norm';
import { fusedBidirectional } from './layers/fused-bidirectional';
import { leanConv2d } from './layers/lean-conv2d';
import { sampleDropout } from './layers/sample-dropout';
import { GATE_ACTIVATIONS, type GateActivation } from './layers/fused-rnn';

export interface CrnnOptions {
  /** Input height in pixels. Defaults to 64 (the reference implementation's); 32 trains faster on a CPU. */
  inputHeight?: number;
  /** Input width in pixels. Defaults to 300. */
  inputWidth?: number;
  /** Input channels: 1 (grayscale, as the reference implementation's custom model) or 3. Defaults to 1. */
  channels?: number;
  /** Classes including the blank (16 symbols + blank for equations). Defaults to 17. */
  numClasses?: number;
  /** Filters of each conv block. Defaults to [32, 64, 128, 128]. */
  convFilters?: number[];
  /**
   * Pooling of each conv block as [height, width]; `null` for none. Defaults to [2, 2] for the
   * first two blocks and [2, 1] after, i.e. [[2, 2], [2, 2], [2, 1], [2, 1]] for four blocks:
   * width shrinks 4x (300 -> 75 time steps), height 16x.
   */
  pools?: ([number, number] | null)[];
  /**
   * Downsample in the first conv block's convolution (its stride set to that block's pool)
   * instead of convolving at full resolution and then max-pooling: the same weights and, for
   * even input sizes, the same feature-map sizes (an odd size rounds up, not down), a quarter of the first block's work and memory traffic (the largest tensors of
   * the model). A first pool larger than 3 widens the stem's kernel to the pool (a 4x4 pool: a
   * 4x4 kernel at stride 4, every pixel read once), so the weights then differ from the pooled
   * block's 3x3. `npm start`'s quick recipe uses it (docs/recipes.md). Needs a first pool.
   * Defaults to false.
   */
  stridedStem?: boolean;
  /**
   * Height and width of every convolution's kernel (odd: 'same' padding keeps it centred). A
   * wider kernel sees more of each glyph per layer at a cost that grows with its square.
   * Defaults to 3 (the reference implementation's).
   */
  convKernel?: number;
  /** Recurrent cell. Defaults to 'lstm' (the reference implementation's); 'gru' is the option it asked for. */
  rnn?: 'lstm' | 'gru';
  /** Units of each direction of each recurrent layer. Defaults to 128. */
  rnnUnits?: number;
  /** Number of bidirectional recurrent layers. Defaults to 2. */
  rnnLayers?: number;
  /**
   * Run each bidirectional recurrent layer as glyphlab's fused whole-sequence op
   * (`models/layers/fused-bidirectional.ts`: one taped op per direction, several times faster
   * and a fraction of the memory) rather than tfjs-layers' per-time-step graph. Both have the
   * same weights. Defaults to true.
   */
  fusedRnn?: boolean;
  /** Gate activation of the recurrent cells. Defaults to 'sigmoid' (Keras 2.3+, PyTorch); tfjs-layers' own default is 'hardSigmoid'. */
  recurrentActivation?: GateActivation;
  /** Dropout before the output layer. Defaults to 0.2. */
  dropout?: number;
  /**
   * Momentum of the batch-norm moving statistics that inference uses. Defaults to 0.99 (Keras);
   * runs of only a few hundred steps need less (e.g. 0.9), or inference reads with statistics
   * that have not caught up with training.
   */
  batchNormMomentum?: number;
  /** Model name. Defaults to 'crnn'. */
  name?: string;
  /**
   * Seed of the weight initialisers: every initialiser gets its own seed derived from this one
   * and its layer's name, so that the same options build the same starting weights. Defaults
   * to none (unseeded).
   */
  seed?: number;
}

/** The resolved options of a CRNN, as recorded with a run; `seed` stays absent when none was given. */
export type CrnnConfig = Required<Omit<CrnnOptions, 'seed'>> & Pick<CrnnOptions, 'seed'>;

/** The default pools of `blocks` conv blocks: 2x2 for the first two, then 2x1 (height only). */
export function defaultPools(blocks: number): [number, number][] {
  return Array.from({ length: blocks }, (_, i) => (i < 2 ? [2, 2] : [2, 1]) as [number, number]);
}

/** Resolves defaults and checks that the conv stack leaves at least one row and one time step. */
export function resolveCrnnOptions(options: CrnnOptions = {}): CrnnConfig {
  const config: CrnnConfig = {
    inputHeight: options.inputHeight ?? 64,
    inputWidth: options.inputWidth ?? 300,
    channels: options.channels ?? 1,
    numClasses: options.numClasses ?? 17,
    convFilters: options.convFilters ?? [32, 64, 128, 128],
    pools: options.pools ?? defaultPools((options.convFilters ?? [32, 64, 128, 128]).length),
    stridedStem: options.stridedStem ?? false,
    convKernel: options.convKernel ?? 3,
    rnn: options.rnn ?? 'lstm',
    rnnUnits: options.rnnUnits ?? 128,
    rnnLayers: options.rnnLayers ?? 2,
    fusedRnn: options.fusedRnn ?? true,
    recurrentActivation: options.recurrentActivation ?? 'sigmoid',
    dropout: options.dropout ?? 0.2,
    batchNormMomentum: options.batchNormMomentum ?? 0.99,
    name: options.name ?? 'crnn',
    // No key at all when unseeded, so that configs recorded before the option read back the same.
    ...(options.seed !== undefined && { seed: options.seed }),
  };
  if (config.pools.length !== config.convFilters.length) {
    throw new ConfigError(`CRNN: pools has ${config.pools.length} entries but convFilters has ${config.convFilters.length}; give one pool (or null) per conv block`);
  }
  if (!Number.isInteger(config.convKernel) || config.convKernel < 1 || config.convKernel % 2 === 0) {
    throw new ConfigError(`CRNN: convKernel ${config.convKernel} must be an odd whole number (1, 3, 5, ...), so that 'same' padding keeps the kernel centred`);
  }
  if (config.stridedStem && !config.pools[0]) {
    throw new ConfigError('CRNN: stridedStem downsamples by the first block\'s pool, but pools[0] is null; give the first block a pool or leave stridedStem off');
  }
  if (config.rnn !== 'lstm' && config.rnn !== 'gru') {
    throw new ConfigError(`CRNN: rnn ${JSON.stringify(config.rnn)} is not one of: lstm, gru`);
  }
  if (!GATE_ACTIVATIONS.includes(config.recurrentActivation)) {
    throw new ConfigError(`CRNN: recurrentActivation ${JSON.stringify(config.recurrentActivation)} is not one of: ${GATE_ACTIVATIONS.join(', ')}`);
  }
  const [height, width] = crnnFeatureSize(config);
  if (height < 1 || width < 1) {
    throw new ConfigError(
      `CRNN: input ${config.inputHeight}x${config.inputWidth} is too small for ${config.pools.length} pooling blocks (features ${height}x${width}); use a larger input or fewer pools`,
    );
  }
  return config;
}

/** Height and width (time steps) of the feature map after the conv blocks. */
export function crnnFeatureSize(config: Pick<CrnnConfig, 'inputHeight' | 'inputWidth' | 'pools'> & Partial<Pick<CrnnConfig, 'stridedStem'>>): [number, number] {
  let height = config.inputHeight;
  let width = config.inputWidth;
  config.pools.forEach((pool, i) => {
    if (!pool) return;
    // A strided 'same' convolution rounds an odd size up; a max-pool rounds it down.
    const round = i === 0 && config.stridedStem ? Math.ceil : Math.floor;
    height = round(height / pool[0]);
    width = round(width / pool[1]);
  });
  return [height, width];
}

/** Options of the sequence head shared by the custom CRNN and the VGG19-CRNN. */
export type SequenceHeadConfig = Required<Pick<CrnnOptions, 'numClasses' | 'rnn' | 'rnnUnits' | 'rnnLayers' | 'dropout'>> &
  Pick<CrnnOptions, 'fusedRnn' | 'recurrentActivation' | 'seed'>;

/**
 * The seed of one initialiser of a seeded model: derived from the model's seed and the weight's
 * name, so that adding a layer does not shift the draws of the others. Undefined when unseeded.
 */
function initSeed(seed: number | undefined, weightName: string): number | undefined {
  return seed === undefined ? undefined : hashString32(`${seed}:${weightName}`);
}

/** Glorot-uniform (tfjs-layers' default for kernels), seeded when `seed` is; unseeded, the layer's default as before. */
function glorot(seed: number | undefined, weightName: string): ReturnType<typeof tf.initializers.glorotUniform> | 'glorotUniform' {
  const derived = initSeed(seed, weightName);
  return derived === undefined ? 'glorotUniform' : tf.initializers.glorotUniform({ seed: derived });
}

function recurrentLayer(config: SequenceHeadConfig, index: number): tf.layers.Layer {
  const recurrentActivation = config.recurrentActivation ?? 'sigmoid';
  const name = `bidirectional_${index + 1}`;
  if (config.fusedRnn ?? true) {
    const seed = initSeed(config.seed, name);
    return fusedBidirectional({ cell: config.rnn, units: config.rnnUnits, recurrentActivation, cellName: `${config.rnn}_${index + 1}`, name, ...(seed !== undefined && { seed }) });
  }
  const cellName = `${config.rnn}_${index + 1}`;
  // The stock wrapper builds its backward cell from the forward cell's config, so both halves
  // start from the same seeded draw; the fused layer (the default) seeds each half apart.
  const args = {
    units: config.rnnUnits,
    returnSequences: true,
    recurrentActivation,
    kernelInitializer: glorot(config.seed, `${cellName}/kernel`),
    // The default orthogonal initializer crashes on the wasm backend ("rMat.flatten is not a
    // function", environment.md); Glorot trains as well here.
    recurrentInitializer: glorot(config.seed, `${cellName}/recurrent_kernel`),
    name: cellName,
  };
  const cell = config.rnn === 'gru' ? tf.layers.gru(args) : tf.layers.lstm(args);
  return tf.layers.bidirectional({ layer: cell as tf.RNN, mergeMode: 'concat', name: `bidirectional_${index + 1}` });
}

/**
 * The sequence head of both equation models: `[batch, height, width, channels]` features ->
 * `Permute` (width becomes time) -> per-step flatten (the reference implementation's bare `Reshape`
 * scrambled features) -> bidirectional LSTM/GRU layers -> dropout -> `[batch, time,
 * numClasses]` linear logits (`ctcLoss` applies the log-softmax).
 */
export function sequenceHead(features: tf.SymbolicTensor, config: SequenceHeadConfig): tf.SymbolicTensor {
  let x = tf.layers.permute({ dims: [2, 1, 3], name: 'width_as_time' }).apply(features) as tf.SymbolicTensor;
  // Flattening each time step's [height, channels] is a reshape of the permuted tensor (the
  // paper's TimeDistributed(Flatten)); tfjs's TimeDistributed would unstack and restack every
  // time step. A reshape *without* the permute scrambles width and height (the paper's bug).
  const [, steps, height, channels] = x.shape as [null, number, number, number];
  x = tf.layers.reshape({ targetShape: [steps, height * channels], name: 'column_features' }).apply(x) as tf.SymbolicTensor;
  for (let i = 0; i < config.rnnLayers; i++) x = recurrentLayer(config, i).apply(x) as tf.SymbolicTensor;
  // Per-sample masks: a batch split across replicas drops what one process would.
  if (config.dropout > 0) x = sampleDropout({ rate: config.dropout, name: 'dropout' }).apply(x) as tf.SymbolicTensor;
  return tf.layers.dense({ units: config.numClasses, kernelInitializer: glorot(config.seed, 'logits/kernel'), name: 'logits' }).apply(x) as tf.SymbolicTensor;
}

/**
 * Builds the custom CRNN. The output is `[batch, time, numClasses]` unnormalised logits (the
 * last class is the CTC blank): `ctcLoss` takes logits, and decoders apply the softmax.
 *
 * @example
 * const model = buildCrnn({ inputHeight: 32, inputWidth: 128, rnn: 'gru' });
 */
export function buildCrnn(options: CrnnOptions = {}): tf.LayersModel {
  const config = resolveCrnnOptions(options);
  const input = tf.input({ shape: [config.inputHeight, config.inputWidth, config.channels], name: 'image' });
  let x: tf.SymbolicTensor = input;
  config.convFilters.forEach((filters, i) => {
    const block = i + 1;
    const pool = config.pools[i];
    // A strided stem downsamples in its convolution; the pool is then already done.
    const stride = i === 0 && config.stridedStem && pool ? pool : null;
    // A stem striding more than 3 pixels widens its kernel to the stride, so that no pixel is skipped.
    const k = config.convKernel;
    const kernelSize: [number, number] = stride ? [Math.max(k, stride[0]), Math.max(k, stride[1])] : [k, k];
    const kernelInitializer = glorot(config.seed, `conv${block}/kernel`);
    x = leanConv2d({ filters, kernelSize, strides: stride ?? 1, padding: 'same', useBias: false, kernelInitializer, name: `conv${block}` }).apply(x) as tf.SymbolicTensor;
    // Batch norm and its ReLU as one layer (one kernel each way on wasm; Keras's weights).
    x = batchNorm({ momentum: config.batchNormMomentum, relu: true, name: `bn${block}` }).apply(x) as tf.SymbolicTensor;
    if (pool && !stride) x = tf.layers.maxPooling2d({ poolSize: pool, strides: pool, name: `pool${block}` }).apply(x) as tf.SymbolicTensor;
  });
  return tf.model({ inputs: input, outputs: sequenceHead(x, config), name: config.name });
}
