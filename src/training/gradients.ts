/**
 * The gradient of one batch: glyphlab's one gradient function. The training loop calls it on
 * its own thread, and every data-parallel replica calls it for its share of a batch
 * (`parallel/replica-step.ts`), so a penalty, a loss scale or a step context is added here once.
 */
import * as tf from '@tensorflow/tfjs';
import { runInStep, type StepContext } from '../backend/step-context';
import type { LossFn, TrainBatch } from './types';

/** Options of {@link lossGradients}. */
export interface LossGradientOptions<B extends TrainBatch> {
  loss: LossFn<B>;
  /** Multiply the task's loss by this (a replica's share of the batch). Defaults to 1. */
  scale?: number;
  /** Add the layers' regularisation penalties (`model.calculateLosses()`, e.g. L2), as Keras's fit does. */
  penalties: boolean;
  /** The step this pass belongs to (per-sample dropout, shared batch statistics). Defaults to none: the layers' behaviour outside a step. */
  step?: StepContext;
}

/**
 * The loss of `batch` (the model applied in training mode, the task's loss times `scale`, plus
 * the penalties) and its gradient of `variables`. Synchronous; the caller disposes both.
 *
 * @example
 * const { value, grads } = lossGradients(model, variables, batch, { loss: ctcLossFn(), penalties: true });
 */
export function lossGradients<B extends TrainBatch>(model: tf.LayersModel, variables: tf.Variable[], batch: B, options: LossGradientOptions<B>): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const compute = () =>
    tf.variableGrads(() => {
      const output = model.apply(batch.x, { training: true }) as tf.Tensor | tf.Tensor[];
      const taskLoss = options.loss(output, batch);
      const loss = options.scale === undefined || options.scale === 1 ? taskLoss : (tf.mul(taskLoss, options.scale) as tf.Scalar);
      const penalties = options.penalties ? model.calculateLosses() : [];
      return penalties.length === 0 ? loss : (tf.addN([loss, ...penalties]) as tf.Scalar);
    }, variables);
  return options.step ? runInStep(options.step, compute) : compute();
}

/** Disposes a batch's tensors: `x` and every top-level field holding a tensor or tensors (its targets). */
export function disposeBatch(batch: TrainBatch): void {
  for (const value of Object.values(batch)) {
    if (value instanceof tf.Tensor) value.dispose();
    else if (Array.isArray(value)) for (const item of value) if (item instanceof tf.Tensor) item.dispose();
  }
}
