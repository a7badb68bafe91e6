/**
 * Fonts for synthesis, loaded from the `@fontsource/*` npm packages (never from the machine)
 * with opentype.js, and flattened once into polygons in font units. opentype.js 1.3 parses
 * `.woff` but not `.woff2`, so the latin-subset `.woff` files are used.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError, DataError } from '../errors';

/** Fonts glyphlab can draw equations with, by look. */
export const SYNTH_FONTS = {
  print: ['dejavu-sans', 'roboto-mono', 'noto-serif'],
  handwriting: [
    'caveat',
    'indie-flower',
    'patrick-hand',
    'kalam',
    'shadows-into-light',
    'homemade-apple',
    'gloria-hallelujah',
    'architects-daughter',
    'reenie-beanie',
    'rock-salt',
    'coming-soon',
    'nothing-you-could-do',
    'la-belle-aurore',
    'dawning-of-a-new-day',
  ],
} as const;

/** Every font name {@link loadGlyphSet} accepts. */
export const SYNTH_FONT_NAMES: readonly string[] = [...SYNTH_FONTS.print, ...SYNTH_FONTS.handwriting];

/** One character's outline, flattened, in font units with y pointing down. */
export interface FlatGlyph {
  advance: number;
  /** Closed contours, each `[x0, y0, x1, y1, ...]`. */
  contours: Float64Array[];
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
}

/** The flattened glyphs of one font for a set of characters. */
export interface GlyphSet {
  name: string;
  unitsPerEm: number;
  glyphs: Map<string, FlatGlyph>;
  /** Height of the digits above the baseline, in font units (for vertical centring). */
  digitHeight: number;
}

const cache = new Map<string, GlyphSet>();

/**
 * Expands font names: a name from {@link SYNTH_FONT_NAMES}, or the groups `print`,
 * `handwriting` and `all`. Unknown names throw a ConfigError listing the valid ones.
 */
export function resolveFontNames(names: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of names) {
    for (const name of raw.split(',').map((n) => n.trim()).filter(Boolean)) {
      if (name === 'all') out.push(...SYNTH_FONT_NAMES);
      else if (name === 'print' || name === 'handwriting') out.push(...SYNTH_FONTS[name]);
      else if (SYNTH_FONT_NAMES.includes(name)) out.push(name);
      else {
        throw new ConfigError(
          `unknown font ${JSON.stringify(name)}: expected print, handwriting, all or one of ${SYNTH_FONT_NAMES.join(', ')}`,
        );
      }
    }
  }
  return [...new Set(out)];
}

/** The `.woff` file of a font inside its @fontsource package. */
export function fontFilePath(name: string): string {
  if (!SYNTH_FONT_NAMES.includes(name)) resolveFontNames([name]);
  const packageDir = dirname(require.resolve(`@fontsource/${name}/package.json`));
  return join(packageDir, 'files', `${name}-latin-400-normal.woff`);
}

type PathCommand =
  | { type: 'M' | 'L'; x: number; y: number }
  | { type: 'Q'; x1: number; y1: number; x: number; y: number }
  | { type: 'C'; x1: number; y1: number; x2: number; y2: number; x: number; y: number }
  | { type: 'Z' };

/** Flattens path commands (font units, y up) into contours with y down. */
function flattenCommands(commands: readonly PathCommand[]): Float64Array[] {
  const contours: Float64Array[] = [];
  let points: number[] = [];
  let cx = 0;
  let cy = 0;
  const close = (): void => {
    if (points.length >= 6) contours.push(Float64Array.from(points));
    points = [];
  };
  for (const command of commands) {
    switch (command.type) {
      case 'M':
        close();
        points.push(command.x, -command.y);
        cx = command.x;
        cy = command.y;
        break;
      case 'L':
        points.push(command.x, -command.y);
        cx = command.x;
        cy = command.y;
        break;
      case 'Q': {
        // Six steps per curve: at the sizes drawn (under 60 px an em) the chords stay well
        // under a pixel from the curve.
        const steps = 6;
        for (let s = 1; s <= steps; s++) {
          const t = s / steps;
          const u = 1 - t;
          points.push(u * u * cx + 2 * u * t * command.x1 + t * t * command.x, -(u * u * cy + 2 * u * t * command.y1 + t * t * command.y));
        }
        cx = command.x;
        cy = command.y;
        break;
      }
      case 'C': {
        const steps = 8;
        for (let s = 1; s <= steps; s++) {
          const t = s / steps;
          const u = 1 - t;
          const a = u * u * u;
          const b = 3 * u * u * t;
          const c = 3 * u * t * t;
          const d = t * t * t;
          points.push(a * cx + b * command.x1 + c * command.x2 + d * command.x, -(a * cy + b * command.y1 + c * command.y2 + d * command.y));
        }
        cx = command.x;
        cy = command.y;
        break;
      }
      case 'Z':
        close();
        break;
    }
  }
  close();
  return contours;
}

/**
 * Loads a font from its npm package and flattens the glyphs of `chars`. Cached per process.
 * Throws a DataError when the font lacks one of the characters.
 */
export function loadGlyphSet(name: string, chars: string): GlyphSet {
  const key = `${name}\u0000${chars}`;
  const cached = cache.get(key);
  if (cached) return cached;
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const opentype = require('opentype.js') as typeof import('opentype.js');
  const path = fontFilePath(name);
  let font: import('opentype.js').Font;
  try {
    const bytes = readFileSync(path);
    font = opentype.parse(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  } catch (error) {
    throw new DataError(`cannot read font ${name} from ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const glyphs = new Map<string, FlatGlyph>();
  for (const char of new Set(chars)) {
    const glyph = font.charToGlyph(char);
    if (!glyph || glyph.index === 0) throw new DataError(`font ${name} (${path}) has no glyph for ${JSON.stringify(char)}`);
    const contours = flattenCommands(glyph.path.commands as PathCommand[]);
    let minX = Infinity;
    let maxX = -Infinity;
    let minY = Infinity;
    let maxY = -Infinity;
    for (const contour of contours) {
      for (let i = 0; i < contour.length; i += 2) {
        minX = Math.min(minX, contour[i] as number);
        maxX = Math.max(maxX, contour[i] as number);
        minY = Math.min(minY, contour[i + 1] as number);
        maxY = Math.max(maxY, contour[i + 1] as number);
      }
    }
    glyphs.set(char, { advance: glyph.advanceWidth ?? font.unitsPerEm / 2, contours, minX, maxX, minY, maxY });
  }
  const digit = font.charToGlyph('0');
  const digitBox = digit.getBoundingBox();
  const set: GlyphSet = { name, unitsPerEm: font.unitsPerEm, glyphs, digitHeight: digitBox.y2 > 0 ? digitBox.y2 : font.unitsPerEm * 0.7 };
  cache.set(key, set);
  return set;
}
