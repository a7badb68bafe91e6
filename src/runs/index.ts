/**
 * Recorded runs: data, model, training loop and store together. The model registry, the equation
 * run's spec and recipes, the equation, character and center-loss runs, loading a run's model,
 * and evaluation reports.
 *
 * The public names of runs/, by module; a notebook imports them from
 * `./glyphlab/runs/index`. The entry points most work starts from are also in src/index.ts.
 */

// models: the model registry and its per-family defaults
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
} from './models';

// architecture: the flat architecture params `--where` filters on
export { architectureParams, readArchitecture, ARCHITECTURE_KEYS, type ModelArchitecture, type RecordedModel } from './architecture';

// recorded-run: a run opened in the store before it trains
export { openRecordedRun, type RecordedRun, type RecordingOptions, type OpenRunSettings } from './recorded-run';

// signals: Ctrl-C and SIGTERM as an AbortSignal
export { interruptOnSignals, withInterrupt, type Interrupt, type InterruptOptions } from './signals';

// equation-run: training, resuming and recording an equation run
export { runEquationTraining, runEquationSpec, resumeEquationTraining, type EquationRunResult, type RunHooks } from './equation-run';

// spec/: the equation run's spec: the user's options, the named recipes, resolving, describing, reading it back
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
  describeEquationSpec,
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
  type EquationInitSpec,
  type EquationTrainingSpec,
  type EquationSchedule,
  type EquationSpecRevision,
  type EquationMachine,
  type EquationField,
  type Vgg19RunOptions,
  type Vgg19RunSpec,
} from './spec/index';

// char-run: a recorded character classifier run
export { runCharTraining, charFitOptions, type CharFitOptions, type CharRunOptions, type CharRunResult } from './char-run';

// center-loss-run: CTC alone against CTC + center loss, fine-tuned from one run
export {
  runCenterLossComparison,
  centerLossVariants,
  type CenterLossComparison,
  type CenterLossComparisonOptions,
  type CenterLossScores,
  type CenterLossVariant,
  type CenterLossVariantResult,
} from './center-loss-run';

// run-model: a recorded run's saved model with its preprocessing
export { loadRunModel, findRunModelDir, type RunModel, type RunCheckpoint } from './run-model';

// readers: trained readers kept by name in data/readers/
export {
  exportReader,
  loadReader,
  listReaders,
  isReader,
  readReaderInfo,
  readerDir,
  readersDir,
  describeReaderScores,
  READER_FILE,
  READER_FORMAT,
  type ReaderInfo,
  type ReaderScore,
  type LoadedReader,
  type ExportReaderOptions,
} from './readers';

// init-from: a run's weights from a recorded run or a reader (--init-from)
export { loadInitSource, initWeights, describeInit, READER_PREFIX, type InitSource } from './init-from';

// eval-report: evaluation reports, written, read and recorded
export {
  EVAL_REPORT_KIND,
  evalReportFromMetrics,
  writeEvalReport,
  readEvalReport,
  recordEvalReport,
  buildEvalReport,
  type EvalReport,
  type RunEvalReport,
} from './eval-report';
