import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/errors';
import { loadLettersCsv } from '../../../src/data/characters/letters-csv';
import { renderLetter, synthesizeLettersCsv } from '../../../src/data/characters/synth-letters';
import { createRng } from '../../../src/util/rng';

/** Centre of mass of the ink of a 28x28 image. */
function inkCentre(pixels: Uint8Array): { x: number; y: number; ink: number } {
  let ink = 0;
  let x = 0;
  let y = 0;
  pixels.forEach((v, i) => {
    ink += v;
    x += v * (i % 28);
    y += v * Math.floor(i / 28);
  });
  return { x: x / ink, y: y / ink, ink };
}

describe('synthetic letters', () => {
  test('a letter is 28x28, bright ink on dark, near the centre, with an empty border; its seed fixes it', () => {
    const image = renderLetter('A', 'caveat', createRng('t'));
    assert.equal(image.length, 784);
    const { x, y, ink } = inkCentre(image);
    assert.ok(ink > 255 * 20, 'enough ink');
    assert.ok(Math.abs(x - 13.5) < 4 && Math.abs(y - 13.5) < 4, `ink centred (${x}, ${y})`);
    for (let i = 0; i < 28; i++) assert.equal(image[i], 0, 'the top row is background');
    assert.deepEqual(renderLetter('A', 'caveat', createRng('t')), image);
    assert.notDeepEqual(renderLetter('A', 'caveat', createRng('u')), image);
    assert.throws(() => renderLetter('a', 'caveat', createRng('t')), (e: unknown) => e instanceof ConfigError && /letters are ABC/.test(e.message));
  });

  test('the CSV has the Kaggle layout and reads back through the letters loader', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glyphlab-letters-'));
    try {
      const made = synthesizeLettersCsv({ outFile: join(dir, 'sub', 'letters.csv'), fonts: ['caveat', 'kalam'], perLetter: 2 });
      assert.equal(made.rows, 2 * 26 * 2);
      assert.deepEqual([...new Set(made.fonts)], ['caveat', 'kalam']);
      const first = readFileSync(made.outFile, 'utf8').split('\n')[0]!.split(',');
      assert.equal(first.length, 785);
      assert.equal(first[0], '0');
      const letters = await loadLettersCsv(made.outFile);
      assert.equal(letters.labels.length, made.rows);
      assert.equal(letters.classes.length, 26);
      assert.deepEqual([...letters.labels.slice(0, 4)], [0, 0, 1, 1]);
      assert.throws(() => synthesizeLettersCsv({ outFile: join(dir, 'x.csv'), fonts: ['comic-sans'] }), /unknown font "comic-sans"/);
      assert.throws(() => synthesizeLettersCsv({ outFile: join(dir, 'x.csv'), perLetter: 0 }), /perLetter 0 must be a positive integer/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('every handwriting font has all 26 capitals', () => {
    for (const font of ['caveat', 'indie-flower', 'patrick-hand', 'kalam', 'shadows-into-light', 'homemade-apple', 'gloria-hallelujah', 'architects-daughter', 'reenie-beanie', 'rock-salt', 'coming-soon', 'nothing-you-could-do', 'la-belle-aurore', 'dawning-of-a-new-day']) {
      assert.equal(renderLetter('Z', font, createRng(font)).length, 784, font);
    }
  });
});
