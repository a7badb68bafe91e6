/**
 * Runs a kernel the current backend lacks on tfjs's cpu backend instead: inputs are copied to
 * the cpu backend, the cpu kernel runs, and its outputs are copied back. Slow, but exact, so
 * that no model fails on a missing kernel; hot kernels get a native implementation instead.
 */
import * as tf from '@tensorflow/tfjs';

type KernelArgs = Parameters<tf.KernelFunc>[0];
type TensorInfo = tf.TensorInfo;

/** The cpu backend, created on first use. */
function cpuBackend(): tf.KernelBackend {
  const backend = tf.engine().findBackend('cpu');
  if (backend == null) {
    throw new Error('the tfjs cpu backend is not registered; import @tensorflow/tfjs first');
  }
  return backend;
}

/** Runs `kernelName`'s cpu implementation on inputs held by `args.backend`. */
export function runOnCpu(kernelName: string, args: KernelArgs): TensorInfo | TensorInfo[] {
  const cpuKernel = tf.getKernel(kernelName, 'cpu');
  if (cpuKernel == null) {
    throw new Error(`kernel '${kernelName}' is registered neither on '${tf.getBackend()}' nor on 'cpu'`);
  }
  const source = args.backend as tf.KernelBackend;
  const cpu = cpuBackend();
  const cpuInputs: Record<string, TensorInfo> = {};
  const created: TensorInfo[] = [];
  try {
    for (const [name, info] of Object.entries(args.inputs)) {
      if (info == null) continue;
      const values = source.readSync(info.dataId);
      const copy: TensorInfo = { dataId: cpu.write(values, info.shape, info.dtype), shape: info.shape, dtype: info.dtype };
      created.push(copy);
      cpuInputs[name] = copy;
    }
    const result = cpuKernel.kernelFunc({ inputs: cpuInputs, backend: cpu, attrs: args.attrs });
    const outputs = Array.isArray(result) ? result : [result];
    created.push(...outputs);
    const copied = outputs.map((out): TensorInfo => ({
      dataId: source.write(cpu.readSync(out.dataId), out.shape, out.dtype),
      shape: out.shape,
      dtype: out.dtype,
    }));
    return Array.isArray(result) ? copied : (copied[0] as TensorInfo);
  } finally {
    for (const info of created) cpu.disposeData(info.dataId);
  }
}

/**
 * Registers, for `backendName`, a cpu-delegating kernel for each name in `kernelNames` that the
 * backend does not have. Returns the names it registered.
 */
export function registerCpuFallbacks(backendName: string, kernelNames: readonly string[]): string[] {
  const added: string[] = [];
  for (const kernelName of kernelNames) {
    if (tf.getKernel(kernelName, backendName) != null) continue;
    if (tf.getKernel(kernelName, 'cpu') == null) continue;
    tf.registerKernel({
      kernelName,
      backendName,
      kernelFunc: (args) => runOnCpu(kernelName, args),
    });
    added.push(kernelName);
  }
  return added;
}
