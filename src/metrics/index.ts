/**
 * Metrics over plain values: edit distance, sequence accuracy and character error rate, the
 * classification metrics (confusion, per-class accuracy, weighted F1), and which way a metric improves.
 *
 * The public names of metrics/, by module; a notebook imports them from
 * `./glyphlab/metrics/index`. The entry points most work starts from are also in src/index.ts.
 */

// edit-distance: Levenshtein distance and its alignment
export { editDistance, editAlignment, type EditStep } from './edit-distance';

// mode: whether a metric improves upwards or downwards
export { metricMode } from './mode';

// sequence: exact-match accuracy, CER, accuracy by length, confusion pairs
export {
  sequenceAccuracy,
  characterErrorRate,
  accuracyByLength,
  confusionPairs,
  sequenceMetrics,
  type LengthAccuracy,
  type ConfusionPair,
  type SequenceMetrics,
} from './sequence';

// classification: accuracy, confusion matrix, per-class metrics, weighted F1
export {
  accuracy,
  confusionMatrix,
  perClassMetrics,
  perClassAccuracy,
  weightedF1,
  classificationReport,
  type ClassMetrics,
  type ClassificationReport,
} from './classification';
