/**
 * glyphlab's entry points: the functions most work starts from, by job, with their option and
 * result types. Read it top to bottom. Every other public name lives in its layer's index,
 * which lists that layer's names module by module (the layers: docs/architecture.md):
 *
 *   ./glyphlab/util/index        seeded RNG, hashes, where glyphlab keeps things
 *   ./glyphlab/backend/index     the compute backend, its added kernels, the self-check
 *   ./glyphlab/image/index       pixels (RawImage), PNG, size limits, sharp at the edge
 *   ./glyphlab/labels/index      the equation alphabet, grammar and look-alike characters
 *   ./glyphlab/metrics/index     edit distance, sequence and classification metrics
 *   ./glyphlab/viz/index         plotly figures and HTML from plain values
 *   ./glyphlab/decode/index      CTC decoders: greedy, beam, grammar-constrained
 *   ./glyphlab/models/index      model builders, saving and loading, weights, quantisation
 *   ./glyphlab/notebook/index    running notebooks headless; the user's Jupyter
 *   ./glyphlab/data/index        data sets: equations/ and characters/
 *   ./glyphlab/losses/index      CTC and center loss
 *   ./glyphlab/training/index    the training loop, callbacks, tasks
 *   ./glyphlab/tracker/index     the experiment store: recording, queries, --where filters
 *   ./glyphlab/writers/index     writer identification
 *   ./glyphlab/runs/index        recorded runs, the model registry, the run spec and recipes
 *   ./glyphlab/sweeps/index      sweeps: search spaces, trials, workers
 *   ./glyphlab/dashboard/index   comparing recorded runs
 *
 * In a notebook (tslab loads no folder, so name the index file):
 *
 *   import { runEquationTraining, openStore } from "./glyphlab/index";
 *   import { TrackerCallback } from "./glyphlab/tracker/index";
 */

// Errors (every one a GlyphlabError naming the value and what is accepted), the version, shared values
export { GlyphlabError, ConfigError, DataError, TrackerError, BackendError, NotebookError } from './errors';
export { version } from './version';
export { SPLIT_NAMES, type SplitName, type FigureSpec } from './types';

// 1. Set up: the compute backend, and where glyphlab keeps data and the store
export { initBackend, describeBackend, type BackendInfo, type InitBackendOptions } from './backend/index';
export { dataDir, databasePath } from './util/index';

// 2. Data: synthesise or load equation images, explore them, split them; character data sets
export {
  synthesizeEquations, type SynthesizeOptions, type SynthesisResult,
  loadLabeledImages, type LoadLabeledImagesOptions, type LabeledImageSet, type LabeledImage,
  exploreDataset, explorationFigures, type ExploreOptions, type Exploration,
  stratifiedSplit, type StratifiedSplitOptions, type SplitResult,
  loadEquationSplits, type EquationSplits,
  loadCharDataset, type LoadCharDatasetOptions, type LoadedCharDataset, type CharDataset,
} from './data/index';

// 3. A recipe (quick, long, reference), resolved with your options into the spec a run executes
export {
  EQUATION_RECIPES, EQUATION_RECIPE_NAMES, type EquationRecipeName,
  resolveEquationRunSpec, describeEquationSpec, type EquationRunOptions, type EquationRunSpec,
} from './runs/index';

// 4. Train: each run is recorded in the store; callbacks watch it (a live curve, a time budget)
export {
  runEquationTraining, runEquationSpec, resumeEquationTraining, type RunHooks, type EquationRunResult,
  runCharTraining, type CharRunOptions, type CharRunResult,
  runCenterLossComparison, type CenterLossComparisonOptions, type CenterLossComparison,
} from './runs/index';
export { runWriterIdentification, type WriterIdentificationOptions, type WriterIdentificationResult } from './writers/index';
export { Callback, HistoryCallback, TimeBudget, type Logs } from './training/index';

// 5. Evaluate: a recorded run's model, its predictions, its evaluation report
export { loadRunModel, readEvalReport, type RunModel, type EvalReport, type RunEvalReport } from './runs/index';
export { predictSequences, evaluateClassifier, type PredictSequencesOptions, type SequencePredictions, type ClassifierEvaluation } from './training/index';

// 6. The store: open it, list, read, compare and annotate runs, export them, as DataFrames
export {
  openStore, closeStore, type TrackerStore, type OpenStoreOptions,
  listRuns, getRun, getMetricHistory, type ListRunsOptions, type RunFilter, type RunRecord, type RunDetail,
  compareRuns, bestRun, type RunComparison, type BestRunOptions,
  tagRun, untagRun, noteRun, exportRuns,
  runsToDataFrame, metricHistoryToDataFrame, dataFrameHtml,
} from './tracker/index';

// Sweeps: a search space over train options, trials trained by workers on one or many machines
export { createSweep, runWorker, readSweep, listSweeps, bestTrial, type CreateSweepOptions, type SweepView, type SweepTrial, type WorkerOptions, type WorkerSummary } from './sweeps/index';

// 7. Compare and chart: the dashboard's comparison of runs, figures and HTML for notebooks
export {
  buildComparison, describeComparison, type BuildComparisonOptions, type Comparison,
  dashboardSections, dashboardSectionHtml, writeDashboardHtml, htmlTable, type DashboardSection,
} from './dashboard/index';
export { plotlyScriptTag, figureHtml, trainingCurveFigure, trainingCurvesFigure, misreadTableHtml, imageGridHtml, type GridImage } from './viz/index';
