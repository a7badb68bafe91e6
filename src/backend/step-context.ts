/**
 * The context of the training step a forward pass belongs to: which step, which samples of its
 * global batch this pass computes, and how batch statistics are shared between the replicas
 * that split the batch. Layers and kernels whose training behaviour depends on more than their
 * inputs read it: per-sample dropout draws its masks from (seed, step, sample index), so a batch
 * split across replicas is masked as one process would mask it, and batch norm adds every
 * replica's per-channel sums through `reduceBatchNormSums` (synchronised batch norm).
 *
 * A step's gradient function (`training/gradients.ts`) is the one place that sets it, with
 * {@link runInStep}, for exactly the synchronous forward and backward pass of the step; nothing
 * else writes it.
 */

/**
 * Adds, in place, the per-channel sums of every replica of the current step into `sums` (the
 * same call, in the same order, on every replica).
 */
export type ChannelSumReducer = (sums: Float64Array) => void;

/** The position of a forward pass in training. */
export interface StepContext {
  /** Seed of the run's randomness. */
  seed: number;
  /** Global training step (0-based). */
  step: number;
  /** Index, in the step's global batch, of the first sample of this forward pass. */
  sampleOffset: number;
  /** Adds the batch-norm statistics of every replica of the step; absent when one process trains. */
  reduceBatchNormSums?: ChannelSumReducer;
}

let current: StepContext | undefined;

/**
 * Runs `fn` (synchronous: a step's forward and backward pass) in `context`, and restores the
 * context before it afterwards, also when `fn` throws.
 *
 * @example
 * const { value, grads } = runInStep({ seed, step, sampleOffset: 0 }, () => tf.variableGrads(f, vars));
 */
export function runInStep<T>(context: StepContext, fn: () => T): T {
  const previous = current;
  current = context;
  try {
    return fn();
  } finally {
    current = previous;
  }
}

/** The context of the step running now, or undefined outside one (plain tfjs use, inference). */
export function currentStep(): StepContext | undefined {
  return current;
}
