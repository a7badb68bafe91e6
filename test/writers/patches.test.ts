import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRawImage } from '../../src/image/raw-image';
import { cropPatch, patchCount, samplePatchPositions, samplePatches } from '../../src/writers/patches';

describe('patch sampler', () => {
  test('takes floor(30%) of the possible positions, distinct and inside the image', () => {
    const [width, height, size] = [40, 20, 16];
    const possible = (40 - 16 + 1) * (20 - 16 + 1); // 125
    assert.deepEqual(patchCount(width, height, { size }), { possible, taken: 37 });
    const positions = samplePatchPositions(width, height, { size, seed: 1 });
    assert.equal(positions.length, 37);
    assert.equal(new Set(positions.map((p) => `${p.x},${p.y}`)).size, 37);
    for (const p of positions) assert.ok(p.x >= 0 && p.y >= 0 && p.x + size <= width && p.y + size <= height, `patch at ${p.x},${p.y} leaves the image`);
  });

  test('the fraction and the cap are configurable; dense fractions still give distinct positions', () => {
    assert.equal(samplePatchPositions(40, 20, { size: 16, maxFraction: 0.9 }).length, 112);
    const dense = samplePatchPositions(40, 20, { size: 16, maxFraction: 1 });
    assert.equal(new Set(dense.map((p) => `${p.x},${p.y}`)).size, 125);
    assert.equal(samplePatchPositions(400, 200, { size: 16, maxPatches: 5 }).length, 5);
    assert.throws(() => samplePatchPositions(40, 20, { maxFraction: 1.5 }), /maxFraction 1.5 must be in \(0, 1\]/);
  });

  test('the same seed gives the same patches; another seed others', () => {
    const a = samplePatchPositions(300, 130, { seed: 'line-1' });
    const b = samplePatchPositions(300, 130, { seed: 'line-1' });
    const c = samplePatchPositions(300, 130, { seed: 'line-2' });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  test('images smaller than a patch are padded white, or rejected with pad: false', () => {
    const image = createRawImage(10, 8, 1, [0]);
    const { patches, positions } = samplePatches(image, { size: 12 });
    assert.equal(positions.length, 1);
    const patch = patches[0] as Uint8Array;
    assert.equal(patch.length, 144);
    assert.equal(patch[0], 0); // inside the image
    assert.equal(patch[11], 255); // column 11 is past the width
    assert.equal(patch[11 * 12], 255); // row 11 is past the height
    assert.throws(() => samplePatchPositions(10, 8, { size: 12, pad: false }), /10x8 is smaller than a 12x12 patch/);
  });

  test('cropPatch copies the right pixels from an RGB image as gray', () => {
    const image = createRawImage(4, 3, 3, [255, 255, 255]);
    // pixel (2, 1) black
    image.data.fill(0, (1 * 4 + 2) * 3, (1 * 4 + 2) * 3 + 3);
    assert.deepEqual([...cropPatch(image, { x: 1, y: 1 }, 2)], [255, 0, 255, 255]);
  });
});
