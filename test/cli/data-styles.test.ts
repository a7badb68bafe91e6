/** `glyphlab data synth --style`, `data fonts` and `data explore synth`: the style space from the command line. */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_OK, EXIT_USAGE } from '../../src/cli/main';
import { FONT_FAMILIES } from '../../src/data/fonts';
import { HELD_OUT } from '../../src/data/equations/synth-style';
import { pngDimensions } from '../../src/image/png';
import { cli } from '../support/cli';

const root = mkdtempSync(join(tmpdir(), 'glyphlab-cli-styles-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('glyphlab data and the style space', () => {
  test('synth --style wide writes images of the size asked and records the whole space in synth.json', async () => {
    const dir = join(root, 'wide');
    const result = await cli(['data', 'synth', '--out', dir, '--count', '6', '--style', 'wide', '--width', '150', '--height', '32', '--workers', '0']);
    assert.equal(result.code, EXIT_OK, result.err);
    const manifest = JSON.parse(readFileSync(join(dir, 'synth.json'), 'utf8'));
    assert.equal(manifest.style.preset, 'wide');
    assert.ok(manifest.style.fonts.length > 400);
    assert.deepEqual(pngDimensions(readFileSync(join(dir, 'images', '000000.png'))), { width: 150, height: 32 });
  });

  test('synth --style held-out:NAME and a FILE.json of dimensions; --style with --fonts, or an unknown style, is refused naming the forms', async () => {
    const held = await cli(['data', 'synth', '--out', join(root, 'held'), '--count', '3', '--style', 'held-out:fonts', '--workers', '0']);
    assert.equal(held.code, EXIT_OK, held.err);
    const fonts = JSON.parse(readFileSync(join(root, 'held', 'synth.json'), 'utf8')).style.fonts as string[];
    assert.deepEqual([...new Set(fonts.map((f) => f.split(':')[0]))].sort(), [...HELD_OUT.families].sort());

    const file = join(root, 'style.json');
    writeFileSync(file, JSON.stringify({ preset: 'reference', fonts: ['serif'], anywhere: 1 }));
    const fromFile = await cli(['data', 'synth', '--out', join(root, 'file'), '--count', '3', '--style', file, '--workers', '0']);
    assert.equal(fromFile.code, EXIT_OK, fromFile.err);
    assert.equal(JSON.parse(readFileSync(join(root, 'file', 'synth.json'), 'utf8')).style.anywhere, 1);

    const both = await cli(['data', 'synth', '--out', join(root, 'x'), '--style', 'wide', '--fonts', 'kalam']);
    assert.equal(both.code, EXIT_USAGE);
    assert.match(both.err, /--style sets the fonts, placement and noise itself; give it or --fonts, not both/);
    const unknown = await cli(['data', 'synth', '--out', join(root, 'y'), '--style', 'sparkly']);
    assert.equal(unknown.code, EXIT_USAGE);
    assert.match(unknown.err, /--style "sparkly" is not valid: expected a preset \(reference, wide\), held-out:NAME or a FILE\.json/);
    writeFileSync(join(root, 'bad.json'), '{"rotation": 9}');
    const bad = await cli(['data', 'synth', '--out', join(root, 'z'), '--style', join(root, 'bad.json')]);
    assert.equal(bad.code, EXIT_USAGE);
    assert.match(bad.err, /style rotation 9 must be a number within \[0, 1\]/);
  });

  test('fonts lists every family by category with the held-out ones marked; --json gives the same', async () => {
    const text = await cli(['data', 'fonts']);
    assert.equal(text.code, EXIT_OK, text.err);
    assert.match(text.out, new RegExp(`^${FONT_FAMILIES.length} families, \\d+ faces`));
    for (const category of ['sans', 'serif', 'mono', 'display', 'handwriting']) assert.match(text.out, new RegExp(`^${category} \\(\\d+\\):`, 'm'));
    assert.match(text.out, /kalam( \[\d+\])? \(held out\)/);
    const json = JSON.parse((await cli(['data', 'fonts', '--json'])).out);
    assert.equal(json.categories.reduce((n: number, c: { families: unknown[] }) => n + c.families.length, 0), FONT_FAMILIES.length);
    assert.deepEqual(json.heldOut, [...HELD_OUT.families]);
  });

  test('explore synth writes a page of samples across the space: a row per font category and per held-out style', async () => {
    const out = join(root, 'style.html');
    const result = await cli(['data', 'explore', 'synth:reference', '--out', out]);
    assert.equal(result.code, EXIT_OK, result.err);
    assert.match(result.out, /reference: 1 face/);
    assert.match(result.out, /rows \(sans, held-out fonts, held-out noise, held-out background\)/);
    const html = readFileSync(out, 'utf8');
    assert.equal((html.match(/<img src="data:image\/png;base64,/g) ?? []).length, 4 * 6);
  });
});
