/**
 * Losses TensorFlow.js lacks: CTC with its exact gradient, and center loss for sequence models.
 *
 * The public names of losses/, by module; a notebook imports them from
 * `./glyphlab/losses/index`. The entry points most work starts from are also in src/index.ts.
 */

// ctc: CTC loss with its exact gradient
export { ctcLoss, computeCtc, type CtcLossOptions, type CtcReduction, type CtcComputation } from './ctc';

// center: center loss and the greedy alignment of frames to characters
export {
  alignGreedyPath,
  centerLoss,
  centerLossAt,
  updateCenters,
  classSums,
  framewiseArgmax,
  type AlignedFrame,
  type AlignGreedyPathOptions,
} from './center';
