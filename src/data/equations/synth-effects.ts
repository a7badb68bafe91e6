/**
 * The image effects of the synthesis style space, each a small deterministic free function:
 * noise drawn as ink into the coverage buffer, light backgrounds, compositing, pixel noise,
 * blur, JPEG-like artefacts and a whole-image warp.
 *
 * Images are rendered on the fly while a model trains, so every function is written for small
 * images (150x32 to 300x64) and costs a fraction of a millisecond there. Every size in pixels
 * that a function chooses itself scales with the image height (`height / 64`), so that an image
 * drawn at 150x32 looks like the same image drawn at 300x64 and shrunk; sizes the caller passes
 * (a blur's sigma, a warp's amplitude) are the caller's to scale. The same inputs and generator
 * state always give the same bytes.
 */
import { ConfigError } from '../../errors';
import { type CoverageBuffer, strokePolyline } from '../../image/raster';
import type { RawImage } from '../../image/raw-image';
import type { Rng } from '../../util/rng';

/** Noise drawn in the text colour, into the coverage buffer (so it looks like ink). */
export type InkNoiseKind = 'crosses' | 'dots' | 'lines' | 'curves' | 'speckle';
/** Noise on the finished pixels. */
export type PixelNoiseKind = 'gaussian' | 'salt-pepper';
export type BackgroundKind = 'flat' | 'gradient' | 'texture';

export const INK_NOISE_KINDS: readonly InkNoiseKind[] = ['crosses', 'dots', 'lines', 'curves', 'speckle'];
export const PIXEL_NOISE_KINDS: readonly PixelNoiseKind[] = ['gaussian', 'salt-pepper'];
export const BACKGROUND_KINDS: readonly BackgroundKind[] = ['flat', 'gradient', 'texture'];

/** The height every size in pixels is given for; other heights scale them by `height / 64`. */
const REFERENCE_HEIGHT = 64;
/** The width-to-height ratio at which counts are given (300x64); wider images get more. */
const REFERENCE_ASPECT = 300 / 64;

function checkKind<T extends string>(what: string, kind: T, kinds: readonly T[]): void {
  if (!kinds.includes(kind)) throw new ConfigError(`${what} ${JSON.stringify(kind)} is not valid: expected one of ${kinds.join(', ')}`);
}

function checkUnit(what: string, value: number): void {
  if (!(value >= 0 && value <= 1)) throw new ConfigError(`${what} ${value} is out of range: expected a number in [0, 1]`);
}

function checkRgb(what: string, colour: readonly number[]): void {
  if (colour.length !== 3 || colour.some((c) => !(c >= 0 && c <= 255))) {
    throw new ConfigError(`${what} ${JSON.stringify(colour)} is not valid: expected three channel values in [0, 255]`);
  }
}

function checkSize(what: string, width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new ConfigError(`${what} ${width}x${height} is not valid: expected positive whole numbers of pixels`);
  }
}

function clampByte(value: number): number {
  return value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value);
}

/**
 * The same bytes as a clamped array: storing a number there clamps it to [0, 255] and rounds it
 * (half to even) in the engine, much faster than doing so in JavaScript for every value.
 */
function clampedView(data: Uint8Array): Uint8ClampedArray {
  return new Uint8ClampedArray(data.buffer, data.byteOffset, data.length);
}

/**
 * Working buffers kept between calls, by slot. Allocating a float array of an image's size costs
 * more than most effects' whole work (tens of microseconds at 150x32, where the backing store
 * is allocated outside the heap), and rendering is single-threaded per worker, so each slot is
 * reused. The contents are stale: a caller overwrites or clears what it takes.
 */
const floatScratch = new Map<string, Float64Array>();

/**
 * The working buffer named `slot` (each function names its own, so that no two buffers in use
 * at once are one) with `length` floats, stale contents.
 */
function scratchFloats(slot: string, length: number): Float64Array {
  let buffer = floatScratch.get(slot);
  if (!buffer || buffer.length < length) {
    buffer = new Float64Array(length);
    floatScratch.set(slot, buffer);
  }
  return buffer.subarray(0, length);
}

/** An empty coverage buffer on a reused array, for marks that are used up within one call. */
let coverageScratch = new Float32Array(0);

function scratchCoverage(width: number, height: number): CoverageBuffer {
  if (coverageScratch.length < width * height) coverageScratch = new Float32Array(width * height);
  return { width, height, alpha: coverageScratch.subarray(0, width * height).fill(0) };
}

/** The few draws the effects need, from a generator cheap enough to call per pixel. */
interface FastRandom {
  /** A float in [0, 1). */
  next(): number;
  /** A float in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** 32 random bits as an unsigned integer. */
  bits(): number;
}

/**
 * A mulberry32 generator seeded by one draw from `rng`: effects draw hundreds to thousands of
 * numbers per image, and a draw from `Rng` costs about ten times more (measured: 25-50 ns
 * against 3-5 ns; its 32-bit state lives in closure variables, likely stored as heap numbers).
 * The state here lives in a typed array, and the same seed gives the same stream everywhere.
 */
function fastRandom(rng: Rng): FastRandom {
  const state = new Uint32Array([Math.floor(rng.next() * 4294967296)]);
  const bits = (): number => {
    state[0] = (state[0] as number) + 0x6d2b79f5;
    let t = state[0] as number;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const next = (): number => bits() / 4294967296;
  return { bits, next, uniform: (lo, hi) => lo + (hi - lo) * next(), chance: (p) => next() < p };
}

// ---------------------------------------------------------------------------------------------
// Ink noise

/** Where the text lies, in pixels, so that lines and curves go through it. */
export interface TextBox {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export interface InkNoiseOptions {
  /** The text's box: lines and curves cross it, strike-throughs sit at its middle height. Defaults to the full width and the middle half of the height (where the renderer centres the text). */
  textBox?: TextBox;
}

/** The frame every ink noise kind draws in: the scale of sizes, counts per unit density, the text box. */
interface InkFrame {
  width: number;
  height: number;
  /** Pixel sizes are given at 64 rows and multiplied by this. */
  scale: number;
  /** Counts are given at 300x64 and multiplied by this, so a wider image gets more. */
  aspect: number;
  box: TextBox;
}

/** Small crosses anywhere, half upright and half at a random angle. */
function drawCrosses(coverage: CoverageBuffer, frame: InkFrame, density: number, rng: FastRandom): void {
  const count = Math.round(density * 100 * frame.aspect);
  for (let k = 0; k < count; k++) {
    // Every cross takes the same number of draws, so that a higher density adds crosses to
    // the same ones rather than drawing others.
    const cx = rng.uniform(0, frame.width);
    const cy = rng.uniform(0, frame.height);
    const arm = rng.uniform(1.2, 3.2) * frame.scale;
    const upright = rng.chance(0.5);
    const tilt = rng.uniform(0, Math.PI / 2);
    const halfWidth = rng.uniform(0.3, 0.65) * frame.scale;
    const angle = upright ? 0 : tilt;
    const c = Math.cos(angle) * arm;
    const s = Math.sin(angle) * arm;
    strokePolyline(coverage, [cx - c, cy - s, cx + c, cy + s], halfWidth);
    strokePolyline(coverage, [cx + s, cy - c, cx - s, cy + c], halfWidth);
  }
}

/** Round dots, mostly small, a few large. */
function drawDots(coverage: CoverageBuffer, frame: InkFrame, density: number, rng: FastRandom): void {
  const count = Math.round(density * 70 * frame.aspect);
  for (let k = 0; k < count; k++) {
    const cx = rng.uniform(0, frame.width);
    const cy = rng.uniform(0, frame.height);
    const u = rng.next();
    const radius = (0.5 + 1.7 * u * u) * frame.scale;
    // A stroke of no length is a round dot of its half width.
    strokePolyline(coverage, [cx, cy, cx, cy], radius, rng.uniform(0.7, 1));
  }
}

/** Round dots and short dashes of varied size and strength. */
function drawSpeckle(coverage: CoverageBuffer, frame: InkFrame, density: number, rng: FastRandom): void {
  const count = Math.round(density * 110 * frame.aspect);
  for (let k = 0; k < count; k++) {
    const cx = rng.uniform(0, frame.width);
    const cy = rng.uniform(0, frame.height);
    const dash = rng.chance(0.4);
    const dashLength = rng.uniform(1, 4) * frame.scale;
    const angle = rng.uniform(0, Math.PI);
    const halfWidth = rng.uniform(0.5, 1.6) * frame.scale;
    const strength = rng.uniform(0.5, 1);
    const length = dash ? dashLength : 0;
    const dx = (Math.cos(angle) * length) / 2;
    const dy = (Math.sin(angle) * length) / 2;
    strokePolyline(coverage, [cx - dx, cy - dy, cx + dx, cy + dy], halfWidth, strength);
  }
}

/**
 * One to three straight lines across the text box: about half are strike-throughs, nearly
 * level at the text's middle height (the hardest kind for a reader, since they run through
 * `-` and `=`); the others cross it between any two heights.
 */
function drawLines(coverage: CoverageBuffer, frame: InkFrame, density: number, rng: FastRandom): void {
  const { box, scale } = frame;
  const boxWidth = box.right - box.left;
  const boxHeight = box.bottom - box.top;
  const middle = (box.top + box.bottom) / 2;
  const count = 1 + Math.min(2, Math.floor(density * 3));
  for (let k = 0; k < count; k++) {
    const strike = rng.chance(0.5);
    const x0 = box.left - 4 * scale + rng.uniform(0, 0.15) * boxWidth;
    const x1 = box.right + 4 * scale - rng.uniform(0, 0.15) * boxWidth;
    const a = rng.next();
    const b = rng.next();
    const halfWidth = rng.uniform(0.35, 0.6 + 0.6 * density) * scale;
    let y0: number;
    let y1: number;
    if (strike) {
      y0 = middle + (a - 0.5) * 0.3 * boxHeight;
      y1 = y0 + (b - 0.5) * 0.2 * boxHeight;
    } else {
      y0 = box.top + (a * 1.2 - 0.1) * boxHeight;
      y1 = box.top + (b * 1.2 - 0.1) * boxHeight;
    }
    strokePolyline(coverage, [x0, y0, x1, y1], halfWidth);
  }
}

/** One or two smooth cubic Bezier curves through the text, as the reference data has. */
function drawCurves(coverage: CoverageBuffer, frame: InkFrame, density: number, rng: FastRandom): void {
  const { box, scale } = frame;
  const boxWidth = box.right - box.left;
  const boxHeight = box.bottom - box.top;
  const count = rng.chance(density * 0.7) ? 2 : 1;
  const steps = 24;
  const points = new Float64Array(2 * (steps + 1));
  for (let k = 0; k < count; k++) {
    const x0 = box.left + rng.uniform(0, 0.25) * boxWidth;
    const x3 = box.left + rng.uniform(0.55, 1) * boxWidth;
    const y0 = box.top + rng.uniform(-0.1, 1.1) * boxHeight;
    const y3 = box.top + rng.uniform(-0.1, 1.1) * boxHeight;
    const y1 = box.top + rng.uniform(-0.5, 1.5) * boxHeight;
    const y2 = box.top + rng.uniform(-0.5, 1.5) * boxHeight;
    const halfWidth = (0.4 + rng.next() * (0.4 + 0.6 * density)) * scale;
    // Control points a third and two thirds along in x, so the curve runs left to right; in
    // power form, B(t) = p0 + t (c1 + t (c2 + t c3)), evaluated by Horner's rule.
    const x1 = x0 + (x3 - x0) / 3;
    const x2 = x0 + (2 * (x3 - x0)) / 3;
    const cx1 = 3 * (x1 - x0);
    const cx2 = 3 * (x2 - 2 * x1 + x0);
    const cx3 = x3 - 3 * x2 + 3 * x1 - x0;
    const cy1 = 3 * (y1 - y0);
    const cy2 = 3 * (y2 - 2 * y1 + y0);
    const cy3 = y3 - 3 * y2 + 3 * y1 - y0;
    for (let k = 0; k <= steps; k++) {
      const t = k / steps;
      points[2 * k] = x0 + t * (cx1 + t * (cx2 + t * cx3));
      points[2 * k + 1] = y0 + t * (cy1 + t * (cy2 + t * cy3));
    }
    strokePolyline(coverage, points, halfWidth);
  }
}

const INK_NOISE_DRAWERS: Record<InkNoiseKind, (coverage: CoverageBuffer, frame: InkFrame, density: number, rng: FastRandom) => void> = {
  crosses: drawCrosses,
  dots: drawDots,
  lines: drawLines,
  curves: drawCurves,
  speckle: drawSpeckle,
};

/**
 * Draws noise of `kind` into `coverage`, so that it is composited in the text colour and looks
 * like ink. `density` in [0, 1]: 0 draws nothing (and draws nothing from `rng`); 1 is heavy
 * but leaves the text readable. crosses: at 1, about 100 small crosses at 300x64 (counts grow
 * with the width-to-height ratio); dots: round dots of varied size; lines: one to three
 * straight lines across the text box, about half of them strike-throughs near its middle
 * height; curves: one or two smooth Bezier curves through the text; speckle: dots and short
 * dashes of varied size and strength. With the same generator state, a higher density draws
 * the same marks and more (or thicker) ones.
 *
 * @example
 * drawInkNoise(coverage, 'lines', 0.5, rng, { textBox: { left: 8, top: 20, right: 180, bottom: 44 } });
 */
export function drawInkNoise(coverage: CoverageBuffer, kind: InkNoiseKind, density: number, rng: Rng, options: InkNoiseOptions = {}): void {
  checkKind('ink noise kind', kind, INK_NOISE_KINDS);
  checkUnit('ink noise density', density);
  if (density === 0) return;
  const { width, height } = coverage;
  const box = options.textBox ?? { left: 0, top: height * 0.25, right: width, bottom: height * 0.75 };
  if (!(box.right > box.left && box.bottom > box.top)) {
    throw new ConfigError(`text box ${JSON.stringify(box)} is not valid: expected right > left and bottom > top`);
  }
  const frame: InkFrame = { width, height, scale: height / REFERENCE_HEIGHT, aspect: width / height / REFERENCE_ASPECT, box };
  INK_NOISE_DRAWERS[kind](coverage, frame, density, fastRandom(rng));
}

// ---------------------------------------------------------------------------------------------
// Backgrounds

/** `base` everywhere: one row filled, then copied down. */
function paintFlat(base: readonly [number, number, number], width: number, height: number): RawImage {
  const data = new Uint8Array(width * height * 3);
  const rowLength = width * 3;
  const [r, g, b] = base.map(clampByte) as [number, number, number];
  for (let i = 0; i < rowLength; i += 3) {
    data[i] = r;
    data[i + 1] = g;
    data[i + 2] = b;
  }
  for (let row = 1; row < height; row++) data.copyWithin(row * rowLength, 0, rowLength);
  return { width, height, channels: 3, data };
}

/**
 * A linear gradient at a random angle: `base` at the light end, darker by 12 to 40 levels at
 * the other (each channel a little more or less, for a faint tint).
 */
function paintGradient(base: readonly [number, number, number], width: number, height: number, rng: Rng): RawImage {
  const angle = rng.uniform(0, 2 * Math.PI);
  const span = rng.uniform(12, 40);
  const spans = [0, 1, 2].map(() => span + rng.uniform(-6, 6));
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  // The projection onto the direction, normalised to [0, 1] over the pixel centres.
  const corners = [0.5 * cos + 0.5 * sin, (width - 0.5) * cos + 0.5 * sin, 0.5 * cos + (height - 0.5) * sin, (width - 0.5) * cos + (height - 0.5) * sin];
  const low = Math.min(...corners);
  const range = Math.max(...corners) - low || 1;
  const data = new Uint8Array(width * height * 3);
  const out = clampedView(data);
  const [r, g, b] = base;
  const [spanR, spanG, spanB] = spans as [number, number, number];
  const step = cos / range;
  for (let y = 0, i = 0; y < height; y++) {
    const rowStart = ((0.5 + y) * sin + 0.5 * cos - low) / range;
    for (let x = 0; x < width; x++, i += 3) {
      const t = rowStart + x * step;
      out[i] = r - spanR * t;
      out[i + 1] = g - spanG * t;
      out[i + 2] = b - spanB * t;
    }
  }
  return { width, height, channels: 3, data };
}

/**
 * Smooth value noise in [-1, 1] added into `field` times `amplitude`: random values on a lattice
 * `cell` pixels apart (offset at random so lattices of images do not line up), interpolated
 * with a smoothstep.
 */
function addValueNoise(field: Float64Array, width: number, height: number, cell: number, amplitude: number, rng: FastRandom): void {
  const offsetX = rng.next();
  const offsetY = rng.next();
  const columns = Math.ceil(width / cell) + 2;
  const rows = Math.ceil(height / cell) + 2;
  const lattice = new Float32Array(columns * rows);
  for (let i = 0; i < lattice.length; i++) lattice[i] = (rng.next() * 2 - 1) * amplitude;
  const smooth = (t: number): number => t * t * (3 - 2 * t);
  const columnIndex = new Int32Array(width);
  const columnWeight = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const u = (x + 0.5) / cell + offsetX;
    columnIndex[x] = Math.floor(u);
    columnWeight[x] = smooth(u - Math.floor(u));
  }
  // Each row first blends the two lattice rows around it, then each pixel blends two values of
  // that blend: a few operations per pixel.
  const blended = new Float64Array(columns);
  for (let y = 0; y < height; y++) {
    const v = (y + 0.5) / cell + offsetY;
    const top = Math.floor(v) * columns;
    const wy = smooth(v - Math.floor(v));
    for (let j = 0; j < columns; j++) {
      const upper = lattice[top + j] as number;
      blended[j] = upper + wy * ((lattice[top + columns + j] as number) - upper);
    }
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const i = columnIndex[x] as number;
      const left = blended[i] as number;
      field[row + x] = (field[row + x] as number) + left + (columnWeight[x] as number) * ((blended[i + 1] as number) - left);
    }
  }
}

/**
 * Paper: broad and fine value noise (a few levels each), pixel grain, and a few faint fibres
 * (short darker curves). Everything is darker or lighter by at most some 40 levels, so the
 * background stays light.
 */
function paintTexture(base: readonly [number, number, number], width: number, height: number, slowRng: Rng): RawImage {
  const rng = fastRandom(slowRng);
  const scale = height / REFERENCE_HEIGHT;
  const offset = scratchFloats('texture offset', width * height).fill(0);
  addValueNoise(offset, width, height, Math.max(2, 0.5 * height), rng.uniform(4, 12), rng);
  addValueNoise(offset, width, height, Math.max(1.5, 0.15 * height), rng.uniform(2, 6), rng);
  // Grain of one pixel at 64 rows: at fewer rows a pixel averages several grains, so weaker.
  const grain = rng.uniform(1, 3) * Math.min(1, scale) * 2;
  const fibres = scratchCoverage(width, height);
  const count = Math.round(rng.uniform(2, 8) * (width / height / REFERENCE_ASPECT));
  for (let k = 0; k < count; k++) {
    const x0 = rng.uniform(0, width);
    const y0 = rng.uniform(0, height);
    const length = rng.uniform(0.15, 0.5) * height;
    const angle = rng.uniform(0, Math.PI);
    const bend = rng.uniform(-0.3, 0.3) * length;
    const x2 = x0 + Math.cos(angle) * length;
    const y2 = y0 + Math.sin(angle) * length;
    // A gentle bend: the midpoint pushed sideways.
    const x1 = (x0 + x2) / 2 - Math.sin(angle) * bend;
    const y1 = (y0 + y2) / 2 + Math.cos(angle) * bend;
    strokePolyline(fibres, [x0, y0, x1, y1, x2, y2], rng.uniform(0.25, 0.5) * scale);
  }
  const fibreDarkness = rng.uniform(5, 14);
  const alpha = fibres.alpha;
  const data = new Uint8Array(width * height * 3);
  const out = clampedView(data);
  const [r, g, b] = base;
  let bits = 0;
  for (let p = 0, i = 0; p < offset.length; p++, i += 3) {
    // Four grains from the four bytes of one 32-bit draw.
    if ((p & 3) === 0) bits = rng.bits();
    const o = (offset[p] as number) - fibreDarkness * (alpha[p] as number) + (((bits >>> (8 * (p & 3))) & 255) / 255 - 0.5) * grain;
    out[i] = r + o;
    out[i + 1] = g + o;
    out[i + 2] = b + o;
  }
  return { width, height, channels: 3, data };
}

/**
 * A light background of `kind` around `base` (an RGB colour, light): 'flat' is `base` everywhere
 * (and draws nothing from `rng`); 'gradient' a linear gradient at a random angle, `base` at one
 * end and 12 to 40 levels darker at the other; 'texture' paper: smooth value noise, grain and
 * faint fibres. Returns an RGB image of `width` x `height`.
 *
 * @example
 * const background = paintBackground('texture', [236, 232, 226], 150, 32, rng);
 */
export function paintBackground(kind: BackgroundKind, base: readonly [number, number, number], width: number, height: number, rng: Rng): RawImage {
  checkKind('background kind', kind, BACKGROUND_KINDS);
  checkRgb('background colour', base);
  checkSize('background size', width, height);
  if (kind === 'gradient') return paintGradient(base, width, height, rng);
  if (kind === 'texture') return paintTexture(base, width, height, rng);
  return paintFlat(base, width, height);
}

// ---------------------------------------------------------------------------------------------
// Compositing and pixel noise

/**
 * The text colour over `background` by `coverage` (alpha blending per pixel); a new image with
 * the background's channels (a one-channel background takes the text colour's luminance; a
 * fourth channel is kept).
 */
export function compositeInk(background: RawImage, coverage: CoverageBuffer, text: readonly [number, number, number]): RawImage {
  checkRgb('text colour', text);
  if (background.width !== coverage.width || background.height !== coverage.height) {
    throw new ConfigError(`compositeInk: the coverage is ${coverage.width}x${coverage.height} but the background is ${background.width}x${background.height}; expected the same size`);
  }
  const { channels } = background;
  const data = background.data.slice();
  const alpha = coverage.alpha;
  const ink = channels === 1 ? [0.299 * text[0] + 0.587 * text[1] + 0.114 * text[2]] : text;
  const inked = Math.min(channels, 3);
  for (let p = 0, i = 0; p < alpha.length; p++, i += channels) {
    const a = alpha[p] as number;
    // Most pixels are bare background and are already right in the copy.
    if (a === 0) continue;
    for (let c = 0; c < inked; c++) {
      const b = data[i + c] as number;
      data[i + c] = Math.round(b + ((ink[c] as number) - b) * a);
    }
  }
  return { width: background.width, height: background.height, channels, data };
}

/** Standard normal quantiles at 4096 equal steps of probability, rescaled to unit variance. */
let normalTable: Float32Array | undefined;

/**
 * A table for fast normal draws: two table look-ups per 32-bit draw instead of a logarithm, a
 * square root and a cosine per sample (Box-Muller), which would cost more than the whole rest
 * of an image's effects. The tails stop near 3.7 sigma, which pixel noise never misses.
 */
function getNormalTable(): Float32Array {
  if (normalTable) return normalTable;
  const size = 4096;
  const table = new Float32Array(size);
  // Integrate the density numerically from -8 and read off each quantile as the CDF passes it.
  const step = 1e-3;
  let z = -8;
  let cdf = 0;
  let previousDensity = Math.exp(-32) / Math.sqrt(2 * Math.PI);
  for (let i = 0; i < size; i++) {
    const target = (i + 0.5) / size;
    while (cdf < target) {
      const density = Math.exp(-0.5 * (z + step) * (z + step)) / Math.sqrt(2 * Math.PI);
      const next = cdf + ((previousDensity + density) / 2) * step;
      if (next >= target) {
        table[i] = z + (step * (target - cdf)) / (next - cdf);
        break;
      }
      cdf = next;
      previousDensity = density;
      z += step;
    }
  }
  let sumSquares = 0;
  for (let i = 0; i < size; i++) sumSquares += (table[i] as number) ** 2;
  const rescale = 1 / Math.sqrt(sumSquares / size);
  for (let i = 0; i < size; i++) table[i] = (table[i] as number) * rescale;
  normalTable = table;
  return table;
}

/** Adds one normal sample of `sigma` to every channel of each pixel: luminance noise, as a sensor's. */
function addGaussianNoise(image: RawImage, sigma: number, slowRng: Rng): void {
  const rng = fastRandom(slowRng);
  const table = getNormalTable();
  const { channels } = image;
  const data = clampedView(image.data);
  const inked = Math.min(channels, 3);
  const pixels = image.width * image.height;
  let bits = 0;
  for (let p = 0; p < pixels; p++) {
    let index: number;
    if ((p & 1) === 0) {
      bits = rng.bits();
      index = bits & 4095;
    } else {
      index = (bits >>> 12) & 4095;
    }
    const noise = (table[index] as number) * sigma;
    const i = p * channels;
    // The alpha channel of an RGBA image is not noise's to change.
    for (let c = 0; c < inked; c++) data[i + c] = (data[i + c] as number) + noise;
  }
}

/** Sets a share `rate` of pixels (drawn with replacement) to near-black or near-white grey. */
function addSaltAndPepper(image: RawImage, rate: number, slowRng: Rng): void {
  const rng = fastRandom(slowRng);
  const { data, channels } = image;
  const pixels = image.width * image.height;
  // Rounded up or down at random, so that small images get the right share on average.
  const count = Math.floor(pixels * rate + rng.next());
  for (let k = 0; k < count; k++) {
    const p = Math.floor(rng.next() * pixels);
    const shade = Math.floor(rng.next() * 40);
    const value = rng.chance(0.5) ? shade : 255 - shade;
    const i = p * channels;
    for (let c = 0; c < Math.min(channels, 3); c++) data[i + c] = value;
  }
}

/**
 * Adds pixel noise to `image` in place. 'gaussian': normal noise of standard deviation
 * `amount` * 40 levels, the same on each channel of a pixel (so luminance carries all of it);
 * 'salt-pepper': a share `amount` * 0.08 of pixels set to near-black or near-white. `amount` in
 * [0, 1]; 0 changes nothing and draws nothing from `rng`.
 */
export function addPixelNoise(image: RawImage, kind: PixelNoiseKind, amount: number, rng: Rng): void {
  checkKind('pixel noise kind', kind, PIXEL_NOISE_KINDS);
  checkUnit('pixel noise amount', amount);
  if (amount === 0) return;
  if (kind === 'gaussian') addGaussianNoise(image, amount * 40, rng);
  else addSaltAndPepper(image, amount * 0.08, rng);
}

// ---------------------------------------------------------------------------------------------
// Blur

/**
 * Above this many three-tap passes (sigma 2.1) one pass of a sampled Gaussian is cheaper: passes
 * grow with sigma squared, its taps with sigma.
 */
const MAX_THREE_TAP_PASSES = 9;

/** A normalised sampled Gaussian kernel of `sigma`, reaching three sigma to each side. */
function gaussianKernel(sigma: number): Float64Array {
  const radius = Math.ceil(3 * sigma);
  const kernel = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let k = -radius; k <= radius; k++) {
    const w = Math.exp((-k * k) / (2 * sigma * sigma));
    kernel[k + radius] = w;
    sum += w;
  }
  for (let k = 0; k < kernel.length; k++) kernel[k] = (kernel[k] as number) / sum;
  return kernel;
}

/**
 * One pass of `[side, 1 - 2 side, side]` along lines of `count` samples `stride` apart (rows:
 * stride `channels`; columns: stride a row's length), edges clamped, from `source` to `target`.
 * Lines start at every index below `stride` of each block of `count * stride` values.
 */
function threeTapPass(source: Float64Array, target: Float64Array, side: number, count: number, stride: number): void {
  const centre = 1 - 2 * side;
  const lineLength = count * stride;
  const last = lineLength - stride;
  for (let block = 0; block < source.length; block += lineLength) {
    for (let j = block; j < block + stride; j++) {
      target[j] = centre * (source[j] as number) + side * ((source[j] as number) + (source[j + stride] as number));
      target[j + last] = centre * (source[j + last] as number) + side * ((source[j + last - stride] as number) + (source[j + last] as number));
    }
    for (let i = block + stride; i < block + last; i++) target[i] = centre * (source[i] as number) + side * ((source[i - stride] as number) + (source[i + stride] as number));
  }
}

/** One pass of a sampled kernel along lines as {@link threeTapPass} walks them, edges clamped. */
function kernelPass(source: Float64Array, target: Float64Array, kernel: Float64Array, count: number, stride: number): void {
  const radius = (kernel.length - 1) >> 1;
  const lineLength = count * stride;
  for (let block = 0; block < source.length; block += lineLength) {
    for (let j = 0; j < lineLength; j++) {
      const position = Math.floor(j / stride);
      const lane = block + (j % stride);
      let sum = 0;
      for (let k = 0; k < kernel.length; k++) {
        const at = Math.min(count - 1, Math.max(0, position + k - radius));
        sum += (kernel[k] as number) * (source[lane + at * stride] as number);
      }
      target[block + j] = sum;
    }
  }
}

/**
 * A separable Gaussian blur of standard deviation `sigma` pixels, edges clamped; a new image
 * (a copy for `sigma` 0). Every channel is blurred, alpha included. Up to sigma 2.1 it runs as
 * passes of a three-tap kernel `[v / 2, 1 - v, v / 2]` along each axis, each adding variance
 * v <= 0.49 until they sum to sigma squared: repeated small kernels converge to the Gaussian,
 * one pass (sigma <= 0.7) is within a few thousandths of the sampled one, and a pass costs a
 * fraction of a sampled kernel's five to fifteen taps. Beyond sigma 2.1, one sampled kernel.
 */
export function blurImage(image: RawImage, sigma: number): RawImage {
  if (!(sigma >= 0) || !Number.isFinite(sigma)) throw new ConfigError(`blur sigma ${sigma} is not valid: expected a finite number of pixels >= 0`);
  const { width, height, channels } = image;
  if (sigma === 0) return { width, height, channels, data: image.data.slice() };
  const rowLength = width * channels;
  let source = scratchFloats('blur a', image.data.length);
  let target = scratchFloats('blur b', image.data.length);
  source.set(image.data);
  const swap = (): void => {
    const done = target;
    target = source;
    source = done;
  };
  const passes = Math.ceil((sigma * sigma) / 0.49);
  if (passes <= MAX_THREE_TAP_PASSES) {
    const side = (sigma * sigma) / passes / 2;
    for (let pass = 0; pass < passes; pass++, swap()) {
      if (width > 1) threeTapPass(source, target, side, width, channels);
      else target.set(source);
    }
    for (let pass = 0; pass < passes; pass++, swap()) {
      if (height > 1) threeTapPass(source, target, side, height, rowLength);
      else target.set(source);
    }
  } else {
    const kernel = gaussianKernel(sigma);
    kernelPass(source, target, kernel, width, channels);
    swap();
    kernelPass(source, target, kernel, height, rowLength);
    swap();
  }
  const data = new Uint8Array(image.data.length);
  clampedView(data).set(source);
  return { width, height, channels, data };
}

// ---------------------------------------------------------------------------------------------
// JPEG artefacts

/** The JPEG standard's example luminance quantisation table (ITU T.81 Annex K), row-major. */
const LUMINANCE_QUANTISATION = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77,
  24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
/** Its example chrominance table. */
const CHROMINANCE_QUANTISATION = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/** The orthonormal 8-point DCT-II matrix, `[u * 8 + x]`, computed once. */
let dctMatrix: Float64Array | undefined;

function getDctMatrix(): Float64Array {
  if (dctMatrix) return dctMatrix;
  const matrix = new Float64Array(64);
  for (let u = 0; u < 8; u++) {
    const norm = u === 0 ? Math.sqrt(1 / 8) : Math.sqrt(2 / 8);
    for (let x = 0; x < 8; x++) matrix[u * 8 + x] = norm * Math.cos(((2 * x + 1) * u * Math.PI) / 16);
  }
  dctMatrix = matrix;
  return matrix;
}

/**
 * The 8-point DCT of `source[from + k * step]` (k = 0..7) into `target[to + u * toStep]`. Row u
 * of the matrix is even about its middle for even u and odd for odd u, so the samples are
 * folded once (sums and differences of mirrored pairs) and each coefficient takes four
 * products instead of eight.
 */
function forwardDct8(source: Float64Array, from: number, step: number, target: Float64Array, to: number, toStep: number, matrix: Float64Array): void {
  const last = from + 7 * step;
  const s0 = (source[from] as number) + (source[last] as number);
  const d0 = (source[from] as number) - (source[last] as number);
  const s1 = (source[from + step] as number) + (source[last - step] as number);
  const d1 = (source[from + step] as number) - (source[last - step] as number);
  const s2 = (source[from + 2 * step] as number) + (source[last - 2 * step] as number);
  const d2 = (source[from + 2 * step] as number) - (source[last - 2 * step] as number);
  const s3 = (source[from + 3 * step] as number) + (source[last - 3 * step] as number);
  const d3 = (source[from + 3 * step] as number) - (source[last - 3 * step] as number);
  for (let u = 0; u < 8; u += 2) {
    const even = u * 8;
    const odd = even + 8;
    target[to + u * toStep] = (matrix[even] as number) * s0 + (matrix[even + 1] as number) * s1 + (matrix[even + 2] as number) * s2 + (matrix[even + 3] as number) * s3;
    target[to + (u + 1) * toStep] = (matrix[odd] as number) * d0 + (matrix[odd + 1] as number) * d1 + (matrix[odd + 2] as number) * d2 + (matrix[odd + 3] as number) * d3;
  }
}

/**
 * The inverse of {@link forwardDct8}, coefficients `source[from + u * step]` to samples
 * `target[to + x * toStep]`: the even coefficients give the part the mirrored samples share,
 * the odd ones the part they differ by.
 */
function inverseDct8(source: Float64Array, from: number, step: number, target: Float64Array, to: number, toStep: number, matrix: Float64Array): void {
  for (let x = 0; x < 4; x++) {
    let shared = 0;
    let differing = 0;
    for (let u = 0; u < 8; u += 2) {
      shared += (matrix[u * 8 + x] as number) * (source[from + u * step] as number);
      differing += (matrix[u * 8 + 8 + x] as number) * (source[from + (u + 1) * step] as number);
    }
    target[to + x * toStep] = shared + differing;
    target[to + (7 - x) * toStep] = shared - differing;
  }
}

/** A quantisation table scaled to `quality` as libjpeg scales it, entries in [1, 255]. */
function scaleQuantisation(table: readonly number[], quality: number): Float64Array {
  const percent = quality < 50 ? 5000 / quality : 200 - 2 * quality;
  return Float64Array.from(table, (q) => Math.min(255, Math.max(1, Math.floor((q * percent + 50) / 100))));
}

/**
 * Quantises one plane (`width` x `height` floats, level-shifted by the caller or not) block by
 * block in place: forward DCT, rounding each coefficient to a multiple of its table entry,
 * inverse DCT. Blocks past the edge read the edge's pixels, as an encoder pads.
 */
function quantisePlane(plane: Float64Array, width: number, height: number, table: Float64Array): void {
  const matrix = getDctMatrix();
  const block = new Float64Array(64);
  const temp = new Float64Array(64);
  const coef = new Float64Array(64);
  for (let by = 0; by < height; by += 8) {
    for (let bx = 0; bx < width; bx += 8) {
      let low = Infinity;
      let high = -Infinity;
      for (let y = 0; y < 8; y++) {
        const row = Math.min(by + y, height - 1) * width;
        for (let x = 0; x < 8; x++) {
          const v = (plane[row + Math.min(bx + x, width - 1)] as number) - 128;
          block[y * 8 + x] = v;
          if (v < low) low = v;
          if (v > high) high = v;
        }
      }
      if (high - low < 1e-9) {
        // A flat block has only a DC coefficient (8 times its value): quantise that alone.
        const q = table[0] as number;
        const level = (Math.round((8 * low) / q) * q) / 8 + 128;
        for (let y = by; y < Math.min(by + 8, height); y++) plane.fill(level, y * width + bx, y * width + Math.min(bx + 8, width));
        continue;
      }
      // Rows, then columns: F = M f M^T.
      for (let k = 0; k < 64; k += 8) forwardDct8(block, k, 1, temp, k, 1, matrix);
      for (let u = 0; u < 8; u++) forwardDct8(temp, u, 8, coef, u, 8, matrix);
      let lastColumn = -1;
      for (let k = 0; k < 64; k++) {
        const q = table[k] as number;
        const quantised = Math.round((coef[k] as number) / q) * q;
        coef[k] = quantised;
        if (quantised !== 0 && (k & 7) > lastColumn) lastColumn = k & 7;
      }
      // Inverse, columns then rows: columns past the last with a non-zero coefficient (most of
      // them, at low quality) transform to zeros.
      temp.fill(0);
      for (let u = 0; u <= lastColumn; u++) inverseDct8(coef, u, 8, temp, u, 8, matrix);
      for (let k = 0; k < 64; k += 8) inverseDct8(temp, k, 1, block, k, 1, matrix);
      for (let y = 0; y < Math.min(8, height - by); y++) {
        const row = (by + y) * width + bx;
        for (let x = 0; x < Math.min(8, width - bx); x++) plane[row + x] = (block[y * 8 + x] as number) + 128;
      }
    }
  }
}

export interface JpegOptions {
  /** Store chroma at half resolution in both directions (4:2:0), which smears colour edges over 2x2 pixels even at quality 100. Defaults to true, as libjpeg. */
  subsampleChroma?: boolean;
}

/**
 * JPEG-like compression artefacts: the image in YCbCr (JFIF's full-range conversion), each plane
 * cut into 8x8 blocks, transformed by the DCT, quantised with the JPEG standard's example tables
 * (luminance for Y, chrominance for Cb and Cr, the chroma planes at half resolution unless
 * `options.subsampleChroma` is false) scaled to `quality`
 * (1-100, as libjpeg scales them), transformed back and converted to RGB. A new image; a
 * one-channel image has only its luma quantised, and alpha is kept.
 */
export function jpegArtefacts(image: RawImage, quality: number, options: JpegOptions = {}): RawImage {
  if (!(quality >= 1 && quality <= 100)) throw new ConfigError(`JPEG quality ${quality} is out of range: expected a number from 1 to 100`);
  const { width, height, channels } = image;
  const pixels = width * height;
  const src = image.data;
  const luma = scaleQuantisation(LUMINANCE_QUANTISATION, quality);
  const data = src.slice();
  if (channels === 1) {
    const plane = scratchFloats('jpeg luma', pixels);
    plane.set(src);
    quantisePlane(plane, width, height, luma);
    for (let p = 0; p < pixels; p++) data[p] = clampByte(plane[p] as number);
    return { width, height, channels, data };
  }
  const chroma = scaleQuantisation(CHROMINANCE_QUANTISATION, quality);
  // Chroma at half resolution in both directions (4:2:0, libjpeg's default): each chroma
  // sample is the mean of a 2x2 block, and is spread back over it at the end.
  const shift = options.subsampleChroma ?? true ? 1 : 0;
  const halfWidth = Math.ceil(width / (1 << shift));
  const halfHeight = Math.ceil(height / (1 << shift));
  const y = scratchFloats('jpeg luma', pixels);
  const cb = scratchFloats('jpeg blue', halfWidth * halfHeight).fill(0);
  const cr = scratchFloats('jpeg red', halfWidth * halfHeight).fill(0);
  const count = scratchFloats('jpeg count', halfWidth * halfHeight).fill(0);
  for (let row = 0, p = 0, i = 0; row < height; row++) {
    const halfRow = (row >> shift) * halfWidth;
    for (let column = 0; column < width; column++, p++, i += channels) {
      const r = src[i] as number;
      const g = src[i + 1] as number;
      const b = src[i + 2] as number;
      const h = halfRow + (column >> shift);
      y[p] = 0.299 * r + 0.587 * g + 0.114 * b;
      cb[h] = (cb[h] as number) + 128 - 0.168736 * r - 0.331264 * g + 0.5 * b;
      cr[h] = (cr[h] as number) + 128 + 0.5 * r - 0.418688 * g - 0.081312 * b;
      count[h] = (count[h] as number) + 1;
    }
  }
  for (let h = 0; h < count.length; h++) {
    cb[h] = (cb[h] as number) / (count[h] as number);
    cr[h] = (cr[h] as number) / (count[h] as number);
  }
  quantisePlane(y, width, height, luma);
  quantisePlane(cb, halfWidth, halfHeight, chroma);
  quantisePlane(cr, halfWidth, halfHeight, chroma);
  const out = clampedView(data);
  for (let row = 0, p = 0, i = 0; row < height; row++) {
    const halfRow = (row >> shift) * halfWidth;
    for (let column = 0; column < width; column++, p++, i += channels) {
      const h = halfRow + (column >> shift);
      const l = y[p] as number;
      const blue = (cb[h] as number) - 128;
      const red = (cr[h] as number) - 128;
      out[i] = l + 1.402 * red;
      out[i + 1] = l - 0.344136 * blue - 0.714136 * red;
      out[i + 2] = l + 1.772 * blue;
    }
  }
  return { width, height, channels, data };
}

// ---------------------------------------------------------------------------------------------
// Warp

/** A smooth sine warp of the whole image. */
export interface ImageWarp {
  /** Largest horizontal displacement in pixels (it varies with the row). */
  amplitudeX: number;
  /** Largest vertical displacement in pixels (it varies with the column). */
  amplitudeY: number;
  /** The horizontal displacement's period down the rows, in pixels. */
  period: number;
  /** The horizontal displacement's phase, in radians. */
  phase: number;
  /** The vertical displacement's period across the columns, as a multiple of `period`. Defaults to 2.3 (as the renderer's glyph warp). */
  periodRatio?: number;
  /** The vertical displacement's phase, in radians. Defaults to `phase`. */
  phaseY?: number;
}

/**
 * Warps the whole image: the pixel at (x, y) is read from (x + amplitudeX * sin(2 pi y / period
 * + phase), y + amplitudeY * sin(2 pi x / (period * periodRatio) + phaseY)), sampled bilinearly
 * with the edges clamped. A new image; amplitudes of 0 give an exact copy.
 *
 * @example
 * warpImage(image, { amplitudeX: 1.5 * scale, amplitudeY: 1 * scale, period: 30 * scale, phase: 0.4 });
 */
export function warpImage(image: RawImage, warp: ImageWarp): RawImage {
  const { amplitudeX, amplitudeY, period, phase } = warp;
  const periodRatio = warp.periodRatio ?? 2.3;
  const phaseY = warp.phaseY ?? phase;
  for (const [name, value] of [['amplitudeX', amplitudeX], ['amplitudeY', amplitudeY], ['phase', phase], ['phaseY', phaseY]] as const) {
    if (!Number.isFinite(value)) throw new ConfigError(`warp ${name} ${value} is not valid: expected a finite number`);
  }
  if (!(period > 0) || !Number.isFinite(period)) throw new ConfigError(`warp period ${period} is not valid: expected a finite number of pixels > 0`);
  if (!(periodRatio > 0) || !Number.isFinite(periodRatio)) throw new ConfigError(`warp periodRatio ${periodRatio} is not valid: expected a finite number > 0`);
  const { width, height, channels, data: src } = image;
  // The horizontal shift depends on the row only, the vertical one on the column only.
  const shiftX = new Float64Array(height);
  for (let y = 0; y < height; y++) shiftX[y] = amplitudeX * Math.sin((2 * Math.PI * y) / period + phase);
  const shiftY = new Float64Array(width);
  for (let x = 0; x < width; x++) shiftY[x] = amplitudeY * Math.sin((2 * Math.PI * x) / (period * periodRatio) + phaseY);
  // Whole and fractional parts of the shifts: the fraction is the same along a row (x) or a
  // column (y), so only the clamped indices change from pixel to pixel.
  const columnShift = new Int32Array(width);
  const columnFraction = new Float64Array(width);
  for (let x = 0; x < width; x++) {
    const whole = Math.floor(shiftY[x] as number);
    columnShift[x] = whole;
    columnFraction[x] = (shiftY[x] as number) - whole;
  }
  const data = new Uint8Array(src.length);
  const out = clampedView(data);
  const lastX = width - 1;
  const lastY = height - 1;
  for (let y = 0, o = 0; y < height; y++) {
    const rowShift = Math.floor(shiftX[y] as number);
    const fx = (shiftX[y] as number) - rowShift;
    for (let x = 0; x < width; x++, o += channels) {
      const xa = x + rowShift;
      const x0 = xa < 0 ? 0 : xa > lastX ? lastX : xa;
      const x1 = xa + 1 < 0 ? 0 : xa + 1 > lastX ? lastX : xa + 1;
      const ya = y + (columnShift[x] as number);
      const y0 = ya < 0 ? 0 : ya > lastY ? lastY : ya;
      const y1 = ya + 1 < 0 ? 0 : ya + 1 > lastY ? lastY : ya + 1;
      const fy = columnFraction[x] as number;
      const w11 = fx * fy;
      const w10 = fx - w11;
      const w01 = fy - w11;
      const w00 = 1 - fx - w01;
      const i00 = (y0 * width + x0) * channels;
      const i10 = (y0 * width + x1) * channels;
      const i01 = (y1 * width + x0) * channels;
      const i11 = (y1 * width + x1) * channels;
      for (let c = 0; c < channels; c++) {
        out[o + c] = w00 * (src[i00 + c] as number) + w10 * (src[i10 + c] as number) + w01 * (src[i01 + c] as number) + w11 * (src[i11 + c] as number);
      }
    }
  }
  return { width, height, channels, data };
}
