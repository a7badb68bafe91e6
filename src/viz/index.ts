/**
 * Figures and HTML from plain values: plotly figure specs for data, training curves, classes,
 * centers, projections and writers, and the HTML (reports, image grids, figures) notebooks display.
 *
 * The public names of viz/, by module; a notebook imports them from
 * `./glyphlab/viz/index`. The entry points most work starts from are also in src/index.ts.
 */

// data-charts: label lengths, character frequencies, ink profile
export { labelLengthFigure, characterFrequencyFigure, inkProfileFigure } from './data-charts';

// html: self-contained HTML reports and image grids
export {
  renderHtmlReport,
  writeHtmlReport,
  escapeHtml,
  imageGridHtml,
  type HtmlReport,
  type ReportSection,
  type GridImage,
  type ImageGridOptions,
} from './html';

// plotly-html: a figure as HTML, and plotly.js inlined once
export { figureHtml, plotlyScriptTag, type FigureHtmlOptions } from './plotly-html';

// training-charts: a training curve and a table of misreads
export { trainingCurveFigure, misreadTableHtml, type TrainingCurveOptions, type Misread } from './training-charts';

// axes: run colours, readable tick steps, numeric category order, log-or-linear
export { RUN_PALETTE, runColorMap, niceTickStep, epochAxis, sortCategories, isRatioScaleKey, spansDecades, LOG_SCALE_DECADES } from './axes';

// curve-charts: metric curves of runs overlaid, per step, epoch or minute, smoothed and downsampled
export {
  metricCurveFigure,
  smoothEma,
  downsampleMinMax,
  CURVE_X_AXES,
  type MetricCurve,
  type CurveXAxis,
  type MetricCurveFigureOptions,
} from './curve-charts';

// live-training-chart: a training in progress (step, ETAs, batch loss by step, scores by epoch)
export { liveTrainingHtml, liveTrainingCurves, type LiveTrainingProgress, type LiveTrainingOptions } from './live-training-chart';

// misread-charts: a run's misread images with the truth and the reading, differences marked
export { misreadGalleryHtml, markedDifferenceHtml, imageFileDataUri, imageFileBytes, type MisreadSample, type MisreadGalleryOptions, type ImageFileOptions } from './misread-charts';

// param-charts: a param against a metric across runs (sweeps)
export { paramMetricFigure, type ParamMetricPoint, type ParamScalar, type ParamMetricFigureOptions } from './param-charts';

// classification-charts: confusion heatmaps, per-class accuracy, curves, sample grids
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
} from './classification-charts';

// center-charts: center statistics per epoch, the comparison table
export {
  centerHistoryFigure,
  centerComparisonTable,
  type CenterHistorySeries,
  type CenterTableInput,
  type CenterTableScores,
} from './center-charts';

// projection: PCA projections and TensorBoard projector files
export { pca, projectionFigure, projectorTsv, writeProjectorFiles, type PcaResult, type ProjectionFigureOptions } from './projection';

// writer-charts: image galleries and patch positions
export {
  imageDataUri,
  imageGalleryHtml,
  patchPositionsFigure,
  type GalleryItem,
  type ImageGalleryOptions,
  type PatchPositionsFigureOptions,
} from './writer-charts';
