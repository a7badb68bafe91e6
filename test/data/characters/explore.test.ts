import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { charClassCounts, createCharDataset, splitCharDataset } from '../../../src/data/characters/dataset';
import { charClassCountRows, exploreCharSplits } from '../../../src/data/characters/explore';

/** `counts[c]` images of class c, each filled with its own index so samples can be traced back. */
function dataset(counts: number[], classes: string[]) {
  const labels = counts.flatMap((n, c) => new Array<number>(n).fill(c));
  const images = new Float32Array(labels.length * 4);
  labels.forEach((_, i) => images.fill(i / labels.length, i * 4, (i + 1) * 4));
  return createCharDataset(images, Int32Array.from(labels), classes, { height: 2, width: 2 });
}

describe('exploreCharSplits', () => {
  test('counts per class and split add up, empty classes are named', () => {
    const splits = splitCharDataset(dataset([10, 20, 0, 5], ['a', 'b', 'c', 'd']), { seed: 2 });
    const exploration = exploreCharSplits(splits, { samples: 8 });
    assert.deepEqual(exploration.counts.total, [10, 20, 0, 5]);
    assert.deepEqual(exploration.emptyClasses, ['c']);
    assert.equal(exploration.sizes.total, 35);
    assert.equal(exploration.sizes.train, splits.train.labels.length);
    const rows = charClassCountRows(exploration);
    assert.deepEqual(rows.map((r) => r.class), ['a', 'b', 'c', 'd']);
    for (const row of rows) assert.equal(row.train + row.val + row.test, row.total);
    assert.deepEqual(rows.map((r) => r.test), charClassCounts(splits.test));
    assert.deepEqual(rows.map((r) => r.val), charClassCounts(splits.val));
  });

  test('samples take the classes in turn and point at the right images', () => {
    const splits = splitCharDataset(dataset([2, 6, 3], ['x', 'y', 'z']), { seed: 0, ratios: [1, 0, 1] });
    const exploration = exploreCharSplits(splits, { samples: 9 });
    // Round robin: x y z x y z, then x is used up (2 images): y z y.
    assert.deepEqual(exploration.samples.map((s) => s.caption).join(''), 'xyzxyzyzy');
    for (const sample of exploration.samples) {
      const part = splits[sample.split];
      assert.equal(part.classes[part.labels[sample.index]!], sample.caption);
      assert.deepEqual([...sample.pixels], [...part.images.subarray(sample.index * 4, sample.index * 4 + 4)]);
    }
    assert.equal(exploreCharSplits(splits, { samples: 100 }).samples.length, 11, 'no more samples than images');
    assert.throws(() => exploreCharSplits(splits, { samples: -1 }), /samples must be a non-negative integer, got -1/);
  });
});
