/**
 * Figures of a classification evaluation: the confusion matrix as a
 * plotly heatmap, per-class accuracy, loss curves, and grids of sample images (misclassified or
 * augmented) both as a plotly figure with captions and as a PNG for reports and the CLI.
 */
import { encodePng } from '../image/png';
import type { RawImage } from '../image/raw-image';
import type { ClassMetrics } from '../metrics/classification';
import type { FigureSpec } from '../types';
import { epochAxis } from './axes';

export interface ConfusionFigureOptions {
  /** Show each row as shares of its class (recall) instead of counts. Defaults to false. */
  normalize?: boolean;
  /** Figure title. Defaults to 'Confusion matrix'. */
  title?: string;
}

/**
 * Heatmap of a confusion matrix (rows: true class, top to bottom; columns: predicted class),
 * each cell annotated with its value.
 */
export function confusionHeatmapFigure(matrix: readonly (readonly number[])[], classes: readonly string[], options: ConfusionFigureOptions = {}): FigureSpec {
  const z = matrix.map((row) => {
    const total = row.reduce((a, b) => a + b, 0);
    return options.normalize ? row.map((v) => (total > 0 ? v / total : 0)) : [...row];
  });
  const text = z.map((row) => row.map((v) => (options.normalize ? v.toFixed(2) : String(v))));
  return {
    data: [{ type: 'heatmap', z, x: [...classes], y: [...classes], text, texttemplate: '%{text}', colorscale: 'Blues', hovertemplate: 'true %{y}, predicted %{x}: %{text}<extra></extra>' }],
    layout: {
      title: { text: options.title ?? 'Confusion matrix' },
      xaxis: { title: { text: 'predicted class' }, type: 'category' },
      yaxis: { title: { text: 'true class' }, type: 'category', autorange: 'reversed' },
    },
  };
}

/** Bar chart of each class's test accuracy. */
export function perClassAccuracyFigure(perClass: readonly ClassMetrics[]): FigureSpec {
  return {
    data: [{ type: 'bar', x: perClass.map((m) => m.name), y: perClass.map((m) => m.accuracy), text: perClass.map((m) => `${m.correct}/${m.support}`), name: 'accuracy' }],
    layout: { title: { text: 'Accuracy per class' }, xaxis: { title: { text: 'class' }, type: 'category' }, yaxis: { title: { text: 'accuracy' }, range: [0, 1] } },
  };
}

/** Training and validation loss (and accuracy, when logged) against the epoch. */
export function trainingCurvesFigure(history: readonly Record<string, number>[], keys: readonly string[] = ['loss', 'val_loss']): FigureSpec {
  const epochs = history.map((_, i) => i + 1);
  return {
    data: keys
      .filter((key) => history.some((logs) => logs[key] !== undefined))
      .map((key) => ({ type: 'scatter', mode: 'lines+markers', name: key, x: epochs, y: history.map((logs) => logs[key] ?? null) })),
    layout: { title: { text: 'Training curves' }, xaxis: epochAxis(Math.max(1, history.length)), yaxis: { title: { text: keys.join(', ') } } },
  };
}

/** Images with class labels, as a character data set holds them (`CharDataset`). */
export interface LabeledImages {
  /** Pixels of every image, `height * width` values each, one after another. */
  images: Float32Array;
  height: number;
  width: number;
  classes: readonly string[];
  /** Class index of each image. */
  labels: ArrayLike<number>;
}

/** One cell of a sample grid: which image (index into the data set, or the pixels) and its caption. */
export interface SampleGridCell {
  /** Pixels in [0, 1], `height * width` values. */
  pixels: ArrayLike<number>;
  /** Caption, e.g. 'true 7 / predicted 1'. */
  caption: string;
}

/**
 * The misclassified samples of an evaluation as grid cells captioned with the true and
 * predicted labels (first `limit`, in the order given: `evaluateClassifier` sorts the most
 * confident mistakes first).
 */
export function misclassifiedSamples(dataset: LabeledImages, predictions: ArrayLike<number>, misclassified: readonly number[], limit = 36): SampleGridCell[] {
  const pixels = dataset.height * dataset.width;
  return misclassified.slice(0, limit).map((index) => ({
    pixels: dataset.images.subarray(index * pixels, (index + 1) * pixels),
    caption: `true ${dataset.classes[dataset.labels[index]!]} / pred ${dataset.classes[predictions[index]!]}`,
  }));
}

export interface SampleGridOptions {
  /** Images per row. Defaults to 6. */
  columns?: number;
  /** Figure title. Defaults to 'Samples'. */
  title?: string;
}

/**
 * A plotly figure with one grayscale heatmap per sample, laid out in a grid, each captioned
 * (plotly cannot draw text into a PNG; this figure can).
 */
export function sampleGridFigure(samples: readonly SampleGridCell[], size: { height: number; width: number }, options: SampleGridOptions = {}): FigureSpec {
  const columns = Math.max(1, Math.min(options.columns ?? 6, samples.length || 1));
  const rows = Math.max(1, Math.ceil(samples.length / columns));
  const gap = 0.02;
  const cellW = (1 - gap * (columns - 1)) / columns;
  const cellH = (1 - gap * (rows - 1)) / rows;
  const data: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = { title: { text: options.title ?? 'Samples' }, showlegend: false, annotations: [] as unknown[], height: 130 * rows + 80 };
  samples.forEach((sample, i) => {
    const axis = i === 0 ? '' : String(i + 1);
    const col = i % columns;
    const row = Math.floor(i / columns);
    const z: number[][] = [];
    for (let y = 0; y < size.height; y++) z.push(Array.from({ length: size.width }, (_, x) => sample.pixels[y * size.width + x] as number));
    data.push({ type: 'heatmap', z, colorscale: 'Greys', reversescale: true, showscale: false, zmin: 0, zmax: 1, xaxis: `x${axis}`, yaxis: `y${axis}`, hoverinfo: 'skip' });
    const x0 = col * (cellW + gap);
    const y1 = 1 - row * (cellH + gap);
    layout[`xaxis${axis}`] = { domain: [x0, x0 + cellW], visible: false, anchor: `y${axis}` };
    layout[`yaxis${axis}`] = { domain: [y1 - cellH * 0.85, y1 - cellH * 0.15], visible: false, autorange: 'reversed', anchor: `x${axis}`, scaleanchor: `x${axis}` };
    (layout['annotations'] as unknown[]).push({ text: sample.caption, x: x0 + cellW / 2, y: y1, xref: 'paper', yref: 'paper', showarrow: false, font: { size: 10 } });
  });
  return { data, layout };
}

export interface SampleGridImageOptions {
  /** Images per row. Defaults to 8. */
  columns?: number;
  /** Pixel repeat factor. Defaults to 2. */
  scale?: number;
  /** Gap between cells in (scaled) pixels. Defaults to 2. */
  gap?: number;
}

/** Tiles samples (values in [0, 1]) into one grayscale image, dark ink on white like paper. */
export function sampleGridImage(samples: readonly ArrayLike<number>[], size: { height: number; width: number }, options: SampleGridImageOptions = {}): RawImage {
  const columns = Math.max(1, Math.min(options.columns ?? 8, samples.length || 1));
  const scale = options.scale ?? 2;
  const gap = options.gap ?? 2;
  const rows = Math.max(1, Math.ceil(samples.length / columns));
  const cellW = size.width * scale;
  const cellH = size.height * scale;
  const width = columns * cellW + (columns - 1) * gap;
  const height = rows * cellH + (rows - 1) * gap;
  const data = new Uint8Array(width * height).fill(200); // grey gaps separate the cells
  samples.forEach((pixels, i) => {
    const left = (i % columns) * (cellW + gap);
    const top = Math.floor(i / columns) * (cellH + gap);
    for (let y = 0; y < cellH; y++) {
      for (let x = 0; x < cellW; x++) {
        const v = pixels[Math.floor(y / scale) * size.width + Math.floor(x / scale)] as number;
        data[(top + y) * width + left + x] = Math.round(255 * (1 - Math.min(1, Math.max(0, v))));
      }
    }
  });
  return { width, height, channels: 1, data };
}

/** {@link sampleGridImage} encoded as a PNG. */
export function sampleGridPng(samples: readonly ArrayLike<number>[], size: { height: number; width: number }, options: SampleGridImageOptions = {}): Buffer {
  return encodePng(sampleGridImage(samples, size, options));
}
