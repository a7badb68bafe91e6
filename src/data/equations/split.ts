/**
 * Stratified train/val/test splits: every stratum (by default a label length) is shuffled
 * from the RNG seed and cut by the ratios, so each split keeps the data set's mix. A stratum too
 * small to give every split a sample is reported, not hidden. The fingerprint (sha256 over the
 * sorted file names and labels of each split) lets two training runs prove they used the same
 * split. `loadEquationSplits` gives a data folder's split: its `split.json`, else a fresh one.
 */
import { existsSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, DataError } from '../../errors';
import { type FileReadLimit, fileKind, readRegularFileSync } from '../../image/read-file';
import { SPLIT_NAMES, type SplitName } from '../../types';
import { sha256 } from '../../util/hash';
import { createRng } from '../../util/rng';
import { type LabeledImage, loadLabeledImages, maxLabelsBytes } from './load';

export interface StratifiedSplitOptions<T> {
  /** Relative sizes of train, val and test, e.g. `[8, 1, 1]`. Defaults to `[8, 1, 1]`. */
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

/**
 * The names the overall fingerprint hashes: those of the first manifests, so that a split
 * made today has the fingerprint that runs recorded before the validation split was called
 * `val` carry.
 */
const FINGERPRINT_NAMES: Readonly<Record<SplitName, string>> = { train: 'train', val: 'valid', test: 'test' };

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
 * Splits samples into train/val/test, stratified by `key`, deterministic for a seed.
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
  const splits: Record<SplitName, T[]> = { train: [], val: [], test: [] };
  const strata: StratumCounts[] = [];
  for (const k of keys) {
    // Sort by identity before shuffling so the result does not depend on input order.
    const group = [...(groups.get(k) ?? [])].sort((a, b) => (identity(a) < identity(b) ? -1 : identity(a) > identity(b) ? 1 : 0));
    createRng(`${seed}:split:${k}`).shuffle(group);
    const counts = allocate(group.length, ratios);
    let start = 0;
    const perSplit = { train: 0, val: 0, test: 0 } as Record<SplitName, number>;
    SPLIT_NAMES.forEach((name, i) => {
      const n = counts[i] ?? 0;
      splits[name].push(...group.slice(start, start + n));
      perSplit[name] = n;
      start += n;
    });
    const tooSmall = SPLIT_NAMES.some((name, i) => (ratios[i] ?? 0) > 0 && perSplit[name] === 0);
    strata.push({ key: k, total: group.length, counts: perSplit, tooSmall });
  }
  // Strata were appended shortest label first: shuffle each split, so that its first N samples
  // are a fair sample of it (a prefix of the stratum order holds only the shortest labels).
  for (const name of SPLIT_NAMES) createRng(`${seed}:order:${name}`).shuffle(splits[name]);
  const splitFingerprints = {} as Record<SplitName, string>;
  for (const name of SPLIT_NAMES) splitFingerprints[name] = sha256(splits[name].map(identity).sort().join('\n'));
  const fingerprint = sha256(SPLIT_NAMES.map((name) => `${FINGERPRINT_NAMES[name]}:${splitFingerprints[name]}`).join('\n'));
  return { splits, strata, tooSmall: strata.filter((s) => s.tooSmall).map((s) => s.key), splitFingerprints, fingerprint, ratios, seed };
}

/**
 * At most `limit` of `items`, spread evenly over the list rather than its first `limit`: a split
 * whose order follows label length (a `split.json` written before splits were shuffled) still
 * gives a subset with every length in proportion. Without a limit, a copy of all of them.
 *
 * @example
 * spreadSubset(splits.val, 1000) // 1,000 validation images across the whole split
 */
export function spreadSubset<T>(items: readonly T[], limit: number | undefined): T[] {
  if (limit === undefined || limit >= items.length) return [...items];
  if (!(limit >= 0)) throw new ConfigError(`limit ${limit} is not valid: expected a number of samples >= 0`);
  return Array.from({ length: Math.floor(limit) }, (_, i) => items[Math.floor((i * items.length) / limit)] as T);
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
      val: result.splits.val.map((s) => ({ filename: s.filename, label: s.label })),
      test: result.splits.test.map((s) => ({ filename: s.filename, label: s.label })),
    },
  };
  const path = join(dir, fileName);
  writeFileSync(`${path}.tmp-${process.pid}`, `${JSON.stringify(manifest, null, 1)}\n`);
  renameSync(`${path}.tmp-${process.pid}`, path);
  return path;
}

/**
 * The largest split manifest read: four times the labels file's limit, since it holds every row
 * of the labels with its JSON keys (about three times the bytes).
 */
function splitManifestLimit(): FileReadLimit {
  return { maxBytes: 4 * maxLabelsBytes(), what: 'split manifest', limitVariable: 'GLYPHLAB_MAX_LABELS_BYTES', advice: 'a split manifest may have four times the bytes of a labels file' };
}

/**
 * Reads the split manifest of a data folder (`DIR/split.json` by default), or undefined when the
 * folder has none. A malformed manifest is a DataError naming the file and what is wrong. A
 * manifest written before the validation split was called `val` (its files and counts under
 * `valid`) reads as if written today.
 */
export function readSplitManifest(dir: string, fileName = 'split.json'): SplitManifest | undefined {
  const path = join(dir, fileName);
  if (!existsSync(path)) return undefined;
  const stats = statSync(path);
  if (!stats.isFile()) throw new DataError(`split manifest ${path} is ${fileKind(stats)}, not a file; remove it, or write the split with \`glyphlab data split ${dir}\``);
  const text = readRegularFileSync(path, splitManifestLimit()).toString('utf8');
  let manifest: SplitManifest;
  try {
    manifest = JSON.parse(text) as SplitManifest;
  } catch (error) {
    throw new DataError(`split manifest ${path} is not valid JSON (${(error as Error).message}); rewrite it with \`glyphlab data split ${dir}\``);
  }
  if (manifest.version !== 1 || typeof manifest.files !== 'object' || manifest.files === null) {
    throw new DataError(`split manifest ${path} is not a version-1 manifest with train/val/test files; rewrite it with \`glyphlab data split ${dir}\``);
  }
  manifest = withValNames(manifest);
  for (const name of SPLIT_NAMES) {
    if (!Array.isArray(manifest.files[name])) throw new DataError(`split manifest ${path} has no "${name}" file list; rewrite it with \`glyphlab data split ${dir}\``);
  }
  return manifest;
}

/** Renames an older manifest's `valid` entries (files, fingerprints, stratum counts) to `val`. */
function withValNames(manifest: SplitManifest): SplitManifest {
  const renamed = <T>(record: Record<string, T>): Record<SplitName, T> => {
    if (!('valid' in record) || 'val' in record) return record as Record<SplitName, T>;
    const { valid, ...rest } = record;
    return { ...rest, val: valid } as Record<SplitName, T>;
  };
  return {
    ...manifest,
    files: renamed(manifest.files),
    splitFingerprints: manifest.splitFingerprints && renamed(manifest.splitFingerprints),
    strata: (manifest.strata ?? []).map((stratum) => ({ ...stratum, counts: renamed(stratum.counts) })),
  };
}

/** A data folder's split, and where it came from. */
export interface EquationSplits {
  splits: Record<SplitName, LabeledImage[]>;
  fingerprint: string;
  /** True when the split is the folder's `split.json`, false when made here. */
  fromManifest: boolean;
  /** How every image was checked: `decode` (decoded as training will) or `header` (format and size only). */
  imageCheck: 'decode' | 'header';
}

/** Options of {@link loadEquationSplits}. */
export interface LoadEquationSplitsOptions {
  /**
   * How images are checked before anything trains on them (see `loadLabeledImages`): `decode`
   * finds an unreadable image up front, not at the test evaluation after the last epoch (about
   * 0.6 ms an image; 1 minute per 100,000 on two cores, against 13 s for `header`). Defaults to `decode`.
   */
  check?: 'decode' | 'header';
}

/** At most `max` of `items`, with how many more there are. */
function someItems(items: readonly string[], max = 3): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

/** `names` quoted, at most `max` of them, with how many more there are. */
function someNames(names: readonly string[], max = 3): string {
  return someItems(names.map((name) => JSON.stringify(name)), max);
}

/** `1 file is`, `3 files are`: a count of files with its verb, when one is given. */
function files(count: number, singular = '', plural = ''): string {
  return `${count} file${count === 1 ? '' : 's'}${count === 1 ? (singular ? ` ${singular}` : '') : plural ? ` ${plural}` : ''}`;
}

/**
 * The samples of each split that `manifest` lists, after checking that it still describes the
 * labels file: every sample in exactly one split, under the label the labels file gives it.
 * Anything else is a DataError naming the files, since a stale split silently changes what a
 * run trains and tests on: an image the labels gained after the split (a `data synth` that
 * extended the folder) would never be used, one they lost would be a hole, and a changed label
 * would train on another label than the fingerprint records.
 */
function splitsFromManifest(manifest: SplitManifest, samples: readonly LabeledImage[], manifestPath: string, labelsPath: string, dataDir: string): Record<SplitName, LabeledImage[]> {
  const byName = new Map(samples.map((s) => [s.filename, s]));
  const listedIn = new Map<string, SplitName>();
  const splits: Record<SplitName, LabeledImage[]> = { train: [], val: [], test: [] };
  const missing: string[] = [];
  const twice: string[] = [];
  const relabelled: string[] = [];
  for (const name of SPLIT_NAMES) {
    for (const file of manifest.files[name]) {
      const earlier = listedIn.get(file.filename);
      if (earlier !== undefined) {
        twice.push(`${JSON.stringify(file.filename)} (${earlier} and ${name})`);
        continue;
      }
      listedIn.set(file.filename, name);
      const sample = byName.get(file.filename);
      if (!sample) missing.push(file.filename);
      else if (sample.label !== file.label) relabelled.push(`${JSON.stringify(file.filename)} (${JSON.stringify(file.label)} there, ${JSON.stringify(sample.label)} in the labels)`);
      else splits[name].push(sample);
    }
  }
  const unlisted = samples.filter((s) => !listedIn.has(s.filename)).map((s) => s.filename);
  const problems = [
    unlisted.length > 0 ? `${unlisted.length} of the ${samples.length} images in ${labelsPath} ${unlisted.length === 1 ? 'is' : 'are'} in no split (${someNames(unlisted)}) and would never be used` : '',
    missing.length > 0 ? `it names ${files(missing.length)} that ${labelsPath} lacks (${someNames(missing)})` : '',
    relabelled.length > 0 ? `${files(relabelled.length, 'has', 'have')} another label than the labels file gives (${someItems(relabelled)})` : '',
    twice.length > 0 ? `${files(twice.length, 'is', 'are')} in two splits (${someItems(twice)})` : '',
  ].filter((p) => p !== '');
  if (problems.length > 0) {
    throw new DataError(
      `${manifestPath} no longer matches the labels: ${problems.join('; ')}. The labels or the split changed since the split was written ` +
        `(a \`glyphlab data synth\` that extended the folder, say): rewrite the split with \`glyphlab data split ${dataDir}\` ` +
        '(its fingerprint changes, so runs recorded with the old split are not comparable), or remove split.json to split from the seed',
    );
  }
  return splits;
}

/**
 * Loads the data folder and returns its split: the folder's `split.json`, or a fresh stratified
 * 8:1:1 one from `seed`. Every image is decoded first (unless `check: 'header'`), so that an
 * unreadable one is a DataError naming it now rather than a failure after the last epoch. A
 * manifest that no longer matches the labels (images in no split, files the labels lack, other
 * labels, a file in two splits) is a DataError naming them and saying how to rewrite it.
 *
 * @example
 * const { splits, fingerprint } = await loadEquationSplits('data/equations');
 */
export async function loadEquationSplits(dataDir: string, seed = 0, options: LoadEquationSplitsOptions = {}): Promise<EquationSplits> {
  const imageCheck = options.check ?? 'decode';
  const set = await loadLabeledImages(dataDir, { check: imageCheck });
  const manifest = readSplitManifest(dataDir);
  if (!manifest) {
    const result = stratifiedSplit(set.samples, { seed });
    return { splits: result.splits, fingerprint: result.fingerprint, fromManifest: false, imageCheck };
  }
  const splits = splitsFromManifest(manifest, set.samples, join(dataDir, 'split.json'), set.labelsPath, dataDir);
  return { splits, fingerprint: manifest.fingerprint, fromManifest: true, imageCheck };
}
