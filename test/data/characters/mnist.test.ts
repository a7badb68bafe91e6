import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { charClassCounts } from '../../../src/data/characters/dataset';
import { loadMnistDigits } from '../../../src/data/characters/mnist';
import { DataError } from '../../../src/errors';

describe('loadMnistDigits', () => {
  test('the mnist package holds 10,000 real 28x28 digits of all ten classes', () => {
    const digits = loadMnistDigits();
    assert.equal(digits.labels.length, 10000);
    assert.deepEqual([digits.height, digits.width], [28, 28]);
    const counts = charClassCounts(digits);
    assert.ok(counts.every((c) => c > 800 && c < 1200), `every class has 800-1200 images: ${counts.join(', ')}`);
    // Real digits: a few hundred ink pixels of the 784, centred.
    let ink = 0;
    for (let i = 0; i < 784; i++) if (digits.images[i]! > 0.5) ink++;
    assert.ok(ink > 30 && ink < 400, `first image has ${ink} ink pixels`);
  });

  test('perClass limits each digit', () => {
    const few = loadMnistDigits({ perClass: 3 });
    assert.deepEqual(charClassCounts(few), new Array(10).fill(3));
    assert.deepEqual([...few.labels.subarray(0, 4)], [0, 0, 0, 1]);
  });

  test('a malformed digit file is a DataError naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'glyphlab-mnist-'));
    try {
      for (let d = 0; d < 10; d++) writeFileSync(join(dir, `${d}.json`), JSON.stringify({ data: new Array(784).fill(0) }));
      writeFileSync(join(dir, '4.json'), JSON.stringify({ data: new Array(700).fill(0) }));
      assert.throws(() => loadMnistDigits({ dir }), (e: unknown) => e instanceof DataError && /4\.json: "data" has 700 values; expected an array of 784/.test(e.message));
      writeFileSync(join(dir, '4.json'), JSON.stringify({ data: [...new Array(783).fill(0), 2] }));
      assert.throws(() => loadMnistDigits({ dir }), /4\.json: value 2 at data\[783\] \(image 0\) is not a number in \[0, 1\]/);
      writeFileSync(join(dir, '4.json'), '{oops');
      assert.throws(() => loadMnistDigits({ dir }), /4\.json: cannot read MNIST digits/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
