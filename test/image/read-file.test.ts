import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError } from '../../src/errors';
import { imageFileLimit, readRegularFile, readRegularFileHead, readRegularFileHeadSync, readRegularFileSync } from '../../src/image/read-file';
import { decodeImage, readImageHeader } from '../../src/image/sharp-io';

const root = mkdtempSync(join(tmpdir(), 'glyphlab-read-file-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

describe('bounded file reads', () => {
  const file = join(root, 'ten.bin');
  writeFileSync(file, Buffer.from('0123456789'));
  const limit = { maxBytes: 10, what: 'test file', limitVariable: 'GLYPHLAB_TEST_BYTES' };

  test('a regular file within the limit is read whole, or only its head', async () => {
    assert.equal(readRegularFileSync(file, limit).toString(), '0123456789');
    assert.equal((await readRegularFile(file, limit)).toString(), '0123456789');
    assert.equal(readRegularFileHeadSync(file, 4, limit).toString(), '0123');
    assert.equal((await readRegularFileHead(file, 40, limit)).toString(), '0123456789');
  });

  test('a file above the limit is a DataError naming it, its size, the limit and the variable that raises it', async () => {
    const message = `${file} is 10 bytes, more than the limit of 9 bytes for a test file; GLYPHLAB_TEST_BYTES=N (bytes) raises it`;
    const small = { ...limit, maxBytes: 9 };
    assert.throws(() => readRegularFileSync(file, small), (e: unknown) => e instanceof DataError && e.message === message);
    await assert.rejects(readRegularFile(file, small), (e: unknown) => e instanceof DataError && e.message === message);
    // Even a read of the head only: the limit is on the file.
    assert.throws(() => readRegularFileHeadSync(file, 1, small), DataError);
    assert.throws(() => readRegularFileSync(file, { maxBytes: 9, what: 'image file', advice: 'no such file is ever this large' }), /for an image file; the limit is fixed \(no such file is ever this large\)$/);
  });

  test('a FIFO, a character device and a folder are refused before any read, so a read can neither block nor run on', { timeout: 120_000 }, async () => {
    const fifo = join(root, 'pipe.png');
    execFileSync('mkfifo', [fifo]);
    const folder = join(root, 'folder.png');
    mkdirSync(folder);
    const cases: [string, string][] = [
      [fifo, 'a FIFO (named pipe)'],
      ['/dev/zero', 'a character device'],
      [folder, 'a folder'],
    ];
    for (const [path, kind] of cases) {
      const refused = (e: unknown): boolean => e instanceof DataError && e.message === `${path} is ${kind}, not a regular file: expected an image file`;
      assert.throws(() => readRegularFileSync(path, imageFileLimit()), refused, path);
      await assert.rejects(readRegularFile(path, imageFileLimit()), refused, path);
      await assert.rejects(decodeImage(path), refused, `decodeImage ${path}`);
    }
    await assert.rejects(readImageHeader(fifo), /pipe\.png is a FIFO \(named pipe\), not a regular file/);
  });

  test('file system errors pass through with their code', async () => {
    assert.throws(() => readRegularFileSync(join(root, 'nope'), limit), (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT');
    await assert.rejects(readRegularFile(join(root, 'nope'), limit), (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT');
  });
});
