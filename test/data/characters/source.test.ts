import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadCharDataset, parseCharDataSpec } from '../../../src/data/characters/source';
import { charClassCounts } from '../../../src/data/characters/dataset';
import { encodeIdx } from '../../../src/data/characters/idx';
import { ConfigError, DataError } from '../../../src/errors';

describe('parseCharDataSpec', () => {
  test('accepts the three forms, rejects the rest naming them', () => {
    assert.deepEqual(parseCharDataSpec('mnist'), { kind: 'mnist' });
    assert.deepEqual(parseCharDataSpec('idx:/data/fm'), { kind: 'idx', dir: '/data/fm' });
    assert.deepEqual(parseCharDataSpec('letters-csv:C:/x.csv'), { kind: 'letters-csv', file: 'C:/x.csv' });
    assert.throws(() => parseCharDataSpec('emnist'), (e: unknown) => e instanceof ConfigError && /unknown data specifier "emnist"; expected mnist, idx:DIR or letters-csv:FILE/.test(e.message));
    assert.throws(() => parseCharDataSpec('idx:'), /needs a path after "idx:"/);
  });
});

describe('loadCharDataset', () => {
  test('mnist: a stratified, seeded split of the package digits', async () => {
    const a = await loadCharDataset('mnist', { seed: 3, limit: 200 });
    const b = await loadCharDataset('mnist', { seed: 3, limit: 200 });
    assert.deepEqual([a.splits.train.labels.length, a.splits.val.labels.length, a.splits.test.labels.length], [160, 20, 20]);
    assert.deepEqual(charClassCounts(a.splits.test), new Array(10).fill(2));
    assert.deepEqual([...a.splits.test.labels], [...b.splits.test.labels]);
    assert.match(a.description, /MNIST digits .* 200 images -> train 160, val 20, test 20/);
  });

  test('letters-csv: A-Z from the file, split three ways', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glyphlab-spec-'));
    try {
      const file = join(dir, 'az.csv');
      const rows = Array.from({ length: 52 }, (_, i) => [i % 26, ...new Array(784).fill(i)].join(','));
      writeFileSync(file, rows.join('\n'));
      const loaded = await loadCharDataset(`letters-csv:${file}`, { ratios: [0.5, 0.5, 0] });
      assert.equal(loaded.classes[25], 'Z');
      assert.deepEqual([loaded.splits.train.labels.length, loaded.splits.val.labels.length, loaded.splits.test.labels.length], [26, 26, 0]);
      await assert.rejects(loadCharDataset(`letters-csv:${join(dir, 'none.csv')}`), DataError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('idx: a folder with train and t10k keeps its test set and splits val off train', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glyphlab-spec-'));
    try {
      const write = (prefix: string, n: number) => {
        writeFileSync(join(dir, `${prefix}-images-idx3-ubyte`), encodeIdx({ type: 'uint8', shape: [n, 28, 28], data: new Uint8Array(n * 784) }));
        writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte`), encodeIdx({ type: 'uint8', shape: [n], data: Array.from({ length: n }, (_, i) => i % 10) }));
      };
      write('train', 90);
      write('t10k', 20);
      const loaded = await loadCharDataset(`idx:${dir}`, { seed: 1 });
      assert.deepEqual([loaded.splits.train.labels.length, loaded.splits.val.labels.length, loaded.splits.test.labels.length], [80, 10, 20]);
      assert.deepEqual(loaded.classes.slice(0, 2), ['0', '1']);
      await assert.rejects(loadCharDataset(`idx:${join(dir, 'missing')}`), /IDX folder not found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('idx: a folder named like fashion-mnist gets the Fashion-MNIST class names', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'glyphlab-spec-')), 'fashion-mnist');
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 't10k-images-idx3-ubyte'), encodeIdx({ type: 'uint8', shape: [20, 28, 28], data: new Uint8Array(20 * 784) }));
      writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), encodeIdx({ type: 'uint8', shape: [20], data: Array.from({ length: 20 }, (_, i) => i % 10) }));
      const loaded = await loadCharDataset(`idx:${dir}`, { limit: 10 });
      assert.equal(loaded.classes[9], 'Ankle boot');
      assert.match(loaded.description, /10 images -> train/);
    } finally {
      rmSync(dirname(dir), { recursive: true, force: true });
    }
  });
});
