import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSimplePng, encodePng, isCompletePng } from '../../src/image/png';
import { createRawImage } from '../../src/image/raw-image';
import { decodeImage } from '../../src/image/sharp-io';
import { createRng } from '../../src/util/rng';

function randomImage(channels: 1 | 3 | 4): ReturnType<typeof createRawImage> {
  const image = createRawImage(37, 11, channels);
  const rng = createRng(`png:${channels}`);
  for (let i = 0; i < image.data.length; i++) image.data[i] = rng.int(256);
  return image;
}

describe('encodePng', () => {
  for (const channels of [1, 3, 4] as const) {
    test(`round-trips ${channels}-channel pixels through sharp and the JS decoder`, async () => {
      const image = randomImage(channels);
      const png = encodePng(image);
      assert.ok(isCompletePng(png));
      const decoded = decodeSimplePng(png);
      assert.ok(decoded);
      assert.deepEqual(decoded.data, image.data);
      if (channels !== 4) {
        const viaSharp = await decodeImage(png, { channels });
        assert.deepEqual([viaSharp.width, viaSharp.height], [37, 11]);
        assert.deepEqual(viaSharp.data, image.data);
      }
    });
  }

  test('is deterministic and a truncated file is not complete', () => {
    const image = randomImage(3);
    const a = encodePng(image);
    assert.deepEqual(a, encodePng(image));
    assert.equal(isCompletePng(a.subarray(0, a.length - 5)), false);
    assert.equal(decodeSimplePng(a.subarray(0, a.length - 20)), undefined);
  });
});
