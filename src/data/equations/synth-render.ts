/**
 * Draws one captcha-style equation image from a style space (synth-style.ts): glyphs from real
 * font outlines, each rotated, sheared, scaled and jittered so that neighbours touch or overlap,
 * the line bent, compressed and seen in perspective; a stroke weight and colours drawn per image;
 * ink noise in the text colour; a background; then whole-image warps, blur, pixel noise and JPEG
 * artefacts. Pure JavaScript on a coverage buffer, so that the bytes depend only on the RNG seed
 * and the code. Every size scales with the image height: 150x32 looks like 300x64 at half size.
 */
import { ConfigError } from '../../errors';
import { contourBounds, createCoverage, fillContours } from '../../image/raster';
import type { RawImage } from '../../image/raw-image';
import type { Rng } from '../../util/rng';
import { EQUATION_ALPHABET } from '../../labels/alphabet';
import { fontCategory, type FlatGlyph, type GlyphSet, loadGlyphSet } from '../fonts';
import { addPixelNoise, blurImage, compositeInk, drawInkNoise, jpegArtefacts, paintBackground, warpImage } from './synth-effects';
import { legacyStyle, type Range, type StyleSpace } from './synth-style';

/**
 * The renderer's version, recorded in every synthesis spec (synth-sets.ts): a change that draws
 * other pixels from the same seed raises it, so that fixed sets rendered before are not reused.
 * 2: strokes, text size and blur kept legible ({@link LEGIBLE}).
 */
export const RENDERER_VERSION = 2;

/** Where the text starts horizontally. */
export type TextPlacement = 'left' | 'random';

/**
 * The look of the noise in the text colour: 'crosses' (small crosses, sometimes a curve: the
 * reference implementation's look) or 'speckle' (round dots and short dashes of varied size,
 * sometimes a straight line): a style for testing a model on noise it was not trained on.
 */
export type NoiseStyle = 'crosses' | 'speckle';

export const NOISE_STYLES: readonly NoiseStyle[] = ['crosses', 'speckle'];

export interface RenderEquationOptions {
  /** Image width in pixels. Defaults to 300. */
  width?: number;
  /** Image height in pixels. Defaults to 64. */
  height?: number;
  /** Fonts to draw from, one picked per image. Defaults to `['dejavu-sans']`. */
  fonts?: readonly string[];
  /** `left`: a small random margin at the left edge (as in the reference implementation's data); `random`: anywhere that fits. Defaults to `left`. */
  placement?: TextPlacement;
  /** The noise's look. Defaults to 'crosses'. */
  noise?: NoiseStyle;
  /** The style space to draw from; when set, `fonts`, `placement` and `noise` are not read. Defaults to the reference preset with those three. */
  style?: StyleSpace;
}

type Rgb = [number, number, number];

const luminance = (c: readonly number[]): number => 0.299 * (c[0] ?? 0) + 0.587 * (c[1] ?? 0) + 0.114 * (c[2] ?? 0);

/** `colour` scaled down (towards black) to luminance `target`, when it is brighter. */
function darkenTo(colour: Rgb, target: number): Rgb {
  const current = luminance(colour);
  if (current <= target) return colour;
  const factor = target / current;
  return colour.map((c) => Math.round(c * factor)) as Rgb;
}

/**
 * A text colour and a light background colour, far apart in luminance: 'dark-on-light' keeps the
 * text under luminance 120 on a near-white background; 'varied' allows paler text (to 130) on a
 * tinted background (from 175), never closer than 95 levels.
 */
function pickColours(rng: Rng, scheme: StyleSpace['colours']): { text: Rgb; background: Rgb } {
  const varied = scheme === 'varied';
  const text = darkenTo([rng.int(190), rng.int(190), rng.int(190)], rng.uniform(20, varied ? 130 : 120));
  const base = varied ? rng.uniform(Math.max(175, Math.min(235, luminance(text) + 95)), 252) : rng.uniform(222, 252);
  const tint = varied ? 18 : 3;
  const background = [0, 0, 0].map(() => Math.max(0, Math.min(255, Math.round(base + rng.uniform(-tint, tint) + rng.uniform(0, 6))))) as Rgb;
  return { text, background };
}

/** A glyph of the line with its own random distortion, in font units scaled per axis. */
interface PlacedGlyph {
  glyph: FlatGlyph;
  scaleX: number;
  scaleY: number;
  rotation: number;
  shear: number;
  dx: number;
  dy: number;
  inkWidth: number;
  advance: number;
}

/** Where the glyphs' centres fall along the line: in font units (scaled later) plus pixels. */
interface LineLayout {
  centresUnits: number[];
  centresPixels: number[];
  lineUnits: number;
  linePixels: number;
}

/** A gentle wave through the whole line, so that strokes bend rather than stay straight. */
interface Warp {
  amplitude: number;
  period: number;
  phase: number;
}

/** Each character's glyph with its random scale, rotation, shear and jitter (`jitter` in pixels). */
function placeGlyphs(label: string, glyphSet: GlyphSet, rng: Rng, style: StyleSpace, compression: number, jitter: { x: number; y: number }): PlacedGlyph[] {
  return Array.from(label, (char) => {
    const glyph = glyphSet.glyphs.get(char);
    if (!glyph) throw new ConfigError(`cannot draw ${JSON.stringify(char)}: not in the alphabet ${EQUATION_ALPHABET}`);
    const scaleX = uniformIn(rng, style.glyphScale) * compression;
    return {
      glyph,
      scaleX,
      scaleY: uniformIn(rng, style.glyphScale),
      rotation: rng.uniform(-style.rotation, style.rotation),
      shear: rng.uniform(-style.shear, style.shear),
      dx: rng.uniform(-jitter.x, jitter.x),
      dy: rng.uniform(-jitter.y, jitter.y),
      inkWidth: (glyph.maxX - glyph.minX) * scaleX,
      advance: glyph.advance * scaleX,
    };
  });
}

function uniformIn(rng: Rng, range: Range): number {
  return rng.uniform(range[0], range[1]);
}

/**
 * Steps glyphs by a share (`spacing`) of their advance widths, so neighbours touch and overlap
 * like a captcha; but never by more than a fifth of the narrower ink box, so that a narrow `-`
 * beside a `)` is touched, not swallowed. `extraGap` pixels between glyphs keep bold strokes legible.
 */
function layoutLine(placed: readonly PlacedGlyph[], spacing: number, extraGap: number): LineLayout {
  const centresUnits: number[] = [];
  const centresPixels: number[] = [];
  placed.forEach((p, i) => {
    const previous = placed[i - 1];
    if (!previous) {
      centresUnits.push(p.inkWidth / 2);
      centresPixels.push(0);
      return;
    }
    const byAdvance = (spacing * (previous.advance + p.advance)) / 2;
    const leastStep = (previous.inkWidth + p.inkWidth) / 2 - 0.2 * Math.min(previous.inkWidth, p.inkWidth);
    const step = Math.max(byAdvance, leastStep);
    centresUnits.push((centresUnits[i - 1] as number) + step);
    centresPixels.push((centresPixels[i - 1] as number) + extraGap);
  });
  const last = placed.length - 1;
  return { centresUnits, centresPixels, lineUnits: (centresUnits[last] ?? 0) + (placed[last]?.inkWidth ?? 0) / 2, linePixels: centresPixels[last] ?? 0 };
}

/**
 * The line's perspective: heights scale linearly along x from 1 at one end to `farScale` at the
 * other, about the line's middle height `centreY`.
 */
interface Perspective {
  fromX: number;
  toX: number;
  farScale: number;
  centreY: number;
}

/** The outline of one placed glyph in image pixels, centred at (`originX`, `originY`), warped and put in perspective. */
function glyphContours(p: PlacedGlyph, scale: number, originX: number, originY: number, warp: Warp, perspective: Perspective | undefined): Float64Array[] {
  const { glyph } = p;
  const centreX = (glyph.minX + glyph.maxX) / 2;
  const centreY = (glyph.minY + glyph.maxY) / 2;
  const cos = Math.cos(p.rotation);
  const sin = Math.sin(p.rotation);
  const sx = scale * p.scaleX;
  const sy = scale * p.scaleY;
  return glyph.contours.map((contour) => {
    const out = new Float64Array(contour.length);
    for (let i = 0; i < contour.length; i += 2) {
      const ux = ((contour[i] as number) - centreX) * sx;
      const uy = ((contour[i + 1] as number) - centreY) * sy;
      const shearedX = ux + p.shear * uy;
      let x = originX + cos * shearedX - sin * uy;
      let y = originY + sin * shearedX + cos * uy;
      x += warp.amplitude * 0.6 * Math.sin((2 * Math.PI * y) / warp.period + warp.phase);
      y += warp.amplitude * Math.sin((2 * Math.PI * x) / (warp.period * 2.3) + warp.phase);
      if (perspective) {
        const t = Math.min(1, Math.max(0, (x - perspective.fromX) / (perspective.toX - perspective.fromX || 1)));
        y = perspective.centreY + (y - perspective.centreY) * (1 + (perspective.farScale - 1) * t);
      }
      out[i] = x;
      out[i + 1] = y;
    }
    return out;
  });
}

/**
 * Renders `label` as an RGB image, drawing every random choice from `rng` (so that the same
 * generator state gives the same bytes), from `options.style` or, without one, the reference
 * preset with the legacy `fonts`, `placement` and `noise` options.
 */
export function renderEquation(label: string, rng: Rng, options: RenderEquationOptions = {}): RawImage {
  const width = options.width ?? 300;
  const height = options.height ?? 64;
  if (options.noise !== undefined && !NOISE_STYLES.includes(options.noise)) {
    throw new ConfigError(`noise ${JSON.stringify(options.noise)} is not valid: expected ${NOISE_STYLES.join(' or ')}`);
  }
  const style = options.style ?? legacyStyle(options.fonts ?? ['dejavu-sans'], options.placement ?? 'left', options.noise ?? 'crosses');
  if (style.fonts.length === 0) throw new ConfigError('renderEquation needs at least one font');
  return renderStyled(label, rng, style, width, height);
}

/** Draws `label` in a look sampled from `style`: see the file comment. */
function renderStyled(label: string, rng: Rng, style: StyleSpace, width: number, height: number): RawImage {
  // Pixel sizes of the reference look were set at 64 rows.
  const unit = height / 64;
  const face = rng.pick(style.fonts);
  const glyphSet = loadGlyphSet(face, EQUATION_ALPHABET);
  const handwriting = fontCategory(face) === 'handwriting';
  const { text, background } = pickColours(rng, style.colours);

  // Stroke thickness varies widely between images: thin to heavy. Handwriting fonts have thin
  // strokes already, so they are thinned less and may grow more.
  const { thinShare, thin, bold } = style.stroke;
  const strokeShare = rng.chance(thinShare) ? rng.uniform(handwriting ? Math.max(thin[0], -0.1 / 64) : thin[0], thin[1]) : rng.uniform(bold[0], bold[1] + (handwriting ? 0.5 / 64 : 0));
  const drawnOffset = strokeShare * height;
  let scale = (uniformIn(rng, style.textHeight) * height) / glyphSet.digitHeight;
  const spacing = uniformIn(rng, style.spacing);
  const compression = uniformIn(rng, style.compression);
  const placed = placeGlyphs(label, glyphSet, rng, style, compression, { x: style.jitter.x * height, y: style.jitter.y * height });
  // Bold strokes grow into the neighbours; a little extra room keeps characters legible.
  const line = layoutLine(placed, spacing, Math.max(0, drawnOffset) * 1.6);
  // Shrink the whole line when a wide font would not fit, but not below a legible height:
  // beyond that, fitInside squeezes the line along x only.
  const fitWidth = width - 8 * unit;
  if (line.lineUnits * scale + line.linePixels > fitWidth) {
    scale = Math.max((fitWidth - line.linePixels) / line.lineUnits, (LEGIBLE.textHeight * height) / glyphSet.digitHeight);
  }
  const lineWidth = line.lineUnits * scale + line.linePixels;
  const anywhere = style.anywhere > 0 && rng.chance(style.anywhere);
  const margin = anywhere ? rng.uniform(3 * unit, Math.max(3 * unit, width - lineWidth - 4 * unit)) : rng.uniform(3 * unit, 12 * unit);
  const baseline = height / 2 + (glyphSet.digitHeight * scale) / 2 + rng.uniform(-3 * unit, 3 * unit);
  const wave: Warp = { amplitude: uniformIn(rng, style.lineWave) * height, period: rng.uniform(9, 20) * unit, phase: rng.uniform(0, 2 * Math.PI) };
  const squeeze = style.perspective > 0 ? rng.uniform(0, style.perspective) : 0;
  const ends = rng.chance(0.5) ? { fromX: margin, toX: margin + lineWidth } : { fromX: margin + lineWidth, toX: margin };
  const perspective: Perspective | undefined = squeeze > 0 ? { ...ends, farScale: 1 - squeeze, centreY: height / 2 } : undefined;

  const glyphs = placed.map((p, i) => {
    const originX = margin + (line.centresUnits[i] as number) * scale + (line.centresPixels[i] as number) + p.dx;
    const originY = baseline + ((p.glyph.minY + p.glyph.maxY) / 2) * scale + p.dy;
    return glyphContours(p, scale, originX, originY, wave, perspective);
  });
  const stroke = { font: glyphSet.strokeWidth * scale, digit: glyphSet.digitHeight * scale, unit };
  const before = legibleStroke(drawnOffset, { ...stroke, xFactor: compression });
  const inside = fitInside(glyphs, width, height, Math.max(0, before.offset) + 2 * unit);
  // A line squeezed along x to fit has narrower counters: its strokes may grow less.
  const { offset, total } = inside.squeezeX < 1 ? legibleStroke(before.offset, { ...stroke, xFactor: compression * inside.squeezeX }) : before;
  const coverage = createCoverage(width, height);
  for (const contours of glyphs) fillContours(coverage, contours, offset);
  for (const noise of style.inkNoise) {
    if (noise.chance > 0 && rng.chance(noise.chance)) drawInkNoise(coverage, noise.kind, uniformIn(rng, noise.density), rng, { textBox: inside });
  }
  const image = compositeInk(paintBackground(rng.pick(style.backgrounds), background, width, height, rng), coverage, text);
  return applyImageEffects(image, rng, style, total);
}

/**
 * Limits that keep every drawn label legible, as shares of the drawn digit height (the text's
 * size after every scaling). A style space samples each dimension on its own, and some
 * combinations read as nothing: a heavy display face made bolder and compressed fills its own
 * counters (0, 6, 8 and 9 become blobs), a hairline face thinned and blurred fades into the
 * background, a wide face shrunk to fit shrinks to a smudge. Such an image is mislabelled data:
 * it teaches nothing and caps every score measured on it.
 */
export const LEGIBLE = {
  /** The text is never shrunk below this share of the image height to fit a wide face. */
  textHeight: 0.32,
  /** Strokes at least this share of the digit height wide (and at least one pixel at 32 rows). */
  lightest: 0.07,
  /** Strokes at most this share of the digit height wide, times the line's compression along x. */
  heaviest: 0.24,
  /** Blur's standard deviation at most this share of the stroke width. */
  blur: 0.5,
} as const;

/**
 * The offset (pixels grown on each side, negative thins) that brings a face's own stroke width
 * (`font` pixels) plus the drawn offset within {@link LEGIBLE}'s limits for digits `digit`
 * pixels high, compressed along x by `xFactor`; and the stroke width that results.
 */
export function legibleStroke(offset: number, stroke: { font: number; digit: number; unit: number; xFactor: number }): { offset: number; total: number } {
  const least = Math.max(LEGIBLE.lightest * stroke.digit, 2 * stroke.unit);
  const most = Math.max(least, LEGIBLE.heaviest * stroke.digit * Math.min(1, stroke.xFactor));
  const total = Math.min(most, Math.max(least, stroke.font + 2 * offset));
  return { offset: (total - stroke.font) / 2, total };
}

/**
 * Moves (and where needed squeezes) the drawn glyphs so that all their ink lies `pad` pixels
 * inside the image: rotation, jitter, perspective and bold strokes can carry a glyph past the
 * edge that the line's layout kept, and a label whose glyph is cut off cannot be read. Returns
 * the ink's box after the move.
 */
function fitInside(glyphs: Float64Array[][], width: number, height: number, pad: number): { left: number; right: number; top: number; bottom: number; squeezeX: number } {
  const { minX: left, maxX: right, minY: top, maxY: bottom } = contourBounds(glyphs);
  const axis = (low: number, high: number, size: number): { shift: number; squeeze: number } => {
    const room = size - 2 * pad;
    const squeeze = high - low > room ? room / (high - low) : 1;
    const span = (high - low) * squeeze;
    const start = Math.min(Math.max(low, pad), size - pad - span);
    return { shift: start, squeeze };
  };
  const x = axis(left, right, width);
  const y = axis(top, bottom, height);
  if (x.shift === left && x.squeeze === 1 && y.shift === top && y.squeeze === 1) return { left, right, top, bottom, squeezeX: 1 };
  for (const contours of glyphs) {
    for (const contour of contours) {
      for (let i = 0; i < contour.length; i += 2) {
        contour[i] = x.shift + ((contour[i] as number) - left) * x.squeeze;
        contour[i + 1] = y.shift + ((contour[i + 1] as number) - top) * y.squeeze;
      }
    }
  }
  return { left: x.shift, right: x.shift + (right - left) * x.squeeze, top: y.shift, bottom: y.shift + (bottom - top) * y.squeeze, squeezeX: x.squeeze };
}

/**
 * The whole-image effects, each with its chance: warp, blur (never wider than half the text's
 * `strokeWidth`, see {@link LEGIBLE}), pixel noise, then JPEG artefacts (as a saved file would get them last).
 */
function applyImageEffects(image: RawImage, rng: Rng, style: StyleSpace, strokeWidth: number): RawImage {
  const { height } = image;
  let out = image;
  if (style.warp.chance > 0 && rng.chance(style.warp.chance)) {
    const amplitude = uniformIn(rng, style.warp.range) * height;
    out = warpImage(out, { amplitudeX: amplitude, amplitudeY: amplitude * rng.uniform(0.3, 1), period: rng.uniform(0.6, 2) * height, phase: rng.uniform(0, 2 * Math.PI) });
  }
  if (style.blur.chance > 0 && rng.chance(style.blur.chance)) out = blurImage(out, Math.min(uniformIn(rng, style.blur.range) * height, LEGIBLE.blur * strokeWidth));
  const pixelKinds = style.pixelNoise.kinds ?? [];
  if (style.pixelNoise.chance > 0 && pixelKinds.length > 0 && rng.chance(style.pixelNoise.chance)) {
    addPixelNoise(out, rng.pick(pixelKinds), uniformIn(rng, style.pixelNoise.range), rng);
  }
  if (style.jpeg.chance > 0 && rng.chance(style.jpeg.chance)) out = jpegArtefacts(out, Math.round(uniformIn(rng, style.jpeg.range)));
  return out;
}
