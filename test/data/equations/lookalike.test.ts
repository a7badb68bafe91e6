import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng } from '../../../src/util/rng';
import { randomEquationLabel } from '../../../src/data/equations/forms';
import { isValidEquation } from '../../../src/labels/equation-grammar';
import { loadLabeledImages } from '../../../src/data/equations/load';
import { lookalikeShare } from '../../../src/labels/lookalike';
import { randomLookalikeLabel, synthesizeLookalikeSet } from '../../../src/data/equations/lookalike';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('look-alike evaluation set', () => {
  test('labels are valid equations and much richer in look-alikes than ordinary ones', () => {
    const rich = Array.from({ length: 400 }, (_, i) => randomLookalikeLabel(createRng(`rich:${i}`)));
    const plain = Array.from({ length: 400 }, (_, i) => randomEquationLabel(createRng(`plain:${i}`)));
    for (const label of rich) assert.ok(isValidEquation(label), `${label} is not a valid equation`);
    const richShare = lookalikeShare(rich);
    const plainShare = lookalikeShare(plain);
    assert.ok(richShare > plainShare + 0.15, `look-alike share ${richShare.toFixed(3)} vs ordinary ${plainShare.toFixed(3)}`);
    // Every group is represented.
    for (const ch of '1769808+*()') assert.ok(rich.some((l) => l.includes(ch)), `no label has ${ch}`);
    assert.throws(() => randomLookalikeLabel(createRng(1), { candidates: 0 }), /candidates 0 must be a positive integer/);
  });

  test('writes a folder the ordinary loader reads, reproducibly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glyphlab-lookalike-'));
    dirs.push(dir);
    const first = synthesizeLookalikeSet({ outDir: join(dir, 'a'), count: 4, seed: 5, width: 120, height: 32 });
    const second = synthesizeLookalikeSet({ outDir: join(dir, 'b'), count: 4, seed: 5, width: 120, height: 32 });
    assert.deepEqual(first.labels, second.labels);
    const loaded = await loadLabeledImages(join(dir, 'a'));
    assert.deepEqual(loaded.samples.map((s) => s.label), first.labels);
    assert.ok(first.lookalikeShare > 0);
  });
});
