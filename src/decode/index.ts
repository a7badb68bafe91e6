/**
 * CTC decoders: best path, prefix beam search, and grammar-constrained beam search, with a
 * comparison of what each reads. They read the label language of labels/, not data sets.
 *
 * The public names of decode/, by module; a notebook imports them from
 * `./glyphlab/decode/index`. The entry points most work starts from are in src/index.ts.
 */

// greedy: best path (the most likely class per frame, repeats and blanks removed)
export { greedyDecode, type GreedyDecodeOptions } from './greedy';

// beam: prefix beam search
export { beamSearchDecode, type BeamSearchOptions, type BeamHypothesis, type DecoderInputKind } from './beam';

// grammar: the most probable beam label that is a true equation, and comparing decoders
export {
  grammarDecode,
  compareDecoders,
  compareDecodedTexts,
  type GrammarDecodeOptions,
  type GrammarDecodeResult,
  type DecoderComparison,
  type DecoderDisagreement,
} from './grammar';

// input: what decoders read, [batch, time, classes] as a tensor or arrays
export { type CtcOutput } from './input';
