/**
 * Writer identification from handwriting: random line patches, IAM and synthetic writers, the
 * patch CNN, the recorded identification run, and votes over a line's patches.
 *
 * The public names of writers/, by module; a notebook imports them from
 * `./glyphlab/writers/index`. The entry points most work starts from are also in src/index.ts.
 */

// patches: random square patches of a line image
export {
  samplePatchPositions,
  samplePatches,
  cropPatch,
  patchCount,
  type PatchSamplerOptions,
  type PatchPosition,
  type SampledPatches,
  type WriterLineImage,
  type WriterPatchOptions,
} from './patches';

// iam: the IAM database's forms and lines
export {
  loadIamLines,
  parseIamForms,
  readIamLineImages,
  type IamForm,
  type IamLine,
  type IamLineSet,
  type LoadIamLinesOptions,
} from './iam';

// synth-writers: synthetic writers and their lines
export {
  WRITER_CHARS,
  createSyntheticWriters,
  renderWriterLine,
  randomLineText,
  synthesizeWriterLines,
  type WriterStyle,
  type WriterLine,
  type SyntheticWritersOptions,
  type RenderWriterLineOptions,
  type SynthesizeWriterLinesOptions,
} from './synth-writers';

// model: the patch CNN and its loss
export { buildWriterCnn, writerLossFn, patchesToTensor, type WriterCnnOptions, type PatchBatch } from './model';

// identify: the recorded writer identification run
export {
  runWriterIdentification,
  evaluateWriterLines,
  writerPatchData,
  splitWriterLines,
  type SplitWriterLinesOptions,
  type WriterEvaluation,
  type WriterIdentificationOptions,
  type WriterIdentificationResult,
} from './identify';

// line-votes: a line's writer by vote over its patches, and the confusion
export { predictWriterLines, writerConfusion, type LinePrediction, type WriterAccuracy, type WriterConfusion } from './line-votes';
