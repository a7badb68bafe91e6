/**
 * Comparing recorded runs: the comparison of runs a query picks, its figures, and the
 * self-contained HTML dashboard.
 *
 * The public names of dashboard/, by module; a notebook imports them from
 * `./glyphlab/dashboard/index`. The entry points most work starts from are also in src/index.ts.
 */

// compare: the runs a query picks, compared
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
  type ParamSweep,
  COMPARISON_CURVE_KEYS,
  SWEEP_TAG_PREFIX,
  trialSweepsOf,
} from './compare';

// run-lookup: a run's label, runs by id
export { runLabel, requireRuns } from './run-lookup';

// curves: metric curves of runs, point by point (per step and per epoch), from the store
export { readMetricCurves, type ReadMetricCurvesOptions } from './curves';

// misreads: a run's misread images, from its eval report
export { readRunMisreads, type ReadRunMisreadsOptions, type RunMisreads } from './misreads';

// params: params against a metric across runs
export { readParamMetricPoints, paramMetricPoints, differingParams, type ParamMetricOptions, type MetricSummaryKind } from './params';

// figures: the comparison's figures
export {
  dashboardFigures,
  comparisonCurveFigure,
  stepLossFigure,
  learningRateFigure,
  sweepFigures,
  labelLengths,
  confusionTotals,
  runColors,
  minutesFigures,
  testAccuracyFigure,
  lengthAccuracyFigure,
  confusionFigure,
  type DashboardFigures,
} from './figures';

// lineage: where each run's weights started, and the latest transfer comparison
export { runLineage, anyInitialised, latestTransferTag, TRANSFER_TAG_PREFIX, type RunLineage } from './lineage';

// html: the dashboard as HTML sections and one file
export {
  renderDashboardHtml,
  renderDashboardPage,
  writeDashboardHtml,
  chartHtml,
  dashboardSections,
  dashboardSectionHtml,
  htmlTable,
  lineageHtml,
  type DashboardSection,
  type DashboardHtmlOptions,
  type DashboardSectionsOptions,
  type DashboardPageOptions,
} from './html';

// sweep: a sweep's trials, params against validation accuracy and curves; sweep-html: its sections and page
export {
  buildSweepDashboard,
  sweepTrialRows,
  sweepParamFigures,
  sweepCurveFigures,
  sweepColors,
  trialLabel,
  SWEEP_METRIC,
  type SweepDashboard,
  type SweepCurveFigures,
} from './sweep';
export { sweepSections, renderSweepDashboardHtml } from './sweep-html';
