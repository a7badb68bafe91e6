import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSynthStream, renderStreamBatch, type StreamRenderConfig } from '../../../src/data/equations/synth-stream';
import type { Batch, BatchSource } from '../../../src/data/equations/batches';
import { stylePreset } from '../../../src/data/equations/synth-style';
import { DEFAULT_FORM_SHARES } from '../../../src/data/equations/forms';
import { decodeLabel } from '../../../src/labels/alphabet';

async function collect(source: BatchSource, epoch: number): Promise<Batch[]> {
  const batches: Batch[] = [];
  for await (const batch of source.epoch(epoch)) batches.push(batch);
  return batches;
}

const style = stylePreset('wide');
const tiny = { style, seed: 'stream', epochImages: 12, batchSize: 4, height: 16, width: 75 } as const;

describe('createSynthStream', () => {
  test('epochs of whole batches at the model input size, in [-1, 1], with labels that match the texts', async () => {
    const stream = createSynthStream({ ...tiny, workers: 0 });
    assert.equal(stream.batchesPerEpoch, 3);
    assert.equal(stream.size, 12);
    assert.deepEqual(stream.inputShape, [16, 75, 1]);
    const batches = await collect(stream, 0);
    assert.equal(batches.length, 3);
    for (const batch of batches) {
      assert.deepEqual(batch.shape, [4, 16, 75, 1]);
      assert.equal(batch.images.length, 4 * 16 * 75);
      assert.ok(batch.images.every((v) => v >= -1 && v <= 1));
      // Ink and background both present: the image is drawn, not blank.
      assert.ok(Math.min(...batch.images) < -0.2 && Math.max(...batch.images) > 0.4);
      batch.labels.forEach((label, i) => assert.equal(decodeLabel(label), batch.texts[i]));
      assert.deepEqual([...batch.labelLengths], batch.labels.map((l) => l.length));
    }
  });

  test('never draws an image twice: every epoch and batch names new stream indices, and epochs differ', async () => {
    const stream = createSynthStream({ ...tiny, workers: 0 });
    const first = await collect(stream, 0);
    const second = await collect(stream, 1);
    const names = [...first, ...second].flatMap((b) => b.paths);
    assert.equal(new Set(names).size, 24);
    assert.deepEqual(second[0]!.paths[0], 'synth:stream:12');
    assert.notDeepEqual(first[0]!.images, second[0]!.images);
  });

  test('is reproducible from its seed whatever the number of workers, and another seed draws other images', async () => {
    const onMain = await collect(createSynthStream({ ...tiny, workers: 0 }), 2);
    const workers = createSynthStream({ ...tiny, workers: 2 });
    try {
      const inWorkers = await collect(workers, 2);
      assert.ok(workers.workersStarted >= 1);
      assert.deepEqual(inWorkers.map((b) => b.texts), onMain.map((b) => b.texts));
      assert.deepEqual(inWorkers.map((b) => [...b.images]), onMain.map((b) => [...b.images]));
    } finally {
      await workers.close();
    }
    const other = await collect(createSynthStream({ ...tiny, seed: 'other', workers: 0 }), 2);
    assert.notDeepEqual(other.map((b) => b.texts), onMain.map((b) => b.texts));
  });

  test('epoch e starts where a run resumed at e would: batch k of epoch e is stream image e*epochImages + k*batch', () => {
    const config: StreamRenderConfig = { style, forms: { ...DEFAULT_FORM_SHARES }, seed: 'stream', height: 16, width: 75, channels: 1 };
    const direct = renderStreamBatch(config, 2 * 12 + 4, 4);
    return collect(createSynthStream({ ...tiny, workers: 0 }), 2).then((batches) => {
      assert.deepEqual(batches[1]!.texts, direct.texts);
      assert.deepEqual([...batches[1]!.images], [...direct.images]);
    });
  });

  test('bad options name the value and what is accepted', () => {
    assert.throws(() => createSynthStream({ ...tiny, epochImages: 3 }), /epochImages 3 is not valid: expected a whole number of at least one batch \(4\)/);
    assert.throws(() => createSynthStream({ ...tiny, batchSize: 0 }), /batchSize 0 is not valid/);
    assert.throws(() => createSynthStream({ ...tiny, workers: -1 }), /workers -1 is not valid/);
  });

  test('a worker that fails rejects the batch with the worker error, and close stops the threads', async () => {
    const broken = createSynthStream({ ...tiny, style: { ...style, fonts: ['no-such-font'] }, workers: 1 });
    try {
      await assert.rejects(collect(broken, 0), /synthesis stream worker failed: .*no-such-font/);
    } finally {
      await broken.close();
    }
  });
});
