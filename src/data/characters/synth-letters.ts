/**
 * Synthetic capital letters in the format of the A-Z handwritten letters CSV: the 26 capitals
 * drawn from the handwriting fonts of `@fontsource/*`, each image varied (rotation, scale,
 * shear, shift, stroke weight), centred in a 20x20 box of a 28x28 frame like MNIST, white ink on
 * black, one row `label,784 pixels` each. Not handwriting: a stand-in to measure the letters
 * pipeline where the real file is absent, best split by font.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../../errors';
import { createCoverage, fillContours } from '../../image/raster';
import { createRng, type Rng } from '../../util/rng';
import { loadGlyphSet, resolveFontNames } from '../fonts';
import { LETTER_CLASSES } from './letters-csv';

/** Side of a letter image, as in the letters CSV. */
const SIDE = 28;
/** The box the glyph is scaled into (MNIST's 20x20 in a 28x28 frame). */
const BOX = 20;

/**
 * Draws capital `letter` of `font` into a 28x28 image: pixel values 0-255, ink bright on dark,
 * `rng` choosing rotation (±10°), shear, scale (85-100% of the box), shift (±1.5 px) and a
 * bolder or thinner stroke.
 */
export function renderLetter(letter: string, font: string, rng: Rng): Uint8Array {
  const glyph = loadGlyphSet(font, LETTER_CLASSES.join('')).glyphs.get(letter);
  if (!glyph) throw new ConfigError(`cannot draw ${JSON.stringify(letter)}: letters are ${LETTER_CLASSES.join('')}`);
  const rotation = (rng.uniform(-10, 10) * Math.PI) / 180;
  const shear = rng.uniform(-0.2, 0.2);
  const cos = Math.cos(rotation);
  const sin = Math.sin(rotation);
  const cx = (glyph.minX + glyph.maxX) / 2;
  const cy = (glyph.minY + glyph.maxY) / 2;
  const scale = (BOX * rng.uniform(0.85, 1)) / Math.max(glyph.maxX - glyph.minX, glyph.maxY - glyph.minY, 1);
  const ox = SIDE / 2 + rng.uniform(-1.5, 1.5);
  const oy = SIDE / 2 + rng.uniform(-1.5, 1.5);
  const contours = glyph.contours.map((contour) => {
    const out = new Float64Array(contour.length);
    for (let i = 0; i < contour.length; i += 2) {
      const ux = ((contour[i] as number) - cx) * scale;
      const uy = ((contour[i + 1] as number) - cy) * scale;
      const sx = ux - shear * uy;
      out[i] = ox + cos * sx - sin * uy;
      out[i + 1] = oy + sin * sx + cos * uy;
    }
    return out;
  });
  const coverage = createCoverage(SIDE, SIDE);
  fillContours(coverage, contours, rng.uniform(-0.2, 0.6));
  return Uint8Array.from(coverage.alpha, (a) => Math.round(255 * a));
}

/** Options of {@link synthesizeLettersCsv}. */
export interface SynthesizeLettersOptions {
  /** The CSV to write (its folder is created). */
  outFile: string;
  /** Fonts or groups, as for synthesis. Defaults to `['handwriting']`. */
  fonts?: readonly string[];
  /** Images of each letter in each font. Defaults to 20. */
  perLetter?: number;
  /** Seed. Defaults to 'letters'. */
  seed?: number | string;
}

/** What {@link synthesizeLettersCsv} wrote: rows in file order, with the font of each. */
export interface SynthesizedLetters {
  outFile: string;
  rows: number;
  /** The font of each row, in file order (for splits by font). */
  fonts: string[];
}

/**
 * Writes a letters CSV in the Kaggle file's format (no header; label 0-25, then 784 values),
 * font by font, every letter `perLetter` times per font. Image `i` of letter `l` in font `f`
 * draws from `createRng(`${seed}:${f}:${l}:${i}`)`, so a font's rows do not depend on the others.
 *
 * @example
 * const made = synthesizeLettersCsv({ outFile: 'data/letters/synthetic.csv', perLetter: 50 });
 * const letters = loadLettersCsv(made.outFile);
 */
export function synthesizeLettersCsv(options: SynthesizeLettersOptions): SynthesizedLetters {
  const perLetter = options.perLetter ?? 20;
  if (!Number.isInteger(perLetter) || perLetter < 1) throw new ConfigError(`perLetter ${perLetter} must be a positive integer`);
  const fonts = resolveFontNames(options.fonts ?? ['handwriting']);
  const seed = options.seed ?? 'letters';
  const lines: string[] = [];
  const rowFonts: string[] = [];
  for (const font of fonts) {
    LETTER_CLASSES.forEach((letter, label) => {
      for (let i = 0; i < perLetter; i++) {
        const pixels = renderLetter(letter, font, createRng(`${seed}:${font}:${letter}:${i}`));
        lines.push(`${label},${pixels.join(',')}`);
        rowFonts.push(font);
      }
    });
  }
  mkdirSync(dirname(options.outFile), { recursive: true });
  writeFileSync(`${options.outFile}.tmp`, lines.join('\n') + '\n');
  renameSync(`${options.outFile}.tmp`, options.outFile);
  return { outFile: options.outFile, rows: lines.length, fonts: rowFonts };
}
