/**
 * Metrics of single-label classification (digits and letters): accuracy, per-class
 * accuracy, the confusion matrix and weighted F1. Pure functions on class indices.
 */

function checkPair(labels: ArrayLike<number>, predictions: ArrayLike<number>, what: string): void {
  if (labels.length !== predictions.length) {
    throw new RangeError(`${what}: ${labels.length} labels but ${predictions.length} predictions; give one prediction per label`);
  }
}

/** Share of predictions equal to their label; 0 for no samples. */
export function accuracy(labels: ArrayLike<number>, predictions: ArrayLike<number>): number {
  checkPair(labels, predictions, 'accuracy');
  if (labels.length === 0) return 0;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === predictions[i]) correct++;
  return correct / labels.length;
}

/**
 * Counts of (true class, predicted class): `matrix[t][p]` is how many samples of class `t`
 * were predicted as `p`. Throws a RangeError for a class index outside 0..numClasses-1.
 */
export function confusionMatrix(labels: ArrayLike<number>, predictions: ArrayLike<number>, numClasses: number): number[][] {
  checkPair(labels, predictions, 'confusionMatrix');
  const matrix = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i]!;
    const p = predictions[i]!;
    if (!(t >= 0 && t < numClasses && p >= 0 && p < numClasses)) {
      throw new RangeError(`confusionMatrix: sample ${i} has label ${t} / prediction ${p}, outside 0-${numClasses - 1}`);
    }
    matrix[t]![p]!++;
  }
  return matrix;
}

/** Precision, recall, F1 and accuracy of one class. */
export interface ClassMetrics {
  /** Class index. */
  index: number;
  /** Class name, when names were given. */
  name: string;
  /** Samples of this class (the F1 weight). */
  support: number;
  /** Samples of this class predicted correctly. */
  correct: number;
  /** correct / support (recall; "per-class accuracy"); 0 for a class with no samples. */
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
}

/**
 * Per-class metrics from a confusion matrix. Precision, recall and F1 are 0 where undefined
 * (no predictions or no samples of the class), as scikit-learn's `zero_division=0`.
 */
export function perClassMetrics(matrix: readonly (readonly number[])[], classes?: readonly string[]): ClassMetrics[] {
  const n = matrix.length;
  return matrix.map((row, c) => {
    const support = row.reduce((a, b) => a + b, 0);
    let predicted = 0;
    for (let t = 0; t < n; t++) predicted += matrix[t]![c]!;
    const correct = row[c]!;
    const precision = predicted > 0 ? correct / predicted : 0;
    const recall = support > 0 ? correct / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { index: c, name: classes?.[c] ?? String(c), support, correct, accuracy: recall, precision, recall, f1 };
  });
}

/** Accuracy of each class (share of its samples predicted correctly), indexed like the classes. */
export function perClassAccuracy(labels: ArrayLike<number>, predictions: ArrayLike<number>, numClasses: number): number[] {
  return perClassMetrics(confusionMatrix(labels, predictions, numClasses)).map((m) => m.accuracy);
}

/** F1 of each class averaged with weights equal to each class's support (scikit-learn's `average='weighted'`). */
export function weightedF1(labels: ArrayLike<number>, predictions: ArrayLike<number>, numClasses: number): number {
  return supportWeightedF1(perClassMetrics(confusionMatrix(labels, predictions, numClasses)));
}

function supportWeightedF1(metrics: readonly ClassMetrics[]): number {
  const total = metrics.reduce((a, m) => a + m.support, 0);
  return total === 0 ? 0 : metrics.reduce((a, m) => a + m.f1 * m.support, 0) / total;
}

/** Everything a classification evaluation reports. */
export interface ClassificationReport {
  accuracy: number;
  weightedF1: number;
  /** Rows: true class; columns: predicted class. */
  confusion: number[][];
  perClass: ClassMetrics[];
}

/** Accuracy, weighted F1, confusion matrix and per-class metrics in one pass. */
export function classificationReport(labels: ArrayLike<number>, predictions: ArrayLike<number>, classes: readonly string[]): ClassificationReport {
  const confusion = confusionMatrix(labels, predictions, classes.length);
  const perClass = perClassMetrics(confusion, classes);
  return {
    accuracy: accuracy(labels, predictions),
    weightedF1: supportWeightedF1(perClass),
    confusion,
    perClass,
  };
}
