/**
 * An evaluation set rich in look-alike characters (the reference implementation's center-loss
 * write-up reported its largest gain on such a set). Labels come from the ordinary equation
 * generator; of several candidate labels the one with the most look-alike characters is kept,
 * so the grammar and the look of the images stay those of the normal data while 1/7, 6/8/9,
 * 0/8, +/* and (/) become much more frequent.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../errors';
import { encodePng } from '../../image/png';
import { createRng, type Rng } from '../../util/rng';
import { DEFAULT_FORM_SHARES, type FormShares, randomEquationLabel } from './forms';
import { resolveFontNames } from '../fonts';
import { synthImageName } from './synth';
import { renderEquation } from './synth-render';
import { lookalikeCount, lookalikeShare } from '../../labels/lookalike';

/** Options of {@link randomLookalikeLabel}. */
export interface LookalikeLabelOptions {
  /** Candidate labels drawn per label; the richest in look-alikes wins. Defaults to 12. */
  candidates?: number;
  /** Equation form shares. Defaults to equal shares; parenthesised forms bring `(` and `)`. */
  forms?: FormShares;
}

/**
 * A valid equation label rich in look-alike characters: the best of `candidates` labels from
 * `randomEquationLabel` by {@link lookalikeCount} (the first on ties).
 */
export function randomLookalikeLabel(rng: Rng, options: LookalikeLabelOptions = {}): string {
  const candidates = options.candidates ?? 12;
  if (!Number.isInteger(candidates) || candidates < 1) throw new ConfigError(`look-alike candidates ${candidates} must be a positive integer`);
  let best = randomEquationLabel(rng, options.forms ?? DEFAULT_FORM_SHARES);
  let bestCount = lookalikeCount(best);
  for (let i = 1; i < candidates; i++) {
    const label = randomEquationLabel(rng, options.forms ?? DEFAULT_FORM_SHARES);
    const count = lookalikeCount(label);
    if (count > bestCount) {
      best = label;
      bestCount = count;
    }
  }
  return best;
}

/** Options of {@link synthesizeLookalikeSet}. */
export interface SynthesizeLookalikeOptions extends LookalikeLabelOptions {
  /** Output folder; `images/` and `labels.csv` go inside (the layout `loadLabeledImages` reads). */
  outDir: string;
  /** Number of images. */
  count: number;
  /** Seed. Defaults to 'lookalike'. */
  seed?: number | string;
  /** Fonts or groups, as for synthesis. Defaults to `['dejavu-sans']`. */
  fonts?: readonly string[];
  /** Image size. Defaults to 300 x 64. */
  width?: number;
  height?: number;
}

/** What {@link synthesizeLookalikeSet} wrote. */
export interface LookalikeSetResult {
  labelsPath: string;
  labels: string[];
  /** Share of characters with a look-alike in this set. */
  lookalikeShare: number;
}

/**
 * Renders a look-alike-rich equation set with the ordinary renderer, in the same folder layout
 * as `synthesizeEquations` (so the normal loaders, splits and evaluators read it). Image `i`
 * draws from `createRng(`${seed}:${i}`)`.
 *
 * @example
 * const { labelsPath } = synthesizeLookalikeSet({ outDir: 'data/lookalike', count: 2000 });
 */
export function synthesizeLookalikeSet(options: SynthesizeLookalikeOptions): LookalikeSetResult {
  const { outDir, count } = options;
  if (!Number.isInteger(count) || count < 1) throw new ConfigError(`look-alike set count ${count} must be a positive integer`);
  const seed = options.seed ?? 'lookalike';
  const fonts = resolveFontNames(options.fonts ?? ['dejavu-sans']);
  const imagesDir = join(outDir, 'images');
  mkdirSync(imagesDir, { recursive: true });
  const nameWidth = Math.max(5, String(count - 1).length);
  const labels: string[] = [];
  const rows = ['filename,label'];
  for (let i = 0; i < count; i++) {
    const rng = createRng(`${seed}:${i}`);
    const label = randomLookalikeLabel(rng, options);
    const image = renderEquation(label, rng, { width: options.width, height: options.height, fonts });
    const name = synthImageName(i, nameWidth);
    writeFileSync(join(imagesDir, name), encodePng(image));
    labels.push(label);
    rows.push(`images/${name},${label}`);
  }
  const labelsPath = join(outDir, 'labels.csv');
  writeFileSync(`${labelsPath}.tmp`, rows.join('\n') + '\n');
  renameSync(`${labelsPath}.tmp`, labelsPath);
  return { labelsPath, labels, lookalikeShare: lookalikeShare(labels) };
}
