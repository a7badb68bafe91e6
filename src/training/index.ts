/**
 * The training loop and what it runs: callbacks, optimizers, learning-rate schedules, the
 * sequence (CTC) and classification tasks, and the center-loss objective. Knows nothing of the store.
 *
 * The public names of training/, by module; a notebook imports them from
 * `./glyphlab/training/index`. The entry points most work starts from are also in src/index.ts.
 */

// callbacks: the callback lifecycle, a time budget, a live history
export { Callback, CallbackList, TimeBudget, HistoryCallback, type Logs, type TrainBeginEvent, type TrainEndEvent } from './callbacks';

// batch-progress: progress within an epoch (step, images/s, ETAs, batch losses) for live views
export { BatchProgressCallback, describeBatchProgress, type BatchProgress, type BatchProgressOptions } from './batch-progress';

// types: the loop's options, data and result
export type {
  TrainBatch,
  TrainData,
  TrainOptions,
  TrainResult,
  LossFn,
  EvaluateFn,
  OptimizerName,
  EarlyStoppingOptions,
  ReduceLrOptions,
  TrainingConfig,
} from './types';

// train: the loop, optimizers, learning rate, gradient clipping
export {
  train,
  createOptimizer,
  getLearningRate,
  setLearningRate,
  clipGradients,
  NonFiniteLossError,
  DivergenceError,
  stopReason,
  OPTIMIZER_NAMES,
} from './train';

// gradients: the loss and its gradients for one batch
export { lossGradients, disposeBatch, type LossGradientOptions } from './gradients';

// phases: training in phases (freeze, then fine-tune) as one run
export { trainInPhases, type TrainingPhase } from './phases';

// schedule: learning-rate step schedules
export {
  stepSchedule,
  parseStepSchedule,
  scheduleFromHistory,
  formatStepSchedule,
  type LearningRateSchedule,
  type ScheduleStep,
  type StepSchedule,
} from './schedule';

// sequence: the sequence (CTC) task: batches, loss, decoding, predictions, evaluation
export {
  batchToSequenceBatch,
  sequenceTrainData,
  ctcLossFn,
  predictLogits,
  decodeTexts,
  predictSequences,
  sequenceLogs,
  sequenceEvaluator,
  type SequenceBatch,
  type SequenceDecoder,
  type SequencePredictions,
  type PredictSequencesOptions,
  type SequenceEvaluatorOptions,
} from './sequence';

// classification: the classification task: data, loss, evaluation, ensembles
export {
  charTrainData,
  classificationLoss,
  classificationEvaluator,
  predictClasses,
  evaluateClassifier,
  evaluateEnsemble,
  type ClassificationBatch,
  type CharTrainDataOptions,
  type ClassificationLossOptions,
  type ClassificationEvaluatorOptions,
  type PredictClassesOptions,
  type ClassPredictions,
  type ClassifierEvaluation,
} from './classification';

// center-loss/feature-output: a model that also outputs its per-frame features
export { withFeatureOutput, type FeatureOutputOptions } from './center-loss/feature-output';

// center-loss/align: aligning a batch's frames to its characters
export { alignBatch, type LabeledSequenceBatch, type BatchAlignment } from './center-loss/align';

// center-loss/objective: the CTC + center-loss objective
export { createCenterLossObjective, type CenterLossObjective, type CenterLossObjectiveOptions } from './center-loss/objective';

// center-loss/statistics: distances between the centers of look-alike characters
export { lookalikeMap, meanCenterDistance, centerStatistics, type CenterStatistics } from './center-loss/statistics';

// center-loss/held-out: center statistics on held-out data
export {
  collectAlignedFeatures,
  heldOutCenterEvaluator,
  type HeldOutCenterOptions,
  type AlignedFeatures,
  type CollectAlignedFeaturesOptions,
} from './center-loss/held-out';

// evaluators: combining evaluators
export { combineEvaluators } from './evaluators';
