/**
 * A first look at a single-character data set (seeds.md sections 2 and 5): how many images each
 * class has in each part of the split, and a few images of every class to check by eye. Pure
 * numbers and pixels; the figures and the PNG grid are drawn by src/viz/classification-charts.ts.
 */
import { ConfigError } from '../errors';
import { charClassCounts, charImage, type CharSplits } from './char-dataset';

/** The parts of a character split, in display order. */
export const CHAR_SPLIT_NAMES = ['train', 'val', 'test'] as const;
export type CharSplitName = (typeof CHAR_SPLIT_NAMES)[number];

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
