import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError } from '../../src/errors';
import { loadIamLines, parseIamForms, readIamLineImages } from '../../src/writers/iam';
import { encodePng } from '../../src/image/png';
import { createRawImage } from '../../src/image/raw-image';
import { writeFakeIam, writeIamLayout } from '../support/iam';

const FORMS = `#--- forms.txt ---------------------------------------------------------------#
#
# format: a01-000u 000 2 prt 7 5 52 36
#
a01-000u 000 2 prt 3 3 20 20
a01-003 001 2 all 2 2 15 15
b02-010 002 1 prt 1 1 6 6
`;

const LINES = `#--- lines.txt ---------------------------------------------------------------#
# format: a01-000u-00 ok 154 19 408 746 1661 89 A|MOVE|to|stop|Mr.|Gaitskell|from
a01-000u-00 ok 154 19 408 746 1661 89 A|MOVE|to|stop|Mr.|Gaitskell|from
a01-000u-01 ok 156 19 395 932 1850 105 nominating|any|more|Labour
a01-000u-02 err 157 16 408 1106 1986 91 Sir|Roy|Welensky
a01-003-00 ok 170 12 355 717 1820 84 He|is|to|be|interviewed
a01-003-01 ok 170 11 370 874 1612 93 on|Monday
b02-010-00 ok 180 9 400 700 1500 90 The|end
`;

let root: string;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'glyphlab-iam-'));
  writeIamLayout(join(root, 'ok'), FORMS, LINES);
});

after(() => rmSync(root, { recursive: true, force: true }));

describe('loadIamLines', () => {
  test('maps lines to writers through forms.txt, with IAM paths and texts', () => {
    const set = loadIamLines(join(root, 'ok'));
    assert.equal(set.lines.length, 6);
    const first = set.lines[0];
    assert.equal(first?.writerId, '000');
    assert.equal(first?.formId, 'a01-000u');
    assert.equal(first?.text, 'A MOVE to stop Mr. Gaitskell from');
    assert.deepEqual(first?.box, [408, 746, 1661, 89]);
    assert.equal(first?.path, join(root, 'ok', 'lines', 'a01', 'a01-000u', 'a01-000u-00.png'));
    assert.equal(set.lines.find((l) => l.lineId === 'a01-003-01')?.writerId, '001');
    assert.deepEqual(set.writers, ['000', '001', '002']);
    assert.deepEqual([...set.linesPerWriter], [['000', 3], ['001', 2], ['002', 1]]);
  });

  test('keeps the writers with the most lines and counts what it leaves out', () => {
    const set = loadIamLines(join(root, 'ok'), { topWriters: 2, skipSegmentationErrors: true });
    assert.deepEqual(set.writers, ['000', '001']);
    assert.equal(set.lines.length, 4);
    assert.deepEqual(set.excluded, { segmentation: 1, otherWriters: 1 });
  });

  test('a malformed row is a DataError naming the file and line', () => {
    const dir = join(root, 'bad-lines');
    writeIamLayout(dir, FORMS, LINES.replace('a01-003-00 ok 170 12', 'a01-003-00 maybe 170 12'), false);
    assert.throws(
      () => loadIamLines(dir, { checkImages: false }),
      (error: unknown) => error instanceof DataError && error.message.includes(`${join(dir, 'ascii', 'lines.txt')}:6`) && error.message.includes('a01-003-00 maybe'),
    );
  });

  test('a bad forms.txt row, an unknown form and missing images are DataErrors', () => {
    const formsDir = join(root, 'bad-forms');
    writeIamLayout(formsDir, FORMS.replace('a01-003 001 2 all', 'a01-003 abc 2 all'), LINES, false);
    assert.throws(() => parseIamForms(join(formsDir, 'ascii', 'forms.txt')), /forms\.txt:6: malformed forms\.txt row "a01-003 abc/);

    const unknownDir = join(root, 'unknown-form');
    writeIamLayout(unknownDir, FORMS.replace('b02-010 002 1 prt 1 1 6 6\n', ''), LINES, false);
    assert.throws(() => loadIamLines(unknownDir, { checkImages: false }), /lines\.txt:8: line b02-010-00 belongs to form b02-010, which .* does not list/);

    const noImages = join(root, 'no-images');
    writeIamLayout(noImages, FORMS, LINES, false);
    assert.throws(() => loadIamLines(noImages), /6 of 6 line images listed in .* are missing, e\.g\. .*a01-000u-00\.png/);
    assert.throws(() => loadIamLines(join(root, 'nowhere')), /IAM folder .*nowhere does not exist/);
    mkdirSync(join(root, 'empty'));
    assert.throws(() => loadIamLines(join(root, 'empty')), /no forms\.txt in/);
  });
});

describe('readIamLineImages', () => {
  test('decodes line images to grayscale with their writers; a broken file is a DataError naming it', async () => {
    const set = loadIamLines(join(root, 'ok'), { topWriters: 1 });
    const first = set.lines[0]!;
    writeFileSync(first.path, encodePng(createRawImage(30, 20, 3, [200, 10, 10])));
    const [image] = await readIamLineImages([first], { height: 10 });
    assert.equal(image?.writerId, '000');
    assert.deepEqual([image?.image.width, image?.image.height, image?.image.channels], [15, 10, 1]);
    await assert.rejects(() => readIamLineImages([set.lines[1]!]), /IAM line a01-000u-01: cannot decode .*a01-000u-01\.png/);
  });
});

describe('a fabricated IAM copy of synthetic writers', () => {
  test('loads through forms.txt and lines.txt and decodes every line with its writer', async () => {
    const dir = join(root, 'fake');
    writeFakeIam(dir, { writers: 2, linesPerWriter: 3, height: 30, maxWidth: 120 });
    const set = loadIamLines(dir);
    assert.deepEqual(set.writers, ['000', '001']);
    assert.deepEqual([...set.linesPerWriter.values()], [3, 3]);
    const images = await readIamLineImages(set.lines);
    assert.deepEqual(images.map((l) => l.writerId), ['000', '000', '000', '001', '001', '001']);
    for (const line of images) {
      assert.equal(line.image.height, 30);
      assert.ok(line.image.width > 30 && line.image.width <= 120, `${line.lineId} is ${line.image.width} wide`);
      assert.ok(line.image.data.some((v) => v < 128), `${line.lineId} has no ink`);
    }
  });
});
