/**
 * Sequence metrics over decoded strings: exact-match accuracy (the reference implementation's
 * metric), character error rate, accuracy per label length, and character confusion pairs from the
 * edit alignment. Plain functions over strings, for callbacks, the CLI and notebooks alike.
 */
import { DataError } from '../errors';
import { editAlignment, editDistance } from './edit-distance';

function checkPairs(truths: readonly string[], predictions: readonly string[], metric: string): void {
  if (truths.length !== predictions.length) {
    throw new DataError(`${metric} got ${truths.length} truths and ${predictions.length} predictions; pass one prediction per truth`);
  }
}

/** Fraction of predictions equal to their truth; 0 for no samples. */
export function sequenceAccuracy(truths: readonly string[], predictions: readonly string[]): number {
  checkPairs(truths, predictions, 'sequenceAccuracy');
  if (truths.length === 0) return 0;
  let correct = 0;
  truths.forEach((truth, i) => {
    if (predictions[i] === truth) correct++;
  });
  return correct / truths.length;
}

/**
 * Character error rate: total edit distance over total truth length (so long labels weigh
 * more); 0 when every truth is empty and every prediction too.
 */
export function characterErrorRate(truths: readonly string[], predictions: readonly string[]): number {
  checkPairs(truths, predictions, 'characterErrorRate');
  let edits = 0;
  let length = 0;
  truths.forEach((truth, i) => {
    edits += editDistance(truth, predictions[i] as string);
    length += Array.from(truth).length;
  });
  if (length === 0) return edits === 0 ? 0 : Number.POSITIVE_INFINITY;
  return edits / length;
}

/** Exact-match accuracy of the samples whose truth has one length. */
export interface LengthAccuracy {
  length: number;
  samples: number;
  correct: number;
  accuracy: number;
}

/** Exact-match accuracy grouped by truth length (in code points), shortest first. */
export function accuracyByLength(truths: readonly string[], predictions: readonly string[]): LengthAccuracy[] {
  checkPairs(truths, predictions, 'accuracyByLength');
  const groups = new Map<number, LengthAccuracy>();
  truths.forEach((truth, i) => {
    const length = Array.from(truth).length;
    let group = groups.get(length);
    if (!group) {
      group = { length, samples: 0, correct: 0, accuracy: 0 };
      groups.set(length, group);
    }
    group.samples++;
    if (predictions[i] === truth) group.correct++;
  });
  return [...groups.values()]
    .map((group) => ({ ...group, accuracy: group.correct / group.samples }))
    .sort((a, b) => a.length - b.length);
}

/** How often one truth symbol was read as another; `''` marks an insertion or a deletion. */
export interface ConfusionPair {
  truth: string;
  predicted: string;
  count: number;
}

/**
 * Character confusions from the edit alignments of every pair: substitutions `truth ->
 * predicted`, deletions `truth -> ''`, insertions `'' -> predicted`. Most frequent first.
 *
 * @example
 * confusionPairs(['1+2=3'], ['1+2=8']); // [{ truth: '3', predicted: '8', count: 1 }]
 */
export function confusionPairs(truths: readonly string[], predictions: readonly string[]): ConfusionPair[] {
  checkPairs(truths, predictions, 'confusionPairs');
  const counts = new Map<string, ConfusionPair>();
  truths.forEach((truth, i) => {
    for (const step of editAlignment(truth, predictions[i] as string)) {
      if (step.op === 'match') continue;
      const key = `${step.truth}\u0000${step.predicted}`;
      const pair = counts.get(key);
      if (pair) pair.count++;
      else counts.set(key, { truth: step.truth, predicted: step.predicted, count: 1 });
    }
  });
  return [...counts.values()].sort(
    (a, b) => b.count - a.count || a.truth.localeCompare(b.truth) || a.predicted.localeCompare(b.predicted),
  );
}

/** All sequence metrics of one evaluation. */
export interface SequenceMetrics {
  samples: number;
  accuracy: number;
  characterErrorRate: number;
  byLength: LengthAccuracy[];
  confusions: ConfusionPair[];
}

/** Computes every sequence metric at once. */
export function sequenceMetrics(truths: readonly string[], predictions: readonly string[]): SequenceMetrics {
  return {
    samples: truths.length,
    accuracy: sequenceAccuracy(truths, predictions),
    characterErrorRate: characterErrorRate(truths, predictions),
    byLength: accuracyByLength(truths, predictions),
    confusions: confusionPairs(truths, predictions),
  };
}
