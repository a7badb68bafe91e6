import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { columnInkProfile, convertChannels, createRawImage, shrinkByInteger, toGrayscale } from '../../src/image/raw-image';

describe('RawImage helpers', () => {
  test('columnInkProfile measures ink against a tinted background', () => {
    const image = createRawImage(10, 4, 3, [230, 220, 240]);
    for (let y = 0; y < 4; y++) for (let c = 0; c < 3; c++) image.data[(y * 10 + 1) * 3 + c] = 0;
    const profile = columnInkProfile(image);
    assert.ok((profile[1] ?? 0) > 0.99, `ink column ${profile[1]}`);
    assert.equal(profile[5], 0);
    assert.equal(profile[9], 0);
  });

  test('grayscale and channel conversion keep sizes and composite alpha onto white', () => {
    const rgba = createRawImage(2, 1, 4, [0, 0, 0, 0]);
    const rgb = convertChannels(rgba, 3);
    assert.deepEqual(Array.from(rgb.data), [255, 255, 255, 255, 255, 255]);
    const gray = toGrayscale(createRawImage(3, 2, 3, [255, 0, 0]));
    assert.deepEqual([gray.width, gray.height, gray.channels], [3, 2, 1]);
    assert.equal(gray.data[0], 77);
  });

  test('shrinkByInteger gives the rounded mean of each block, per channel, and refuses sizes it cannot divide', () => {
    const image = createRawImage(4, 2, 1);
    image.data.set([0, 1, 10, 20, 2, 2, 30, 41]);
    const half = shrinkByInteger(image, 2);
    assert.deepEqual([half.width, half.height, half.channels], [2, 1, 1]);
    // (0+1+2+2)/4 = 1.25 -> 1; (10+20+30+41)/4 = 25.25 -> 25
    assert.deepEqual(Array.from(half.data), [1, 25]);
    const rgb = createRawImage(2, 2, 3);
    rgb.data.set([0, 100, 255, 2, 100, 255, 4, 100, 0, 6, 101, 0]);
    // red 3, green 100.25 -> 100, blue 127.5 -> 128 (halves round up)
    assert.deepEqual(Array.from(shrinkByInteger(rgb, 2).data), [3, 100, 128]);
    assert.equal(shrinkByInteger(image, 1), image);
    assert.throws(() => shrinkByInteger(image, 3), /4x2 is not a multiple of 3/);
    assert.throws(() => shrinkByInteger(image, 1.5), /positive integer factor, got 1.5/);
  });
});
