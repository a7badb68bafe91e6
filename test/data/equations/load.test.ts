import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError } from '../../../src/errors';
import { loadLabeledImages, parseCsv } from '../../../src/data/equations/load';
import { synthesizeEquations } from '../../../src/data/equations/synth';
import { loadSharp } from '../../../src/image/sharp-io';
import { writePngBomb } from '../../support/png-bomb';

const root = mkdtempSync(join(tmpdir(), 'glyphlab-load-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
let counter = 0;

/** A folder with 6 good synthesised images plus extra files, and a labels file. */
async function fixture(labels: string, fileName = 'labels.csv'): Promise<string> {
  const dir = join(root, `set-${counter++}`);
  await synthesizeEquations({ outDir: dir, count: 6, seed: 'load', workers: 0 });
  copyFileSync(join(dir, 'images', '000000.png'), join(dir, 'images', 'copy.png'));
  const png = readFileSync(join(dir, 'images', '000001.png'));
  writeFileSync(join(dir, 'images', 'torn.png'), png.subarray(0, png.length >> 1));
  writeFileSync(join(dir, 'images', 'junk.jpg'), 'not a jpeg at all');
  await loadSharp()({ create: { width: 120, height: 40, channels: 3, background: '#eeeeee' } }).jpeg().toFile(join(dir, 'images', 'photo.jpg'));
  if (fileName !== 'labels.csv') rmSync(join(dir, 'labels.csv'));
  writeFileSync(join(dir, fileName), labels);
  return dir;
}

describe('loadLabeledImages', () => {
  test('loads a labels.csv with images of any size', async () => {
    const dir = await fixture('filename,label\nimages/000000.png,1+2=3\n"images/photo.jpg","(1-8)*4=-28"\n');
    const set = await loadLabeledImages(dir);
    assert.deepEqual(set.samples.map((s) => [s.filename, s.label, s.row]), [['images/000000.png', '1+2=3', 2], ['images/photo.jpg', '(1-8)*4=-28', 3]]);
    assert.equal(set.invalid.length, 0);
  });

  test('loads a text file of "filename label" lines', async () => {
    const dir = await fixture('images/000000.png 7+8*2=23\n\nimages/000002.png   9-(7-4)=6\n', 'labels.txt');
    const set = await loadLabeledImages(dir);
    assert.deepEqual(set.samples.map((s) => [s.label, s.row]), [['7+8*2=23', 1], ['9-(7-4)=6', 3]]);
  });

  const badRows: [string, string, RegExp][] = [
    ['missing image', 'images/nope.png,1+1=2', /row 3 \(images\/nope\.png\): missing-image/],
    ['corrupt PNG', 'images/torn.png,1+1=2', /row 3 \(images\/torn\.png\): corrupt-image/],
    ['corrupt JPEG', 'images/junk.jpg,1+1=2', /row 3 \(images\/junk\.jpg\): corrupt-image/],
    ['unreadable (a folder)', 'images,1+1=2', /row 3 \(images\): unreadable-image/],
    ['character outside the alphabet', 'images/000002.png,1+x=2', /row 3 .*bad-character.*"x"/],
    ['empty label', 'images/000002.png,', /row 3 .*empty-label/],
    ['duplicate file', 'images/000000.png,1+1=2', /row 3 .*duplicate-file: the same file as row 2/],
  ];
  for (const [kind, row, pattern] of badRows) {
    test(`fails with one DataError naming the row: ${kind}`, async () => {
      const dir = await fixture(`filename,label\nimages/000000.png,1+2=3\n${row}\nimages/000003.png,4-1=3\n`);
      await assert.rejects(loadLabeledImages(dir), (e: unknown) => {
        assert.ok(e instanceof DataError);
        assert.match(e.message, pattern);
        assert.match(e.message, /1 of 3 rows are invalid/);
        assert.match(e.message, /skip-invalid/);
        return true;
      });
    });
  }

  test('skipInvalid drops bad rows and reports how many and why', async () => {
    const dir = await fixture(
      'filename,label\nimages/000000.png,1+2=3\nimages/nope.png,1+1=2\nimages/torn.png,1+1=2\nimages/000002.png,1+x=2\nimages/000000.png,2+2=4\nimages/000003.png,\nimages/000004.png,3*3=9\n',
    );
    const set = await loadLabeledImages(dir, { skipInvalid: true });
    assert.deepEqual(set.samples.map((s) => s.row), [2, 8]);
    assert.equal(set.invalid.length, 5);
    assert.deepEqual(set.invalidCounts, { 'missing-image': 1, 'corrupt-image': 1, 'bad-character': 1, 'duplicate-file': 1, 'empty-label': 1 });
    assert.deepEqual(set.invalid.map((r) => r.row), [3, 4, 5, 6, 7]);
  });

  test('header-only checking misses a torn PNG that decoding catches', async () => {
    const dir = await fixture('filename,label\nimages/torn.png,1+1=2\nimages/000000.png,1+2=3\n');
    const quick = await loadLabeledImages(dir, { check: 'header' });
    assert.equal(quick.samples.length, 2);
    await assert.rejects(loadLabeledImages(dir), DataError);
  });

  test('parseCsv handles quotes, commas inside quotes and CRLF', () => {
    const rows = parseCsv('a,b\r\n"x,1","say ""hi"""\r\n\r\nlast,row');
    assert.deepEqual(rows.map((r) => r.fields), [['a', 'b'], ['x,1', 'say "hi"'], ['last', 'row']]);
    assert.deepEqual(rows.map((r) => r.row), [1, 2, 4]);
  });

  test('a labels file that is a folder, and a data folder that is a file, are DataErrors naming them', async () => {
    const dir = join(root, 'labels-folder');
    mkdirSync(join(dir, 'labels.csv'), { recursive: true });
    const named = (path: string, what: RegExp) => (e: unknown) => e instanceof DataError && e.message.includes(path) && what.test(e.message);
    await assert.rejects(loadLabeledImages(dir), named(join(dir, 'labels.csv'), /is a folder, not a file/));
    await assert.rejects(loadLabeledImages(dir, { labelsFile: 'labels.csv' }), named(join(dir, 'labels.csv'), /is a folder, not a file/));
    writeFileSync(join(dir, 'data.txt'), 'x');
    await assert.rejects(loadLabeledImages(join(dir, 'data.txt')), named(join(dir, 'data.txt'), /is a file; give the folder/));
  });

  test('a folder without a labels file says what it expected', async () => {
    const dir = join(root, 'empty');
    await synthesizeEquations({ outDir: dir, count: 1, workers: 0 });
    rmSync(join(dir, 'labels.csv'));
    await assert.rejects(loadLabeledImages(dir), /expected labels\.csv/);
  });

  test('an image whose header declares more than the pixel limit is invalid before it is decoded, in both modes', async () => {
    const dir = await fixture('filename,label\nimages/bomb.png,1+1=2\nimages/000000.png,1+2=3\n');
    // 1.1 MB of PNG, 16000x16000 pixels: 256 MB to decode as grayscale, 768 MB as RGB.
    await writePngBomb(join(dir, 'images', 'bomb.png'), 16000, 16000);
    for (const check of ['header', 'decode'] as const) {
      await assert.rejects(
        loadLabeledImages(dir, { check }),
        (e: unknown) => e instanceof DataError && /row 2 \(images\/bomb\.png\): image-too-large: 16000x16000 = 256000000 pixels, more than the limit of 50000000 \(GLYPHLAB_MAX_IMAGE_PIXELS=N raises it\)/.test(e.message),
      );
      const skipped = await loadLabeledImages(dir, { check, skipInvalid: true });
      assert.deepEqual([skipped.samples.length, skipped.invalidCounts], [1, { 'image-too-large': 1 }]);
    }
    assert.equal((await loadLabeledImages(dir, { check: 'header', maxPixels: 256_000_000 })).samples.length, 2, 'maxPixels raises the limit');
    const previous = process.env['GLYPHLAB_MAX_IMAGE_PIXELS'];
    process.env['GLYPHLAB_MAX_IMAGE_PIXELS'] = '300000000';
    try {
      assert.equal((await loadLabeledImages(dir, { check: 'header' })).samples.length, 2, 'and so does GLYPHLAB_MAX_IMAGE_PIXELS');
    } finally {
      if (previous === undefined) delete process.env['GLYPHLAB_MAX_IMAGE_PIXELS'];
      else process.env['GLYPHLAB_MAX_IMAGE_PIXELS'] = previous;
    }
  });
});
