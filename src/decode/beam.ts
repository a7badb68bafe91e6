/**
 * Prefix beam search for CTC: keeps the `beamWidth` most probable label prefixes, each with the
 * probability of all paths ending in a blank and of all paths ending in its last symbol, so
 * that repeats and blanks merge exactly as CTC collapses them. With a beam wide enough to hold
 * every prefix the scores are the exact CTC probabilities of the labels.
 */
import { ConfigError } from '../errors';
import { readDecoderInput, type CtcOutput } from './input';
import { NEG_INF, logAdd } from '../util/log-space';

/** What the decoder's input holds. */
export type DecoderInputKind = 'probabilities' | 'logits';

export interface BeamSearchOptions {
  /** Prefixes kept after each step. Defaults to 10. */
  beamWidth?: number;
  /** Hypotheses returned per sample, best first. Defaults to `beamWidth`. */
  topPaths?: number;
  /** Valid time steps of each sample. Defaults to `time` for every sample. */
  inputLengths?: readonly number[];
  /** The blank's class index. Defaults to `classes - 1`. */
  blank?: number;
  /**
   * Whether the input holds softmax probabilities (each row is checked to sum to 1) or
   * unnormalised logits. Defaults to `'probabilities'`, what a model ending in softmax gives.
   */
  from?: DecoderInputKind;
}

/** One decoded label with the log-probability CTC gives it (summed over its paths in the beam). */
export interface BeamHypothesis {
  labels: number[];
  logProbability: number;
}

interface Prefix {
  /** The label, one UTF-16 code unit per class index, so that extending it and keying it is cheap. */
  key: string;
  /** Log probability of the paths so far that collapse to the label and end in a blank. */
  blankEnd: number;
  /** ... and end in the label's last symbol. */
  symbolEnd: number;
}


function total(prefix: Prefix): number {
  return logAdd(prefix.blankEnd, prefix.symbolEnd);
}

/** Log-probabilities of one step, from probabilities or logits. */
function logRow(data: ArrayLike<number>, row: number, classes: number, from: DecoderInputKind, where: string): Float64Array {
  const out = new Float64Array(classes);
  if (from === 'logits') {
    let max = NEG_INF;
    for (let k = 0; k < classes; k++) max = Math.max(max, data[row + k] as number);
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += Math.exp((data[row + k] as number) - max);
    const logZ = max + Math.log(sum);
    for (let k = 0; k < classes; k++) out[k] = (data[row + k] as number) - logZ;
    return out;
  }
  let sum = 0;
  for (let k = 0; k < classes; k++) {
    const p = data[row + k] as number;
    if (!(p >= 0)) {
      throw new ConfigError(`decoder input at ${where} class ${k} is ${p}, not a probability; pass from: 'logits' for unnormalised scores`);
    }
    sum += p;
    out[k] = Math.log(p);
  }
  if (Math.abs(sum - 1) > 1e-3) {
    throw new ConfigError(`decoder input at ${where} sums to ${sum}, not 1; pass from: 'logits' for unnormalised scores`);
  }
  return out;
}

/**
 * Prefix beam search over every sample of `input` (`[batch, time, classes]`). Returns, per
 * sample, up to `topPaths` labels (class indices) with their log-probabilities, best first.
 *
 * @example
 * const [best] = beamSearchDecode(probabilities, { beamWidth: 16, topPaths: 3 })[0];
 */
export function beamSearchDecode(input: CtcOutput, options: BeamSearchOptions = {}): BeamHypothesis[][] {
  const beamWidth = options.beamWidth ?? 10;
  const topPaths = options.topPaths ?? beamWidth;
  const from = options.from ?? 'probabilities';
  if (!Number.isInteger(beamWidth) || beamWidth < 1) {
    throw new ConfigError(`beamWidth ${beamWidth} must be a positive integer`);
  }
  if (!Number.isInteger(topPaths) || topPaths < 1) {
    throw new ConfigError(`topPaths ${topPaths} must be a positive integer`);
  }
  if (from !== 'probabilities' && from !== 'logits') {
    throw new ConfigError(`decoder input kind ${JSON.stringify(from)} is unknown; accepted are 'probabilities', 'logits'`);
  }
  const { data, batch, time, classes, blank, inputLengths } = readDecoderInput(input, options);
  if (classes > 65536) {
    throw new ConfigError(`beam search handles at most 65536 classes (one UTF-16 code unit each); got ${classes}`);
  }
  const results: BeamHypothesis[][] = [];

  for (let b = 0; b < batch; b++) {
    let beams: Prefix[] = [{ key: '', blankEnd: 0, symbolEnd: NEG_INF }];
    const steps = inputLengths[b] as number;
    for (let t = 0; t < steps; t++) {
      const lp = logRow(data, (b * time + t) * classes, classes, from, `sample ${b} step ${t}`);
      const next = new Map<string, Prefix>();
      const entry = (key: string): Prefix => {
        let prefix = next.get(key);
        if (!prefix) {
          prefix = { key, blankEnd: NEG_INF, symbolEnd: NEG_INF };
          next.set(key, prefix);
        }
        return prefix;
      };
      // Exact pruning: each beam's own entry ends with a total of at least its total times
      // p(blank), so with a full beam any new label scoring below the smallest of those cannot
      // make the next beam. A label already in the beam is never skipped: it may gather
      // probability from several parents.
      let floor = NEG_INF;
      const children = new Map<string, string>();
      if (beams.length >= beamWidth) {
        floor = Number.POSITIVE_INFINITY;
        for (const beam of beams) {
          floor = Math.min(floor, total(beam) + (lp[blank] as number));
          if (beam.key.length > 0) {
            const parent = beam.key.slice(0, -1);
            children.set(parent, (children.get(parent) ?? '') + beam.key.charAt(beam.key.length - 1));
          }
        }
      }
      for (const beam of beams) {
        const all = total(beam);
        const inBeam = children.get(beam.key) ?? '';
        const last = beam.key.length > 0 ? beam.key.charCodeAt(beam.key.length - 1) : -1;
        const same = entry(beam.key);
        same.blankEnd = logAdd(same.blankEnd, all + (lp[blank] as number));
        // Repeating the last symbol without a blank in between keeps the label unchanged.
        if (last >= 0) same.symbolEnd = logAdd(same.symbolEnd, beam.symbolEnd + (lp[last] as number));
        for (let k = 0; k < classes; k++) {
          if (k === blank) continue;
          // A repeated symbol starts a new one only after a blank.
          const score = (k === last ? beam.blankEnd : all) + (lp[k] as number);
          if (score === NEG_INF || (score < floor && inBeam.indexOf(String.fromCharCode(k)) < 0)) continue;
          const extended = entry(beam.key + String.fromCharCode(k));
          extended.symbolEnd = logAdd(extended.symbolEnd, score);
        }
      }
      // Totals once per candidate, not once per comparison.
      const candidates = [...next.values()];
      const totals = new Float64Array(candidates.length);
      candidates.forEach((candidate, i) => (totals[i] = total(candidate)));
      // The beamWidth-th best total by a native numeric sort; only the survivors get the
      // (much slower) comparator sort.
      const threshold =
        candidates.length > beamWidth ? (totals.slice().sort()[candidates.length - beamWidth] as number) : NEG_INF;
      const survivors: number[] = [];
      for (let i = 0; i < candidates.length; i++) if ((totals[i] as number) >= threshold) survivors.push(i);
      survivors.sort((i, j) => (totals[j] as number) - (totals[i] as number));
      beams = survivors.slice(0, beamWidth).map((i) => candidates[i] as Prefix);
    }
    results.push(
      beams.slice(0, topPaths).map((beam) => ({
        labels: Array.from({ length: beam.key.length }, (_, i) => beam.key.charCodeAt(i)),
        logProbability: total(beam),
      })),
    );
  }
  return results;
}
