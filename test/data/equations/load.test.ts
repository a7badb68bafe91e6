import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DataError } from '../../../src/errors';
import { createCsvParser, createLineParser, DEFAULT_MAX_LABELS_BYTES, loadLabeledImages, maxLabelsBytes, parseCsv, type RawRow } from '../../../src/data/equations/load';
import { synthesizeEquations } from '../../../src/data/equations/synth';
import { loadSharp } from '../../../src/image/sharp-io';
import { writePngBomb } from '../../support/png-bomb';

const root = mkdtempSync(join(tmpdir(), 'glyphlab-load-'));

/** Runs `fn` with environment variable `name` set to `value`, then restores it. */
async function withEnv<T>(name: string, value: string, fn: () => Promise<T>): Promise<T> {
  const previous = process.env[name];
  process.env[name] = value;
  try {
    return await fn();
  } finally {
    if (previous === undefined) delete process.env[name];
    else process.env[name] = previous;
  }
}
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
  test('the CSV and line parsers give the same rows whatever pieces the text streams in', () => {
    const csv = 'filename,label\r\n"images/a,b.png","say ""1+1=2"""\r\nimages/c.png,3*3=9\r\r\n"multi\nline",x\nlast,row';
    const lines = 'images/a.png 1+1=2\r\n\r\nimages/b.png   3*3=9\nlast\r\n';
    const whole = (make: (onRow: (row: RawRow) => void) => { push(t: string): void; end(): void }, text: string, cuts: number[]): RawRow[] => {
      const rows: RawRow[] = [];
      const parser = make((row) => rows.push(row));
      let start = 0;
      for (const cut of [...cuts, text.length]) {
        parser.push(text.slice(start, cut));
        start = cut;
      }
      parser.end();
      return rows;
    };
    const csvRows = whole(createCsvParser, csv, []);
    assert.deepEqual(csvRows.map((r) => r.fields), [['filename', 'label'], ['images/a,b.png', 'say "1+1=2"'], ['images/c.png', '3*3=9'], ['multi\nline', 'x'], ['last', 'row']]);
    assert.deepEqual(csvRows.map((r) => r.row), [1, 2, 3, 5, 7]);
    assert.deepEqual(parseCsv(csv), csvRows);
    const lineRows = whole(createLineParser, lines, []);
    assert.deepEqual(lineRows.map((r) => [r.row, ...r.fields]), [[1, 'images/a.png', '1+1=2'], [3, 'images/b.png', '3*3=9'], [4, 'last', '']]);
    // Every place one piece can end and the next begin, and one character at a time.
    for (let cut = 0; cut <= csv.length; cut++) assert.deepEqual(whole(createCsvParser, csv, [cut]), csvRows, `csv cut at ${cut}`);
    for (let cut = 0; cut <= lines.length; cut++) assert.deepEqual(whole(createLineParser, lines, [cut]), lineRows, `lines cut at ${cut}`);
    assert.deepEqual(whole(createCsvParser, csv, Array.from({ length: csv.length }, (_, i) => i)), csvRows);
    assert.deepEqual(whole(createLineParser, lines, Array.from({ length: lines.length }, (_, i) => i)), lineRows);
  });

  test('a labels file above GLYPHLAB_MAX_LABELS_BYTES is refused before it is read, naming its size and the limit', async () => {
    // Issue #37 item 14: a 300 MB labels.csv ended in a V8 out-of-memory abort. A 2 KB one under a 1 KB limit stands in.
    const rows = Array.from({ length: 100 }, (_, i) => `images/00000${i % 6}.png,${i}+1=${i + 1}`).join('\n');
    const dir = await fixture(`filename,label\n${rows}\n`);
    const size = readFileSync(join(dir, 'labels.csv')).length;
    const refused = (e: unknown): boolean =>
      e instanceof DataError &&
      e.message.startsWith(`${join(dir, 'labels.csv')} is ${Number((size / 1024).toFixed(1))} KB (${size} bytes), more than the limit of 1 KB (1024 bytes) for a labels file; GLYPHLAB_MAX_LABELS_BYTES=N (bytes) raises it`) &&
      /--max-old-space-size/.test(e.message);
    await assert.rejects(loadLabeledImages(dir, { skipInvalid: true, maxLabelsBytes: 1024 }), refused);
    await withEnv('GLYPHLAB_MAX_LABELS_BYTES', '1024', () => assert.rejects(loadLabeledImages(dir, { skipInvalid: true }), refused));
    // Under the limit the same file loads (its duplicates reported, not fatal).
    assert.equal((await loadLabeledImages(dir, { skipInvalid: true, maxLabelsBytes: size })).samples.length, 6);
    assert.equal(maxLabelsBytes({}), DEFAULT_MAX_LABELS_BYTES);
    assert.throws(() => maxLabelsBytes({ GLYPHLAB_MAX_LABELS_BYTES: '2GB' }), (e: unknown) => e instanceof ConfigError && /GLYPHLAB_MAX_LABELS_BYTES "2GB" is not valid: expected a whole number of bytes >= 1/.test(e.message));
  });

  test('a labels file or an image that is a FIFO is refused at once, never opened for a read that waits forever', { timeout: 120_000 }, async () => {
    const dir = await fixture('filename,label\nimages/000000.png,1+2=3\nimages/pipe.png,1+1=2\n');
    execFileSync('mkfifo', [join(dir, 'images', 'pipe.png')]);
    for (const check of ['header', 'decode'] as const) {
      await assert.rejects(loadLabeledImages(dir, { check }), (e: unknown) => e instanceof DataError && /row 3 \(images\/pipe\.png\): unreadable-image: .*pipe\.png is a FIFO \(named pipe\), not a regular file/.test(e.message));
    }
    const pipeLabels = join(root, 'pipe-labels');
    mkdirSync(pipeLabels);
    execFileSync('mkfifo', [join(pipeLabels, 'labels.csv')]);
    await assert.rejects(loadLabeledImages(pipeLabels), (e: unknown) => e instanceof DataError && e.message.startsWith(`labels file ${join(pipeLabels, 'labels.csv')} is a FIFO (named pipe), not a file`));
  });

  test('an image file above GLYPHLAB_MAX_IMAGE_BYTES is an invalid row before a byte of it is read, in both modes', async () => {
    // Issue #37 item 14: a PNG padded to 1.5 GB passed `data check --quick`, read whole. A sparse
    // file of 100 MB stands in: it takes neither disk nor memory unless read.
    const dir = await fixture('filename,label\nimages/padded.png,1+1=2\nimages/000000.png,1+2=3\n');
    copyFileSync(join(dir, 'images', '000000.png'), join(dir, 'images', 'padded.png'));
    truncateSync(join(dir, 'images', 'padded.png'), 100 * 2 ** 20);
    for (const check of ['header', 'decode'] as const) {
      await assert.rejects(
        loadLabeledImages(dir, { check }),
        (e: unknown) =>
          e instanceof DataError &&
          /row 2 \(images\/padded\.png\): image-too-large: 100 MB \(104857600 bytes\), more than the limit of 64 MB \(67108864 bytes\) for an image file \(GLYPHLAB_MAX_IMAGE_BYTES=N raises it\)/.test(e.message),
      );
    }
    // A small limit through the option and the variable: the synthesised image of a few KB is refused too.
    const tooLarge = (e: unknown): boolean => e instanceof DataError && /2 of 2 rows are invalid: .*row 3 \(images\/000000\.png\): image-too-large: .* more than the limit of 1000 bytes for an image file/.test(e.message);
    await assert.rejects(loadLabeledImages(dir, { check: 'header', maxBytes: 1000 }), tooLarge);
    await withEnv('GLYPHLAB_MAX_IMAGE_BYTES', '1000', () => assert.rejects(loadLabeledImages(dir, { check: 'header' }), tooLarge));
    // The header check reads only the header: a PNG whose pixels are gone after its IHDR passes it.
    const png = readFileSync(join(dir, 'images', '000000.png'));
    writeFileSync(join(dir, 'images', 'padded.png'), Buffer.concat([png.subarray(0, 33), Buffer.alloc(1000)]));
    assert.equal((await loadLabeledImages(dir, { check: 'header' })).samples.length, 2);
  });
});
