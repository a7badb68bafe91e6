/**
 * A first look at a single-character data set: how many images each class has in each part of
 * the split, and a few images of every class to check by eye. Plain numbers and pixels first;
 * the class-count figure and a self-contained HTML report are built from them (the sample grid
 * is drawn by `sampleGridPng` of viz/).
 */
import { ConfigError } from '../../errors';
import { SPLIT_NAMES, type FigureSpec, type SplitName } from '../../types';
import { escapeHtml, type HtmlReport } from '../../viz/html';
import { sampleGridPng } from '../../viz/classification-charts';
import { charClassCounts, charImage, type CharSplits } from './dataset';

/** The parts of a character split, in display order (the same three as every split). */
export const CHAR_SPLIT_NAMES = SPLIT_NAMES;
export type CharSplitName = SplitName;

/** One sample picked for the grid: its pixels and where it came from. */
export interface CharExploreSample {
  /** Pixels in [0, 1], `height * width` values (a view into the data set). */
  pixels: Float32Array;
  /** Class name. */
  caption: string;
  split: CharSplitName;
  /** Index within its split. */
  index: number;
}

/** What {@link exploreCharSplits} found. */
export interface CharExploration {
  classes: string[];
  height: number;
  width: number;
  /** Images per class, indexed like `classes`, for each part and in all. */
  counts: Record<CharSplitName | 'total', number[]>;
  /** Images in each part and in all. */
  sizes: Record<CharSplitName | 'total', number>;
  /** Classes without a single image anywhere (worth knowing before training). */
  emptyClasses: string[];
  /** Samples for a grid, classes in turn so that every class shows. */
  samples: CharExploreSample[];
}

/** Options of {@link exploreCharSplits}. */
export interface ExploreCharOptions {
  /** Samples picked for the grid. Defaults to 64. */
  samples?: number;
}

/**
 * Counts the images of each class per part of a split and picks grid samples round-robin over
 * the classes (first images of the train part, then val, then test), so that a grid of 64 shows
 * every digit several times and every letter at least twice.
 *
 * @example
 * const { splits } = await loadCharDataset('mnist', { limit: 1000 });
 * const exploration = exploreCharSplits(splits, { samples: 32 });
 * console.log(exploration.counts.total); // [100, 100, ...]
 */
export function exploreCharSplits(splits: CharSplits, options: ExploreCharOptions = {}): CharExploration {
  const wanted = options.samples ?? 64;
  if (!Number.isInteger(wanted) || wanted < 0) throw new ConfigError(`samples must be a non-negative integer, got ${wanted}`);
  const { classes, height, width } = splits.train;
  const counts = {
    train: charClassCounts(splits.train),
    val: charClassCounts(splits.val),
    test: charClassCounts(splits.test),
    total: classes.map(() => 0),
  };
  for (const name of CHAR_SPLIT_NAMES) counts[name].forEach((n, c) => (counts.total[c]! += n));
  const sizes = {
    train: splits.train.labels.length,
    val: splits.val.labels.length,
    test: splits.test.labels.length,
    total: splits.train.labels.length + splits.val.labels.length + splits.test.labels.length,
  };

  // Queue each class's images in split order; take one per class in turn.
  const queues: { split: CharSplitName; index: number }[][] = classes.map(() => []);
  for (const split of CHAR_SPLIT_NAMES) {
    const labels = splits[split].labels;
    for (let i = 0; i < labels.length; i++) {
      const queue = queues[labels[i]!]!;
      if (queue.length < wanted) queue.push({ split, index: i });
    }
  }
  const samples: CharExploreSample[] = [];
  for (let round = 0; samples.length < wanted && queues.some((q) => q.length > round); round++) {
    queues.forEach((queue, c) => {
      const pick = queue[round];
      if (pick && samples.length < wanted) samples.push({ pixels: charImage(splits[pick.split], pick.index), caption: classes[c]!, ...pick });
    });
  }
  return { classes: [...classes], height, width, counts, sizes, emptyClasses: classes.filter((_, c) => counts.total[c] === 0), samples };
}

/** One row of the class-count table. */
export interface CharClassCountRow {
  class: string;
  train: number;
  val: number;
  test: number;
  total: number;
}

/** The class counts as table rows, one per class (for `--json` and printed tables). */
export function charClassCountRows(exploration: CharExploration): CharClassCountRow[] {
  const { counts } = exploration;
  return exploration.classes.map((name, c) => ({ class: name, train: counts.train[c]!, val: counts.val[c]!, test: counts.test[c]!, total: counts.total[c]! }));
}

/** Stacked bars of the images per class in each part of the split (train, val, test). */
export function classCountsFigure(exploration: Pick<CharExploration, 'classes' | 'counts'>, title = 'Images per class'): FigureSpec {
  return {
    data: CHAR_SPLIT_NAMES.map((split) => ({ type: 'bar', name: split, x: [...exploration.classes], y: [...exploration.counts[split]] })),
    layout: { title: { text: title }, barmode: 'stack', xaxis: { title: { text: 'class' }, type: 'category' }, yaxis: { title: { text: 'images' } } },
  };
}

/**
 * A self-contained HTML report of a character data set's exploration: sizes, the class-count
 * bar chart and table, and the sample grid as an inline PNG (`glyphlab data explore mnist`).
 */
export function charExplorationReport(exploration: CharExploration, title: string, description = ''): HtmlReport {
  const rows = charClassCountRows(exploration)
    .map((r) => `<tr><td>${escapeHtml(r.class)}</td><td>${r.train}</td><td>${r.val}</td><td>${r.test}</td><td>${r.total}</td></tr>`)
    .join('');
  const { sizes } = exploration;
  const grid = sampleGridPng(exploration.samples.map((s) => s.pixels), exploration, { columns: Math.min(exploration.classes.length, 16) });
  const empty = exploration.emptyClasses.length > 0 ? `<p>classes without images: ${escapeHtml(exploration.emptyClasses.join(', '))}</p>` : '';
  return {
    title,
    sections: [
      {
        heading: 'Sizes',
        html:
          `${description ? `<p>${escapeHtml(description)}</p>` : ''}<p>${sizes.total} images of ${exploration.width}x${exploration.height} pixels in ${exploration.classes.length} classes: ` +
          `train ${sizes.train}, val ${sizes.val}, test ${sizes.test}</p>${empty}`,
      },
      { heading: 'Images per class', figure: classCountsFigure(exploration), html: `<table><thead><tr><th>class</th><th>train</th><th>val</th><th>test</th><th>total</th></tr></thead><tbody>${rows}</tbody></table>` },
      { heading: `Samples (${exploration.samples.length}, classes in turn)`, html: `<img alt="sample grid" src="data:image/png;base64,${grid.toString('base64')}">` },
    ],
  };
}
