import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { charClassCounts, charImage, concatCharDatasets, createCharDataset, splitCharDataset, subsetCharDataset } from '../../../src/data/characters/dataset';
import { DataError } from '../../../src/errors';

/** n 4x4 images; image i is filled with i / n; label i % k. */
function toy(n: number, k: number) {
  const images = new Float32Array(n * 16);
  for (let i = 0; i < n; i++) images.fill(i / n, i * 16, (i + 1) * 16);
  return createCharDataset(images, Int32Array.from({ length: n }, (_, i) => i % k), Array.from({ length: k }, (_, c) => `c${c}`), { height: 4, width: 4 });
}

describe('createCharDataset / subset', () => {
  test('rejects pixel counts and labels that do not fit', () => {
    assert.throws(() => createCharDataset(new Float32Array(10), new Int32Array(1), ['a'], { height: 4, width: 4, source: 'x.bin' }), (e: unknown) => e instanceof DataError && /x\.bin: 1 labels need 16 pixels/.test(e.message));
    assert.throws(() => createCharDataset(new Float32Array(16), Int32Array.from([3]), ['a', 'b'], { height: 4, width: 4 }), /label 3 of sample 0 is outside 0-1/);
  });

  test('subset copies the chosen images in order', () => {
    const data = toy(10, 3);
    const sub = subsetCharDataset(data, [7, 2]);
    assert.deepEqual([...sub.labels], [1, 2]);
    assert.equal(charImage(sub, 0)[5], Math.fround(0.7));
    assert.throws(() => subsetCharDataset(data, [10]), /index 10 is outside 0-9/);
  });
});

describe('concatCharDatasets', () => {
  test('puts the samples one after the other; different classes or sizes are a DataError', () => {
    const a = createCharDataset(Float32Array.from([0.1, 0.2, 0.3, 0.4]), Int32Array.from([0, 1]), ['x', 'y'], { height: 1, width: 2 });
    const b = createCharDataset(Float32Array.from([0.5, 0.6]), Int32Array.from([1]), ['x', 'y'], { height: 1, width: 2 });
    const joined = concatCharDatasets([a, b]);
    assert.deepEqual(Array.from(joined.labels), [0, 1, 1]);
    assert.deepEqual(Array.from(joined.images), Array.from(Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])));
    assert.deepEqual(joined.classes, ['x', 'y']);
    const otherClasses = createCharDataset(Float32Array.from([0.5, 0.6]), Int32Array.from([1]), ['x', 'z'], { height: 1, width: 2 });
    assert.throws(() => concatCharDatasets([a, otherClasses]), (e: unknown) => e instanceof DataError && /data set 2 has classes x,z; data set 1 has x,y/.test(e.message));
    const otherSize = createCharDataset(Float32Array.from([0.5, 0.6]), Int32Array.from([1]), ['x', 'y'], { height: 2, width: 1 });
    assert.throws(() => concatCharDatasets([a, otherSize]), /data set 2 has 2x1 images; data set 1 has 1x2/);
    assert.throws(() => concatCharDatasets([]), /at least one data set/);
  });
});

describe('splitCharDataset', () => {
  test('stratified 8:1:1, disjoint, covering every sample, the same for the same seed', () => {
    const data = toy(300, 3);
    const a = splitCharDataset(data, { seed: 5 });
    const b = splitCharDataset(data, { seed: 5 });
    const c = splitCharDataset(data, { seed: 6 });
    assert.deepEqual([a.train.labels.length, a.val.labels.length, a.test.labels.length], [240, 30, 30]);
    assert.deepEqual(charClassCounts(a.val), [10, 10, 10]);
    const ids = (d: typeof a.train) => Array.from({ length: d.labels.length }, (_, i) => Math.round(charImage(d, i)[0]! * 300));
    const all = [...ids(a.train), ...ids(a.val), ...ids(a.test)].sort((x, y) => x - y);
    assert.deepEqual(all, Array.from({ length: 300 }, (_, i) => i));
    assert.deepEqual(ids(a.test), ids(b.test));
    assert.notDeepEqual(ids(a.test), ids(c.test));
    // Classes interleave rather than staying in load order.
    assert.notDeepEqual([...a.train.labels.subarray(0, 12)].sort(), [...a.train.labels.subarray(0, 12)]);
  });

  test('bad ratios are a ConfigError', () => {
    assert.throws(() => splitCharDataset(toy(10, 2), { ratios: [0, 0, 0] }), /split ratios must be three non-negative numbers/);
  });
});
