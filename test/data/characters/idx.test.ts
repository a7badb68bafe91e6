import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { DEBIAN_FASHION_MNIST_DIR, encodeIdx, FASHION_MNIST_CLASSES, loadIdxDataset, loadIdxDirectory, parseIdx, readIdxFile } from '../../../src/data/characters/idx';
import { DataError } from '../../../src/errors';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'glyphlab-idx-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Three 2x3 images whose pixel values encode (image, position), and labels 2, 0, 1. */
function fixture(): { images: Buffer; labels: Buffer } {
  const pixels = Array.from({ length: 3 * 6 }, (_, i) => (i * 13) % 256);
  return { images: encodeIdx({ type: 'uint8', shape: [3, 2, 3], data: pixels }), labels: encodeIdx({ type: 'uint8', shape: [3], data: [2, 0, 1] }) };
}

describe('parseIdx', () => {
  test('decodes the header and values of raw and gzipped files alike', () => {
    const { images } = fixture();
    for (const bytes of [images, gzipSync(images)]) {
      const array = parseIdx(bytes, 'f');
      assert.equal(array.type, 'uint8');
      assert.deepEqual(array.shape, [3, 2, 3]);
      assert.equal(array.data[7], (7 * 13) % 256);
    }
  });

  test('reads big-endian int32 values', () => {
    const buffer = Buffer.alloc(4 + 4 + 8);
    buffer.writeUInt32BE(0x00000c01, 0);
    buffer.writeUInt32BE(2, 4);
    buffer.writeInt32BE(-5, 8);
    buffer.writeInt32BE(70000, 12);
    const array = parseIdx(buffer);
    assert.equal(array.type, 'int32');
    assert.deepEqual([...array.data], [-5, 70000]);
  });

  test('a wrong magic number names the file and what IDX looks like', () => {
    const bad = Buffer.from('PK\u0003\u0004 not idx at all');
    assert.throws(() => parseIdx(bad, 'zipped.bin'), (e: unknown) => e instanceof DataError && /zipped\.bin: magic number 0x504b0304 at byte 0 is not IDX/.test(e.message) && /0x00000803/.test(e.message));
  });

  test('a truncated file says how many bytes were expected and how many items are complete', () => {
    const { images } = fixture();
    const cut = images.subarray(0, images.length - 4);
    assert.throws(() => parseIdx(cut, 'cut.idx'), (e: unknown) => e instanceof DataError && /cut\.idx: truncated: header shape \[3, 2, 3\] of uint8 needs 34 bytes, file has 30; only 2 of 3 items are complete/.test(e.message));
    assert.throws(() => parseIdx(images.subarray(0, 10), 'h.idx'), /h\.idx: truncated header: 3 dimensions need 16 header bytes, file has 10/);
    assert.throws(() => parseIdx(gzipSync(images).subarray(0, 20), 'g.gz'), /g\.gz: gzip data is corrupt or truncated/);
  });

  test('gzipped images are checked from the header: above the pixel limit, or more data than declared, before inflating it all', () => {
    // One 8000x8000 image: 64 MB of pixels in 63 kB of gzip.
    const header = Buffer.alloc(16);
    header.writeUInt32BE(0x00000803, 0);
    header.writeUInt32BE(1, 4);
    header.writeUInt32BE(8000, 8);
    header.writeUInt32BE(8000, 12);
    const big = gzipSync(Buffer.concat([header, Buffer.alloc(8000 * 8000)]), { level: 1 });
    assert.throws(() => parseIdx(big, 'big.gz'), (e: unknown) => e instanceof DataError && /^big\.gz: each of its 1 images is 8000x8000 = 64000000 pixels, more than the limit of 50000000/.test(e.message));
    // A 2x2 image followed by a megabyte the header does not declare (random at first, so that the gzip is not tiny).
    const small = encodeIdx({ type: 'uint8', shape: [1, 2, 2], data: [1, 2, 3, 4] });
    const padded = gzipSync(Buffer.concat([small, randomBytes(16384), Buffer.alloc(1 << 20)]));
    assert.ok(padded.length > 16384);
    assert.throws(() => parseIdx(padded, 'padded.gz'), /padded\.gz: the gzip data holds more than the 20 bytes its header declares \(shape \[1, 2, 2\] of uint8\)/);
  });

  test('trailing bytes are an error, not silently dropped', () => {
    const { labels } = fixture();
    assert.throws(() => parseIdx(Buffer.concat([labels, Buffer.from([1, 2])]), 'l.idx'), /l\.idx: 2 unexpected bytes after the 3 values/);
  });
});

describe('loadIdxDataset / loadIdxDirectory', () => {
  test('loads images scaled to [0, 1] with their labels, from raw and .gz files', () => {
    withDir((dir) => {
      const { images, labels } = fixture();
      writeFileSync(join(dir, 'train-images-idx3-ubyte'), images);
      writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(labels));
      const { train, test: testPart } = loadIdxDirectory(dir);
      assert.equal(testPart, undefined);
      assert.ok(train);
      assert.deepEqual([train.height, train.width], [2, 3]);
      assert.deepEqual([...train.labels], [2, 0, 1]);
      assert.deepEqual(train.classes.slice(0, 3), ['0', '1', '2']);
      assert.ok(Math.abs(train.images[7]! - ((7 * 13) % 256) / 255) < 1e-6);
    });
  });

  test('a label count that differs from the image count names both files', () => {
    withDir((dir) => {
      const { images } = fixture();
      writeFileSync(join(dir, 'imgs'), images);
      writeFileSync(join(dir, 'lbls'), encodeIdx({ type: 'uint8', shape: [2], data: [0, 1] }));
      assert.throws(() => loadIdxDataset(join(dir, 'imgs'), join(dir, 'lbls')), /lbls: 2 labels but .*imgs holds 3 images/);
    });
  });

  test('a FIFO or a device is refused before it is read', { timeout: 120_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'glyphlab-idx-fifo-'));
    try {
      const fifo = join(dir, 'train-images-idx3-ubyte');
      execFileSync('mkfifo', [fifo]);
      assert.throws(() => readIdxFile(fifo), (e: unknown) => e instanceof DataError && e.message === `${fifo} is a FIFO (named pipe), not a regular file: expected an IDX file`);
      assert.throws(() => readIdxFile('/dev/zero'), (e: unknown) => e instanceof DataError && /^\/dev\/zero is a character device, not a regular file/.test(e.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('labels beyond the given classes and swapped files are errors', () => {
    withDir((dir) => {
      const { images, labels } = fixture();
      writeFileSync(join(dir, 'imgs'), images);
      writeFileSync(join(dir, 'lbls'), labels);
      assert.throws(() => loadIdxDataset(join(dir, 'imgs'), join(dir, 'lbls'), { classes: ['a', 'b'] }), /lbls: label 2 at item 0 \(byte 8\) is outside 0-1/);
      assert.throws(() => loadIdxDataset(join(dir, 'lbls'), join(dir, 'imgs')), /lbls: expected uint8 images of shape \[n, rows, cols\]/);
      assert.throws(() => readIdxFile(join(dir, 'missing')), /missing: cannot read the IDX file/);
      assert.throws(() => loadIdxDirectory(join(dir, 'nope')), /IDX folder not found/);
      assert.throws(() => loadIdxDirectory(dir), /no IDX files found/);
    });
  });

  const fashion = existsSync(join(DEBIAN_FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz'));
  test(
    "reads Debian's real Fashion-MNIST test files",
    { skip: fashion ? false : `${DEBIAN_FASHION_MNIST_DIR} absent (apt-get install dataset-fashion-mnist to run this)` },
    () => {
      const test10k = loadIdxDataset(join(DEBIAN_FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz'), join(DEBIAN_FASHION_MNIST_DIR, 't10k-labels-idx1-ubyte.gz'), {
        classes: FASHION_MNIST_CLASSES,
      });
      assert.equal(test10k.labels.length, 10000);
      assert.deepEqual([test10k.height, test10k.width], [28, 28]);
      const counts = new Array(10).fill(0);
      for (const l of test10k.labels) counts[l]++;
      assert.deepEqual(counts, new Array(10).fill(1000), 'Fashion-MNIST test set: 1000 per class');
      let max = 0;
      for (const v of test10k.images) max = Math.max(max, v);
      assert.equal(max, 1);
    },
  );
});
