import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, DataError } from '../../src/errors';
import { checkImageSize, DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_IMAGE_PIXELS, formatBytes, maxImageBytes, maxImagePixels } from '../../src/image/limits';

describe('image pixel limit', () => {
  test('50 megapixels unless GLYPHLAB_MAX_IMAGE_PIXELS says otherwise; a bad value names itself', () => {
    assert.equal(DEFAULT_MAX_IMAGE_PIXELS, 50_000_000);
    assert.equal(maxImagePixels({}), 50_000_000);
    assert.equal(maxImagePixels({ GLYPHLAB_MAX_IMAGE_PIXELS: '300000000' }), 300_000_000);
    for (const bad of ['lots', '0', '-5', '1.5']) {
      assert.throws(() => maxImagePixels({ GLYPHLAB_MAX_IMAGE_PIXELS: bad }), (e: unknown) => e instanceof ConfigError && e.message.includes(JSON.stringify(bad)));
    }
  });

  test('an image above the limit is a DataError naming it, its size and how to raise the limit', () => {
    checkImageSize(7071, 7071, 'a.png', 50_000_000);
    assert.throws(
      () => checkImageSize(20000, 20000, 'scan.png', 50_000_000),
      (e: unknown) => e instanceof DataError && /^scan\.png is 20000x20000 = 400000000 pixels, more than the limit of 50000000 .*GLYPHLAB_MAX_IMAGE_PIXELS=N/.test(e.message),
    );
  });

  test('64 MiB an image file unless GLYPHLAB_MAX_IMAGE_BYTES says otherwise; a bad value names itself', () => {
    assert.equal(DEFAULT_MAX_IMAGE_BYTES, 64 * 2 ** 20);
    assert.equal(maxImageBytes({}), DEFAULT_MAX_IMAGE_BYTES);
    assert.equal(maxImageBytes({ GLYPHLAB_MAX_IMAGE_BYTES: ' ' }), DEFAULT_MAX_IMAGE_BYTES);
    assert.equal(maxImageBytes({ GLYPHLAB_MAX_IMAGE_BYTES: '1000' }), 1000);
    for (const bad of ['64MB', '0', '-1', '2.5']) {
      assert.throws(() => maxImageBytes({ GLYPHLAB_MAX_IMAGE_BYTES: bad }), (e: unknown) => e instanceof ConfigError && e.message.startsWith(`GLYPHLAB_MAX_IMAGE_BYTES ${JSON.stringify(bad)} is not valid: expected a whole number of bytes >= 1`));
    }
  });

  test('byte counts read as people write them', () => {
    assert.deepEqual([40, 2048, 1536 * 2 ** 20, 1.5 * 2 ** 30, 64 * 2 ** 20].map(formatBytes), ['40 bytes', '2 KB', '1.5 GB', '1.5 GB', '64 MB']);
  });
});
