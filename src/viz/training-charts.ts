/**
 * Charts and tables of a training run for notebooks: the learning curve (redrawn live during
 * training) and a gallery of misread images.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { FigureSpec } from '../types';
import { escapeHtml } from './html';

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
      xaxis: { title: { text: 'epoch' }, dtick: 1 },
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

/** An HTML table of misread images (inlined as data URIs), truth and reading. */
export function misreadTableHtml(errors: readonly Misread[], options: { max?: number } = {}): string {
  const rows = errors.slice(0, options.max ?? 12).map((e) => {
    let image = '(image missing)';
    try {
      const mime = extname(e.path).toLowerCase() === '.jpg' || extname(e.path).toLowerCase() === '.jpeg' ? 'image/jpeg' : 'image/png';
      image = `<img src="data:${mime};base64,${readFileSync(e.path).toString('base64')}" style="height: 40px" alt="${escapeHtml(e.truth)}">`;
    } catch {
      // A moved data folder leaves the table readable without its pictures.
    }
    return `<tr><td>${image}</td><td><code>${escapeHtml(e.truth)}</code></td><td><code>${escapeHtml(e.predicted || '(nothing)')}</code></td></tr>`;
  });
  if (rows.length === 0) return '<p>No misread images.</p>';
  return `<table><thead><tr><th>image</th><th>truth</th><th>read</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}
