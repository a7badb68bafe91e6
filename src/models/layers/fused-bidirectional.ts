/**
 * A bidirectional LSTM or GRU layer built on the whole-sequence ops of `fused-rnn.ts`: the
 * drop-in replacement of `tf.layers.bidirectional({ layer: tf.layers.lstm(...) })` (merge
 * mode 'concat', sequences returned, zero initial states) that glyphlab's sequence models use.
 *
 * Its weights carry the same names, shapes and order as the stock wrapper's
 * (`<name>/forward_<cell>/kernel`, `recurrent_kernel`, `bias`, then the backward half), so
 * `fuseRecurrentLayers` can move a model saved with the stock layers onto this one.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../errors';
import { hashString32 } from '../../util/rng';
import { type GateActivation, gruSequence, lstmSequence } from './fused-rnn';

/** The recurrent cells the fused layer runs. */
export type FusedCell = 'lstm' | 'gru';

/** Options of {@link fusedBidirectional}. */
export interface FusedBidirectionalArgs {
  /** The recurrent cell. */
  cell: FusedCell;
  /** Units of each direction. */
  units: number;
  /** Gate activation. Defaults to 'sigmoid' (Keras, PyTorch); tfjs-layers' own default is 'hardSigmoid'. */
  recurrentActivation?: GateActivation;
  /** Initializer of the input kernels. Defaults to 'glorotUniform'. */
  kernelInitializer?: string;
  /**
   * Initializer of the recurrent kernels. Defaults to 'glorotUniform' (the stock 'orthogonal'
   * fails on the wasm backend of tfjs 4.22 with "rMat.flatten is not a function").
   */
  recurrentInitializer?: string;
  /**
   * Seed of the kernel initialisers; each of the four kernels (two per direction) draws from its
   * own seed derived from this one. Defaults to none (unseeded).
   */
  seed?: number;
  /** LSTM only: start the forget gate's bias at 1 (Keras's `unit_forget_bias`). Defaults to true. */
  unitForgetBias?: boolean;
  /** Name of the wrapped cell (the weights' middle part, e.g. 'lstm_1'). Defaults to `<cell>_<layer name>`. */
  cellName?: string;
  /** Layer name. Defaults to a unique name. */
  name?: string;
  /** Whether the weights train. Defaults to true. */
  trainable?: boolean;
  /** `cellName` as serialised (tfjs keeps only `name` values out of its camel-casing). */
  cellLayer?: { name: string };
}

type Serializable = tf.serialization.ConfigDict;

function gatesOf(cell: FusedCell): number {
  return cell === 'lstm' ? 4 : 3;
}

/** The bidirectional fused recurrent layer; `[batch, time, features]` -> `[batch, time, 2 * units]`. */
export class FusedBidirectional extends tf.layers.Layer {
  static className = 'GlyphlabFusedBidirectional';
  readonly cell: FusedCell;
  readonly units: number;
  readonly recurrentActivation: GateActivation;
  readonly kernelInitializerName: string;
  readonly recurrentInitializerName: string;
  readonly unitForgetBias: boolean;
  readonly cellName: string;
  readonly seed: number | undefined;
  private weightsOf: { forward: tf.LayerVariable[]; backward: tf.LayerVariable[] } | undefined;

  constructor(args: FusedBidirectionalArgs) {
    super({ name: args.name, trainable: args.trainable });
    if (args.cell !== 'lstm' && args.cell !== 'gru') throw new ConfigError(`fused recurrent layer: cell ${JSON.stringify(args.cell)} is not one of: lstm, gru`);
    if (!Number.isInteger(args.units) || args.units < 1) throw new ConfigError(`fused recurrent layer: units ${args.units} must be a positive integer`);
    this.cell = args.cell;
    this.units = args.units;
    this.recurrentActivation = args.recurrentActivation ?? 'sigmoid';
    this.kernelInitializerName = args.kernelInitializer ?? 'glorotUniform';
    this.recurrentInitializerName = args.recurrentInitializer ?? 'glorotUniform';
    this.unitForgetBias = args.unitForgetBias ?? true;
    this.seed = args.seed;
    this.cellName = args.cellName ?? args.cellLayer?.name ?? `${args.cell}_${this.name}`;
    this.supportsMasking = false;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const features = shape[shape.length - 1];
    if (typeof features !== 'number') throw new ConfigError(`fused recurrent layer ${this.name}: the last input axis must have a known size, got ${JSON.stringify(shape)}`);
    const gates = gatesOf(this.cell) * this.units;
    // A seeded initialiser draws the same values at every call: one per kernel, or both
    // directions would start identical.
    const initializer = (name: string, weightName: string): ReturnType<typeof tf.initializers.glorotUniform> => {
      const make = tf.initializers[name as 'glorotUniform'];
      if (!make) throw new ConfigError(`fused recurrent layer ${this.name}: unknown initializer ${JSON.stringify(name)}`);
      return make(this.seed === undefined ? {} : { seed: hashString32(`${this.seed}:${weightName}`) });
    };
    const half = (direction: 'forward' | 'backward'): tf.LayerVariable[] => {
      const kernelName = `${direction}_${this.cellName}/kernel`;
      const recurrentName = `${direction}_${this.cellName}/recurrent_kernel`;
      const kernel = this.addWeight(kernelName, [features, gates], 'float32', initializer(this.kernelInitializerName, kernelName));
      const recurrent = this.addWeight(recurrentName, [this.units, gates], 'float32', initializer(this.recurrentInitializerName, recurrentName));
      const bias = this.addWeight(`${direction}_${this.cellName}/bias`, [gates], 'float32', tf.initializers.zeros());
      if (this.cell === 'lstm' && this.unitForgetBias) {
        // Keras's unit_forget_bias: the forget gate (second quarter) starts at 1.
        const values = new Float32Array(gates);
        values.fill(1, this.units, 2 * this.units);
        const initial = tf.tensor1d(values);
        bias.write(initial);
        initial.dispose();
      }
      return [kernel, recurrent, bias];
    };
    this.weightsOf = { forward: half('forward'), backward: half('backward') };
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0] ?? null, shape[1] ?? null, 2 * this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      const weights = this.weightsOf;
      if (!weights) throw new ConfigError(`fused recurrent layer ${this.name} was called before it was built`);
      const run = this.cell === 'lstm' ? lstmSequence : gruSequence;
      const direction = (vars: tf.LayerVariable[], reverse: boolean): tf.Tensor3D => {
        const [kernel, recurrent, bias] = vars.map((v) => v.read()) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
        return run(x, kernel, recurrent, bias, { reverse, recurrentActivation: this.recurrentActivation });
      };
      return tf.concat([direction(weights.forward, false), direction(weights.backward, true)], 2);
    });
  }

  override getConfig(): Serializable {
    return {
      ...super.getConfig(),
      cell: this.cell,
      units: this.units,
      recurrentActivation: this.recurrentActivation,
      kernelInitializer: this.kernelInitializerName,
      recurrentInitializer: this.recurrentInitializerName,
      unitForgetBias: this.unitForgetBias,
      cellLayer: { name: this.cellName },
      ...(this.seed !== undefined && { seed: this.seed }),
    };
  }
}
tf.serialization.registerClass(FusedBidirectional);

/**
 * A fused bidirectional LSTM or GRU layer.
 *
 * @example
 * const rnn = fusedBidirectional({ cell: 'gru', units: 96, name: 'bidirectional_1' });
 */
export function fusedBidirectional(args: FusedBidirectionalArgs): FusedBidirectional {
  return new FusedBidirectional(args);
}
