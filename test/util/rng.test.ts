import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng, hashString32 } from '../../src/util/rng';

describe('createRng', () => {
  test('the same seed gives the same stream; different seeds differ', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const seqA = Array.from({ length: 8 }, () => a.next());
    assert.deepEqual(seqA, Array.from({ length: 8 }, () => b.next()));
    assert.notDeepEqual(seqA, Array.from({ length: 8 }, () => c.next()));
    assert.ok(seqA.every((x) => x >= 0 && x < 1));
  });

  test('string and number seeds are accepted and stable across calls', () => {
    assert.equal(createRng('split').next(), createRng('split').next());
    assert.equal(hashString32('abc'), hashString32('abc'));
    assert.notEqual(hashString32('abc'), hashString32('abd'));
  });

  test('int() is uniform enough over 10 buckets', () => {
    const rng = createRng(1);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 20000; i++) {
      const bucket = rng.int(10);
      counts[bucket] = (counts[bucket] ?? 0) + 1;
    }
    for (const count of counts) assert.ok(count > 1700 && count < 2300, `bucket count ${count}`);
    assert.throws(() => rng.int(0), /positive finite n/);
  });

  test('normal() has mean ~0 and variance ~1', () => {
    const rng = createRng(2);
    const samples = Array.from({ length: 20000 }, () => rng.normal());
    const mean = samples.reduce((s, x) => s + x, 0) / samples.length;
    const variance = samples.reduce((s, x) => s + (x - mean) ** 2, 0) / samples.length;
    assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.05, `variance ${variance}`);
  });

  test('shuffle() permutes in place and keeps every element', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = createRng(3).shuffle([...items]);
    assert.notDeepEqual(shuffled, items);
    assert.deepEqual([...shuffled].sort((x, y) => x - y), items);
  });

  test('fork() gives independent reproducible streams', () => {
    const x = createRng(9).fork('a').next();
    assert.equal(createRng(9).fork('a').next(), x);
    assert.notEqual(createRng(9).fork('b').next(), x);
  });
});
