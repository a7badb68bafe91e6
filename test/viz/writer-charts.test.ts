import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSimplePng } from '../../src/image/png';
import { createRawImage } from '../../src/image/raw-image';
import { imageDataUri, imageGalleryHtml, patchPositionsFigure } from '../../src/viz/writer-charts';

describe('writer charts', () => {
  test('imageDataUri is a PNG of the image', () => {
    const image = createRawImage(5, 3, 1, [7]);
    const uri = imageDataUri(image);
    assert.match(uri, /^data:image\/png;base64,/);
    const decoded = decodeSimplePng(Buffer.from(uri.slice(uri.indexOf(',') + 1), 'base64'));
    assert.deepEqual([decoded?.width, decoded?.height, decoded?.data[0]], [5, 3, 7]);
  });

  test('the gallery has one captioned, escaped row per image', () => {
    const html = imageGalleryHtml([
      { image: createRawImage(4, 2, 1, [0]), caption: 'writer <a>' },
      { image: createRawImage(4, 2, 1, [255]), caption: 'writer b' },
    ]);
    assert.equal(html.match(/<tr>/g)?.length, 2);
    assert.ok(html.includes('writer &lt;a&gt;') && !html.includes('<a>'));
    assert.equal(imageGalleryHtml([]), '<p>No images.</p>');
  });

  test('patch outlines sit at the sampled positions, at most maxShown of them', () => {
    const positions = [{ x: 0, y: 0 }, { x: 10, y: 2 }, { x: 20, y: 4 }];
    const figure = patchPositionsFigure(createRawImage(40, 12, 1, [255]), positions, 8, { maxShown: 2 });
    const shapes = figure.layout['shapes'] as { x0: number; y0: number; x1: number }[];
    assert.equal(shapes.length, 2);
    assert.deepEqual([shapes[1]?.x0, shapes[1]?.y0, shapes[1]?.x1], [9.5, 1.5, 17.5]);
    const centres = figure.data[1] as { x: number[]; y: number[] };
    assert.deepEqual(centres.x, [3.5, 13.5]);
    assert.equal((figure.data[0] as { type: string }).type, 'image');
  });
});
