/**
 * The reference implementation's recipe, second phase: continue training a (pre-trained) CRNN
 * with CTC + center loss, through the shared training loop.
 */
import type * as tf from '@tensorflow/tfjs';
import { combineEvaluators } from '../evaluators';
import { train } from '../train';
import type { TrainData, TrainOptions, TrainResult } from '../types';
import type { LabeledSequenceBatch } from './align';
import { withFeatureOutput } from './feature-output';
import { type CenterLossObjective, type CenterLossObjectiveOptions, createCenterLossObjective } from './objective';

/** Options of {@link trainWithCenterLoss}: those of `train` without the loss, plus the objective's. */
export interface TrainWithCenterLossOptions extends Omit<TrainOptions<LabeledSequenceBatch>, 'loss'> {
  /** The center-loss objective. Defaults to those of {@link createCenterLossObjective}. */
  center?: CenterLossObjectiveOptions;
}

/**
 * The reference implementation's recipe, second phase: continue training a (pre-trained) CRNN
 * with CTC + center loss. Wraps the model with {@link withFeatureOutput}, trains with the objective's loss, and
 * adds the epoch's center statistics to the logs of `evaluate` (so a `TrackerCallback` records
 * them). The returned `objective` still holds the centers; dispose it when done.
 *
 * @example
 * const { result } = await trainWithCenterLoss(crnn, sequenceTrainData(trainSource), {
 *   evaluate: sequenceEvaluator(validSource), epochs: 5, learningRate: 1e-4, center: { lambda: 0.003 },
 * });
 */
export async function trainWithCenterLoss(
  crnn: tf.LayersModel,
  data: TrainData<LabeledSequenceBatch>,
  options: TrainWithCenterLossOptions = {},
): Promise<{ result: TrainResult; model: tf.LayersModel; objective: CenterLossObjective }> {
  const { center, ...trainOptions } = options;
  const objective = createCenterLossObjective({ numClasses: crnn.outputs[0]?.shape[2] ?? undefined, ...center });
  const model = withFeatureOutput(crnn);
  try {
    const result = await train(model, data, {
      ...trainOptions,
      loss: objective.loss,
      evaluate: options.evaluate ? combineEvaluators(options.evaluate, objective.evaluate) : objective.evaluate,
      // Without a validation evaluator there is no val_accuracy to monitor.
      monitor: options.monitor ?? (options.evaluate ? undefined : 'loss'),
    });
    return { result, model, objective };
  } catch (error) {
    objective.dispose();
    throw error;
  }
}
