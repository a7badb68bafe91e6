/**
 * Stratified train/valid/test splits: every stratum (by default a label length) is shuffled
 * from the seed and cut by the ratios, so each split keeps the data set's mix. A stratum too
 * small to give every split a sample is reported, not hidden. The fingerprint (sha256 over the
 * sorted file names and labels of each split) lets two training runs prove they used the same
 * split.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, DataError } from '../errors';
import { sha256 } from '../util/hash';
import { createRng } from '../util/rng';

/** The names of the three splits, in ratio order. */
export const SPLIT_NAMES = ['train', 'valid', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

export interface StratifiedSplitOptions<T> {
  /** Relative sizes of train, valid and test, e.g. `[8, 1, 1]`. Defaults to `[8, 1, 1]`. */
  ratios?: readonly [number, number, number];
  /** Shuffle seed. Defaults to 0. */
  seed?: number | string;
  /** Stratum of a sample. Defaults to the length of `sample.label`. */
  key?: (sample: T) => string | number;
  /** Identity of a sample in the fingerprint. Defaults to `filename,label`. */
  identity?: (sample: T) => string;
}

/** Counts of one stratum. */
export interface StratumCounts {
  key: string;
  total: number;
  counts: Record<SplitName, number>;
  /** True when some split with a positive ratio got no sample of this stratum. */
  tooSmall: boolean;
}

export interface SplitResult<T> {
  splits: Record<SplitName, T[]>;
  strata: StratumCounts[];
  /** Keys of strata too small to reach every split. */
  tooSmall: string[];
  /** sha256 of each split's sorted identities. */
  splitFingerprints: Record<SplitName, string>;
  /** sha256 over the three split fingerprints. */
  fingerprint: string;
  ratios: [number, number, number];
  seed: string;
}

/** Parses `8:1:1` into ratios; throws a ConfigError otherwise. */
export function parseRatios(text: string): [number, number, number] {
  const parts = text.split(':').map(Number);
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p) || p < 0) || parts.every((p) => p === 0)) {
    throw new ConfigError(`ratios ${JSON.stringify(text)} are not valid: expected three non-negative numbers like 8:1:1`);
  }
  return parts as [number, number, number];
}

/** Splits `total` by ratios with the largest-remainder method (ties to the earlier split). */
function allocate(total: number, ratios: readonly number[]): number[] {
  const sum = ratios.reduce((a, b) => a + b, 0);
  const exact = ratios.map((r) => (total * r) / sum);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left <= 0) break;
    counts[i] = (counts[i] ?? 0) + 1;
    left--;
  }
  return counts;
}

/**
 * Splits samples into train/valid/test, stratified by `key`, deterministic for a seed.
 *
 * @example
 * const { splits, fingerprint, tooSmall } = stratifiedSplit(set.samples, { ratios: [8, 1, 1], seed: 1 });
 */
export function stratifiedSplit<T extends { label?: string; filename?: string }>(samples: readonly T[], options: StratifiedSplitOptions<T> = {}): SplitResult<T> {
  const ratios = [...(options.ratios ?? [8, 1, 1])] as [number, number, number];
  if (ratios.length !== 3 || ratios.some((r) => !(r >= 0)) || ratios.every((r) => r === 0)) {
    throw new ConfigError(`ratios ${JSON.stringify(ratios)} are not valid: expected three non-negative numbers, not all 0`);
  }
  const seed = String(options.seed ?? 0);
  const key = options.key ?? ((s: T) => Array.from(s.label ?? '').length);
  const identity = options.identity ?? ((s: T) => `${s.filename ?? ''},${s.label ?? ''}`);
  const groups = new Map<string, T[]>();
  for (const sample of samples) {
    const k = String(key(sample));
    const group = groups.get(k);
    if (group) group.push(sample);
    else groups.set(k, [sample]);
  }
  const keys = [...groups.keys()].sort((a, b) => {
    const na = Number(a);
    const nb = Number(b);
    return Number.isFinite(na) && Number.isFinite(nb) ? na - nb : a < b ? -1 : a > b ? 1 : 0;
  });
  const splits: Record<SplitName, T[]> = { train: [], valid: [], test: [] };
  const strata: StratumCounts[] = [];
  for (const k of keys) {
    // Sort by identity before shuffling so the result does not depend on input order.
    const group = [...(groups.get(k) ?? [])].sort((a, b) => (identity(a) < identity(b) ? -1 : identity(a) > identity(b) ? 1 : 0));
    createRng(`${seed}:split:${k}`).shuffle(group);
    const counts = allocate(group.length, ratios);
    let start = 0;
    const perSplit = { train: 0, valid: 0, test: 0 } as Record<SplitName, number>;
    SPLIT_NAMES.forEach((name, i) => {
      const n = counts[i] ?? 0;
      splits[name].push(...group.slice(start, start + n));
      perSplit[name] = n;
      start += n;
    });
    const tooSmall = SPLIT_NAMES.some((name, i) => (ratios[i] ?? 0) > 0 && perSplit[name] === 0);
    strata.push({ key: k, total: group.length, counts: perSplit, tooSmall });
  }
  const splitFingerprints = {} as Record<SplitName, string>;
  for (const name of SPLIT_NAMES) splitFingerprints[name] = sha256(splits[name].map(identity).sort().join('\n'));
  const fingerprint = sha256(SPLIT_NAMES.map((name) => `${name}:${splitFingerprints[name]}`).join('\n'));
  return { splits, strata, tooSmall: strata.filter((s) => s.tooSmall).map((s) => s.key), splitFingerprints, fingerprint, ratios, seed };
}

/** The JSON manifest of a split, as written by {@link writeSplitManifest}. */
export interface SplitManifest {
  version: 1;
  seed: string;
  ratios: [number, number, number];
  fingerprint: string;
  splitFingerprints: Record<SplitName, string>;
  strata: StratumCounts[];
  tooSmall: string[];
  files: Record<SplitName, { filename: string; label: string }[]>;
}

/** Writes `split.json` (atomically) into `dir` and returns its path. */
export function writeSplitManifest(dir: string, result: SplitResult<{ filename: string; label: string }>, fileName = 'split.json'): string {
  const manifest: SplitManifest = {
    version: 1,
    seed: result.seed,
    ratios: result.ratios,
    fingerprint: result.fingerprint,
    splitFingerprints: result.splitFingerprints,
    strata: result.strata,
    tooSmall: result.tooSmall,
    files: {
      train: result.splits.train.map((s) => ({ filename: s.filename, label: s.label })),
      valid: result.splits.valid.map((s) => ({ filename: s.filename, label: s.label })),
      test: result.splits.test.map((s) => ({ filename: s.filename, label: s.label })),
    },
  };
  const path = join(dir, fileName);
  writeFileSync(`${path}.tmp-${process.pid}`, `${JSON.stringify(manifest, null, 1)}\n`);
  renameSync(`${path}.tmp-${process.pid}`, path);
  return path;
}

/**
 * Reads the split manifest of a data folder (`DIR/split.json` by default), or undefined when the
 * folder has none. A malformed manifest is a DataError naming the file and what is wrong.
 */
export function readSplitManifest(dir: string, fileName = 'split.json'): SplitManifest | undefined {
  const path = join(dir, fileName);
  if (!existsSync(path)) return undefined;
  let manifest: SplitManifest;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8')) as SplitManifest;
  } catch (error) {
    throw new DataError(`split manifest ${path} is not valid JSON (${(error as Error).message}); rewrite it with \`glyphlab data split ${dir}\``);
  }
  if (manifest.version !== 1 || typeof manifest.files !== 'object' || manifest.files === null) {
    throw new DataError(`split manifest ${path} is not a version-1 manifest with train/valid/test files; rewrite it with \`glyphlab data split ${dir}\``);
  }
  for (const name of SPLIT_NAMES) {
    if (!Array.isArray(manifest.files[name])) throw new DataError(`split manifest ${path} has no "${name}" file list; rewrite it with \`glyphlab data split ${dir}\``);
  }
  return manifest;
}
