/**
 * Whether a larger or a smaller value of a metric is better, guessed from its key. One rule for
 * the training loop (best checkpoint, early stopping) and the experiment store (best values),
 * so that both call the same epoch best.
 */

/** `'min'` for losses, error rates, distances, overlaps and times; `'max'` for everything else (accuracies, F1). */
export function metricMode(key: string): 'max' | 'min' {
  return /(loss|cer|wer|error|err$|time|distance|overlap|mse|mae|perplexity)/i.test(key) ? 'min' : 'max';
}
