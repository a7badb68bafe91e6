import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelInput } from '../../../src/data/equations/batch-preprocess';
import { synthesizeEquations } from '../../../src/data/equations/synth';
import { decodeSimplePng } from '../../../src/image/png';
import { convertChannels, shrinkByInteger } from '../../../src/image/raw-image';

const dir = mkdtempSync(join(tmpdir(), 'glyphlab-preprocess-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('loadModelInput', () => {
  test('a synthesised 300x64 image read at 32 rows is its 2x2 block means; other heights go through the resampler', async () => {
    await synthesizeEquations({ outDir: dir, count: 2, seed: 'preprocess', workers: 0 });
    const path = join(dir, 'images', '000000.png');
    const original = decodeSimplePng(readFileSync(path));
    assert.ok(original && original.width === 300 && original.height === 64 && original.channels === 3);
    const gray = convertChannels(original, 1);
    const half = await loadModelInput(path, { height: 32, width: 150, channels: 1 });
    assert.deepEqual(Array.from(half.data), Array.from(shrinkByInteger(gray, 2).data));
    const same = await loadModelInput(path, { height: 64, width: 300, channels: 1 });
    assert.deepEqual(Array.from(same.data), Array.from(gray.data));
    // 64 rows to 48 is no whole factor: sharp resizes (300 * 48 / 64 = 225 columns), then the width is padded to 240.
    const resized = await loadModelInput(path, { height: 48, width: 240, channels: 1 });
    assert.deepEqual([resized.width, resized.height], [240, 48]);
    assert.ok(resized.data.subarray(0, 225).some((v) => v < 255), 'resized pixels carry the image');
    for (let y = 0; y < 48; y++) for (let x = 226; x < 240; x++) assert.equal(resized.data[y * 240 + x], 255, `padding at ${x},${y}`);
    const rgb = await loadModelInput(path, { height: 32, width: 150, channels: 3 });
    assert.deepEqual(Array.from(rgb.data), Array.from(shrinkByInteger(original, 2).data));
  });
});
