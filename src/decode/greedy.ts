/**
 * Best-path decoding, the reference implementation's decoder: the most probable class at each step,
 * repeats collapsed, blanks dropped. It reads probabilities or logits alike, since both share the
 * argmax.
 */
import { readDecoderInput, type CtcOutput } from './input';

export interface GreedyDecodeOptions {
  /** Valid time steps of each sample. Defaults to `time` for every sample. */
  inputLengths?: readonly number[];
  /** The blank's class index. Defaults to `classes - 1`. */
  blank?: number;
}

/**
 * Decodes every sample of `input` (`[batch, time, classes]`, a tensor or nested arrays) by best
 * path: argmax per step, collapse repeats, drop blanks. Returns class indices per sample.
 *
 * @example
 * decodeLabel(greedyDecode(probabilities)[0]); // '7+8*2=23'
 */
export function greedyDecode(input: CtcOutput, options: GreedyDecodeOptions = {}): number[][] {
  const { data, batch, time, classes, blank, inputLengths } = readDecoderInput(input, options);
  const decoded: number[][] = [];
  for (let b = 0; b < batch; b++) {
    const labels: number[] = [];
    let previous = -1;
    for (const best of framewiseArgmax(data, inputLengths[b] as number, classes, b * time * classes)) {
      if (best !== blank && best !== previous) labels.push(best);
      previous = best;
    }
    decoded.push(labels);
  }
  return decoded;
}

/** Argmax class of every frame of one sample (`[time, classes]` row-major scores). */
export function framewiseArgmax(scores: ArrayLike<number>, time: number, classes: number, offset = 0): number[] {
  const path: number[] = new Array<number>(time);
  for (let t = 0; t < time; t++) {
    const row = offset + t * classes;
    let best = 0;
    let bestScore = scores[row] as number;
    for (let k = 1; k < classes; k++) {
      const score = scores[row + k] as number;
      if (score > bestScore) {
        bestScore = score;
        best = k;
      }
    }
    path[t] = best;
  }
  return path;
}
