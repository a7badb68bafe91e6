/**
 * glyphlab's public API: everything notebooks and scripts may import. Exported by name; modules
 * not listed here are internal.
 */

// Errors
export { GlyphlabError, ConfigError, DataError, TrackerError, BackendError, NotebookError } from './errors';
export { version } from './version';

// Utilities
export { createRng, hashString32, type Rng } from './util/rng';
export { sha256, sha256File } from './util/hash';
export { projectRoot, dataDir, experimentsDir, databasePath } from './util/paths';

// Compute backend
export {
  initBackend,
  getBackendInfo,
  describeBackend,
  registerWasmTrainingKernels,
  BACKEND_NAMES,
  type BackendName,
  type BackendInfo,
  type InitBackendOptions,
} from './backend/index';
export { runSelfCheck, selfCheckFailure, type SelfCheckOptions, type SelfCheckResult } from './backend/self-check';

// Training lifecycle
export { Callback, CallbackList, type Logs, type TrainBeginEvent, type TrainEndEvent } from './training/callbacks';

// Notebooks: run them headless through the tslab kernel (src/notebook/)
export {
  runNotebook,
  readNotebook,
  injectParameters,
  parseParameterArg,
  notebookHasErrors,
  defaultExecutedPath,
  NotebookCellError,
  type Notebook,
  type NotebookCell,
  type NotebookOutput,
  type NotebookParameterValue,
  type RunNotebookOptions,
  type RunNotebookResult,
  type CellEvent,
  type CellReport,
} from './notebook/run';
export {
  startKernel,
  executeCode,
  shutdownKernel,
  type Kernel,
  type KernelOutput,
  type ExecuteResult,
  type ExecuteOptions,
  type StartKernelOptions,
} from './notebook/kernel';

// CTC loss, decoders, sequence metrics, equation alphabet and grammar (issue 4)
export { EQUATION_ALPHABET, BLANK_INDEX, NUM_CLASSES, encodeLabel, decodeLabel } from './data/alphabet';
export {
  EQUATION_OPERATORS,
  parseLeftSide,
  evaluateLeftSide,
  equationResult,
  equationLabel,
  parseEquation,
  evaluateEquation,
  isWellFormedEquation,
  isValidEquation,
  type EquationOperator,
  type EquationParens,
  type EquationLeftSide,
  type ParsedEquation,
} from './data/equation-grammar';
export { ctcLoss, computeCtc, type CtcLossOptions, type CtcReduction, type CtcComputation } from './losses/ctc';
export {
  greedyDecode,
  beamSearchDecode,
  grammarDecode,
  compareDecoders,
  type GreedyDecodeOptions,
  type BeamSearchOptions,
  type BeamHypothesis,
  type DecoderInputKind,
  type GrammarDecodeOptions,
  type GrammarDecodeResult,
  type DecoderComparison,
  type DecoderDisagreement,
  type CtcOutput,
} from './decode/index';
export { editDistance, editAlignment, type EditStep } from './metrics/edit-distance';
export {
  sequenceAccuracy,
  characterErrorRate,
  accuracyByLength,
  confusionPairs,
  sequenceMetrics,
  type LengthAccuracy,
  type ConfusionPair,
  type SequenceMetrics,
} from './metrics/sequence';

// Experiment store (issue 6): recording runs in SQLite and querying them
export {
  openStore,
  closeStore,
  startRun,
  logParams,
  logMetrics,
  logMetricPoints,
  finishRun,
  addArtifact,
  tagRun,
  untagRun,
  noteRun,
  deleteRun,
  markCrashedRuns,
  guessMetricMode,
  TrackerStore,
  type OpenStoreOptions,
  type StartRunOptions,
  type LogMetricsOptions,
  type MetricPointInput,
  type FinishRunOptions,
  type ArtifactInput,
} from './tracker/store';
export {
  listRuns,
  getRun,
  getMetricHistory,
  compareRuns,
  bestRun,
  exportRuns,
  runsToRows,
  type RunRecord,
  type RunDetail,
  type MetricSummary,
  type MetricPoint,
  type ParamValue,
  type ArtifactRecord,
  type ListRunsOptions,
  type RunComparison,
  type BestRunOptions,
  type ExportRunsOptions,
} from './tracker/query';
export { parseWhere, compileFilter, parseOrderBy, WhereSyntaxError, type RunFilter, type FilterOp, type FilterValue, type OrderBy } from './tracker/where';
export { TrackerCallback, type TrackerCallbackOptions } from './tracker/callback';
export { runsToDataFrame, metricHistoryToDataFrame } from './tracker/dataframe';
export { RUN_STATUSES, SCHEMA_VERSION, type RunStatus, type MetricMode } from './tracker/schema';

// Equation data: images, synthesis, loading, exploration, splits, streaming batches (issue 3)
export { createRawImage, toGrayscale, convertChannels, columnInkProfile, type RawImage } from './image/raw-image';
export { encodePng, decodeSimplePng, isCompletePng } from './image/png';
export { decodeImage, readImageHeader, encodePngWithSharp, type DecodeImageOptions } from './image/sharp-io';
export { SYNTH_FONTS, SYNTH_FONT_NAMES, resolveFontNames, loadGlyphSet } from './data/fonts';
export {
  EQUATION_FORMS,
  DEFAULT_FORM_SHARES,
  parseFormShares,
  randomEquationLabel,
  labelDistributions,
  formatLabelDistributions,
  type EquationForm,
  type FormShares,
  type LabelDistributions,
} from './data/equations';
export { renderEquation, type RenderEquationOptions, type TextPlacement } from './data/synth-render';
export { synthesizeEquations, synthImageName, type SynthesizeOptions, type SynthesisResult } from './data/synth';
export {
  loadLabeledImages,
  describeInvalidRows,
  parseCsv,
  type LabeledImage,
  type LabeledImageSet,
  type LoadLabeledImagesOptions,
  type InvalidRow,
  type InvalidRowReason,
} from './data/load';
export {
  exploreDataset,
  explorationFigures,
  explorationRows,
  explorationTables,
  explorationReport,
  type Exploration,
  type ExploreOptions,
  type GridSample,
} from './data/explore';
export {
  stratifiedSplit,
  writeSplitManifest,
  parseRatios,
  SPLIT_NAMES,
  type SplitName,
  type SplitResult,
  type SplitManifest,
  type StratifiedSplitOptions,
  type StratumCounts,
} from './data/split';
export { createBatchSource, type Batch, type BatchSource, type BatchSourceOptions } from './data/batches';
export { loadModelInput } from './data/batch-preprocess';
export { augmentImage, type AugmentOptions } from './data/augment';
export { labelLengthFigure, characterFrequencyFigure, inkProfileFigure, type FigureSpec } from './viz/data-charts';
export { renderHtmlReport, writeHtmlReport, escapeHtml, type HtmlReport, type ReportSection } from './viz/html';
