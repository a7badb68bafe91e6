import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../src/errors';
import { FONT_FAMILIES, fontCategory, loadGlyphSet, strokeWidthOf } from '../../../src/data/fonts';
import { LEGIBLE, legibleStroke, renderEquation } from '../../../src/data/equations/synth-render';
import {
  HELD_OUT,
  heldOutFamilies,
  heldOutStyles,
  legacyStyle,
  resolveStyleSpace,
  STYLE_DIMENSIONS,
  stylePreset,
  type StyleSpace,
} from '../../../src/data/equations/synth-style';
import { toGrayscale, type RawImage } from '../../../src/image/raw-image';
import { createRng } from '../../../src/util/rng';

/** The reference preset with everything random switched off but the dimension under test. */
function calm(): StyleSpace {
  const style = stylePreset('reference');
  return { ...style, rotation: 0, shear: 0, jitter: { x: 0, y: 0 }, glyphScale: [1, 1], lineWave: [0, 0], inkNoise: [], textHeight: [0.45, 0.45], spacing: [0.9, 0.9] };
}

const render = (style: StyleSpace, seed = 'dimension', label = '(1+2)*3=9'): RawImage => toGrayscale(renderEquation(label, createRng(seed), { width: 150, height: 32, style }));

/** Columns and rows holding ink (pixels darker than `threshold`). */
function inkBox(image: RawImage, threshold = 128): { left: number; right: number; top: number; bottom: number; pixels: number } {
  let left = Infinity;
  let right = -Infinity;
  let top = Infinity;
  let bottom = -Infinity;
  let pixels = 0;
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      if ((image.data[y * image.width + x] as number) >= threshold) continue;
      pixels++;
      left = Math.min(left, x);
      right = Math.max(right, x);
      top = Math.min(top, y);
      bottom = Math.max(bottom, y);
    }
  }
  return { left, right, top, bottom, pixels };
}

function variance(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] as number;
  const mean = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += ((values[i] as number) - mean) ** 2;
  return squares / values.length;
}

/** Sum of absolute differences between horizontal neighbours: falls as an image blurs. */
function sharpness(image: RawImage): number {
  let sum = 0;
  for (let y = 0; y < image.height; y++) for (let x = 1; x < image.width; x++) sum += Math.abs((image.data[y * image.width + x] as number) - (image.data[y * image.width + x - 1] as number));
  return sum;
}

describe('the style space', () => {
  test('the wide preset draws from 100+ families in every category, in regular, bold and italic, and none held out', () => {
    const wide = stylePreset('wide');
    const families = new Set(wide.fonts.map((face) => face.split(':')[0]));
    assert.ok(families.size >= 100, `${families.size} families`);
    for (const category of ['sans', 'serif', 'mono', 'display', 'handwriting']) assert.ok(wide.fonts.some((f) => fontCategory(f) === category), category);
    assert.ok(wide.fonts.some((f) => f.endsWith(':bold')) && wide.fonts.some((f) => f.endsWith(':italic')));
    const held = new Set<string>(heldOutFamilies());
    assert.deepEqual([...families].filter((f) => held.has(f as string)), []);
    assert.ok(!wide.inkNoise.some((n) => n.kind === HELD_OUT.inkNoise));
    assert.ok(!(wide.pixelNoise.kinds ?? []).includes(HELD_OUT.pixelNoise));
    assert.ok(!wide.backgrounds.includes(HELD_OUT.background));
  });

  test('every held-out family is in the catalog, and the held-out styles are each what training never draws', () => {
    assert.deepEqual(HELD_OUT.families.filter((f) => !FONT_FAMILIES.includes(f)), []);
    const styles = Object.fromEntries(heldOutStyles().map((h) => [h.name, h.style]));
    assert.deepEqual(Object.keys(styles), ['fonts', 'noise', 'background']);
    assert.deepEqual(new Set(styles['fonts']!.fonts.map((f) => f.split(':')[0])), new Set(HELD_OUT.families));
    assert.deepEqual(styles['noise']!.inkNoise.map((n) => n.kind), [HELD_OUT.inkNoise]);
    assert.deepEqual(styles['noise']!.pixelNoise.kinds, [HELD_OUT.pixelNoise]);
    assert.equal(styles['noise']!.pixelNoise.chance, 1);
    assert.deepEqual(styles['background']!.backgrounds, [HELD_OUT.background]);
  });

  test('the reference preset is reachable by name and the legacy options map onto it', () => {
    const reference = stylePreset('reference');
    assert.deepEqual(reference.fonts, ['dejavu-sans']);
    assert.equal(reference.anywhere, 0);
    const legacy = legacyStyle(['kalam'], 'random', 'speckle');
    assert.deepEqual(legacy.fonts, ['kalam']);
    assert.equal(legacy.anywhere, 1);
    assert.equal(legacy.inkNoise[0]?.kind, 'speckle');
    // The same image either way.
    const viaOptions = renderEquation('1+2=3', createRng('legacy'), { fonts: ['kalam'], placement: 'random', noise: 'speckle', width: 150, height: 32 });
    const viaStyle = renderEquation('1+2=3', createRng('legacy'), { style: legacy, width: 150, height: 32 });
    assert.deepEqual(viaOptions.data, viaStyle.data);
  });

  test('resolveStyleSpace: a spec over a preset, every value checked, naming it and what is accepted', () => {
    const spec = resolveStyleSpace({ preset: 'reference', anywhere: 1, fonts: ['print'] });
    assert.equal(spec.anywhere, 1);
    assert.deepEqual(spec.fonts, ['dejavu-sans', 'roboto-mono', 'noto-serif']);
    assert.equal(resolveStyleSpace({}).preset, 'wide');
    assert.deepEqual(Object.keys(spec).filter((k) => k !== 'preset').sort(), [...STYLE_DIMENSIONS].sort());
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ preset: 'fancy' }, /style preset "fancy" is not one of: reference, wide/],
      [{ sparkle: 1 }, /unknown style dimension "sparkle": expected preset or fonts, textHeight/],
      [{ spacing: [1.2, 0.9] }, /style spacing \[1.2, 0.9\] must have low <= high within \[0.4, 1.6\]/],
      [{ rotation: 3 }, /style rotation 3 must be a number within \[0, 1\]/],
      [{ backgrounds: ['plaid'] }, /style backgrounds \["plaid"\] must be a non-empty list of: flat, gradient, texture/],
      [{ inkNoise: [{ kind: 'smoke', chance: 1, density: [0, 1] }] }, /inkNoise\[0\]\.kind \["smoke"\] must be a non-empty list of: crosses/],
      [{ jpeg: { chance: 0.5, range: [0, 120] } }, /style jpeg\.range \[0, 120\] must have low <= high within \[0, 100\]/],
      [{ colours: 'neon' }, /style colours "neon" must be dark-on-light or varied/],
      [{ fonts: ['no-such-font'] }, /no-such-font/],
    ];
    for (const [overrides, message] of bad) assert.throws(() => resolveStyleSpace(overrides), (e: unknown) => e instanceof ConfigError && message.test(e.message), JSON.stringify(overrides));
  });

  test('each dimension changes the image as it says (tiny images, fixed seeds)', () => {
    const base = calm();
    const plain = render(base);
    const plainBox = inkBox(plain);
    assert.ok(plainBox.pixels > 50, 'the calm image has ink');

    // textHeight: taller glyphs.
    assert.ok(inkBox(render({ ...base, textHeight: [0.7, 0.7] })).bottom - inkBox(render({ ...base, textHeight: [0.7, 0.7] })).top > plainBox.bottom - plainBox.top + 3);
    // compression: a narrower line.
    const narrow = inkBox(render({ ...base, compression: [0.6, 0.6] }));
    assert.ok(narrow.right - narrow.left < 0.8 * (plainBox.right - plainBox.left), `${narrow.right - narrow.left} vs ${plainBox.right - plainBox.left}`);
    // spacing: touching glyphs make a shorter line than typeset ones.
    const tight = inkBox(render({ ...base, spacing: [0.6, 0.6] }));
    const loose = inkBox(render({ ...base, spacing: [1.3, 1.3] }));
    assert.ok(tight.right - tight.left < loose.right - loose.left);
    // anywhere: over several seeds the text starts further right than at the left margin.
    const starts = (style: StyleSpace) => Array.from({ length: 8 }, (_, i) => inkBox(render(style, `place${i}`, '1+2=3')).left);
    assert.ok(Math.max(...starts({ ...base, anywhere: 1 })) > Math.max(...starts(base)) + 20);
    // rotation, shear, glyph scale, jitter, line wave, perspective, stroke: each alters the glyphs.
    const altered: [string, Partial<StyleSpace>][] = [
      ['rotation', { rotation: 0.6 }],
      ['shear', { shear: 0.6 }],
      ['glyphScale', { glyphScale: [0.6, 1.4] }],
      ['jitter', { jitter: { x: 0.05, y: 0.1 } }],
      ['lineWave', { lineWave: [0.04, 0.04] }],
      ['perspective', { perspective: 0.5 }],
      ['stroke', { stroke: { thinShare: 0, thin: [0, 0], bold: [0.04, 0.04] } }],
      ['fonts', { fonts: ['kalam'] }],
    ];
    for (const [name, change] of altered) assert.notDeepEqual(render({ ...base, ...change }).data, plain.data, name);
    // A bold stroke inks more pixels.
    assert.ok(inkBox(render({ ...base, stroke: { thinShare: 0, thin: [0, 0], bold: [0.04, 0.04] } })).pixels > 1.3 * plainBox.pixels);
    // ink noise: more ink than the calm image.
    assert.ok(inkBox(render({ ...base, inkNoise: [{ kind: 'dots', chance: 1, density: [1, 1] }] }), 200).pixels > inkBox(plain, 200).pixels + 20);
    // colours: 'varied' backgrounds are darker or tinted on some seed.
    const backgroundOf = (style: StyleSpace, seed: string) => toGrayscale(renderEquation('1', createRng(seed), { width: 150, height: 32, style })).data[0] as number;
    assert.ok(Array.from({ length: 12 }, (_, i) => backgroundOf({ ...base, colours: 'varied' }, `c${i}`)).some((v) => v < 215));
    assert.ok(Array.from({ length: 12 }, (_, i) => backgroundOf(base, `c${i}`)).every((v) => v >= 215));
    // backgrounds: a gradient varies across the bare top row.
    const topRow = (image: RawImage) => image.data.subarray(0, image.width);
    assert.ok(variance(topRow(render({ ...base, backgrounds: ['gradient'] }, 'g'))) > variance(topRow(render(base, 'g'))) + 1);
    // pixel noise, blur, jpeg and warp: always on, each visible.
    const always = (range: [number, number]) => ({ chance: 1, range });
    assert.ok(variance(topRow(render({ ...base, pixelNoise: { ...always([0.8, 0.8]), kinds: ['gaussian'] } }))) > variance(topRow(plain)) + 50);
    assert.ok(sharpness(render({ ...base, blur: always([0.04, 0.04]) })) < 0.7 * sharpness(plain));
    assert.notDeepEqual(render({ ...base, jpeg: always([10, 10]) }).data, plain.data);
    assert.notDeepEqual(render({ ...base, warp: always([0.06, 0.06]) }).data, plain.data);
  });

  test('150x32 looks like 300x64 at half size: the ink box scales with the image', () => {
    const style = calm();
    const small = inkBox(toGrayscale(renderEquation('12+34=46', createRng('scale'), { width: 150, height: 32, style })));
    const large = inkBox(toGrayscale(renderEquation('12+34=46', createRng('scale'), { width: 300, height: 64, style })));
    assert.ok(Math.abs(2 * (small.right - small.left) - (large.right - large.left)) <= 6, `${small.right - small.left} vs ${large.right - large.left}`);
    assert.ok(Math.abs(2 * (small.bottom - small.top) - (large.bottom - large.top)) <= 4);
  });

  test('legibility: a face\'s stroke width is measured from its outlines, and drawn strokes stay within the limits', () => {
    // A square ring 10 units wide around a 20-unit hole: the outer contour one way, the hole the other.
    const ring = [Float64Array.from([0, 0, 40, 0, 40, 40, 0, 40]), Float64Array.from([10, 10, 10, 30, 30, 30, 30, 10])];
    assert.ok(Math.abs(strokeWidthOf(ring) - 10) < 1e-9, String(strokeWidthOf(ring)));
    assert.equal(strokeWidthOf([]), 0);
    // A heavy display face measures heavier than a hairline one, and a book face sits between.
    const ratio = (face: string) => {
      const set = loadGlyphSet(face, '0123456789');
      return set.strokeWidth / set.digitHeight;
    };
    assert.ok(ratio('sigmar-one') > 0.25 && ratio('amatic-sc') < 0.06, `${ratio('sigmar-one')} ${ratio('amatic-sc')}`);
    assert.ok(ratio('dejavu-sans') > 0.09 && ratio('dejavu-sans') < 0.15, String(ratio('dejavu-sans')));

    // legibleStroke: a heavy face made bolder is thinned to the heaviest share, less when compressed;
    // a hairline face thinned is grown to the lightest share; a face in between keeps its offset.
    const digit = 20;
    const heavy = legibleStroke(2, { font: 0.3 * digit, digit, unit: 0.5, xFactor: 1 });
    assert.ok(Math.abs(heavy.total - LEGIBLE.heaviest * digit) < 1e-9 && heavy.offset < 0);
    assert.ok(Math.abs(legibleStroke(2, { font: 0.3 * digit, digit, unit: 0.5, xFactor: 0.7 }).total - LEGIBLE.heaviest * digit * 0.7) < 1e-9);
    const hairline = legibleStroke(-0.5, { font: 0.04 * digit, digit, unit: 0.5, xFactor: 1 });
    assert.ok(Math.abs(hairline.total - LEGIBLE.lightest * digit) < 1e-9 && hairline.offset > 0);
    const book = legibleStroke(0.3, { font: 0.12 * digit, digit, unit: 0.5, xFactor: 1 });
    assert.ok(Math.abs(book.offset - 0.3) < 1e-9 && Math.abs(book.total - (0.12 * digit + 0.6)) < 1e-9, JSON.stringify(book));

    // Drawn: the heaviest face, made as bold as the space allows and compressed, inks no more than
    // the limits let it; without the limits (as before) it filled 0.65 of its ink box.
    const blob = { ...calm(), fonts: ['sigmar-one'], compression: [0.7, 0.7] as [number, number], stroke: { thinShare: 0, thin: [0, 0] as [number, number], bold: [0.03, 0.03] as [number, number] } };
    const box = inkBox(render(blob, 'blob', '8*8=64'));
    const fill = box.pixels / ((box.right - box.left + 1) * (box.bottom - box.top + 1));
    assert.ok(fill < 0.4, `ink fills ${fill.toFixed(2)} of its box`);
    // A hairline face thinned further stays visible (unlimited, it vanished: no pixel under 128).
    const faint = inkBox(render({ ...calm(), fonts: ['amatic-sc'], stroke: { thinShare: 1, thin: [-0.01, -0.01], bold: [0, 0] } }, 'faint', '8*8=64'));
    assert.ok(faint.pixels > 40, `${faint.pixels} dark pixels`);
  });
});
