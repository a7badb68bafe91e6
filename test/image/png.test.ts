import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError } from '../../src/errors';
import { decodeSimplePng, encodePng, isCompletePng } from '../../src/image/png';
import { createRawImage } from '../../src/image/raw-image';
import { decodeImage } from '../../src/image/sharp-io';
import { createRng } from '../../src/util/rng';
import { writePngBomb } from '../support/png-bomb';

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

describe('decompression bombs', () => {
  test('a 1.7 MB PNG of 20000x20000 pixels is refused from its header, before anything is inflated', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glyphlab-bomb-'));
    try {
      const path = join(dir, 'bomb.png');
      assert.ok((await writePngBomb(path, 20000, 20000)) < 2_000_000);
      const bytes = readFileSync(path);
      // CPU time, not wall time: a busy machine stretches the second, not the first. Inflating
      // 400 million pixels takes seconds of CPU; reading a header, well under a millisecond.
      const started = process.cpuUsage();
      assert.throws(() => decodeSimplePng(bytes), (e: unknown) => e instanceof DataError && /^PNG is 20000x20000 = 400000000 pixels, more than the limit of 50000000/.test(e.message));
      const used = process.cpuUsage(started);
      const ms = (used.user + used.system) / 1000;
      assert.ok(ms < 250, `refused after ${ms} ms of CPU: nothing was inflated`);
      await assert.rejects(decodeImage(path), (e: unknown) => e instanceof DataError && e.message.startsWith(`${path} is 20000x20000 = 400000000 pixels`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('maxPixels lowers (or raises) the limit of both decoders', async () => {
    const png = encodePng(randomImage(3));
    assert.ok(decodeSimplePng(png, { maxPixels: 37 * 11 }));
    assert.throws(() => decodeSimplePng(png, { maxPixels: 400 }), /37x11 = 407 pixels, more than the limit of 400/);
    await assert.rejects(decodeImage(png, { maxPixels: 400 }), (e: unknown) => e instanceof DataError && /the image is 37x11 = 407 pixels, more than the limit of 400/.test(e.message));
    assert.equal((await decodeImage(png, { maxPixels: 407 })).width, 37);
  });
});
