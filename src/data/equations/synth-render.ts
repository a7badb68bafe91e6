/**
 * Draws one captcha-style equation image: one text colour on a light background, glyphs from
 * real font outlines, each rotated, sheared, scaled, warped and jittered so that neighbours
 * overlap; a stroke thickness drawn per image; small noise crosses in the text colour; and
 * sometimes a noise curve through the text. Pure JavaScript on a coverage buffer, so that the
 * bytes depend only on the RNG seed and the code.
 */
import { ConfigError } from '../../errors';
import { type CoverageBuffer, createCoverage, fillContours, strokePolyline } from '../../image/raster';
import type { RawImage } from '../../image/raw-image';
import type { Rng } from '../../util/rng';
import { EQUATION_ALPHABET } from '../../labels/alphabet';
import { type FlatGlyph, type GlyphSet, loadGlyphSet, SYNTH_FONTS } from '../fonts';

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
}

const HANDWRITING = new Set<string>(SYNTH_FONTS.handwriting);

/** A dark text colour and a light background colour, far apart in luminance. */
function pickColours(rng: Rng): { text: [number, number, number]; background: [number, number, number] } {
  const luminance = (c: readonly number[]): number => 0.299 * (c[0] ?? 0) + 0.587 * (c[1] ?? 0) + 0.114 * (c[2] ?? 0);
  const text: [number, number, number] = [rng.int(190), rng.int(190), rng.int(190)];
  const targetLuminance = rng.uniform(20, 120);
  const current = luminance(text);
  if (current > targetLuminance) {
    const factor = targetLuminance / current;
    for (let i = 0; i < 3; i++) text[i] = Math.round((text[i] as number) * factor);
  }
  const base = rng.uniform(222, 252);
  const background: [number, number, number] = [0, 0, 0].map(() => Math.min(255, Math.round(base + rng.uniform(-3, 3) + rng.uniform(0, 6)))) as [
    number,
    number,
    number,
  ];
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

/** Each character's glyph with its random scale, rotation, shear and jitter. */
function placeGlyphs(label: string, glyphSet: GlyphSet, rng: Rng): PlacedGlyph[] {
  return Array.from(label, (char) => {
    const glyph = glyphSet.glyphs.get(char);
    if (!glyph) throw new ConfigError(`cannot draw ${JSON.stringify(char)}: not in the alphabet ${EQUATION_ALPHABET}`);
    const scaleX = rng.uniform(0.85, 1.15);
    return {
      glyph,
      scaleX,
      scaleY: rng.uniform(0.85, 1.15),
      rotation: rng.uniform(-0.38, 0.38),
      shear: rng.uniform(-0.3, 0.3),
      dx: rng.uniform(-1, 1),
      dy: rng.uniform(-3.5, 3.5),
      inkWidth: (glyph.maxX - glyph.minX) * scaleX,
      advance: glyph.advance * scaleX,
    };
  });
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

/** The outline of one placed glyph in image pixels, centred at (`originX`, `originY`), warped. */
function glyphContours(p: PlacedGlyph, scale: number, originX: number, originY: number, warp: Warp): Float64Array[] {
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
      out[i] = x;
      out[i + 1] = y;
    }
    return out;
  });
}

/** Noise in the text colour: many small crosses anywhere, and sometimes a curve across the text. */
function drawNoise(coverage: CoverageBuffer, rng: Rng, width: number, height: number): void {
  const crosses = 25 + rng.int(70);
  for (let k = 0; k < crosses; k++) {
    const cx = rng.uniform(0, width);
    const cy = rng.uniform(0, height);
    const arm = rng.uniform(1.2, 3.2);
    const angle = rng.chance(0.5) ? 0 : rng.uniform(0, Math.PI / 2);
    const c = Math.cos(angle) * arm;
    const s = Math.sin(angle) * arm;
    const halfWidth = rng.uniform(0.3, 0.65);
    strokePolyline(coverage, [cx - c, cy - s, cx + c, cy + s], halfWidth);
    strokePolyline(coverage, [cx + s, cy - c, cx - s, cy + c], halfWidth);
  }
  if (!rng.chance(0.5)) return;
  const x0 = rng.uniform(0, width * 0.25);
  const x3 = rng.uniform(width * 0.55, width);
  const y0 = rng.uniform(height * 0.2, height * 0.8);
  const y3 = rng.uniform(height * 0.2, height * 0.8);
  const x1 = x0 + (x3 - x0) / 3;
  const x2 = x0 + (2 * (x3 - x0)) / 3;
  const y1 = rng.uniform(0, height);
  const y2 = rng.uniform(0, height);
  const points: number[] = [];
  const steps = 32;
  for (let s = 0; s <= steps; s++) {
    const t = s / steps;
    const u = 1 - t;
    points.push(u * u * u * x0 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t * t * t * x3, u * u * u * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t * t * t * y3);
  }
  strokePolyline(coverage, points, rng.uniform(0.4, 1.4));
}

/** Speckle noise: round dots and short dashes of varied size anywhere, and sometimes a straight line. */
function drawSpeckle(coverage: CoverageBuffer, rng: Rng, width: number, height: number): void {
  const specks = 30 + rng.int(80);
  for (let k = 0; k < specks; k++) {
    const cx = rng.uniform(0, width);
    const cy = rng.uniform(0, height);
    // A dot is a stroke of (almost) no length; a dash has one.
    const length = rng.chance(0.6) ? 0.05 : rng.uniform(1, 4);
    const angle = rng.uniform(0, Math.PI);
    const dx = (Math.cos(angle) * length) / 2;
    const dy = (Math.sin(angle) * length) / 2;
    strokePolyline(coverage, [cx - dx, cy - dy, cx + dx, cy + dy], rng.uniform(0.5, 1.6), rng.uniform(0.5, 1));
  }
  if (rng.chance(0.6)) return;
  const y0 = rng.uniform(height * 0.25, height * 0.75);
  strokePolyline(coverage, [rng.uniform(0, width * 0.2), y0, rng.uniform(width * 0.6, width), y0 + rng.uniform(-height * 0.3, height * 0.3)], rng.uniform(0.4, 1));
}

/** The coverage as RGB: the text colour over the background, by coverage. */
function composite(coverage: CoverageBuffer, text: readonly number[], background: readonly number[]): RawImage {
  const { width, height, alpha } = coverage;
  const [b0, b1, b2] = background as [number, number, number];
  const d0 = (text[0] as number) - b0;
  const d1 = (text[1] as number) - b1;
  const d2 = (text[2] as number) - b2;
  const data = new Uint8Array(width * height * 3);
  // Most pixels are bare background: fill the first row, copy it down, then draw the ink.
  for (let i = 0; i < width * 3; i += 3) {
    data[i] = b0;
    data[i + 1] = b1;
    data[i + 2] = b2;
  }
  for (let row = 1; row < height; row++) data.copyWithin(row * width * 3, 0, width * 3);
  for (let p = 0; p < alpha.length; p++) {
    const a = alpha[p] as number;
    if (a === 0) continue;
    const i = p * 3;
    data[i] = Math.round(b0 + d0 * a);
    data[i + 1] = Math.round(b1 + d1 * a);
    data[i + 2] = Math.round(b2 + d2 * a);
  }
  return { width, height, channels: 3, data };
}

/**
 * Renders `label` as an RGB image, drawing every random choice from `rng` (so that the same
 * generator state gives the same bytes).
 */
export function renderEquation(label: string, rng: Rng, options: RenderEquationOptions = {}): RawImage {
  const width = options.width ?? 300;
  const height = options.height ?? 64;
  const fonts = options.fonts ?? ['dejavu-sans'];
  if (fonts.length === 0) throw new ConfigError('renderEquation needs at least one font');
  const placement = options.placement ?? 'left';
  if (options.noise !== undefined && !NOISE_STYLES.includes(options.noise)) {
    throw new ConfigError(`noise ${JSON.stringify(options.noise)} is not valid: expected ${NOISE_STYLES.join(' or ')}`);
  }

  const fontName = rng.pick(fonts);
  const glyphSet = loadGlyphSet(fontName, EQUATION_ALPHABET);
  const handwriting = HANDWRITING.has(fontName);
  const { text, background } = pickColours(rng);

  // Stroke thickness varies widely between images: thin to heavy. Handwriting fonts have thin
  // strokes already, so they are thinned less.
  const thickness = rng.chance(0.3) ? rng.uniform(handwriting ? -0.1 : -0.45, 0.4) : rng.uniform(0.2, handwriting ? 2.2 : 1.7);
  let scale = (rng.uniform(0.38, 0.56) * height) / glyphSet.digitHeight;
  const spacing = rng.uniform(0.78, 0.98);
  const placed = placeGlyphs(label, glyphSet, rng);
  // Bold strokes grow into the neighbours; a little extra room keeps characters legible.
  const line = layoutLine(placed, spacing, Math.max(0, thickness) * 1.6);
  // Shrink the whole line when a wide font would not fit.
  const fitWidth = width - 8;
  if (line.lineUnits * scale + line.linePixels > fitWidth) scale = (fitWidth - line.linePixels) / line.lineUnits;
  const lineWidth = line.lineUnits * scale + line.linePixels;
  const margin = placement === 'left' ? rng.uniform(3, 12) : rng.uniform(3, Math.max(3, width - lineWidth - 4));
  const baseline = height / 2 + (glyphSet.digitHeight * scale) / 2 + rng.uniform(-3, 3);
  const warp: Warp = { amplitude: rng.uniform(0.2, 1.3), period: rng.uniform(9, 20), phase: rng.uniform(0, 2 * Math.PI) };

  const coverage = createCoverage(width, height);
  placed.forEach((p, i) => {
    const originX = margin + (line.centresUnits[i] as number) * scale + (line.centresPixels[i] as number) + p.dx;
    const originY = baseline + ((p.glyph.minY + p.glyph.maxY) / 2) * scale + p.dy;
    fillContours(coverage, glyphContours(p, scale, originX, originY, warp), thickness);
  });
  if ((options.noise ?? 'crosses') === 'speckle') drawSpeckle(coverage, rng, width, height);
  else drawNoise(coverage, rng, width, height);
  return composite(coverage, text, background);
}
