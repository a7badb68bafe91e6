/**
 * Exploring a labelled image data set: label-length distribution,
 * character frequencies, where the ink sits across the width (the left bias), and a grid of
 * samples. Plain numbers first; DataFrames (danfojs, loaded lazily: it pulls in tfjs), plotly
 * figure specs and an HTML report are built from them.
 */
import { extname } from 'node:path';
import { decodeSimplePng } from '../../image/png';
import { imageFileLimit, readRegularFileSync } from '../../image/read-file';
import { columnInkProfile, convertChannels, type RawImage } from '../../image/raw-image';
import { decodeImage } from '../../image/sharp-io';
import { createRng } from '../../util/rng';
import type { FigureSpec } from '../../types';
import { characterFrequencyFigure, inkProfileFigure, labelLengthFigure } from '../../viz/data-charts';
import { escapeHtml, type HtmlReport } from '../../viz/html';
import { labelDistributions } from './forms';
import type { LabeledImage } from './load';
import { percent } from '../../util/format';

export interface ExploreOptions {
  /** Images decoded for the ink profile (a seeded random sample). Defaults to 1000. */
  maxImages?: number;
  /** Bins of the ink profile across the width. Defaults to 100. */
  profileBins?: number;
  /** Samples shown in the grid. Defaults to 24. */
  gridSize?: number;
  /** Seed of the image sample. Defaults to 0. */
  seed?: number | string;
}

/** A sample for the grid: the file's bytes as a data URI, with its label. */
export interface GridSample {
  filename: string;
  label: string;
  dataUri: string;
}

/** What {@link exploreDataset} found. */
export interface Exploration {
  count: number;
  lengthCounts: Map<number, number>;
  charCounts: Map<string, number>;
  /** Character -> labels containing it. */
  labelsWithChar: Map<string, number>;
  /** Mean darkness per width bin, left to right. */
  inkProfile: number[];
  /** Share of all ink in the left half of the images. */
  leftInkShare: number;
  imagesProfiled: number;
  grid: GridSample[];
}

async function decodeGray(path: string): Promise<RawImage> {
  const bytes = readRegularFileSync(path, imageFileLimit());
  const png = decodeSimplePng(bytes);
  return png ? convertChannels(png, 1) : decodeImage(bytes, { channels: 1 });
}

/** Resamples a column profile of any width to `bins` bins by relative position. */
function resample(profile: Float64Array, bins: number): Float64Array {
  const out = new Float64Array(bins);
  const counts = new Float64Array(bins);
  for (let x = 0; x < profile.length; x++) {
    const bin = Math.min(bins - 1, Math.floor(((x + 0.5) / profile.length) * bins));
    out[bin] = (out[bin] ?? 0) + (profile[x] ?? 0);
    counts[bin] = (counts[bin] ?? 0) + 1;
  }
  for (let b = 0; b < bins; b++) out[b] = (counts[b] ?? 0) > 0 ? (out[b] ?? 0) / (counts[b] ?? 1) : 0;
  return out;
}

/**
 * Explores samples (e.g. `loadLabeledImages(dir).samples`): distributions over all labels, the
 * ink profile over a seeded sample of images, and a grid of samples.
 *
 * @example
 * const set = await loadLabeledImages('data/equations');
 * const exploration = await exploreDataset(set.samples);
 * explorationFigures(exploration).inkProfile; // a plotly spec
 */
export async function exploreDataset(samples: readonly LabeledImage[], options: ExploreOptions = {}): Promise<Exploration> {
  const maxImages = options.maxImages ?? 1000;
  const bins = options.profileBins ?? 100;
  const gridSize = options.gridSize ?? 24;
  const stats = labelDistributions(samples.map((s) => s.label));
  const order = createRng(String(options.seed ?? 0)).shuffle(samples.map((_, i) => i));
  const profiled = order.slice(0, Math.min(maxImages, samples.length));
  const sum = new Float64Array(bins);
  for (let start = 0; start < profiled.length; start += 32) {
    const chunk = profiled.slice(start, start + 32);
    const profiles = await Promise.all(chunk.map(async (i) => resample(columnInkProfile(await decodeGray((samples[i] as LabeledImage).path)), bins)));
    for (const profile of profiles) for (let b = 0; b < bins; b++) sum[b] = (sum[b] ?? 0) + (profile[b] ?? 0);
  }
  const inkProfile = Array.from(sum, (v) => v / Math.max(1, profiled.length));
  const total = inkProfile.reduce((a, b) => a + b, 0);
  const left = inkProfile.slice(0, Math.floor(bins / 2)).reduce((a, b) => a + b, 0);
  const grid = order.slice(0, Math.min(gridSize, samples.length)).map((i) => {
    const sample = samples[i] as LabeledImage;
    const ext = extname(sample.path).toLowerCase();
    const mime = ext === '.jpg' || ext === '.jpeg' ? 'image/jpeg' : ext === '.webp' ? 'image/webp' : 'image/png';
    return { filename: sample.filename, label: sample.label, dataUri: `data:${mime};base64,${readRegularFileSync(sample.path, imageFileLimit()).toString('base64')}` };
  });
  return {
    count: stats.count,
    lengthCounts: stats.lengthCounts,
    charCounts: stats.charCounts,
    labelsWithChar: stats.labelsWithChar,
    inkProfile,
    leftInkShare: total > 0 ? left / total : 0,
    imagesProfiled: profiled.length,
    grid,
  };
}

/** Plotly figure specs of an exploration. */
export function explorationFigures(exploration: Exploration): { labelLengths: FigureSpec; characters: FigureSpec; inkProfile: FigureSpec } {
  return {
    labelLengths: labelLengthFigure(exploration.lengthCounts),
    characters: characterFrequencyFigure(exploration.charCounts),
    inkProfile: inkProfileFigure(exploration.inkProfile),
  };
}

/** Plain rows of the exploration tables (what the DataFrames hold). */
export function explorationRows(exploration: Exploration): {
  lengths: { length: number; labels: number; share: number }[];
  characters: { character: string; occurrences: number; labelsWithIt: number; perLabel: number }[];
} {
  return {
    lengths: [...exploration.lengthCounts].map(([length, labels]) => ({ length, labels, share: labels / Math.max(1, exploration.count) })),
    characters: [...exploration.charCounts].map(([character, occurrences]) => ({
      character,
      occurrences,
      labelsWithIt: exploration.labelsWithChar.get(character) ?? 0,
      perLabel: occurrences / Math.max(1, exploration.count),
    })),
  };
}

/**
 * The exploration tables as danfojs DataFrames (`lengths`: counts per label length,
 * `characters`: frequency per character). danfojs is required here, not at import, because it
 * loads TensorFlow.js.
 */
export function explorationTables(exploration: Exploration): { lengths: import('danfojs-node').DataFrame; characters: import('danfojs-node').DataFrame } {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const danfo = require('danfojs-node') as typeof import('danfojs-node');
  const rows = explorationRows(exploration);
  return { lengths: new danfo.DataFrame(rows.lengths), characters: new danfo.DataFrame(rows.characters) };
}

/** An HTML report of an exploration: the three charts, the tables and the sample grid. */
export function explorationReport(exploration: Exploration, title = 'Data set exploration'): HtmlReport {
  const figures = explorationFigures(exploration);
  const rows = explorationRows(exploration);
  const table = (headers: string[], body: (string | number)[][]): string =>
    `<table><tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>${body
      .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(String(c))}</td>`).join('')}</tr>`)
      .join('')}</table>`;
  const grid = `<div class="grid">${exploration.grid
    .map((g) => `<figure><img src="${g.dataUri}" alt="${escapeHtml(g.label)}"><figcaption>${escapeHtml(g.label)} <small>${escapeHtml(g.filename)}</small></figcaption></figure>`)
    .join('')}</div>`;
  return {
    title,
    sections: [
      { heading: `Overview`, html: `<p>${exploration.count} labelled images; ink profile over ${exploration.imagesProfiled} of them; ${percent(exploration.leftInkShare, 1)} of the ink lies in the left half.</p>` },
      { heading: 'Label lengths', figure: figures.labelLengths, html: table(['length', 'labels', 'share'], rows.lengths.map((r) => [r.length, r.labels, percent(r.share)])) },
      {
        heading: 'Characters',
        figure: figures.characters,
        html: table(['character', 'occurrences', 'labels with it', 'per label'], rows.characters.map((r) => [r.character, r.occurrences, r.labelsWithIt, r.perLabel.toFixed(3)])),
      },
      { heading: 'Ink across the width', figure: figures.inkProfile },
      { heading: 'Samples', html: grid },
    ],
  };
}
