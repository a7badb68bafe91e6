/**
 * The style space of equation synthesis: every way an image may look, as named dimensions that
 * the renderer samples per image, and the named presets built from them.
 *
 * - `reference`: the look of the reference implementation's data (one sans font by default, glyphs
 *   rotated and jittered, small crosses and sometimes a curve, text at the left).
 * - `wide`: what glyphlab trains its readers on, so that they read captchas drawn by renderers
 *   they never saw: a hundred font families in regular, bold and italic, perspective, compressed
 *   and touching glyphs, gradients, five kinds of ink noise, pixel noise, blur, JPEG artefacts,
 *   whole-image warps, and text anywhere along the width. The held-out styles below are never in it.
 *
 * A space is plain JSON: a run records it whole, and `--data synth:SPEC.json` reads one (over a
 * preset). Sizes are shares of the image height, so that a space looks the same at 300x64 and at
 * a model's 150x32.
 */
import { ConfigError } from '../../errors';
import { FONT_FAMILIES, fontCategory, fontFaces, resolveFontNames } from '../fonts';
import { BACKGROUND_KINDS, type BackgroundKind, INK_NOISE_KINDS, type InkNoiseKind, PIXEL_NOISE_KINDS, type PixelNoiseKind } from './synth-effects';

/** A closed interval `[low, high]`, sampled uniformly. */
export type Range = [number, number];

/** An ink noise drawn with probability `chance`, at a density drawn from `density`. */
export interface InkNoiseStyle {
  kind: InkNoiseKind;
  chance: number;
  density: Range;
}

/** An effect applied with probability `chance`, at a strength drawn from its range. */
export interface ChanceOf<K extends string> {
  chance: number;
  range: Range;
  kinds?: K[];
}

/** Every dimension of the look; see the file comment. */
export interface StyleSpace {
  /** The preset this space started from, for reading. */
  preset: string;
  /** Font faces (`family`, `family:bold`, `family:italic`, `family:bold-italic`), one picked per image. */
  fonts: string[];
  /** Digit height as a share of the image height. */
  textHeight: Range;
  /** Each glyph's rotation is drawn in [-rotation, rotation] radians. */
  rotation: number;
  /** Each glyph's scale, per axis. */
  glyphScale: Range;
  /** Each glyph's horizontal shear is drawn in [-shear, shear]. */
  shear: number;
  /** Each glyph's horizontal and vertical jitter, shares of the image height, in [-x, x] and [-y, y]. */
  jitter: { x: number; y: number };
  /** The whole line's perspective: one end's height is a share drawn in [1 - perspective, 1] of the other's. */
  perspective: number;
  /** Glyph steps as a share of their advances: about 0.6 touches and overlaps, 1 is typeset. */
  spacing: Range;
  /** The whole line's horizontal squeeze (1: none; 0.6: narrow, compressed glyphs). */
  compression: Range;
  /** Stroke growth (a share of the image height; negative thins): thin with `thinShare`, else bold. Handwriting faces are thinned less and grown more. */
  stroke: { thinShare: number; thin: Range; bold: Range };
  /** Amplitude of the gentle wave bending each stroke, a share of the image height. */
  lineWave: Range;
  /** Text and background colours: 'dark-on-light' (any hue, strong contrast) or 'varied' (lower contrast, tinted backgrounds). */
  colours: 'dark-on-light' | 'varied';
  /** Backgrounds, one picked per image. */
  backgrounds: BackgroundKind[];
  /** Share of images whose text starts anywhere along the width (the rest start near the left edge). */
  anywhere: number;
  /** Ink noises, each drawn independently with its chance. */
  inkNoise: InkNoiseStyle[];
  /** Pixel noise: with `chance`, one kind at an amount drawn from `range`. */
  pixelNoise: ChanceOf<PixelNoiseKind>;
  /** Gaussian blur: with `chance`, a standard deviation drawn from `range` (a share of the image height). */
  blur: ChanceOf<never>;
  /** JPEG artefacts: with `chance`, a quality drawn from `range`. */
  jpeg: ChanceOf<never>;
  /** Whole-image warp: with `chance`, an amplitude drawn from `range` (a share of the image height). */
  warp: ChanceOf<never>;
}

/** The names of the dimensions, as a run records them. */
export const STYLE_DIMENSIONS = [
  'fonts',
  'textHeight',
  'rotation',
  'glyphScale',
  'shear',
  'jitter',
  'perspective',
  'spacing',
  'compression',
  'stroke',
  'lineWave',
  'colours',
  'backgrounds',
  'anywhere',
  'inkNoise',
  'pixelNoise',
  'blur',
  'jpeg',
  'warp',
] as const satisfies readonly (keyof StyleSpace)[];

const NONE = { chance: 0, range: [0, 0] as Range };

/**
 * The reference look: the values glyphlab's renderer always drew with (in pixels at 64 rows,
 * here as shares of 64).
 */
const REFERENCE: StyleSpace = {
  preset: 'reference',
  fonts: ['dejavu-sans'],
  textHeight: [0.38, 0.56],
  rotation: 0.38,
  glyphScale: [0.85, 1.15],
  shear: 0.3,
  jitter: { x: 1 / 64, y: 3.5 / 64 },
  perspective: 0,
  spacing: [0.78, 0.98],
  compression: [1, 1],
  stroke: { thinShare: 0.3, thin: [-0.45 / 64, 0.4 / 64], bold: [0.2 / 64, 1.7 / 64] },
  lineWave: [0.2 / 64, 1.3 / 64],
  colours: 'dark-on-light',
  backgrounds: ['flat'],
  anywhere: 0,
  inkNoise: [
    { kind: 'crosses', chance: 1, density: [0.25, 0.95] },
    { kind: 'curves', chance: 0.5, density: [0.5, 0.5] },
  ],
  pixelNoise: { ...NONE, kinds: ['gaussian'] },
  blur: { ...NONE },
  jpeg: { ...NONE },
  warp: { ...NONE },
};

/**
 * What is held out of every training space, written down once (docs/recipes.md) and never
 * trained on: whole font families of each category, one ink noise, one pixel noise and one
 * background. {@link HELD_OUT_STYLES} draws each on its own over the wide space.
 */
export const HELD_OUT = {
  families: [
    'noto-serif',
    'kalam',
    'coming-soon',
    'source-sans-3',
    'pt-serif',
    'ibm-plex-mono',
    'bungee',
    'permanent-marker',
    'lobster',
    'fira-sans',
    'merriweather',
    'patrick-hand',
  ],
  inkNoise: 'speckle' as InkNoiseKind,
  pixelNoise: 'salt-pepper' as PixelNoiseKind,
  background: 'texture' as BackgroundKind,
} as const;

/** The held-out families that this installation has (a family missing from the catalog is left out, not an error). */
export function heldOutFamilies(): string[] {
  return HELD_OUT.families.filter((family) => FONT_FAMILIES.includes(family));
}

/** Every face of every catalog family except the held-out ones. */
function trainingFaces(): string[] {
  const held = new Set(heldOutFamilies());
  return FONT_FAMILIES.filter((family) => !held.has(family)).flatMap((family) => fontFaces(family));
}

/**
 * The wide space (see the file comment), built on first use: it lists the installed faces. The
 * reference look's glyph distortions, widened in everything else.
 */
function wideSpace(): StyleSpace {
  return {
    ...REFERENCE,
    preset: 'wide',
    fonts: trainingFaces(),
    textHeight: [0.38, 0.6],
    perspective: 0.25,
    spacing: [0.68, 1.05],
    compression: [0.7, 1.1],
    stroke: { ...REFERENCE.stroke, bold: [0.2 / 64, 1.8 / 64] },
    lineWave: [0.1 / 64, 1.4 / 64],
    colours: 'varied',
    backgrounds: ['flat', 'flat', 'gradient'],
    anywhere: 0.5,
    // Each effect on a share of the images, so that most images show a few at once, none all.
    inkNoise: [
      { kind: 'crosses', chance: 0.45, density: [0.1, 0.8] },
      { kind: 'dots', chance: 0.25, density: [0.1, 0.7] },
      { kind: 'lines', chance: 0.25, density: [0.1, 0.6] },
      { kind: 'curves', chance: 0.3, density: [0.1, 0.6] },
    ],
    pixelNoise: { chance: 0.2, range: [0.05, 0.35], kinds: ['gaussian'] },
    blur: { chance: 0.2, range: [0.3 / 64, 1.1 / 64] },
    jpeg: { chance: 0.2, range: [20, 80] },
    warp: { chance: 0.3, range: [0.5 / 64, 2 / 64] },
  };
}

/** The named presets. */
export const STYLE_PRESETS = ['reference', 'wide'] as const;
export type StylePresetName = (typeof STYLE_PRESETS)[number];

/** A copy of preset `name`; an unknown name is a ConfigError listing the presets. */
export function stylePreset(name: string): StyleSpace {
  if (name === 'reference') return structuredClone(REFERENCE);
  if (name === 'wide') return wideSpace();
  throw new ConfigError(`style preset ${JSON.stringify(name)} is not one of: ${STYLE_PRESETS.join(', ')}`);
}

/**
 * The held-out styles: each a space the model never trained on, drawn over the wide space
 * (`fonts`: the held-out families' faces; `noise`: the held-out ink and pixel noises on every
 * image; `background`: the held-out background on every image).
 */
export function heldOutStyles(): { name: string; style: StyleSpace }[] {
  const wide = wideSpace();
  const fonts = heldOutFamilies().flatMap((family) => fontFaces(family));
  return [
    { name: 'fonts', style: { ...wide, preset: 'held-out-fonts', fonts } },
    {
      name: 'noise',
      style: {
        ...wide,
        preset: 'held-out-noise',
        inkNoise: [{ kind: HELD_OUT.inkNoise, chance: 1, density: [0.3, 1] }],
        pixelNoise: { chance: 1, range: [0.1, 0.6], kinds: [HELD_OUT.pixelNoise] },
      },
    },
    { name: 'background', style: { ...wide, preset: 'held-out-background', backgrounds: [HELD_OUT.background] } },
  ];
}

/** Legacy options (fonts, placement, noise look) as a space over the reference preset. */
export function legacyStyle(fonts: readonly string[], placement: 'left' | 'random', noise: 'crosses' | 'speckle'): StyleSpace {
  const style = stylePreset('reference');
  style.fonts = [...fonts];
  style.anywhere = placement === 'random' ? 1 : 0;
  if (noise === 'speckle') {
    style.inkNoise = [
      { kind: 'speckle', chance: 1, density: [0.3, 1] },
      { kind: 'lines', chance: 0.4, density: [0.2, 0.2] },
    ];
  }
  return style;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function checkRange(value: unknown, name: string, low: number, high: number): Range {
  if (!Array.isArray(value) || value.length !== 2 || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new ConfigError(`style ${name} ${JSON.stringify(value)} must be a range [low, high] of two numbers`);
  }
  const [a, b] = value as Range;
  if (a > b || a < low || b > high) throw new ConfigError(`style ${name} [${a}, ${b}] must have low <= high within [${low}, ${high}]`);
  return [a, b];
}

function checkNumber(value: unknown, name: string, low: number, high: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < low || value > high) {
    throw new ConfigError(`style ${name} ${JSON.stringify(value)} must be a number within [${low}, ${high}]`);
  }
  return value;
}

function checkKinds<K extends string>(value: unknown, name: string, allowed: readonly K[], allowEmpty = false): K[] {
  if (!Array.isArray(value) || (!allowEmpty && value.length === 0) || !value.every((v) => allowed.includes(v as K))) {
    throw new ConfigError(`style ${name} ${JSON.stringify(value)} must be a ${allowEmpty ? '' : 'non-empty '}list of: ${allowed.join(', ')}`);
  }
  return [...(value as K[])];
}

function checkChance<K extends string>(value: unknown, name: string, high: number, kinds?: readonly K[]): ChanceOf<K> {
  if (!isRecord(value)) throw new ConfigError(`style ${name} ${JSON.stringify(value)} must be { chance, range${kinds ? ', kinds' : ''} }`);
  const out: ChanceOf<K> = { chance: checkNumber(value['chance'], `${name}.chance`, 0, 1), range: checkRange(value['range'], `${name}.range`, 0, high) };
  if (kinds) out.kinds = checkKinds(value['kinds'], `${name}.kinds`, kinds);
  return out;
}

/**
 * `overrides` (a spec file's fields) over the preset they name (`preset`, default `wide`), every
 * value checked: an unknown dimension, a range out of bounds or an unknown kind is a ConfigError
 * naming it and what is accepted. Fonts may be given as names or groups (`resolveFontNames`).
 *
 * @example
 * resolveStyleSpace({ preset: 'wide', anywhere: 1, blur: { chance: 0, range: [0, 0] } });
 */
export function resolveStyleSpace(overrides: Record<string, unknown> = {}): StyleSpace {
  if (!isRecord(overrides)) throw new ConfigError(`a style space must be a JSON object of dimensions (${STYLE_DIMENSIONS.join(', ')})`);
  const unknown = Object.keys(overrides).filter((key) => key !== 'preset' && !(STYLE_DIMENSIONS as readonly string[]).includes(key));
  if (unknown.length > 0) throw new ConfigError(`unknown style dimension${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}: expected preset or ${STYLE_DIMENSIONS.join(', ')}`);
  const base = stylePreset(typeof overrides['preset'] === 'string' ? overrides['preset'] : 'wide');
  const merged = { ...base, ...overrides } as Record<string, unknown>;
  const jitter = merged['jitter'];
  const stroke = merged['stroke'];
  if (!isRecord(jitter)) throw new ConfigError(`style jitter ${JSON.stringify(jitter)} must be { x, y }`);
  if (!isRecord(stroke)) throw new ConfigError(`style stroke ${JSON.stringify(stroke)} must be { thinShare, thin, bold }`);
  const inkNoise = merged['inkNoise'];
  if (!Array.isArray(inkNoise)) throw new ConfigError(`style inkNoise ${JSON.stringify(inkNoise)} must be a list of { kind, chance, density }`);
  const colours = merged['colours'];
  if (colours !== 'dark-on-light' && colours !== 'varied') throw new ConfigError(`style colours ${JSON.stringify(colours)} must be dark-on-light or varied`);
  const fonts = merged['fonts'];
  if (!Array.isArray(fonts) || fonts.length === 0 || !fonts.every((f) => typeof f === 'string')) throw new ConfigError(`style fonts ${JSON.stringify(fonts)} must be a non-empty list of font names or groups`);
  return {
    preset: String(merged['preset']),
    fonts: resolveFontNames(fonts as string[]),
    textHeight: checkRange(merged['textHeight'], 'textHeight', 0.1, 0.9),
    rotation: checkNumber(merged['rotation'], 'rotation', 0, 1),
    glyphScale: checkRange(merged['glyphScale'], 'glyphScale', 0.3, 2),
    shear: checkNumber(merged['shear'], 'shear', 0, 1),
    jitter: { x: checkNumber(jitter['x'], 'jitter.x', 0, 0.2), y: checkNumber(jitter['y'], 'jitter.y', 0, 0.2) },
    perspective: checkNumber(merged['perspective'], 'perspective', 0, 0.6),
    spacing: checkRange(merged['spacing'], 'spacing', 0.4, 1.6),
    compression: checkRange(merged['compression'], 'compression', 0.4, 1.6),
    stroke: {
      thinShare: checkNumber(stroke['thinShare'], 'stroke.thinShare', 0, 1),
      thin: checkRange(stroke['thin'], 'stroke.thin', -0.05, 0.05),
      bold: checkRange(stroke['bold'], 'stroke.bold', -0.05, 0.06),
    },
    lineWave: checkRange(merged['lineWave'], 'lineWave', 0, 0.06),
    colours,
    backgrounds: checkKinds(merged['backgrounds'], 'backgrounds', BACKGROUND_KINDS),
    anywhere: checkNumber(merged['anywhere'], 'anywhere', 0, 1),
    inkNoise: inkNoise.map((entry, i) => {
      if (!isRecord(entry)) throw new ConfigError(`style inkNoise[${i}] ${JSON.stringify(entry)} must be { kind, chance, density }`);
      return {
        kind: checkKinds([entry['kind']], `inkNoise[${i}].kind`, INK_NOISE_KINDS)[0] as InkNoiseKind,
        chance: checkNumber(entry['chance'], `inkNoise[${i}].chance`, 0, 1),
        density: checkRange(entry['density'], `inkNoise[${i}].density`, 0, 1),
      };
    }),
    pixelNoise: checkChance(merged['pixelNoise'], 'pixelNoise', 1, PIXEL_NOISE_KINDS),
    blur: checkChance<never>(merged['blur'], 'blur', 0.06),
    jpeg: checkChance<never>(merged['jpeg'], 'jpeg', 100),
    warp: checkChance<never>(merged['warp'], 'warp', 0.1),
  };
}

/** One line naming what a space draws from, e.g. `wide: 290 faces (sans 80, ...), anywhere 50%, ...`. */
export function describeStyleSpace(style: StyleSpace): string {
  const byCategory = new Map<string, number>();
  for (const face of style.fonts) {
    const category = fontCategory(face);
    byCategory.set(category, (byCategory.get(category) ?? 0) + 1);
  }
  const categories = [...byCategory].map(([category, n]) => `${category} ${n}`).join(', ');
  const effects = [
    style.perspective > 0 ? `perspective ${style.perspective}` : '',
    style.compression[0] < 1 ? `compression to ${style.compression[0]}` : '',
    `noise ${style.inkNoise.map((n) => n.kind).join('/')}`,
    style.pixelNoise.chance > 0 ? `${(style.pixelNoise.kinds ?? []).join('/')} ${Math.round(style.pixelNoise.chance * 100)}%` : '',
    style.blur.chance > 0 ? `blur ${Math.round(style.blur.chance * 100)}%` : '',
    style.jpeg.chance > 0 ? `jpeg ${Math.round(style.jpeg.chance * 100)}%` : '',
    style.warp.chance > 0 ? `warp ${Math.round(style.warp.chance * 100)}%` : '',
    `backgrounds ${[...new Set(style.backgrounds)].join('/')}`,
    `anywhere ${Math.round(style.anywhere * 100)}%`,
  ].filter(Boolean);
  return `${style.preset}: ${style.fonts.length} face${style.fonts.length === 1 ? '' : 's'} (${categories}), ${effects.join(', ')}`;
}
