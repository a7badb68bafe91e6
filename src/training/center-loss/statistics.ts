/**
 * Distances between feature vectors and class centers: between the centers, from a frame to its
 * own center, and to its nearest look-alike's center, for the training centers (the objective's
 * per-epoch statistics) and for a held-out set's own class means (`centerStatistics`).
 */
import { ConfigError, DataError } from '../../errors';
import { EQUATION_ALPHABET } from '../../labels/alphabet';
import { LOOKALIKE_GROUPS } from '../../labels/lookalike';

/** Look-alikes of each class index, from groups of characters. */
export function lookalikeMap(groups: readonly string[], alphabet: string = EQUATION_ALPHABET): Map<number, number[]> {
  const map = new Map<number, Set<number>>();
  for (const group of groups) {
    const indices = Array.from(group, (ch) => {
      const index = alphabet.indexOf(ch);
      if (index < 0) throw new ConfigError(`look-alike group ${JSON.stringify(group)} has ${JSON.stringify(ch)}, which is not in the alphabet ${JSON.stringify(alphabet)}`);
      return index;
    });
    for (const a of indices) for (const b of indices) if (a !== b) (map.get(a) ?? map.set(a, new Set()).get(a) as Set<number>).add(b);
  }
  return new Map([...map].map(([k, v]) => [k, [...v].sort((x, y) => x - y)]));
}

export function distance(a: ArrayLike<number>, aOffset: number, b: ArrayLike<number>, bOffset: number, d: number): number {
  let sum = 0;
  for (let i = 0; i < d; i++) {
    const diff = (a[aOffset + i] as number) - (b[bOffset + i] as number);
    sum += diff * diff;
  }
  return Math.sqrt(sum);
}

/** Mean Euclidean distance over all pairs of the given centers (`[K, D]` row-major). */
export function meanCenterDistance(centers: ArrayLike<number>, dim: number, classes: readonly number[]): number {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < classes.length; i++) {
    for (let j = i + 1; j < classes.length; j++) {
      sum += distance(centers, (classes[i] as number) * dim, centers, (classes[j] as number) * dim, dim);
      pairs++;
    }
  }
  return pairs === 0 ? Number.NaN : sum / pairs;
}

/** Center statistics of labelled feature vectors, the centers being the vectors' own class means. */
export interface CenterStatistics {
  /** Vectors counted. */
  frames: number;
  /** Classes with at least one vector. */
  classes: number;
  /** Mean distance between the class means. */
  between: number;
  /** Mean distance of a vector to its own class mean. */
  own: number;
  /** Mean distance of a vector to the nearest look-alike's class mean (vectors with a look-alike present). */
  lookalike: number;
  /**
   * `own / lookalike`: how far a vector sits from its own center measured in units of the
   * distance to its look-alike's. Scale-free, so runs with different feature scales compare;
   * lower means look-alikes are better separated.
   */
  lookalikeRatio: number;
}

/**
 * Center statistics of a held-out set: class means computed from `vectors` themselves (not the
 * training centers), so a CTC-only model and a center-loss model are measured alike.
 *
 * @example
 * const { vectors, labels } = await collectAlignedFeatures(withFeatureOutput(crnn), batches);
 * centerStatistics(vectors, labels); // { between, own, lookalike, lookalikeRatio, ... }
 */
export function centerStatistics(vectors: readonly (readonly number[])[], labels: readonly string[], groups: readonly string[] = LOOKALIKE_GROUPS): CenterStatistics {
  if (vectors.length !== labels.length) throw new DataError(`center statistics: ${vectors.length} vectors but ${labels.length} labels`);
  const dim = vectors[0]?.length ?? 0;
  const names = [...new Set(labels)];
  const index = new Map(names.map((name, i) => [name, i]));
  const means = new Float64Array(names.length * dim);
  const counts = new Float64Array(names.length);
  vectors.forEach((v, i) => {
    if (v.length !== dim) throw new DataError(`center statistics: vector ${i} has ${v.length} values, the first has ${dim}`);
    const k = index.get(labels[i] as string) as number;
    counts[k]++;
    for (let d = 0; d < dim; d++) means[k * dim + d] += v[d] as number;
  });
  for (let k = 0; k < names.length; k++) for (let d = 0; d < dim; d++) means[k * dim + d] /= counts[k] as number;
  const lookalikes = new Map<string, string[]>();
  for (const group of groups) for (const ch of group) lookalikes.set(ch, [...group].filter((o) => o !== ch && index.has(o)));
  let own = 0;
  let look = 0;
  let lookFrames = 0;
  vectors.forEach((v, i) => {
    const label = labels[i] as string;
    own += distance(v, 0, means, (index.get(label) as number) * dim, dim);
    const others = lookalikes.get(label) ?? [];
    if (others.length === 0) return;
    look += Math.min(...others.map((o) => distance(v, 0, means, (index.get(o) as number) * dim, dim)));
    lookFrames++;
  });
  const ownMean = vectors.length > 0 ? own / vectors.length : Number.NaN;
  const lookMean = lookFrames > 0 ? look / lookFrames : Number.NaN;
  return {
    frames: vectors.length,
    classes: names.length,
    between: meanCenterDistance(means, dim, names.map((_, k) => k)),
    own: ownMean,
    lookalike: lookMean,
    lookalikeRatio: ownMean / lookMean,
  };
}
