/**
 * Embedding projections: PCA of feature vectors to 2-D or 3-D as plotly figure specs, one trace per
 * label so that classes (and look-alikes) can be told apart, and an export in the TensorBoard
 * projector format (a vectors TSV and a metadata TSV; the metadata has a header row only when it
 * has several columns, as the projector expects), which projector.tensorflow.org loads directly
 * ("Load" > choose both files).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, DataError } from '../errors';
import type { FigureSpec } from '../types';

/** A PCA result. */
export interface PcaResult {
  /** Projected points, one `dims`-long row per input vector. */
  points: number[][];
  /** Principal axes (unit vectors), strongest first. */
  components: number[][];
  /** Variance along each axis, and its share of the total variance. */
  variance: number[];
  explainedRatio: number[];
  mean: number[];
}

function checkVectors(vectors: readonly (readonly number[])[]): number {
  if (vectors.length === 0) throw new DataError('projection: no vectors given');
  const dim = (vectors[0] as readonly number[]).length;
  vectors.forEach((v, i) => {
    if (v.length !== dim) throw new DataError(`projection: vector ${i} has ${v.length} values, vector 0 has ${dim}; all must be equally long`);
    v.forEach((x, j) => {
      if (!Number.isFinite(x)) throw new DataError(`projection: vector ${i} has ${x} at ${j}; values must be finite`);
    });
  });
  return dim;
}

/**
 * PCA of `vectors` to `dims` dimensions, by power iteration with deflation on the covariance
 * matrix (feature vectors here have a few hundred values, so the D x D matrix is small). Axes
 * are sign-normalised (largest component positive) so results are reproducible.
 *
 * @example
 * const { points, explainedRatio } = pca(features, 2);
 */
export function pca(vectors: readonly (readonly number[])[], dims: number): PcaResult {
  const dim = checkVectors(vectors);
  if (!Number.isInteger(dims) || dims < 1 || dims > dim) throw new ConfigError(`PCA dims ${dims} must be an integer from 1 to ${dim} (the vector length)`);
  const n = vectors.length;
  const mean = new Array<number>(dim).fill(0);
  for (const v of vectors) for (let j = 0; j < dim; j++) mean[j] = (mean[j] as number) + (v[j] as number) / n;
  const cov = new Float64Array(dim * dim);
  const centered = vectors.map((v) => v.map((x, j) => x - (mean[j] as number)));
  for (const c of centered) {
    for (let a = 0; a < dim; a++) {
      const ca = c[a] as number;
      if (ca === 0) continue;
      for (let b = a; b < dim; b++) cov[a * dim + b] = (cov[a * dim + b] as number) + ca * (c[b] as number);
    }
  }
  const denominator = Math.max(1, n - 1);
  let total = 0;
  for (let a = 0; a < dim; a++) {
    for (let b = a; b < dim; b++) {
      const value = (cov[a * dim + b] as number) / denominator;
      cov[a * dim + b] = value;
      cov[b * dim + a] = value;
    }
    total += cov[a * dim + a] as number;
  }
  const components: number[][] = [];
  const variance: number[] = [];
  for (let k = 0; k < dims; k++) {
    // A fixed, non-degenerate start vector keeps the result deterministic.
    let v = Array.from({ length: dim }, (_, j) => 1 + ((j * 7919 + k * 104729) % 13) / 13);
    let lambda = 0;
    for (let iteration = 0; iteration < 500; iteration++) {
      const w = new Array<number>(dim).fill(0);
      for (let a = 0; a < dim; a++) {
        let sum = 0;
        for (let b = 0; b < dim; b++) sum += (cov[a * dim + b] as number) * (v[b] as number);
        w[a] = sum;
      }
      const norm = Math.hypot(...w);
      if (norm === 0) break;
      const next = w.map((x) => x / norm);
      const change = next.reduce((s, x, j) => s + Math.abs(x - (v[j] as number)), 0);
      v = next;
      lambda = norm;
      if (change < 1e-10) break;
    }
    let largest = 0;
    for (let j = 1; j < dim; j++) if (Math.abs(v[j] as number) > Math.abs(v[largest] as number)) largest = j;
    if ((v[largest] as number) < 0) v = v.map((x) => -x);
    components.push(v);
    variance.push(lambda);
    // Deflate: remove this axis from the covariance.
    for (let a = 0; a < dim; a++) for (let b = 0; b < dim; b++) cov[a * dim + b] = (cov[a * dim + b] as number) - lambda * (v[a] as number) * (v[b] as number);
  }
  const points = centered.map((c) => components.map((axis) => axis.reduce((s, x, j) => s + x * (c[j] as number), 0)));
  return { points, components, variance, explainedRatio: variance.map((v) => (total > 0 ? v / total : 0)), mean };
}

/** Options of {@link projectionFigure}. */
export interface ProjectionFigureOptions {
  /** 2 (scatter) or 3 (scatter3d). Defaults to 2. */
  dims?: 2 | 3;
  /** Chart title. Defaults to 'Feature projection (PCA)'. */
  title?: string;
}

/**
 * A plotly scatter (2-D) or scatter3d (3-D) of the PCA projection of `vectors`, one trace per
 * distinct label, axes titled with the share of variance they explain.
 *
 * @example
 * display(projectionFigure(features, labels, { dims: 3 }));
 */
export function projectionFigure(vectors: readonly (readonly number[])[], labels: readonly string[], options: ProjectionFigureOptions = {}): FigureSpec {
  const dims = options.dims ?? 2;
  if (dims !== 2 && dims !== 3) throw new ConfigError(`projection dims ${String(dims)} must be 2 or 3`);
  if (labels.length !== vectors.length) throw new DataError(`projection: ${vectors.length} vectors but ${labels.length} labels; give one label per vector`);
  const { points, explainedRatio } = pca(vectors, dims);
  const groups = new Map<string, number[]>();
  labels.forEach((label, i) => (groups.get(label) ?? groups.set(label, []).get(label) as number[]).push(i));
  const axis = (k: number): string => `PC${k + 1} (${((explainedRatio[k] ?? 0) * 100).toFixed(1)}%)`;
  const data = [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([label, indices]) => {
      const trace: Record<string, unknown> = {
        type: dims === 3 ? 'scatter3d' : 'scatter',
        mode: 'markers',
        name: label,
        x: indices.map((i) => points[i]?.[0]),
        y: indices.map((i) => points[i]?.[1]),
        marker: { size: dims === 3 ? 3 : 6, opacity: 0.8 },
      };
      if (dims === 3) trace['z'] = indices.map((i) => points[i]?.[2]);
      return trace;
    });
  const title = { text: options.title ?? 'Feature projection (PCA)' };
  const layout: Record<string, unknown> =
    dims === 3
      ? { title, scene: { xaxis: { title: { text: axis(0) } }, yaxis: { title: { text: axis(1) } }, zaxis: { title: { text: axis(2) } } } }
      : { title, xaxis: { title: { text: axis(0) } }, yaxis: { title: { text: axis(1) } } };
  return { data, layout };
}

/** TSV cell text: tabs and newlines would break the projector's columns. */
function cell(value: string | number): string {
  return String(value).replace(/[\t\r\n]/g, ' ');
}

/**
 * The TensorBoard projector's two files as text: `vectors` (one tab-separated vector a line, no
 * header) and `metadata` (one row per vector, after a header line of column names when there
 * are several columns).
 */
export function projectorTsv(vectors: readonly (readonly number[])[], metadata: readonly Record<string, string | number>[]): { vectors: string; metadata: string } {
  checkVectors(vectors);
  if (metadata.length !== vectors.length) throw new DataError(`projector export: ${vectors.length} vectors but ${metadata.length} metadata rows`);
  const columns = [...new Set(metadata.flatMap((row) => Object.keys(row)))];
  if (columns.length === 0) throw new DataError('projector export: metadata rows have no columns; give at least a label');
  const rows = metadata.map((row) => columns.map((c) => cell(row[c] ?? '')).join('\t'));
  // The projector reads a single metadata column without a header, and several with one.
  const lines = columns.length === 1 ? rows : [columns.map(cell).join('\t'), ...rows];
  return { vectors: vectors.map((v) => v.join('\t')).join('\n') + '\n', metadata: lines.join('\n') + '\n' };
}

/**
 * Writes `vectors.tsv` and `metadata.tsv` for the TensorBoard projector into `dir` (created if
 * needed) and returns their paths.
 */
export function writeProjectorFiles(dir: string, vectors: readonly (readonly number[])[], metadata: readonly Record<string, string | number>[]): { vectorsPath: string; metadataPath: string } {
  const text = projectorTsv(vectors, metadata);
  mkdirSync(dir, { recursive: true });
  const vectorsPath = join(dir, 'vectors.tsv');
  const metadataPath = join(dir, 'metadata.tsv');
  writeFileSync(vectorsPath, text.vectors);
  writeFileSync(metadataPath, text.metadata);
  return { vectorsPath, metadataPath };
}
