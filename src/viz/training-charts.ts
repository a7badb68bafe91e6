/**
 * Charts and tables of a training run for notebooks: the learning curve (redrawn live during
 * training) and a gallery of misread images.
 */
import type { FigureSpec } from '../types';
import { epochAxis } from './axes';
import { misreadGalleryHtml } from './misread-charts';

/** Options of {@link trainingCurveFigure}. */
export interface TrainingCurveOptions {
  /** Loss keys, drawn on the left axis. Defaults to `['loss', 'val_loss']` (those present). */
  lossKeys?: string[];
  /** Score keys in [0, 1], drawn on the right axis. Defaults to `['val_accuracy', 'val_cer']` (those present). */
  scoreKeys?: string[];
  /** Title. Defaults to 'Learning curve'. */
  title?: string;
}

/** Loss and validation scores per epoch, from the loop's epoch logs. */
export function trainingCurveFigure(history: readonly Record<string, number>[], options: TrainingCurveOptions = {}): FigureSpec {
  const present = (keys: string[]): string[] => keys.filter((k) => history.some((h) => h[k] !== undefined));
  const epochs = history.map((_, i) => i + 1);
  const trace = (key: string, axis: 'y' | 'y2'): Record<string, unknown> => ({
    type: 'scatter',
    mode: 'lines+markers',
    name: key,
    x: epochs,
    y: history.map((h) => h[key] ?? null),
    yaxis: axis,
  });
  return {
    data: [...present(options.lossKeys ?? ['loss', 'val_loss']).map((k) => trace(k, 'y')), ...present(options.scoreKeys ?? ['val_accuracy', 'val_cer']).map((k) => trace(k, 'y2'))],
    layout: {
      title: { text: options.title ?? 'Learning curve' },
      xaxis: epochAxis(Math.max(1, history.length)),
      yaxis: { title: { text: 'CTC loss' }, type: 'log' },
      yaxis2: { title: { text: 'accuracy / CER' }, overlaying: 'y', side: 'right', range: [0, 1] },
      legend: { orientation: 'h' },
    },
  };
}

/** A misread sample: its image, the truth and what the model read. */
export interface Misread {
  path: string;
  truth: string;
  predicted: string;
}

/**
 * An HTML table of misread images (inlined, each file read within a size limit), truth and
 * reading with the differing characters marked: {@link misreadGalleryHtml} of a training
 * result's `errors`, at most `max` (defaults to 12).
 */
export function misreadTableHtml(errors: readonly Misread[], options: { max?: number } = {}): string {
  return misreadGalleryHtml(
    errors.map((e) => ({ path: e.path, truth: e.truth, read: e.predicted })),
    { maxImages: options.max ?? 12, total: errors.length },
  );
}
