import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { columnInkProfile, convertChannels, createRawImage, toGrayscale } from '../../src/image/raw-image';

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
});
