/**
 * glyphlab's public API: everything notebooks and scripts may import, exported by name and
 * grouped by layer from the bottom up (see docs/architecture.md). Modules not listed here are
 * internal.
 */

// Errors, the version, and the values every layer shares
export { GlyphlabError, ConfigError, DataError, TrackerError, BackendError, NotebookError } from './errors';
export { version } from './version';
export { SPLIT_NAMES, type SplitName, type FigureSpec } from './types';

// util/: seeded randomness, hashing, paths
export { createRng, hashString32, type Rng } from './util/rng';
export { sha256, sha256File } from './util/hash';
export { projectRoot, dataDir, experimentsDir, databasePath } from './util/paths';

// backend/: the TensorFlow.js compute backend
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

// image/: raw pixels, PNG, sharp at the edge
export { createRawImage, toGrayscale, convertChannels, columnInkProfile, type RawImage } from './image/raw-image';
export { encodePng, decodeSimplePng, isCompletePng, type DecodePngOptions } from './image/png';
export { DEFAULT_MAX_IMAGE_PIXELS, maxImagePixels, checkImageSize } from './image/limits';
export { decodeImage, readImageHeader, encodePngWithSharp, type DecodeImageOptions } from './image/sharp-io';

// labels/: the equation alphabet, the equation grammar, look-alike characters
export { EQUATION_ALPHABET, BLANK_INDEX, NUM_CLASSES, encodeLabel, decodeLabel } from './labels/alphabet';
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
} from './labels/equation-grammar';
export { LOOKALIKE_GROUPS, LOOKALIKE_CHARS, lookalikeCount, lookalikeShare } from './labels/lookalike';

// data/: equation data sets (synthesis, loading, exploration, splits, batches, augmentation) and single-character data sets
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
} from './data/equations/forms';
export { renderEquation, type RenderEquationOptions, type TextPlacement } from './data/equations/synth-render';
export { synthesizeEquations, synthImageName, type SynthesizeOptions, type SynthesisResult } from './data/equations/synth';
export {
  loadLabeledImages,
  describeInvalidRows,
  parseCsv,
  type LabeledImage,
  type LabeledImageSet,
  type LoadLabeledImagesOptions,
  type InvalidRow,
  type InvalidRowReason,
} from './data/equations/load';
export {
  exploreDataset,
  explorationFigures,
  explorationRows,
  explorationTables,
  explorationReport,
  type Exploration,
  type ExploreOptions,
  type GridSample,
} from './data/equations/explore';
export {
  stratifiedSplit,
  spreadSubset,
  writeSplitManifest,
  parseRatios,
  loadEquationSplits,
  type EquationSplits,
  type SplitResult,
  type SplitManifest,
  type StratifiedSplitOptions,
  type StratumCounts,
} from './data/equations/split';
export { createBatchSource, type Batch, type BatchSource, type BatchSourceOptions } from './data/equations/batches';
export { loadModelInput } from './data/equations/batch-preprocess';
export { augmentImage, type AugmentOptions } from './data/equations/augment';
export {
  randomLookalikeLabel,
  synthesizeLookalikeSet,
  type LookalikeLabelOptions,
  type SynthesizeLookalikeOptions,
  type LookalikeSetResult,
} from './data/equations/lookalike';
export {
  createCharDataset,
  subsetCharDataset,
  concatCharDatasets,
  splitCharDataset,
  charDatasetSize,
  charImage,
  charClassCounts,
  DIGIT_CLASSES,
  type CharDataset,
  type CharSplits,
  type SplitCharDatasetOptions,
} from './data/characters/dataset';
export {
  parseIdx,
  readIdxFile,
  loadIdxDataset,
  loadIdxDirectory,
  encodeIdx,
  FASHION_MNIST_CLASSES,
  DEBIAN_FASHION_MNIST_DIR,
  type IdxArray,
  type IdxType,
  type IdxDirectory,
  type LoadIdxOptions,
} from './data/characters/idx';
export { loadLettersCsv, LETTER_CLASSES, type LoadLettersCsvOptions } from './data/characters/letters-csv';
export { renderLetter, synthesizeLettersCsv, type SynthesizeLettersOptions, type SynthesizedLetters } from './data/characters/synth-letters';
export { loadMnistDigits, mnistPackageDir, type LoadMnistDigitsOptions } from './data/characters/mnist';
export {
  parseCharDataSpec,
  isCharDataSpec,
  loadCharDataset,
  type CharDataSpec,
  type LoadCharDatasetOptions,
  type LoadedCharDataset,
} from './data/characters/source';
export {
  exploreCharSplits,
  classCountsFigure,
  charExplorationReport,
  charClassCountRows,
  CHAR_SPLIT_NAMES,
  type CharSplitName,
  type CharExploration,
  type CharExploreSample,
  type CharClassCountRow,
  type ExploreCharOptions,
} from './data/characters/explore';
export { augmentChar, elasticField, type CharAugmentOptions } from './data/characters/augment';

// models/: one builder per family, saving and loading, weights, freezing, quantisation
export { buildCrnn, resolveCrnnOptions, crnnFeatureSize, defaultPools, sequenceHead, type CrnnOptions, type CrnnConfig, type SequenceHeadConfig } from './models/crnn';
export {
  buildVgg19Crnn,
  createVgg19Crnn,
  loadVgg19Weights,
  resolveVgg19CrnnOptions,
  vgg19Preprocess,
  vgg19WeightsLocation,
  defaultVgg19WeightsPath,
  Vgg19Preprocess,
  VGG19_BLOCKS,
  VGG19_CONV_LAYERS,
  VGG19_WEIGHTS_FILE,
  VGG19_BGR_MEAN,
  type Vgg19CrnnOptions,
  type Vgg19CrnnConfig,
  type CreateVgg19CrnnOptions,
  type Vgg19CrnnBuild,
  type LoadVgg19WeightsOptions,
  type Vgg19WeightsReport,
  type Vgg19WeightsLocation,
} from './models/vgg19-crnn';
export { buildMlp, resolveMlpOptions, type MlpOptions, type MlpConfig } from './models/mlp';
export { buildLenet, resolveLenetOptions, type LenetOptions, type LenetConfig } from './models/lenet';
export { saveModel, loadModel, loadOptimizerState, readModelMeta, type SaveModelOptions } from './models/io';
export {
  readKerasH5Weights,
  readTfjsLayersWeights,
  readLayerWeights,
  setLayerWeights,
  type LayerWeightsFile,
  type NamedWeight,
  type ReadLayerWeightsOptions,
} from './models/keras-h5';
export { trainableLayerNames, setTrainable, layersWithWeights, type TrainableLayerNamesOptions } from './models/freeze';
export {
  quantizeModel,
  quantizeValues,
  saveQuantizedModel,
  loadQuantizedModel,
  loadQuantizedArtifacts,
  type QuantizationDtype,
  type QuantizeOptions,
  type QuantizedArtifacts,
  type SavedQuantizedModel,
} from './models/quantize';

// losses/: CTC and center loss
export { ctcLoss, computeCtc, type CtcLossOptions, type CtcReduction, type CtcComputation } from './losses/ctc';
export { alignGreedyPath, centerLoss, centerLossAt, updateCenters, classSums, framewiseArgmax, type AlignedFrame, type AlignGreedyPathOptions } from './losses/center';

// decode/: best path, beam search, grammar-constrained decoding
export {
  greedyDecode,
  beamSearchDecode,
  grammarDecode,
  compareDecoders,
  compareDecodedTexts,
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

// metrics/: sequence accuracy and CER, edit distance, classification, which way a metric improves
export { editDistance, editAlignment, type EditStep } from './metrics/edit-distance';
export { metricMode } from './metrics/mode';
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
export {
  accuracy,
  confusionMatrix,
  perClassMetrics,
  perClassAccuracy,
  weightedF1,
  classificationReport,
  type ClassMetrics,
  type ClassificationReport,
} from './metrics/classification';

// training/: the loop, its callbacks and tasks (sequences, classification, center loss); no SQLite
export { Callback, CallbackList, TimeBudget, HistoryCallback, type Logs, type TrainBeginEvent, type TrainEndEvent } from './training/callbacks';
export type {
  TrainBatch,
  TrainData,
  TrainOptions,
  TrainResult,
  LossFn,
  EvaluateFn,
  OptimizerName,
  EarlyStoppingOptions,
  ReduceLrOptions,
  TrainingConfig,
} from './training/types';
export {
  train,
  createOptimizer,
  getLearningRate,
  setLearningRate,
  clipGradients,
  NonFiniteLossError,
  DivergenceError,
  stopReason,
  OPTIMIZER_NAMES,
} from './training/train';
export { lossGradients, disposeBatch, type LossGradientOptions } from './training/gradients';
export { trainInPhases, type TrainingPhase } from './training/phases';
export { stepSchedule, parseStepSchedule, scheduleFromHistory, formatStepSchedule, type LearningRateSchedule, type ScheduleStep, type StepSchedule } from './training/schedule';
export {
  batchToSequenceBatch,
  sequenceTrainData,
  ctcLossFn,
  predictLogits,
  decodeTexts,
  predictSequences,
  sequenceLogs,
  sequenceEvaluator,
  type SequenceBatch,
  type SequenceDecoder,
  type SequencePredictions,
  type PredictSequencesOptions,
  type SequenceEvaluatorOptions,
} from './training/sequence';
export {
  charTrainData,
  classificationLoss,
  classificationEvaluator,
  predictClasses,
  evaluateClassifier,
  evaluateEnsemble,
  type ClassificationBatch,
  type CharTrainDataOptions,
  type ClassificationLossOptions,
  type ClassificationEvaluatorOptions,
  type PredictClassesOptions,
  type ClassPredictions,
  type ClassifierEvaluation,
} from './training/classification';
export { withFeatureOutput, type FeatureOutputOptions } from './training/center-loss/feature-output';
export { alignBatch, type LabeledSequenceBatch, type BatchAlignment } from './training/center-loss/align';
export { createCenterLossObjective, type CenterLossObjective, type CenterLossObjectiveOptions } from './training/center-loss/objective';
export { lookalikeMap, meanCenterDistance, centerStatistics, type CenterStatistics } from './training/center-loss/statistics';
export { collectAlignedFeatures, heldOutCenterEvaluator, type HeldOutCenterOptions, type AlignedFeatures, type CollectAlignedFeaturesOptions } from './training/center-loss/held-out';
export { combineEvaluators } from './training/evaluators';

// tracker/: the experiment store (SQLite), its queries, and the callback that records a run
export { openStore, closeStore, TrackerStore, type OpenStoreOptions } from './tracker/store';
export {
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
  type StartRunOptions,
  type LogMetricsOptions,
  type MetricPointInput,
  type FinishRunOptions,
  type ArtifactInput,
} from './tracker/record';
export {
  listRuns,
  getRun,
  getMetricHistory,
  compareRuns,
  bestRun,
  exportRuns,
  runsToRows,
  rowsToCsv,
  type CsvOptions,
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
export { parseWhere, compileFilter, parseOrderBy, WhereSyntaxError, FILTER_LIMITS, MAX_SORT_KEYS, type RunFilter, type FilterOp, type FilterValue, type OrderBy } from './tracker/where';
export { TrackerCallback, type TrackerCallbackOptions } from './tracker/callback';
export { runsToDataFrame, metricHistoryToDataFrame, dataFrameHtml, type DataFrameHtmlOptions } from './tracker/dataframe';
export { RUN_STATUSES, SCHEMA_VERSION, type RunStatus, type MetricMode } from './tracker/schema';

// viz/: plotly figures and HTML from plain values
export { labelLengthFigure, characterFrequencyFigure, inkProfileFigure } from './viz/data-charts';
export { renderHtmlReport, writeHtmlReport, escapeHtml, imageGridHtml, type HtmlReport, type ReportSection, type GridImage, type ImageGridOptions } from './viz/html';
export { figureHtml, plotlyScriptTag, type FigureHtmlOptions } from './viz/plotly-html';
export { trainingCurveFigure, misreadTableHtml, type TrainingCurveOptions, type Misread } from './viz/training-charts';
export {
  confusionHeatmapFigure,
  perClassAccuracyFigure,
  trainingCurvesFigure,
  misclassifiedSamples,
  sampleGridFigure,
  sampleGridImage,
  sampleGridPng,
  type SampleGridCell,
  type LabeledImages,
  type ConfusionFigureOptions,
  type SampleGridOptions,
  type SampleGridImageOptions,
} from './viz/classification-charts';
export { centerHistoryFigure, centerComparisonTable, type CenterHistorySeries, type CenterTableInput, type CenterTableScores } from './viz/center-charts';
export { pca, projectionFigure, projectorTsv, writeProjectorFiles, type PcaResult, type ProjectionFigureOptions } from './viz/projection';
export { imageDataUri, imageGalleryHtml, patchPositionsFigure, type GalleryItem, type ImageGalleryOptions, type PatchPositionsFigureOptions } from './viz/writer-charts';

// runs/: recorded runs (data, model, loop and store together), the model registry, run files
export {
  getModelBuilder,
  MODEL_NAMES,
  EQUATION_MODELS,
  CHAR_MODELS,
  CHAR_RUN_DEFAULTS,
  type ModelName,
  type EquationModelName,
  type CharModelName,
  type ModelBuilder,
  type EquationModelBuilder,
  type CharModelBuilder,
  type EquationModelOptions,
  type CharModelOptions,
  type BuiltModel,
  type RunDefaults,
} from './runs/models';
export { architectureParams, readArchitecture, ARCHITECTURE_KEYS, type ModelArchitecture, type RecordedModel } from './runs/architecture';
export { openRecordedRun, type RecordedRun, type RecordingOptions, type OpenRunSettings } from './runs/recorded-run';
export { interruptOnSignals, withInterrupt, type Interrupt, type InterruptOptions } from './runs/signals';
export { runEquationTraining, runEquationSpec, resumeEquationTraining, type EquationRunResult, type RunHooks } from './runs/equation-run';
export {
  EQUATION_RECIPE_NAMES,
  EQUATION_SPEC_VERSION,
  EQUATION_RECIPES,
  EQUATION_RUN_BASE,
  EQUATION_FIELDS,
  LONG_RECIPE_FROM_MINUTES,
  defaultRecipeName,
  getRecipe,
  resolveEquationRunSpec,
  reviseEquationRunSpec,
  readEquationRunSpec,
  isEquationRunSpec,
  recordedData,
  currentMachine,
  stepBytesAtLeast,
  checkStepFits,
  type EquationRunOptions,
  type EquationRunSpec,
  type EquationRecipe,
  type EquationRecipeName,
  type EquationRecipeOptions,
  type EquationDataSpec,
  type EquationTrainingSpec,
  type EquationSchedule,
  type EquationSpecRevision,
  type EquationMachine,
  type EquationField,
  type Vgg19RunOptions,
  type Vgg19RunSpec,
} from './runs/spec/index';
export { runCharTraining, charFitOptions, type CharFitOptions, type CharRunOptions, type CharRunResult } from './runs/char-run';
export {
  runCenterLossComparison,
  centerLossVariants,
  type CenterLossComparison,
  type CenterLossComparisonOptions,
  type CenterLossScores,
  type CenterLossVariant,
  type CenterLossVariantResult,
} from './runs/center-loss-run';
export { loadRunModel, type RunModel } from './runs/run-model';
export { EVAL_REPORT_KIND, evalReportFromMetrics, writeEvalReport, readEvalReport, recordEvalReport, buildEvalReport, type EvalReport, type RunEvalReport } from './runs/eval-report';

// dashboard/: comparing recorded runs in one HTML file
export {
  buildComparison,
  comparisonTableRows,
  describeComparison,
  type BuildComparisonOptions,
  type Comparison,
  type DashboardRun,
  type CurveSeries,
  type RunLengthAccuracy,
  type RunConfusions,
  type BestRunSummary,
} from './dashboard/compare';
export {
  dashboardFigures,
  comparisonCurveFigure,
  testAccuracyFigure,
  lengthAccuracyFigure,
  confusionFigure,
  type DashboardFigures,
} from './dashboard/figures';
export {
  renderDashboardHtml,
  writeDashboardHtml,
  dashboardSections,
  dashboardSectionHtml,
  htmlTable,
  type DashboardSection,
  type DashboardHtmlOptions,
} from './dashboard/html';

// writers/: writer identification from line patches
export { samplePatchPositions, samplePatches, cropPatch, patchCount, type PatchSamplerOptions, type PatchPosition, type SampledPatches, type WriterLineImage, type WriterPatchOptions } from './writers/patches';
export { loadIamLines, parseIamForms, readIamLineImages, type IamForm, type IamLine, type IamLineSet, type LoadIamLinesOptions } from './writers/iam';
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
} from './writers/synth-writers';
export { buildWriterCnn, writerLossFn, patchesToTensor, type WriterCnnOptions, type PatchBatch } from './writers/model';
export {
  runWriterIdentification,
  evaluateWriterLines,
  writerPatchData,
  splitWriterLines,
  type SplitWriterLinesOptions,
  type WriterEvaluation,
  type WriterIdentificationOptions,
  type WriterIdentificationResult,
} from './writers/identify';
export { predictWriterLines, writerConfusion, type LinePrediction, type WriterAccuracy, type WriterConfusion } from './writers/line-votes';

// notebook/: running notebooks headless through the tslab kernel; the user's Jupyter (kernel spec, trust)
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
export {
  findJupyterPython,
  installKernelSpec,
  readKernelSpec,
  kernelSpecProblem,
  trustNotebooks,
  checkNotebookTrust,
  type JupyterPython,
  type InstallKernelSpecOptions,
  type InstalledKernelSpec,
  type KernelSpecInfo,
  type TrustReport,
} from './notebook/jupyter';
