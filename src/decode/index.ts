/** CTC decoders: best path, prefix beam search, and grammar-constrained beam search. */
export { greedyDecode, type GreedyDecodeOptions } from './greedy';
export { beamSearchDecode, type BeamSearchOptions, type BeamHypothesis, type DecoderInputKind } from './beam';
export {
  grammarDecode,
  compareDecoders,
  compareDecodedTexts,
  type GrammarDecodeOptions,
  type GrammarDecodeResult,
  type DecoderComparison,
  type DecoderDisagreement,
} from './grammar';
export { type CtcOutput } from './input';
