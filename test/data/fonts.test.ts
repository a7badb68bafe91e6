import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ConfigError, DataError } from '../../src/errors';
import {
  FONT_FAMILIES,
  FONT_FAMILIES_BY_CATEGORY,
  FONT_GROUPS,
  fontCategory,
  fontFaces,
  fontFilePath,
  type GlyphSet,
  loadGlyphSet,
  parseFontFace,
  resolveFontNames,
  SYNTH_FONT_NAMES,
  SYNTH_FONTS,
} from '../../src/data/fonts';
import { EQUATION_ALPHABET } from '../../src/labels/alphabet';

/** One string per glyph outline, so that two glyphs (or two faces) drawn alike compare equal. */
function outlineKey(set: GlyphSet, char: string): string {
  const glyph = set.glyphs.get(char);
  assert.ok(glyph, `${set.name} lacks ${char}`);
  return glyph.contours.map((contour) => Array.from(contour, (v) => Math.round(v)).join(',')).join('|');
}

describe('the font catalog', () => {
  // The real check of the catalog: it reads every font file once.
  test('every face of every family loads, with all 16 equation glyphs as distinct outlines, and differs from its family\'s other faces', () => {
    let faceCount = 0;
    for (const family of FONT_FAMILIES) {
      const faces = fontFaces(family);
      assert.equal(faces[0], family, `${family}: the regular face comes first`);
      const faceKeys = new Set<string>();
      for (const face of faces) {
        const set = loadGlyphSet(face, EQUATION_ALPHABET);
        assert.equal(set.glyphs.size, EQUATION_ALPHABET.length, face);
        assert.ok(set.digitHeight > 0, `${face}: digit height`);
        const keys = [...EQUATION_ALPHABET].map((char) => {
          const glyph = set.glyphs.get(char);
          assert.ok(glyph && glyph.contours.length > 0 && glyph.advance > 0, `${face} ${char}: an outline with an advance`);
          return outlineKey(set, char);
        });
        assert.equal(new Set(keys).size, keys.length, `${face}: two of ${EQUATION_ALPHABET} share an outline`);
        const faceKey = keys.join('\n');
        assert.ok(!faceKeys.has(faceKey), `${face} draws the same glyphs as another face of ${family}`);
        faceKeys.add(faceKey);
        faceCount++;
      }
    }
    assert.ok(faceCount >= 2 * FONT_FAMILIES.length, `${faceCount} faces for ${FONT_FAMILIES.length} families`);
  });

  test('meets the minimum per category, keeps the 17 first families, and installs each family at an exact version', () => {
    const counts = Object.fromEntries(Object.entries(FONT_FAMILIES_BY_CATEGORY).map(([category, families]) => [category, families.length]));
    assert.ok(FONT_FAMILIES.length >= 110, `${FONT_FAMILIES.length} families`);
    for (const category of ['sans', 'serif', 'handwriting', 'display'] as const) assert.ok(counts[category]! >= 20, `${category}: ${counts[category]}`);
    assert.ok(counts.mono! >= 12, `mono: ${counts.mono}`);
    assert.equal(new Set(FONT_FAMILIES).size, FONT_FAMILIES.length, 'a family in two categories');
    assert.deepEqual(SYNTH_FONT_NAMES.filter((family) => !FONT_FAMILIES.includes(family)), []);
    assert.ok(FONT_FAMILIES.filter((family) => fontFaces(family).includes(`${family}:bold`)).length >= 30, 'families with a bold face');
    assert.ok(FONT_FAMILIES.filter((family) => fontFaces(family).includes(`${family}:italic`)).length >= 15, 'families with an italic face');
    const dependencies = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies;
    for (const family of FONT_FAMILIES) assert.match(dependencies[`@fontsource/${family}`] ?? 'missing', /^\d+\.\d+\.\d+$/, family);
  });

  test('fontCategory reads the family of a face and rejects a name outside the catalog', () => {
    assert.equal(fontCategory('caveat'), 'handwriting');
    assert.equal(fontCategory('caveat:bold'), 'handwriting');
    assert.equal(fontCategory('roboto-mono:bold-italic'), 'mono');
    assert.equal(fontCategory('lato:italic'), 'sans');
    assert.equal(fontCategory('noto-serif'), 'serif');
    assert.equal(fontCategory('bungee'), 'display');
    assert.throws(() => fontCategory('comic-sans'), ConfigError);
  });

  test('fontFaces lists the faces whose files exist, regular first', () => {
    assert.deepEqual(fontFaces('lato'), ['lato', 'lato:bold', 'lato:italic', 'lato:bold-italic']);
    assert.deepEqual(fontFaces('caveat'), ['caveat', 'caveat:bold']);
    assert.deepEqual(fontFaces('dm-mono'), ['dm-mono', 'dm-mono:italic']);
    assert.deepEqual(fontFaces('bungee'), ['bungee']);
    assert.throws(() => fontFaces('comic-sans'), ConfigError);
  });

  test('parseFontFace and fontFilePath map each face to its weight, style and file', () => {
    assert.deepEqual(parseFontFace('lato'), { family: 'lato', weight: 400, style: 'normal' });
    assert.deepEqual(parseFontFace('lato:bold'), { family: 'lato', weight: 700, style: 'normal' });
    assert.deepEqual(parseFontFace('lato:italic'), { family: 'lato', weight: 400, style: 'italic' });
    assert.deepEqual(parseFontFace('lato:bold-italic'), { family: 'lato', weight: 700, style: 'italic' });
    assert.equal(basename(fontFilePath('lato:bold-italic')), 'lato-latin-700-italic.woff');
    assert.equal(basename(fontFilePath('dejavu-sans')), 'dejavu-sans-latin-400-normal.woff');
    assert.ok(existsSync(fontFilePath('lato:bold-italic')));
    assert.notEqual(outlineKey(loadGlyphSet('lato:bold', '0'), '0'), outlineKey(loadGlyphSet('lato', '0'), '0'));
  });
});

describe('resolveFontNames', () => {
  test('keeps the first groups as they were: all is the 17 first families, regular faces', () => {
    assert.deepEqual(resolveFontNames(['all']), [...SYNTH_FONT_NAMES]);
    assert.equal(resolveFontNames(['all']).length, 17);
    assert.deepEqual(resolveFontNames(['print']), [...SYNTH_FONTS.print]);
    assert.deepEqual(resolveFontNames(['handwriting']), [...SYNTH_FONTS.handwriting]);
    assert.deepEqual(resolveFontNames(['print,caveat', 'dejavu-sans']), [...SYNTH_FONTS.print, 'caveat']);
  });

  test('accepts families, faces and family:* in order, without repeats', () => {
    assert.deepEqual(resolveFontNames(['lato', 'caveat:bold', 'lato']), ['lato', 'caveat:bold']);
    assert.deepEqual(resolveFontNames(['pt-serif:*']), ['pt-serif', 'pt-serif:bold', 'pt-serif:italic', 'pt-serif:bold-italic']);
    assert.deepEqual(resolveFontNames(['bungee:*, bungee']), ['bungee']);
    assert.deepEqual(resolveFontNames(['lekton:bold, lekton:*']), ['lekton:bold', 'lekton', 'lekton:italic']);
  });

  test('expands the catalog groups', () => {
    for (const category of ['sans', 'serif', 'mono', 'display'] as const) {
      assert.deepEqual(resolveFontNames([category]), [...FONT_FAMILIES_BY_CATEGORY[category]], category);
    }
    assert.deepEqual(resolveFontNames(['script']), [...FONT_FAMILIES_BY_CATEGORY.handwriting]);
    assert.deepEqual(resolveFontNames(['catalog']), [...FONT_FAMILIES]);
    const faces = resolveFontNames(['faces']);
    assert.deepEqual(faces, FONT_FAMILIES.flatMap((family) => fontFaces(family)));
    assert.ok(faces.includes('lato:bold-italic') && faces.includes('caveat:bold') && !faces.includes('caveat:italic'));
    assert.deepEqual(Object.keys(FONT_GROUPS), ['print', 'handwriting', 'all', 'sans', 'serif', 'mono', 'display', 'script', 'catalog', 'faces']);
  });

  test('rejects an unknown name with the accepted kinds and groups, not the whole list', () => {
    for (const name of ['robotto', 'robotto:bold', 'robotto:*']) {
      const error = (() => {
        try {
          resolveFontNames(['lato', name]);
        } catch (caught) {
          return caught;
        }
        assert.fail(`${name} was accepted`);
      })();
      assert.ok(error instanceof ConfigError);
      assert.ok(error.message.includes(JSON.stringify(name)), error.message);
      assert.match(error.message, /glyphlab data fonts/);
      assert.match(error.message, /FONT_FAMILIES/);
      assert.match(error.message, /print, handwriting, all, sans, serif, mono, display, script, catalog, faces/);
      assert.match(error.message, /did you mean roboto,/);
      assert.ok(!error.message.includes('zilla-slab'), 'the error lists every family');
    }
  });

  test('rejects a face its family lacks (ConfigError) and a loader asked for it says which file is missing (DataError)', () => {
    assert.throws(() => resolveFontNames(['caveat:italic']), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /caveat:italic/);
      assert.match(error.message, /its faces are caveat, caveat:bold$/);
      return true;
    });
    assert.throws(() => resolveFontNames(['caveat:heavy']), /unknown face "heavy" in font "caveat:heavy".*caveat:bold-italic/);
    for (const load of [() => fontFilePath('caveat:italic'), () => loadGlyphSet('caveat:italic', '0')]) {
      assert.throws(load, (error: unknown) => {
        assert.ok(error instanceof DataError);
        assert.match(error.message, /font face caveat:italic .*caveat-latin-400-italic\.woff/);
        return true;
      });
    }
  });
});
