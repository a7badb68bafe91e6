import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createRawImage } from '../../src/image/raw-image';
import { encodePng } from '../../src/image/png';
import { imageFileBytes, imageFileDataUri, markedDifferenceHtml, misreadGalleryHtml } from '../../src/viz/misread-charts';

describe('misread charts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'glyphlab-misreads-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('differences are marked on both lines, aligned: substituted, dropped, added', () => {
    assert.deepEqual(markedDifferenceHtml('1+2=3', '1+2=3'), { truth: '1+2=3', read: '1+2=3' });
    const substituted = markedDifferenceHtml('1+2=3', '1+2=8');
    assert.match(substituted.truth, /^1\+2=<mark[^>]*>3<\/mark>$/);
    assert.match(substituted.read, /^1\+2=<mark[^>]*>8<\/mark>$/);
    const dropped = markedDifferenceHtml('2+2=4', '2+24');
    assert.match(dropped.truth, /^2\+2<mark[^>]*>=<\/mark>4$/);
    assert.match(dropped.read, /^2\+2<mark[^>]*>∅<\/mark>4$/);
    const added = markedDifferenceHtml('<1', '<12');
    assert.match(added.truth, /^&lt;1<mark[^>]*>∅<\/mark>$/, 'escaped, and the added character shows as ∅ in the truth');
  });

  test('PNG and JPEG files become data URIs of their own type', async () => {
    const png = join(dir, 'a.png');
    writeFileSync(png, encodePng(createRawImage(4, 3, 1, [200])));
    const jpeg = join(dir, 'b.jpg.png'); // the name lies; the bytes decide
    await sharp({ create: { width: 4, height: 3, channels: 3, background: '#888' } }).jpeg().toFile(jpeg);
    assert.match((imageFileDataUri(png) as { src: string }).src, /^data:image\/png;base64,iVBORw0KGgo/);
    assert.match((imageFileDataUri(jpeg) as { src: string }).src, /^data:image\/jpeg;base64,/);
  });

  test('imageFileBytes: the file\'s own bytes and type by its first bytes; too large in the caller\'s words or neutral ones', () => {
    const png = join(dir, 'c.png');
    const bytes = encodePng(createRawImage(5, 2, 1, [90]));
    writeFileSync(png, bytes);
    const image = imageFileBytes(png);
    assert.ok('bytes' in image, JSON.stringify(image));
    assert.equal(image.mime, 'image/png');
    assert.deepEqual(image.bytes, Buffer.from(bytes));
    const small = { maxBytes: bytes.length - 1 };
    assert.deepEqual(imageFileBytes(png, small), { problem: `${png} is ${bytes.length} bytes, more than the ${bytes.length - 1} bytes limit for a misread image` });
    assert.match((imageFileBytes(png, { ...small, limitName: 'that --max-image-bytes allows' }) as { problem: string }).problem, /more than the \d+ bytes that --max-image-bytes allows$/);
    writeFileSync(join(dir, 'd.png'), 'text');
    assert.deepEqual(imageFileBytes(join(dir, 'd.png')), { problem: `${join(dir, 'd.png')} is not a PNG, JPEG, GIF or WebP picture` });
  });

  test('a missing, oversized, non-image or FIFO file is named in its row, never read whole', () => {
    const big = join(dir, 'big.png');
    writeFileSync(big, Buffer.alloc(5000, 1));
    const text = join(dir, 'notes.png');
    writeFileSync(text, 'not a picture');
    const fifo = join(dir, 'pipe.png');
    const made = spawnSync('mkfifo', [fifo]);
    const rows = [
      { path: join(dir, 'gone.png'), truth: '1', read: '2' },
      { path: big, truth: '3', read: '4' },
      { path: text, truth: '5', read: '6' },
      ...(made.status === 0 ? [{ path: fifo, truth: '7', read: '8' }] : []),
    ];
    const html = misreadGalleryHtml(rows, { maxImageBytes: 1000 });
    assert.doesNotMatch(html, /<img /);
    assert.match(html, /image missing: .*gone\.png/);
    assert.match(html, /big\.png is 4\.9 KB \(5000 bytes\), more than the 1000 bytes a page inlines \(maxImageBytes raises it\)/);
    assert.match(html, /notes\.png is not a PNG, JPEG, GIF or WebP picture/);
    if (made.status === 0) assert.match(html, /pipe\.png is a FIFO \(named pipe\), not a regular file/);
    assert.equal(html.match(/<tr>/g)?.length, rows.length + 1, 'every misread keeps its row');
  });

  test('at most maxImages rows; an empty list says so', () => {
    const rows = Array.from({ length: 30 }, (_, i) => ({ path: join(dir, `none-${i}.png`), truth: String(i), read: `${i}x` }));
    const html = misreadGalleryHtml(rows);
    assert.equal(html.match(/<tr>/g)?.length, 25, 'a header and 24 rows by default');
    assert.match(html, /24 of 30 misreads shown/);
    assert.equal(misreadGalleryHtml([]), '<p class="glyphlab-misreads-empty">No misread images.</p>');
    assert.doesNotMatch(html, /<th>CER<\/th>/, 'no CER column when none is given');
  });
});
