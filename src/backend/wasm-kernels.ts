/**
 * Kernels that training needs and the wasm backend of tfjs 4.22 lacks.
 *
 * `Conv2DBackpropFilter` (every conv layer's weight gradient) is computed with the wasm
 * backend's own fast forward convolution (XNNPACK). For x [B, H, W, Ci], dy [B, OH, OW, Co] and
 * strides (sh, sw):
 *
 *     dW[fh, fw, ci, co] = sum over b, oh, ow of xPadded[b, fh + oh*sh, fw + ow*sw, ci] * dy[b, oh, ow, co]
 *
 * which is a stride-1 convolution of x with channels and batch swapped ([Ci, H, W, B]) by dy
 * used as a filter ([OH, OW, B, Co]) dilated by the strides, giving [Ci, FH, FW, Co].
 *
 * An earlier idea, reshaping to 5-D and calling the wasm `Conv3DBackpropFilterV2` kernel, is
 * wrong for strides above 1 (that wasm kernel disagrees with the cpu backend there), so it is
 * not used. Depthwise-convolution gradients and `UnsortedSegmentSum` (the gradient of
 * `gather`) run on the cpu backend through {@link runOnCpu}: exact, slower, and rare in
 * glyphlab's models.
 */
import * as tf from '@tensorflow/tfjs';
import { registerCpuFallbacks, runOnCpu } from './cpu-fallback';
import { registerBatchNormGradient } from './batch-norm-grad';
import { kernelCalls, type KernelArgs, type TensorInfo } from './wasm-call';
import { registerWasmOptimizerKernels } from './wasm-adam';
import { leadingAxesReduction, maxPoolGradJs, reverseJs, sharedIdentity } from './wasm-js-kernels';
import { explicitTransposes } from './wasm-matmul';
import { replaceWasmKernel } from './wasm-replace';
import { withNativeKernel } from './native-kernels';
import { registerWasmBatchNormKernels } from './wasm-batch-norm';
import { registerWasmRecurrentKernels } from './wasm-rnn';

/** Kernels delegated to the cpu backend when wasm lacks them. */
const CPU_FALLBACK_KERNELS = [
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'UnsortedSegmentSum',
] as const;

type Shape4D = [number, number, number, number];

function conv2dBackpropFilterWasm(args: KernelArgs): TensorInfo | TensorInfo[] {
  const { inputs, attrs } = args;
  const backend = args.backend as tf.KernelBackend;
  const x = inputs['x'];
  const dy = inputs['dy'];
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (x == null || dy == null || dataFormat === 'NCHW') return runOnCpu('Conv2DBackpropFilter', args);

  const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4D, filterShape, strides, 1, pad, dimRoundingMode);
  const [, height, width] = x.shape as Shape4D;
  const [filterHeight, filterWidth] = filterShape;
  const { strideHeight, strideWidth, outHeight, outWidth } = info;
  // Rows of padded x that the gradient reads: fh + oh*sh for fh < FH, oh < OH.
  const neededHeight = filterHeight - 1 + (outHeight - 1) * strideHeight + 1;
  const neededWidth = filterWidth - 1 + (outWidth - 1) * strideWidth + 1;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const padBottom = Math.max(0, neededHeight - padTop - height);
  const padRight = Math.max(0, neededWidth - padLeft - width);

  const k = kernelCalls(backend);
  try {
    const xT = k.call('Transpose', { x }, { perm: [3, 1, 2, 0] });
    const dyT = k.call('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
    // Explicit padding sized so that the wasm kernel's own output size is the filter size
    // plus what the crop below removes (see paddedConvolution for the numeric-padding bug).
    const grad = k.call('Conv2D', { x: xT, filter: dyT }, {
      strides: [1, 1],
      pad: [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]],
      dataFormat: 'NHWC',
      dilations: [strideHeight, strideWidth],
    });
    // Padding beyond what the gradient reads makes the result larger than the filter: crop.
    let cropped = grad;
    if (grad.shape[1] !== filterHeight || grad.shape[2] !== filterWidth) {
      cropped = k.call('Slice', { x: grad }, { begin: [0, 0, 0, 0], size: [grad.shape[0], filterHeight, filterWidth, grad.shape[3]] });
    }
    return k.keep('Transpose', { x: cropped }, { perm: [1, 2, 0, 3] });
  } finally {
    k.dispose();
  }
}

/**
 * Pads (positive amounts) or crops (negative amounts) the two spatial axes of an NHWC tensor,
 * with Slice and PadV2 rather than a convolution's own padding.
 */
function padOrCrop(
  k: ReturnType<typeof kernelCalls>,
  x: TensorInfo,
  [top, bottom]: [number, number],
  [left, right]: [number, number],
): TensorInfo {
  let out = x;
  const [batch, height, width, channels] = x.shape as Shape4D;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const cropTop = Math.max(0, -top);
    const cropLeft = Math.max(0, -left);
    out = k.call('Slice', { x: out }, {
      begin: [0, cropTop, cropLeft, 0],
      size: [batch, height - cropTop - Math.max(0, -bottom), width - cropLeft - Math.max(0, -right), channels],
    });
  }
  if (top > 0 || bottom > 0 || left > 0 || right > 0) {
    const paddings = [[0, 0], [Math.max(0, top), Math.max(0, bottom)], [Math.max(0, left), Math.max(0, right)], [0, 0]];
    out = k.call('PadV2', { x: out }, { paddings, constantValue: 0 });
  }
  return out;
}

/**
 * `Conv2DBackpropInput` (every conv layer's input gradient) through the wasm forward Conv2D
 * (XNNPACK) instead of the backend's naive loop. For x [B, H, W, Ci], filter [FH, FW, Ci, Co],
 * dy [B, OH, OW, Co], strides (sh, sw) and top/left padding (pt, pl):
 *
 *     dx[b, h, w, ci] = sum over fh, fw, co of dyDilated[b, h + pt - fh, w + pl - fw, co] * W[fh, fw, ci, co]
 *
 * where dyDilated has sh-1 (sw-1) zero rows (columns) after each row (column) of dy. That is a
 * stride-1 'valid' convolution of dyDilated, padded by FH-1-pt on top, with the filter flipped
 * in both spatial axes and its channel axes swapped ([FH, FW, Co, Ci]).
 */
function conv2dBackpropInputWasm(original: tf.KernelFunc) {
  return (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const { inputs, attrs } = args;
    const backend = args.backend as tf.KernelBackend;
    const dy = inputs['dy'];
    const filter = inputs['filter'];
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
    if (dy == null || filter == null || dataFormat === 'NCHW') return original(args);

    const filterShape = filter.shape as Shape4D;
    const info = tf.backend_util.computeConv2DInfo(inputShape, filterShape, strides, 1, pad, dimRoundingMode);
    const [batch, height, width] = inputShape;
    const [filterHeight, filterWidth] = filterShape;
    const { strideHeight, strideWidth, outHeight, outWidth, outChannels } = info;

    const k = kernelCalls(backend);
    try {
      let dilated = dy;
      if (strideHeight > 1 || strideWidth > 1) {
        // Zeros after every row and column: [B, OH, 1, OW, 1, Co] padded to [B, OH, sh, OW, sw, Co].
        const spread = k.call('Reshape', { x: dy }, { shape: [batch, outHeight, 1, outWidth, 1, outChannels] });
        const padded = k.call('PadV2', { x: spread }, {
          paddings: [[0, 0], [0, 0], [0, strideHeight - 1], [0, 0], [0, strideWidth - 1], [0, 0]],
          constantValue: 0,
        });
        dilated = k.call('Reshape', { x: padded }, { shape: [batch, outHeight * strideHeight, outWidth * strideWidth, outChannels] });
      }
      const [, dilatedHeight, dilatedWidth] = dilated.shape as Shape4D;
      const top = filterHeight - 1 - info.padInfo.top;
      const left = filterWidth - 1 - info.padInfo.left;
      const source = padOrCrop(
        k,
        dilated,
        [top, height + filterHeight - 1 - top - dilatedHeight],
        [left, width + filterWidth - 1 - left - dilatedWidth],
      );
      const flipped = k.call('Reverse', { x: filter }, { dims: [0, 1] });
      const swapped = k.call('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] });
      return k.keep('Conv2D', { x: source, filter: swapped }, {
        strides: [1, 1],
        pad: 'valid',
        dataFormat: 'NHWC',
        dilations: [1, 1],
        dimRoundingMode: undefined,
      });
    } finally {
      k.dispose();
    }
  };
}

/**
 * The wasm forward convolutions with numeric padding write out of bounds in tfjs 4.22 (x
 * [1, 9, 2, 1], filter [4, 1, 1, 4], strides [1, 2], pad 1 ends in "memory access out of
 * bounds"). The cause: for a numeric pad, tfjs-core's `computeConv2DInfo` sizes the output
 * width with the filter's *height* and *stride height* (here [1, 8, 1, 4]), the engine allocates
 * that, and the wasm kernel writes the size it computes itself ([1, 8, 2, 4]). The cpu backend
 * follows `computeConv2DInfo`, so this route does too: it pads (or crops) the input to exactly
 * the rows and columns those output positions read, and convolves 'valid'.
 */
function paddedConvolution(name: string) {
  return (original: tf.KernelFunc) =>
    (args: KernelArgs): TensorInfo | TensorInfo[] => {
      const attrs = args.attrs as unknown as tf.Conv2DAttrs;
      const x = args.inputs['x'];
      const filter = args.inputs['filter'];
      const { pad } = attrs;
      if (pad === 'same' || pad === 'valid' || x == null || filter == null || attrs.dataFormat === 'NCHW') return original(args);
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as Shape4D,
        filter.shape as Shape4D,
        attrs.strides,
        attrs.dilations,
        pad,
        attrs.dimRoundingMode,
      );
      const { top, left } = info.padInfo;
      const neededHeight = (info.outHeight - 1) * info.strideHeight + info.effectiveFilterHeight;
      const neededWidth = (info.outWidth - 1) * info.strideWidth + info.effectiveFilterWidth;
      const k = kernelCalls(args.backend as tf.KernelBackend, { [name]: original });
      try {
        const padded = padOrCrop(k, x, [top, neededHeight - top - info.inHeight], [left, neededWidth - left - info.inWidth]);
        return k.keep(name, { ...args.inputs, x: padded }, { ...attrs, pad: 'valid', dimRoundingMode: undefined });
      } finally {
        k.dispose();
      }
    };
}

/**
 * Registers on the wasm backend the training kernels it lacks, replaces the slow ones it has
 * (`Conv2DBackpropInput`, transposed `BatchMatMul` / `_FusedMatMul`, `MaxPoolGrad`, `Reverse`, `Identity`,
 * leading-axes `Sum` / `Mean`), routes strided convolutions
 * with numeric padding around a wasm bug, and installs the lean batch-norm gradient and the
 * fused Adam update. Safe to
 * call more than once; returns the names this call registered or replaced.
 */
export function registerWasmTrainingKernels(): string[] {
  const added: string[] = [];
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm') == null) {
    tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: withNativeKernel('Conv2DBackpropFilter', conv2dBackpropFilterWasm) });
    added.push('Conv2DBackpropFilter');
  }
  const replacements: [string, (original: tf.KernelFunc) => (args: KernelArgs) => TensorInfo | TensorInfo[]][] = [
    ['Conv2DBackpropInput', conv2dBackpropInputWasm],
    // Products and convolutions natively where glyphlab's native kernels run (native-kernels.ts),
    // else through the wasm kernels with the fixes below; the convolution gradients above are
    // built on Conv2D, so they follow.
    ['BatchMatMul', (original) => withNativeKernel('BatchMatMul', explicitTransposes('BatchMatMul')(original) as tf.KernelFunc)],
    ['_FusedMatMul', (original) => withNativeKernel('_FusedMatMul', explicitTransposes('_FusedMatMul')(original) as tf.KernelFunc)],
    ['Conv2D', (original) => withNativeKernel('Conv2D', paddedConvolution('Conv2D')(original) as tf.KernelFunc)],
    ['FusedConv2D', (original) => withNativeKernel('FusedConv2D', paddedConvolution('FusedConv2D')(original) as tf.KernelFunc)],
    ['MaxPoolGrad', () => maxPoolGradJs],
    ['Reverse', () => reverseJs],
    ['Identity', sharedIdentity],
    ['Sum', leadingAxesReduction('Sum')],
    ['Mean', leadingAxesReduction('Mean')],
  ];
  for (const [name, make] of replacements) {
    if (replaceWasmKernel(name, make)) added.push(name);
  }
  added.push(...registerCpuFallbacks('wasm', CPU_FALLBACK_KERNELS));
  if (registerBatchNormGradient()) added.push('FusedBatchNorm (gradient)');
  added.push(...registerWasmRecurrentKernels(), ...registerWasmBatchNormKernels(), ...registerWasmOptimizerKernels());
  return added;
}
