/**
 * A small in-memory data set of single-character images: MNIST
 * digits, Fashion-MNIST, A-Z letters. Pixels are float32 in [0, 1], one channel, row-major,
 * `[n, height, width, 1]`; labels index `classes`. Loaders (IDX, letters CSV, the `mnist`
 * package) produce it; splits, batches and evaluation consume it.
 */
import { ConfigError, DataError } from '../../errors';
import { createRng } from '../../util/rng';

/** Labelled single-character images, in memory. */
export interface CharDataset {
  /** Pixels in [0, 1], `[n, height, width, 1]` row-major. */
  images: Float32Array;
  /** Class index of each image, in [0, classes.length). */
  labels: Int32Array;
  /** Class names, e.g. `['0', ..., '9']` or `['A', ..., 'Z']`. */
  classes: string[];
  /** Image height in pixels (28 for MNIST-style data). */
  height: number;
  /** Image width in pixels. */
  width: number;
}

/** The ten digit class names. */
export const DIGIT_CLASSES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** Number of images in a data set. */
export function charDatasetSize(dataset: CharDataset): number {
  return dataset.labels.length;
}

/**
 * Builds a data set and checks that its parts agree (pixel count, label range); `source` names
 * where the data came from in error messages.
 */
export function createCharDataset(
  images: Float32Array,
  labels: Int32Array,
  classes: readonly string[],
  size: { height?: number; width?: number; source?: string } = {},
): CharDataset {
  const height = size.height ?? 28;
  const width = size.width ?? 28;
  const source = size.source ?? 'data set';
  const pixels = height * width;
  if (images.length !== labels.length * pixels) {
    throw new DataError(
      `${source}: ${labels.length} labels need ${labels.length * pixels} pixels (${height}x${width} each), got ${images.length}`,
    );
  }
  if (classes.length === 0) throw new DataError(`${source}: no class names given`);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (!(label >= 0 && label < classes.length)) {
      throw new DataError(`${source}: label ${label} of sample ${i} is outside 0-${classes.length - 1} (${classes.length} classes)`);
    }
  }
  return { images, labels, classes: [...classes], height, width };
}

/** The samples at `indices`, in that order, as a new data set (pixels are copied). */
export function subsetCharDataset(dataset: CharDataset, indices: ArrayLike<number>): CharDataset {
  const pixels = dataset.height * dataset.width;
  const images = new Float32Array(indices.length * pixels);
  const labels = new Int32Array(indices.length);
  const n = charDatasetSize(dataset);
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i]!;
    if (!(index >= 0 && index < n)) throw new RangeError(`subsetCharDataset: index ${index} is outside 0-${n - 1}`);
    images.set(dataset.images.subarray(index * pixels, (index + 1) * pixels), i * pixels);
    labels[i] = dataset.labels[index]!;
  }
  return { images, labels, classes: dataset.classes, height: dataset.height, width: dataset.width };
}

/**
 * The samples of several data sets, one after the other, as a new data set (e.g. train +
 * validation for a final model). All must have the same classes and image size.
 */
export function concatCharDatasets(datasets: readonly CharDataset[]): CharDataset {
  const first = datasets[0];
  if (!first) throw new ConfigError('concatCharDatasets needs at least one data set');
  for (const [i, d] of datasets.entries()) {
    if (d.height !== first.height || d.width !== first.width) {
      throw new DataError(`data set ${i + 1} has ${d.height}x${d.width} images; data set 1 has ${first.height}x${first.width}`);
    }
    if (d.classes.join('\u0000') !== first.classes.join('\u0000')) {
      throw new DataError(`data set ${i + 1} has classes ${d.classes.join(',')}; data set 1 has ${first.classes.join(',')}`);
    }
  }
  const images = new Float32Array(datasets.reduce((sum, d) => sum + d.images.length, 0));
  const labels = new Int32Array(datasets.reduce((sum, d) => sum + d.labels.length, 0));
  let pixelOffset = 0;
  let labelOffset = 0;
  for (const d of datasets) {
    images.set(d.images, pixelOffset);
    labels.set(d.labels, labelOffset);
    pixelOffset += d.images.length;
    labelOffset += d.labels.length;
  }
  return { images, labels, classes: [...first.classes], height: first.height, width: first.width };
}

/** The pixels of sample `index` (a view, not a copy). */
export function charImage(dataset: CharDataset, index: number): Float32Array {
  const pixels = dataset.height * dataset.width;
  return dataset.images.subarray(index * pixels, (index + 1) * pixels);
}

/** How many samples each class has, indexed like `classes`. */
export function charClassCounts(dataset: CharDataset): number[] {
  const counts = new Array<number>(dataset.classes.length).fill(0);
  for (let i = 0; i < dataset.labels.length; i++) counts[dataset.labels[i]!]!++;
  return counts;
}

export interface SplitCharDatasetOptions {
  /** Shares of train, validation and test. Defaults to [0.8, 0.1, 0.1]. */
  ratios?: readonly [number, number, number];
  /** Seed of the shuffle; the same seed gives the same split. Defaults to 0. */
  seed?: number | string;
}

/** Train, validation and test parts of a data set. */
export interface CharSplits {
  train: CharDataset;
  val: CharDataset;
  test: CharDataset;
}

/**
 * Splits a data set into train, validation and test, stratified by class so that every part
 * keeps the class balance, deterministically from the RNG seed. Each class is shuffled on its own
 * and cut by the ratios (rounded), so small classes still reach every part when they can.
 *
 * @example
 * const { train, val, test } = splitCharDataset(await loadMnistDigits(), { seed: 7 });
 */
export function splitCharDataset(dataset: CharDataset, options: SplitCharDatasetOptions = {}): CharSplits {
  const ratios = options.ratios ?? [0.8, 0.1, 0.1];
  const seed = options.seed ?? 0;
  const total = ratios[0] + ratios[1] + ratios[2];
  if (ratios.some((r) => !(r >= 0) || !Number.isFinite(r)) || !(total > 0)) {
    throw new ConfigError(`split ratios must be three non-negative numbers with a positive sum, got ${ratios.join(':')}`);
  }
  const rng = createRng(`char-split:${seed}`);
  const byClass: number[][] = dataset.classes.map(() => []);
  for (let i = 0; i < dataset.labels.length; i++) byClass[dataset.labels[i]!]!.push(i);
  const parts: number[][] = [[], [], []];
  for (const members of byClass) {
    rng.shuffle(members);
    const trainEnd = Math.round((members.length * ratios[0]) / total);
    const valEnd = trainEnd + Math.round((members.length * ratios[1]) / total);
    parts[0]!.push(...members.slice(0, trainEnd));
    parts[1]!.push(...members.slice(trainEnd, Math.min(valEnd, members.length)));
    parts[2]!.push(...members.slice(Math.min(valEnd, members.length)));
  }
  // Interleave classes: a data set loaded class by class would otherwise stay sorted.
  for (const part of parts) rng.shuffle(part);
  return {
    train: subsetCharDataset(dataset, parts[0]!),
    val: subsetCharDataset(dataset, parts[1]!),
    test: subsetCharDataset(dataset, parts[2]!),
  };
}
