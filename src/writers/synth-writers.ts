/**
 * A synthetic "writers" set standing in for IAM (which cannot be downloaded here): each writer
 * is one handwriting-like font from the `@fontsource` packages with its own slant, stroke
 * width, letter and word spacing, size and ink, and renders random text lines. Lines of one
 * writer vary a little (per-glyph jitter, baseline wobble), as one person's lines do.
 */
import { ConfigError } from '../errors';
import { createCoverage, fillContours } from '../image/raster';
import type { RawImage } from '../image/raw-image';
import { loadGlyphSet, SYNTH_FONTS } from '../data/fonts';
import { createRng, type Rng } from '../util/rng';

/** The characters writers write: lowercase words, separated by spaces. */
export const WRITER_CHARS = 'abcdefghijklmnopqrstuvwxyz';

const WORDS = (
  'the of and to in is was he for it with as his on be at by had are but from or have an they which one you were her all she ' +
  'there would their we him been has when who will more no if out so said what up its about into than them can only other new ' +
  'some could time these two may then do first any my now such like our over man me even most made after also did many before ' +
  'must through back years where much your way well down should because each just those people how too little state good very ' +
  'make world still own see men work long get here between both life being under never day same another know while last might'
).split(' ');

/** How one synthetic writer writes. */
export interface WriterStyle {
  writerId: string;
  font: string;
  /** Horizontal shear of the glyphs (positive leans right). */
  slant: number;
  /** Outline offset in pixels: thin (< 0) to heavy strokes. */
  strokeOffset: number;
  /** Multiplier of the font's advance widths. */
  letterSpacing: number;
  /** Space between words, in multiples of the letter `n`'s advance. */
  wordSpacing: number;
  /** Height of the digit `0` in pixels, the writer's letter size. */
  letterHeight: number;
  /** Ink gray level (0 black). */
  ink: number;
  /** Amplitude of the baseline wobble in pixels. */
  wobble: number;
}

/** Options of {@link createSyntheticWriters}. */
export interface SyntheticWritersOptions {
  /** Seed of the writers' styles. Defaults to 0. */
  seed?: number | string;
  /** Fonts to give out, round-robin after a seeded shuffle. Defaults to the handwriting fonts. */
  fonts?: readonly string[];
  /** Line image height, which bounds the letter size. Defaults to 128. */
  lineHeight?: number;
}

/**
 * `count` writer styles. Writers get distinct fonts while fonts last (14 handwriting fonts),
 * then fonts repeat with other slant, stroke and spacing.
 */
export function createSyntheticWriters(count: number, options: SyntheticWritersOptions = {}): WriterStyle[] {
  if (!Number.isInteger(count) || count < 1) throw new ConfigError(`writer count ${count} must be a positive integer`);
  const rng = createRng(`writers:${options.seed ?? 0}`);
  const fonts = rng.shuffle([...(options.fonts ?? SYNTH_FONTS.handwriting)]);
  if (fonts.length === 0) throw new ConfigError('synthetic writers need at least one font');
  const lineHeight = options.lineHeight ?? 128;
  return Array.from({ length: count }, (_, i) => ({
    writerId: `w${String(i).padStart(3, '0')}`,
    font: fonts[i % fonts.length] as string,
    slant: rng.uniform(-0.35, 0.35),
    strokeOffset: rng.uniform(-0.2, 1.2),
    letterSpacing: rng.uniform(0.85, 1.2),
    wordSpacing: rng.uniform(0.6, 1.6),
    letterHeight: rng.uniform(0.22, 0.32) * lineHeight,
    ink: rng.int(70),
    wobble: rng.uniform(0, 3),
  }));
}

/** A random line of `words` words from a small English vocabulary. */
export function randomLineText(rng: Rng, words = 4 + rng.int(4)): string {
  return Array.from({ length: words }, () => rng.pick(WORDS)).join(' ');
}

/** Options of {@link renderWriterLine}. */
export interface RenderWriterLineOptions {
  /** Image height. Defaults to 128. */
  height?: number;
  /** Widest image; words that do not fit are left out. Defaults to 1024. */
  maxWidth?: number;
}

/**
 * Renders `text` (lowercase letters and spaces) in a writer's hand as a grayscale image on
 * white, as wide as the text needs. Random choices (glyph jitter, wobble phase) come from `rng`.
 */
export function renderWriterLine(text: string, style: WriterStyle, rng: Rng, options: RenderWriterLineOptions = {}): RawImage {
  const height = options.height ?? 128;
  const maxWidth = options.maxWidth ?? 1024;
  const glyphs = loadGlyphSet(style.font, WRITER_CHARS + '0');
  const scale = style.letterHeight / glyphs.digitHeight;
  const space = (glyphs.glyphs.get('n')?.advance ?? glyphs.unitsPerEm / 2) * style.wordSpacing * scale;
  const margin = 8;
  const baseline = height / 2 + style.letterHeight / 2 + rng.uniform(-3, 3);
  const phase = rng.uniform(0, 2 * Math.PI);
  const period = rng.uniform(150, 400);

  type Placed = { contours: Float64Array[]; right: number };
  const placed: Placed[] = [];
  let x = margin;
  let right = margin;
  for (const word of text.split(' ').filter(Boolean)) {
    const wordGlyphs: Placed[] = [];
    let wx = x;
    for (const char of word) {
      const glyph = glyphs.glyphs.get(char);
      if (!glyph) throw new ConfigError(`cannot write ${JSON.stringify(char)}: writers write ${JSON.stringify(WRITER_CHARS)} and spaces`);
      const jitterY = rng.uniform(-1, 1);
      const rotation = rng.uniform(-0.04, 0.04);
      const cos = Math.cos(rotation);
      const sin = Math.sin(rotation);
      const contours = glyph.contours.map((contour) => {
        const out = new Float64Array(contour.length);
        for (let i = 0; i < contour.length; i += 2) {
          const ux = (contour[i] as number) * scale;
          const uy = (contour[i + 1] as number) * scale;
          const sx = ux - style.slant * uy; // y points down: leaning right moves the top right
          const gx = wx + cos * sx - sin * uy;
          out[i] = gx;
          out[i + 1] = baseline + sin * sx + cos * uy + jitterY + style.wobble * Math.sin((2 * Math.PI * gx) / period + phase);
        }
        return out;
      });
      const glyphRight = wx + glyph.maxX * scale + Math.abs(style.slant) * style.letterHeight + style.strokeOffset + 2;
      wordGlyphs.push({ contours, right: glyphRight });
      wx += glyph.advance * scale * style.letterSpacing;
    }
    const wordRight = Math.max(...wordGlyphs.map((g) => g.right));
    if (wordRight + margin > maxWidth && placed.length > 0) break;
    placed.push(...wordGlyphs);
    right = Math.max(right, wordRight);
    x = wx + space;
  }
  const width = Math.min(maxWidth, Math.ceil(right + margin));
  const coverage = createCoverage(width, height);
  for (const p of placed) fillContours(coverage, p.contours, style.strokeOffset);
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = Math.round(255 - (255 - style.ink) * (coverage.alpha[i] as number));
  return { width, height, channels: 1, data };
}

/** One line of a writers set. */
export interface WriterLine {
  lineId: string;
  writerId: string;
  text: string;
  image: RawImage;
}

/** Options of {@link synthesizeWriterLines}. */
export interface SynthesizeWriterLinesOptions extends SyntheticWritersOptions {
  /** Lines per writer. Defaults to 10. */
  linesPerWriter?: number;
  /** Widest line image. Defaults to 1024. */
  maxWidth?: number;
}

/**
 * Renders `linesPerWriter` lines for each writer, in memory. Line `i` of writer `w` draws from
 * its own generator, so the set is the same for the same seed whatever is asked before it.
 *
 * @example
 * const lines = synthesizeWriterLines(createSyntheticWriters(10), { linesPerWriter: 12 });
 */
export function synthesizeWriterLines(writers: readonly WriterStyle[], options: SynthesizeWriterLinesOptions = {}): WriterLine[] {
  const linesPerWriter = options.linesPerWriter ?? 10;
  const height = options.lineHeight ?? 128;
  const lines: WriterLine[] = [];
  for (const style of writers) {
    for (let i = 0; i < linesPerWriter; i++) {
      const rng = createRng(`line:${options.seed ?? 0}:${style.writerId}:${i}`);
      const text = randomLineText(rng);
      const lineId = `${style.writerId}-${String(i).padStart(2, '0')}`;
      lines.push({ lineId, writerId: style.writerId, text, image: renderWriterLine(text, style, rng, { height, maxWidth: options.maxWidth }) });
    }
  }
  return lines;
}
