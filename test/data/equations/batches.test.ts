import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BLANK_INDEX, decodeLabel } from '../../../src/labels/alphabet';
import { createBatchSource, type Batch } from '../../../src/data/equations/batches';
import { loadLabeledImages, type LabeledImage } from '../../../src/data/equations/load';
import { synthesizeEquations } from '../../../src/data/equations/synth';
import { loadSharp } from '../../../src/image/sharp-io';

const dir = mkdtempSync(join(tmpdir(), 'glyphlab-batches-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let samples: LabeledImage[] = [];

async function collect(source: ReturnType<typeof createBatchSource>, epoch: number): Promise<Batch[]> {
  const batches: Batch[] = [];
  for await (const batch of source.epoch(epoch)) batches.push(batch);
  return batches;
}

describe('createBatchSource', () => {
  test('setup', async () => {
    await synthesizeEquations({ outDir: dir, count: 22, seed: 'batches', workers: 0 });
    samples = (await loadLabeledImages(dir)).samples;
  });

  test('yields grayscale batches in [-1, 1] with CTC labels, covering every sample once per epoch', async () => {
    const source = createBatchSource(samples, { batchSize: 8, channels: 1, seed: 1, workers: 0 });
    assert.equal(source.batchesPerEpoch, 3);
    const batches = await collect(source, 0);
    assert.deepEqual(batches.map((b) => b.shape), [[8, 64, 300, 1], [8, 64, 300, 1], [6, 64, 300, 1]]);
    const first = batches[0] as Batch;
    assert.equal(first.images.length, 8 * 64 * 300);
    let min = Infinity;
    let max = -Infinity;
    for (const v of first.images) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assert.ok(min >= -1 && min < -0.3, `min ${min}`);
    assert.ok(max <= 1 && max > 0.7, `max ${max}`);
    for (const batch of batches) {
      batch.labels.forEach((indices, i) => {
        assert.equal(decodeLabel(indices), batch.texts[i]);
        assert.equal(batch.labelLengths[i], indices.length);
        assert.ok(indices.every((k) => k >= 0 && k < BLANK_INDEX));
      });
    }
    const seen = batches.flatMap((b) => b.paths).sort();
    assert.deepEqual(seen, samples.map((s) => s.path).sort());
  });

  test('reshuffles every epoch, deterministically per seed; workers give the same pixels', async () => {
    const a = createBatchSource(samples, { batchSize: 8, seed: 3, workers: 0 });
    const b = createBatchSource(samples, { batchSize: 8, seed: 3, workers: 2 });
    try {
      const a0 = await collect(a, 0);
      const a1 = await collect(a, 1);
      const b0 = await collect(b, 0);
      assert.notDeepEqual(a0.flatMap((x) => x.paths), a1.flatMap((x) => x.paths));
      assert.deepEqual(a0.flatMap((x) => x.paths), b0.flatMap((x) => x.paths));
      assert.deepEqual(a0[1]?.images, b0[1]?.images);
    } finally {
      await b.close();
    }
  });

  test('decoding workers start as batches need them: 64 allowed, at most prefetch + 1 started; more refused', async () => {
    const source = createBatchSource(samples, { batchSize: 4, seed: 3, workers: 64, prefetch: 1 });
    try {
      assert.equal(source.workersStarted, 0, 'none before the first batch');
      const batches = await collect(source, 0);
      assert.equal(batches.length, 6);
      assert.ok(source.workersStarted >= 1 && source.workersStarted <= 2, `started ${source.workersStarted} of 64`);
    } finally {
      await source.close();
    }
    assert.throws(() => createBatchSource(samples, { workers: 999 }), /workers 999 is not valid: expected an integer from 0 to 64/);
  });

  test('RGB for VGG19, resizing other heights keeping the aspect ratio and padding white', async () => {
    const tall = join(dir, 'tall.png');
    // 100x128 black image: resized to 50x64, then padded to 300 with white.
    await loadSharp()({ create: { width: 100, height: 128, channels: 3, background: '#000000' } }).png().toFile(tall);
    const source = createBatchSource([{ path: tall, label: '1+1=2' }], { channels: 3, workers: 0 });
    const [batch] = await collect(source, 0);
    assert.deepEqual(batch?.shape, [1, 64, 300, 3]);
    const at = (x: number, y: number, c: number): number => batch?.images[(y * 300 + x) * 3 + c] ?? NaN;
    assert.equal(at(10, 30, 0), -1);
    assert.equal(at(48, 30, 2), -1);
    assert.equal(at(52, 30, 1), 1);
    assert.equal(at(299, 63, 0), 1);
  });

  test('augmentation changes pixels reproducibly', async () => {
    const plain = await collect(createBatchSource(samples.slice(0, 4), { batchSize: 4, shuffle: false, workers: 0 }), 0);
    const augmented = () => collect(createBatchSource(samples.slice(0, 4), { batchSize: 4, shuffle: false, workers: 0, seed: 9, augment: { placement: 1, smudge: 1 } }), 0);
    const x = await augmented();
    const y = await augmented();
    assert.deepEqual(x[0]?.images, y[0]?.images);
    assert.notDeepEqual(x[0]?.images, plain[0]?.images);
  });
});
