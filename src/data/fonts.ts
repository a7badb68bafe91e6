/**
 * Fonts for synthesis, loaded from the `@fontsource/*` npm packages (never from the machine)
 * with opentype.js, and flattened once into polygons in font units. opentype.js 1.3 parses
 * `.woff` but not `.woff2`, so the latin-subset `.woff` files are used.
 *
 * A font is named by its face: `family` (400 normal), `family:bold` (700 normal),
 * `family:italic` (400 italic) or `family:bold-italic` (700 italic), for a family of the
 * catalog (`./font-catalog`). The 17 families glyphlab started with keep their own names and
 * groups ({@link SYNTH_FONTS}): data folders and the writer-identification code name them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError, DataError } from '../errors';
import { FONT_FAMILIES_BY_CATEGORY, type FontCategory } from './font-catalog';

export { FONT_FAMILIES_BY_CATEGORY, type FontCategory } from './font-catalog';

/** The fonts glyphlab first drew equations with, by look (regular faces of catalog families). */
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

/** The 17 families of {@link SYNTH_FONTS}: what the group `all` means. */
export const SYNTH_FONT_NAMES: readonly string[] = [...SYNTH_FONTS.print, ...SYNTH_FONTS.handwriting];

/** Every family of the catalog, in alphabetical order. */
export const FONT_FAMILIES: readonly string[] = Object.values(FONT_FAMILIES_BY_CATEGORY).flat().sort();

const categoryOfFamily = new Map<string, FontCategory>(
  (Object.entries(FONT_FAMILIES_BY_CATEGORY) as [FontCategory, readonly string[]][]).flatMap(([category, families]) =>
    families.map((family) => [family, category] as const),
  ),
);

/** The faces a family may have, as the suffix of a face id (`''` is the regular face), and their files. */
const FACE_VARIANTS = {
  '': { weight: 400, style: 'normal' },
  bold: { weight: 700, style: 'normal' },
  italic: { weight: 400, style: 'italic' },
  'bold-italic': { weight: 700, style: 'italic' },
} as const;

type FaceVariant = keyof typeof FACE_VARIANTS;

/** One face of a catalog family, as {@link parseFontFace} reads it from a face id. */
export interface FontFaceSpec {
  family: string;
  weight: 400 | 700;
  style: 'normal' | 'italic';
}

/**
 * What each font group of {@link resolveFontNames} stands for. `print`, `handwriting` and `all`
 * keep their first meaning (the 17 families of {@link SYNTH_FONTS}); the others read the catalog.
 */
export const FONT_GROUPS = {
  print: 'the 3 print families glyphlab started with (regular faces)',
  handwriting: 'the 14 handwriting families glyphlab started with (regular faces)',
  all: 'print and handwriting: the 17 families glyphlab started with',
  sans: 'the catalog\'s sans-serif families (regular faces)',
  serif: 'the catalog\'s serif families (regular faces)',
  mono: 'the catalog\'s monospaced families (regular faces)',
  display: 'the catalog\'s display families (regular faces)',
  script: 'the catalog\'s handwriting and script families (regular faces)',
  catalog: 'every family of the catalog (regular faces)',
  faces: 'every face (regular, bold, italic, bold italic) of every family of the catalog',
} as const;

export type FontGroup = keyof typeof FONT_GROUPS;

function groupMembers(group: FontGroup): readonly string[] {
  switch (group) {
    case 'print':
    case 'handwriting':
      return SYNTH_FONTS[group];
    case 'all':
      return SYNTH_FONT_NAMES;
    case 'script':
      return FONT_FAMILIES_BY_CATEGORY.handwriting;
    case 'catalog':
      return FONT_FAMILIES;
    case 'faces':
      return FONT_FAMILIES.flatMap((family) => fontFaces(family));
    default:
      return FONT_FAMILIES_BY_CATEGORY[group];
  }
}

function isFontGroup(name: string): name is FontGroup {
  return Object.prototype.hasOwnProperty.call(FONT_GROUPS, name);
}

/** The error for a name that is no group, family or face; it points at the lists rather than printing them. */
function unknownFontError(name: string, family: string): ConfigError {
  const near = FONT_FAMILIES.filter(
    (known) => family.includes(known) || (family.length >= 3 && known.includes(family)) || (family.length >= 4 && known.startsWith(family.slice(0, 4))),
  ).slice(0, 5);
  return new ConfigError(
    `unknown font ${JSON.stringify(name)}${near.length > 0 ? ` (did you mean ${near.join(', ')}?)` : ''}: expected a family ` +
      `of the catalog (${FONT_FAMILIES.length}, listed by \`glyphlab data fonts\` and FONT_FAMILIES), a face such as ` +
      `caveat:bold, caveat:italic or caveat:bold-italic, every face of a family as caveat:*, or a group: ${Object.keys(FONT_GROUPS).join(', ')}`,
  );
}

/**
 * Reads a face id (`family`, `family:bold`, `family:italic`, `family:bold-italic`) into its
 * family, weight and style. Throws a ConfigError for a family outside the catalog or another
 * suffix; whether the package has the face is {@link fontFaces}' question.
 */
export function parseFontFace(face: string): FontFaceSpec {
  const colon = face.indexOf(':');
  const family = colon < 0 ? face : face.slice(0, colon);
  const variant = colon < 0 ? '' : face.slice(colon + 1);
  if (!categoryOfFamily.has(family)) throw unknownFontError(face, family);
  if ((variant === '' && colon >= 0) || !Object.prototype.hasOwnProperty.call(FACE_VARIANTS, variant)) {
    throw new ConfigError(
      `unknown face ${JSON.stringify(variant)} in font ${JSON.stringify(face)}: expected ${family} (regular), ` +
        `${family}:bold, ${family}:italic, ${family}:bold-italic or ${family}:* (every face it has)`,
    );
  }
  const { weight, style } = FACE_VARIANTS[variant as FaceVariant];
  return { family, weight, style };
}

/** The category of a face's family (`caveat:bold` -> `handwriting`); a ConfigError for a name outside the catalog. */
export function fontCategory(face: string): FontCategory {
  return categoryOfFamily.get(parseFontFace(face).family) as FontCategory;
}

function packageDir(family: string): string {
  try {
    return dirname(require.resolve(`@fontsource/${family}/package.json`));
  } catch (error) {
    throw new DataError(`font family ${family} is in the catalog but @fontsource/${family} is not installed: run npm install`, {
      cause: error,
    });
  }
}

function faceFile({ family, weight, style }: FontFaceSpec): string {
  return join(packageDir(family), 'files', `${family}-latin-${weight}-${style}.woff`);
}

const facesOfFamily = new Map<string, readonly string[]>();

/**
 * The faces of a catalog family that its installed package has a `.woff` file for, regular
 * first, then bold, italic and bold italic: `fontFaces('lato')` is
 * `['lato', 'lato:bold', 'lato:italic', 'lato:bold-italic']`, `fontFaces('caveat')` is
 * `['caveat', 'caveat:bold']`. Throws a ConfigError for a family outside the catalog.
 */
export function fontFaces(family: string): string[] {
  let faces = facesOfFamily.get(family);
  if (!faces) {
    if (!categoryOfFamily.has(family)) throw unknownFontError(family, family);
    faces = (Object.keys(FACE_VARIANTS) as FaceVariant[])
      .map((variant) => (variant === '' ? family : `${family}:${variant}`))
      .filter((face) => existsSync(faceFile(parseFontFace(face))));
    facesOfFamily.set(family, faces);
  }
  return [...faces];
}

function resolveFontName(name: string): readonly string[] {
  if (isFontGroup(name)) return groupMembers(name);
  if (name.endsWith(':*')) {
    const family = name.slice(0, -2);
    if (!categoryOfFamily.has(family)) throw unknownFontError(name, family);
    return fontFaces(family);
  }
  const { family } = parseFontFace(name);
  const faces = fontFaces(family);
  if (!faces.includes(name)) {
    throw new ConfigError(`font ${family} has no face ${JSON.stringify(name)} in @fontsource/${family}: its faces are ${faces.join(', ')}`);
  }
  return [name];
}

/**
 * Expands font names into faces, in order and without repeats. A name is a catalog family
 * (its regular face), a face id (`caveat:bold`), `family:*` (every face the family has) or a
 * group of {@link FONT_GROUPS}; a value may hold several, separated by commas. Unknown names
 * and faces a family lacks throw a ConfigError saying what is accepted.
 *
 * @example resolveFontNames(['mono', 'lato:*', 'caveat:bold'])
 */
export function resolveFontNames(names: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of names) {
    for (const name of raw.split(',').map((n) => n.trim()).filter(Boolean)) out.push(...resolveFontName(name));
  }
  return [...new Set(out)];
}

/**
 * The `.woff` file of a face inside its @fontsource package. Throws a ConfigError for a name
 * outside the catalog and a DataError, naming the file looked for, for a face the installed
 * package lacks.
 */
export function fontFilePath(face: string): string {
  const path = faceFile(parseFontFace(face));
  if (!existsSync(path)) {
    const { family } = parseFontFace(face);
    throw new DataError(`font face ${face} is not in the installed @fontsource/${family}: no file ${path} (its faces: ${fontFaces(family).join(', ')})`);
  }
  return path;
}

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

/** The flattened glyphs of one font face for a set of characters. */
export interface GlyphSet {
  /** The face id. */
  name: string;
  unitsPerEm: number;
  glyphs: Map<string, FlatGlyph>;
  /** Height of the digits above the baseline, in font units (for vertical centring). */
  digitHeight: number;
  /** The face's own stroke width in font units: the median over the digits of {@link strokeWidthOf}. */
  strokeWidth: number;
}

const cache = new Map<string, GlyphSet>();

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
 * The mean width of the strokes of a glyph drawn by `contours`: twice its ink area over its
 * outline's length (a stroke of width w and length l has area w·l and an outline about 2·l
 * long; a ring of width w gives w exactly). Outer contours and holes wind in opposite
 * directions, so the signed areas sum to the ink. 0 for an empty glyph.
 */
export function strokeWidthOf(contours: readonly Float64Array[]): number {
  let area = 0;
  let perimeter = 0;
  for (const c of contours) {
    const n = c.length;
    for (let i = 0; i < n; i += 2) {
      const j = (i + 2) % n;
      const x0 = c[i] as number;
      const y0 = c[i + 1] as number;
      const x1 = c[j] as number;
      const y1 = c[j + 1] as number;
      area += x0 * y1 - x1 * y0;
      perimeter += Math.hypot(x1 - x0, y1 - y0);
    }
  }
  return perimeter > 0 ? Math.abs(area) / perimeter : 0;
}

/**
 * Loads a font face (see {@link resolveFontNames}) from its npm package and flattens the glyphs
 * of `chars`. Cached per process. Throws a DataError when the package lacks the face or the
 * face lacks one of the characters.
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
  const digitHeight = digitBox.y2 > 0 ? digitBox.y2 : font.unitsPerEm * 0.7;
  // The digits are usually among `chars`, flattened above already.
  const widths = [...'0123456789'].map((d) => strokeWidthOf(glyphs.get(d)?.contours ?? flattenCommands(font.charToGlyph(d).path.commands as PathCommand[]))).filter((w) => w > 0);
  widths.sort((a, b) => a - b);
  const strokeWidth = widths[Math.floor(widths.length / 2)] ?? digitHeight * 0.12;
  const set: GlyphSet = { name, unitsPerEm: font.unitsPerEm, glyphs, digitHeight, strokeWidth };
  cache.set(key, set);
  return set;
}
