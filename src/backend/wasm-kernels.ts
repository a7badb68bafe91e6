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

type KernelArgs = Parameters<tf.KernelFunc>[0];
type TensorInfo = tf.TensorInfo;

/** Kernels delegated to the cpu backend when wasm lacks them. */
const CPU_FALLBACK_KERNELS = [
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'UnsortedSegmentSum',
] as const;

/** Calls a wasm kernel directly (kernels compose at this level, below the autograd tape). */
function callKernel(name: string, backend: tf.KernelBackend, inputs: Record<string, TensorInfo>, attrs: object): TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (kernel == null) throw new Error(`wasm kernel '${name}' is missing`);
  return kernel.kernelFunc({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as TensorInfo;
}

function conv2dBackpropFilterWasm(args: KernelArgs): TensorInfo | TensorInfo[] {
  const { inputs, attrs } = args;
  const backend = args.backend as tf.KernelBackend;
  const x = inputs['x'];
  const dy = inputs['dy'];
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (x == null || dy == null || dataFormat === 'NCHW') return runOnCpu('Conv2DBackpropFilter', args);

  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const [, height, width] = x.shape as [number, number, number, number];
  const [filterHeight, filterWidth] = filterShape;
  const { strideHeight, strideWidth, outHeight, outWidth } = info;
  // Rows of padded x that the gradient reads: fh + oh*sh for fh < FH, oh < OH.
  const neededHeight = filterHeight - 1 + (outHeight - 1) * strideHeight + 1;
  const neededWidth = filterWidth - 1 + (outWidth - 1) * strideWidth + 1;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const padBottom = Math.max(0, neededHeight - padTop - height);
  const padRight = Math.max(0, neededWidth - padLeft - width);

  const temporaries: TensorInfo[] = [];
  try {
    const xT = callKernel('Transpose', backend, { x }, { perm: [3, 1, 2, 0] });
    temporaries.push(xT);
    const dyT = callKernel('Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] });
    temporaries.push(dyT);
    const grad = callKernel('Conv2D', backend, { x: xT, filter: dyT }, {
      strides: [1, 1],
      pad: [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]],
      dataFormat: 'NHWC',
      dilations: [strideHeight, strideWidth],
    });
    temporaries.push(grad);
    // Padding beyond what the gradient reads makes the result larger than the filter: crop.
    let cropped = grad;
    if (grad.shape[1] !== filterHeight || grad.shape[2] !== filterWidth) {
      cropped = callKernel('Slice', backend, { x: grad }, {
        begin: [0, 0, 0, 0],
        size: [grad.shape[0], filterHeight, filterWidth, grad.shape[3]],
      });
      temporaries.push(cropped);
    }
    return callKernel('Transpose', backend, { x: cropped }, { perm: [1, 2, 0, 3] });
  } finally {
    for (const t of temporaries) backend.disposeData(t.dataId);
  }
}

/**
 * Registers on the wasm backend the training kernels it lacks. Safe to call more than once;
 * returns the names registered by this call.
 */
export function registerWasmTrainingKernels(): string[] {
  const added: string[] = [];
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm') == null) {
    tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2dBackpropFilterWasm });
    added.push('Conv2DBackpropFilter');
  }
  added.push(...registerCpuFallbacks('wasm', CPU_FALLBACK_KERNELS));
  return added;
}
