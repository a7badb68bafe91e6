/**
 * Which training step, and which samples of its global batch, the current forward pass
 * computes. Layers whose training behaviour is random (dropout) draw their randomness from it,
 * per sample, so that a batch split across replicas gets exactly the masks one process would
 * have drawn for the whole batch. The training loop (or a replica) sets it before each step.
 */

/** The position of a forward pass in training. */
export interface StepContext {
  /** Seed of the run's randomness. */
  seed: number;
  /** Global training step (0-based). */
  step: number;
  /** Index, in the step's global batch, of the first sample of this forward pass. */
  sampleOffset: number;
}

let current: StepContext | undefined;
let fallbackStep = 0;

/** Sets (or, with undefined, clears) the context of the next forward passes. */
export function setStepContext(context: StepContext | undefined): void {
  current = context;
}

/**
 * The context of this forward pass. Without one set (plain tfjs use), each call is a new step
 * with offset 0, so masks still differ from call to call.
 */
export function stepContext(): StepContext {
  return current ?? { seed: 0, step: fallbackStep++, sampleOffset: 0 };
}
