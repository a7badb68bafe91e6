/**
 * Grammar-constrained decoding for equations: among the prefix beam, the most probable label
 * that parses under the equation grammar and is arithmetically true. A model that reads one
 * digit of the result wrong often has the true reading a little further down the beam.
 */
import { decodeLabel, EQUATION_ALPHABET } from '../labels/alphabet';
import { isValidEquation } from '../labels/equation-grammar';
import { DataError } from '../errors';
import { beamSearchDecode, type BeamSearchOptions } from './beam';
import { greedyDecode } from './greedy';
import { type CtcOutput } from './input';

export interface GrammarDecodeOptions extends BeamSearchOptions {
  /** Which label texts are acceptable. Defaults to {@link isValidEquation}. */
  accept?: (text: string) => boolean;
  /** Symbols of the class indices. Defaults to `EQUATION_ALPHABET`. */
  alphabet?: string;
}

/** The label grammar decoding chose for one sample. */
export interface GrammarDecodeResult {
  text: string;
  labels: number[];
  logProbability: number;
  /** Whether the label is acceptable; false when no beam entry was, and the best one is returned. */
  accepted: boolean;
  /** The label's position in the beam, 0 for the most probable. */
  rank: number;
}

/**
 * Decodes each sample to the most probable beam entry that `accept` takes (a true equation by
 * default), or to the most probable entry when none is acceptable. Beam width defaults to 20
 * here: wide enough to reach a corrected result digit.
 */
export function grammarDecode(input: CtcOutput, options: GrammarDecodeOptions = {}): GrammarDecodeResult[] {
  const accept = options.accept ?? isValidEquation;
  const alphabet = options.alphabet ?? EQUATION_ALPHABET;
  const beamWidth = options.beamWidth ?? 20;
  const beams = beamSearchDecode(input, { ...options, beamWidth, topPaths: options.topPaths ?? beamWidth });
  return beams.map((hypotheses) => {
    const texts = hypotheses.map((h) => decodeLabel(h.labels, alphabet));
    const rank = texts.findIndex((text) => accept(text));
    const chosen = rank >= 0 ? rank : 0;
    const best = hypotheses[chosen] ?? { labels: [], logProbability: Number.NEGATIVE_INFINITY };
    return { text: texts[chosen] ?? '', labels: best.labels, logProbability: best.logProbability, accepted: rank >= 0, rank: chosen };
  });
}

/** One sample where greedy and grammar decoding disagree about correctness. */
export interface DecoderDisagreement {
  index: number;
  truth: string;
  greedy: string;
  grammar: string;
}

/** How grammar decoding compares with greedy decoding against the truth. */
export interface DecoderComparison {
  samples: number;
  greedyCorrect: number;
  grammarCorrect: number;
  /** Greedy wrong, grammar right. */
  fixed: number;
  /** Greedy right, grammar wrong. */
  broken: number;
  /** Both wrong. */
  bothWrong: number;
  greedyAccuracy: number;
  grammarAccuracy: number;
  fixedExamples: DecoderDisagreement[];
  brokenExamples: DecoderDisagreement[];
}

/**
 * Decodes `input` greedily and with the grammar and counts, against `truths`, how often the
 * grammar turns a wrong greedy reading right (`fixed`) and a right one wrong (`broken`).
 */
export function compareDecoders(
  input: CtcOutput,
  truths: readonly string[],
  options: GrammarDecodeOptions = {},
): DecoderComparison {
  const alphabet = options.alphabet ?? EQUATION_ALPHABET;
  const greedy = greedyDecode(input, options).map((labels) => decodeLabel(labels, alphabet));
  if (greedy.length !== truths.length) {
    throw new DataError(`compareDecoders got ${truths.length} truths for ${greedy.length} samples; pass one per sample`);
  }
  const grammar = grammarDecode(input, options).map((result) => result.text);
  return compareDecodedTexts(truths, greedy, grammar);
}

/**
 * Counts, against `truths`, how often the grammar reading is right where the greedy one is
 * wrong (`fixed`) and the opposite (`broken`), from texts both decoders already produced.
 */
export function compareDecodedTexts(truths: readonly string[], greedy: readonly string[], grammar: readonly string[]): DecoderComparison {
  if (greedy.length !== truths.length || grammar.length !== truths.length) {
    throw new DataError(`compareDecodedTexts got ${truths.length} truths, ${greedy.length} greedy and ${grammar.length} grammar readings; pass one of each per sample`);
  }
  const report: DecoderComparison = {
    samples: truths.length,
    greedyCorrect: 0,
    grammarCorrect: 0,
    fixed: 0,
    broken: 0,
    bothWrong: 0,
    greedyAccuracy: 0,
    grammarAccuracy: 0,
    fixedExamples: [],
    brokenExamples: [],
  };
  truths.forEach((truth, index) => {
    const greedyRight = greedy[index] === truth;
    const grammarRight = grammar[index] === truth;
    const example = { index, truth, greedy: greedy[index] as string, grammar: grammar[index] as string };
    if (greedyRight) report.greedyCorrect++;
    if (grammarRight) report.grammarCorrect++;
    if (!greedyRight && grammarRight) {
      report.fixed++;
      report.fixedExamples.push(example);
    } else if (greedyRight && !grammarRight) {
      report.broken++;
      report.brokenExamples.push(example);
    } else if (!greedyRight && !grammarRight) {
      report.bothWrong++;
    }
  });
  report.greedyAccuracy = truths.length ? report.greedyCorrect / truths.length : 0;
  report.grammarAccuracy = truths.length ? report.grammarCorrect / truths.length : 0;
  return report;
}
