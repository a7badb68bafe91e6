import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DataError } from '../../../src/errors';
import { encodePng } from '../../../src/image/png';
import { randomEquationLabel } from '../../../src/data/equations/forms';
import { loadEquationSplits, parseRatios, readSplitManifest, spreadSubset, stratifiedSplit, writeSplitManifest, type SplitManifest } from '../../../src/data/equations/split';
import { createRng } from '../../../src/util/rng';
import { synthesizeEquations } from '../../../src/data/equations/synth';

const rng = createRng('split-fixture');
const samples = Array.from({ length: 1000 }, (_, i) => ({ filename: `images/${i}.png`, label: randomEquationLabel(rng) }));

describe('stratifiedSplit', () => {
  test('keeps 8:1:1 within every label length and uses every sample once', () => {
    const result = stratifiedSplit(samples, { ratios: [8, 1, 1], seed: 1 });
    const all = [...result.splits.train, ...result.splits.val, ...result.splits.test].map((s) => s.filename);
    assert.equal(new Set(all).size, 1000);
    for (const stratum of result.strata) {
      const inTrain = result.splits.train.filter((s) => String(s.label.length) === stratum.key).length;
      assert.equal(inTrain, stratum.counts.train);
      assert.ok(Math.abs(stratum.counts.train - stratum.total * 0.8) <= 1, JSON.stringify(stratum));
      assert.ok(Math.abs(stratum.counts.val - stratum.total * 0.1) <= 1, JSON.stringify(stratum));
    }
    assert.deepEqual(result.tooSmall, []);
  });

  test('is deterministic per seed, independent of input order, and the fingerprint tells seeds apart', () => {
    const a = stratifiedSplit(samples, { seed: 5 });
    const b = stratifiedSplit([...samples].reverse(), { seed: 5 });
    const c = stratifiedSplit(samples, { seed: 6 });
    assert.deepEqual(a.splits.val.map((s) => s.filename), b.splits.val.map((s) => s.filename));
    assert.equal(a.fingerprint, b.fingerprint);
    assert.notEqual(a.fingerprint, c.fingerprint);
    assert.match(a.fingerprint, /^[0-9a-f]{64}$/);
  });

  test('the first samples of a split are a fair sample of it, not its shortest labels', () => {
    const { splits } = stratifiedSplit(samples, { seed: 1 });
    const meanLength = (list: readonly { label: string }[]) => list.reduce((sum, s) => sum + s.label.length, 0) / list.length;
    const lengths = (list: readonly { label: string }[]) => new Set(list.map((s) => s.label.length));
    for (const split of [splits.train, splits.val]) {
      const head = split.slice(0, Math.ceil(split.length / 4));
      // Appended stratum by stratum, the first quarter held only the shortest labels.
      assert.ok(Math.abs(meanLength(head) - meanLength(split)) < 0.5, `${meanLength(head)} vs ${meanLength(split)}`);
      assert.ok(lengths(head).size >= lengths(split).size - 1, `${[...lengths(head)]} vs ${[...lengths(split)]}`);
    }
  });

  test('spreadSubset takes evenly spaced samples, so a list sorted by length keeps every length', () => {
    const sorted = [...samples].sort((a, b) => a.label.length - b.label.length);
    const subset = spreadSubset(sorted, 100);
    assert.equal(subset.length, 100);
    assert.equal(new Set(subset).size, 100);
    assert.deepEqual(new Set(subset.map((s) => s.label.length)), new Set(sorted.map((s) => s.label.length)));
    assert.deepEqual(spreadSubset(sorted, undefined), sorted);
    assert.deepEqual(spreadSubset(sorted, 5000), sorted);
    assert.deepEqual(spreadSubset(sorted, 0), []);
  });

  test('reports a stratum too small to reach every split', () => {
    const small = [...samples.slice(0, 100), { filename: 'odd.png', label: '1=1' }];
    const result = stratifiedSplit(small, { seed: 1 });
    assert.deepEqual(result.tooSmall, ['3']);
    const stratum = result.strata.find((s) => s.key === '3');
    assert.deepEqual(stratum?.counts, { train: 1, val: 0, test: 0 });
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

  test('the fingerprint of a split is what it was before the validation split was called val', () => {
    const small = Array.from({ length: 30 }, (_, i) => ({ filename: `images/${i}.png`, label: `${i % 7}+${i % 3}=${(i % 7) + (i % 3)}` }));
    const result = stratifiedSplit(small, { seed: 4 });
    assert.deepEqual(result.splits.val.map((s) => s.filename), ['images/28.png', 'images/0.png', 'images/21.png']);
    // Computed by the code that called this split `valid`: recorded runs keep comparing equal.
    assert.equal(result.fingerprint, '871b1aff09330c4aef025e5f341deaf60d1b3c28f8269090b58b379f7651a68f');
  });

  test('a manifest written with `valid` reads with `val`, and a data folder splits by it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glyphlab-split-'));
    try {
      const labeled = samples.slice(0, 20);
      mkdirSync(join(dir, 'images'));
      writeFileSync(join(dir, 'labels.csv'), ['filename,label', ...labeled.map((s) => `${s.filename},${s.label}`)].join('\n'));
      const blank = encodePng({ width: 8, height: 4, channels: 1, data: new Uint8Array(32).fill(255) });
      for (const s of labeled) writeFileSync(join(dir, s.filename), blank);
      const result = stratifiedSplit(labeled, { seed: 2 });
      const current = JSON.parse(readFileSync(writeSplitManifest(dir, result), 'utf8')) as Record<string, unknown> & { files: Record<string, unknown>; splitFingerprints: Record<string, unknown> };
      assert.deepEqual(Object.keys(current.files), ['train', 'val', 'test']);
      const { val: files, ...otherFiles } = current.files;
      const { val: fingerprint, ...otherFingerprints } = current.splitFingerprints;
      const older = { ...current, files: { ...otherFiles, valid: files }, splitFingerprints: { ...otherFingerprints, valid: fingerprint } };
      writeFileSync(join(dir, 'split.json'), JSON.stringify(older));
      const manifest = readSplitManifest(dir);
      assert.deepEqual(manifest?.files.val, result.splits.val.map((s) => ({ filename: s.filename, label: s.label })));
      assert.equal(manifest?.splitFingerprints.val, result.splitFingerprints.val);
      assert.deepEqual(manifest?.strata.map((s) => s.counts), result.strata.map((s) => s.counts));
      const loaded = await loadEquationSplits(dir);
      assert.equal(loaded.fromManifest, true);
      assert.deepEqual(loaded.splits.val.map((s) => s.filename), result.splits.val.map((s) => s.filename));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('every image is decoded before a split is returned: a torn one is a DataError now, not after the last epoch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glyphlab-split-decode-'));
    try {
      await synthesizeEquations({ outDir: dir, count: 10, seed: 'torn', workers: 0 });
      const good = await loadEquationSplits(dir);
      assert.equal(good.imageCheck, 'decode');
      const png = readFileSync(join(dir, 'images', '000003.png'));
      writeFileSync(join(dir, 'images', '000003.png'), png.subarray(0, png.length - 40));
      await assert.rejects(loadEquationSplits(dir), (e: unknown) => e instanceof DataError && /row 5 \(images\/000003\.png\): corrupt-image/.test(e.message));
      const quick = await loadEquationSplits(dir, 0, { check: 'header' });
      assert.equal(quick.imageCheck, 'header');
      assert.equal(quick.splits.train.length + quick.splits.val.length + quick.splits.test.length, 10);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a split.json older than the labels is refused, naming what changed and how to rewrite it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glyphlab-split-stale-'));
    try {
      await synthesizeEquations({ outDir: dir, count: 10, seed: 'stale', workers: 0 });
      const set = await loadEquationSplits(dir);
      writeSplitManifest(dir, stratifiedSplit([...set.splits.train, ...set.splits.val, ...set.splits.test], { seed: 1 }));
      assert.equal((await loadEquationSplits(dir)).fromManifest, true);
      const stale = (pattern: RegExp) => (e: unknown) =>
        e instanceof DataError &&
        e.message.startsWith(`${join(dir, 'split.json')} no longer matches the labels: `) &&
        pattern.test(e.message) &&
        e.message.includes(`\`glyphlab data split ${dir}\``);

      // Issue #37 item 6: synthesis extended the folder, and the old split left the new images unused.
      await synthesizeEquations({ outDir: dir, count: 14, seed: 'stale', workers: 0 });
      await assert.rejects(loadEquationSplits(dir), stale(/4 of the 14 images in .*labels\.csv are in no split \("images\/000010\.png", "images\/000011\.png", "images\/000012\.png" and 1 more\) and would never be used/));

      // A split naming files the labels lack, a file in two splits, a label changed since.
      const labels = readFileSync(join(dir, 'labels.csv'), 'utf8');
      writeFileSync(join(dir, 'labels.csv'), labels.split('\n').slice(0, 10).join('\n') + '\n');
      const manifest = JSON.parse(readFileSync(join(dir, 'split.json'), 'utf8')) as SplitManifest;
      const [first, second] = manifest.files.train as [{ filename: string; label: string }, { filename: string; label: string }];
      manifest.files.test.push(first);
      second.label = '1+1=2';
      writeFileSync(join(dir, 'split.json'), JSON.stringify(manifest));
      await assert.rejects(
        loadEquationSplits(dir),
        stale(
          new RegExp(
            `it names 1 file that .*labels\\.csv lacks \\("images/000009\\.png"\\); ` +
              `1 file has another label than the labels file gives \\(${JSON.stringify(second.filename).replace(/[./*+()]/g, '\\$&')} \\("1\\+1=2" there, .* in the labels\\)\\); ` +
              `1 file is in two splits \\(${JSON.stringify(first.filename).replace(/[./*+()]/g, '\\$&')} \\(train and test\\)\\)`,
          ),
        ),
      );
      // Rewritten, the split covers the folder again.
      rmSync(join(dir, 'split.json'));
      const fresh = await loadEquationSplits(dir);
      writeSplitManifest(dir, stratifiedSplit([...fresh.splits.train, ...fresh.splits.val, ...fresh.splits.test], { seed: 1 }));
      const reread = await loadEquationSplits(dir);
      assert.equal(reread.fromManifest, true);
      assert.equal(reread.splits.train.length + reread.splits.val.length + reread.splits.test.length, 9);
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
