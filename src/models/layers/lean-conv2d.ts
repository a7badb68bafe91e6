/**
 * tfjs-layers' Conv2D with one difference in training: without a bias or an activation it calls
 * the plain `conv2d` op, whose gradient computes the input gradient and the filter gradient
 * separately and only when asked. The stock layer always goes through `fused.conv2d`, whose
 * gradient computes both at once, so the first layer of a network paid for the gradient of
 * its input image, which nothing reads: on the quick equation model about 8 ms of a 122 ms
 * step (16 images, one core). Weights, configuration and outputs are the stock layer's.
 */
import * as tf from '@tensorflow/tfjs';

type Conv2DArgs = Parameters<typeof tf.layers.conv2d>[0];

/** The fields of tfjs-layers' convolution this layer reads (protected in its typings). */
interface ConvFields {
  kernel: { read(): tf.Tensor };
  useBias: boolean;
  activation: { getClassName(): string };
  strides: number[];
  padding: 'same' | 'valid';
  dataFormat: string;
  dilationRate: number[];
  rank: number;
}

// tfjs exports the layer's factory, not its class: take the class from one instance (named, so
// that it uses up no automatic layer name).
const StockConv2D = tf.layers.conv2d({ filters: 1, kernelSize: 1, name: 'glyphlab_conv2d_class_probe' }).constructor as Omit<typeof tf.layers.Layer, 'prototype'> &
  (new (args: Conv2DArgs) => tf.layers.Layer);

/** Conv2D whose gradient skips what is not asked for (see the module comment). */
export class LeanConv2D extends StockConv2D {
  static className = 'GlyphlabConv2D';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: tf.serialization.ConfigDict): tf.Tensor | tf.Tensor[] {
    const conv = this as unknown as ConvFields;
    const plain = !conv.useBias && conv.activation.getClassName() === 'linear' && conv.rank === 2 && conv.dataFormat === 'channelsLast';
    if (!plain) return super.call(inputs, kwargs);
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return tf.conv2d(x, conv.kernel.read() as tf.Tensor4D, conv.strides as [number, number], conv.padding, 'NHWC', conv.dilationRate as [number, number]);
  }
}
tf.serialization.registerClass(LeanConv2D);

/**
 * A 2-D convolution layer with tfjs-layers' `conv2d` arguments and weights.
 *
 * @example
 * x = leanConv2d({ filters: 16, kernelSize: 3, padding: 'same', useBias: false, name: 'conv1' }).apply(x) as tf.SymbolicTensor;
 */
export function leanConv2d(args: Conv2DArgs): LeanConv2D {
  return new LeanConv2D(args);
}
