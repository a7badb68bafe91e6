import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors';
import { randomEquationLabel } from '../../src/data/equations';
import { parseRatios, stratifiedSplit, writeSplitManifest, type SplitManifest } from '../../src/data/split';
import { createRng } from '../../src/util/rng';

const rng = createRng('split-fixture');
const samples = Array.from({ length: 1000 }, (_, i) => ({ filename: `images/${i}.png`, label: randomEquationLabel(rng) }));

describe('stratifiedSplit', () => {
  test('keeps 8:1:1 within every label length and uses every sample once', () => {
    const result = stratifiedSplit(samples, { ratios: [8, 1, 1], seed: 1 });
    const all = [...result.splits.train, ...result.splits.valid, ...result.splits.test].map((s) => s.filename);
    assert.equal(new Set(all).size, 1000);
    for (const stratum of result.strata) {
      const inTrain = result.splits.train.filter((s) => String(s.label.length) === stratum.key).length;
      assert.equal(inTrain, stratum.counts.train);
      assert.ok(Math.abs(stratum.counts.train - stratum.total * 0.8) <= 1, JSON.stringify(stratum));
      assert.ok(Math.abs(stratum.counts.valid - stratum.total * 0.1) <= 1, JSON.stringify(stratum));
    }
    assert.deepEqual(result.tooSmall, []);
  });

  test('is deterministic per seed, independent of input order, and the fingerprint tells seeds apart', () => {
    const a = stratifiedSplit(samples, { seed: 5 });
    const b = stratifiedSplit([...samples].reverse(), { seed: 5 });
    const c = stratifiedSplit(samples, { seed: 6 });
    assert.deepEqual(a.splits.valid.map((s) => s.filename), b.splits.valid.map((s) => s.filename));
    assert.equal(a.fingerprint, b.fingerprint);
    assert.notEqual(a.fingerprint, c.fingerprint);
    assert.match(a.fingerprint, /^[0-9a-f]{64}$/);
  });

  test('reports a stratum too small to reach every split', () => {
    const small = [...samples.slice(0, 100), { filename: 'odd.png', label: '1=1' }];
    const result = stratifiedSplit(small, { seed: 1 });
    assert.deepEqual(result.tooSmall, ['3']);
    const stratum = result.strata.find((s) => s.key === '3');
    assert.deepEqual(stratum?.counts, { train: 1, valid: 0, test: 0 });
  });

  test('accepts a key function', () => {
    const result = stratifiedSplit(samples, { seed: 1, key: (s) => (s.label.includes('(') ? 'parens' : 'plain') });
    assert.deepEqual(result.strata.map((s) => s.key), ['parens', 'plain']);
  });

  test('writes a manifest with counts and fingerprint', () => {
    const dir = mkdtempSync(join(tmpdir(), 'glyphlab-split-'));
    try {
      const result = stratifiedSplit(samples, { seed: 1 });
      const manifest = JSON.parse(readFileSync(writeSplitManifest(dir, result), 'utf8')) as SplitManifest;
      assert.equal(manifest.fingerprint, result.fingerprint);
      assert.equal(manifest.files.test.length, result.splits.test.length);
      assert.equal(manifest.strata.length, result.strata.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bad ratios are a ConfigError', () => {
    assert.deepEqual(parseRatios('8:1:1'), [8, 1, 1]);
    assert.throws(() => parseRatios('8:1'), ConfigError);
    assert.throws(() => parseRatios('a:b:c'), ConfigError);
  });
});
