import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError, ConfigError } from '../../../src/errors';
import { isValidEquation } from '../../../src/labels/equation-grammar';
import { synthesizeEquations } from '../../../src/data/equations/synth';
import { decodeImage } from '../../../src/image/sharp-io';

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'glyphlab-synth-'));
  tempDirs.push(dir);
  return dir;
}
process.on('exit', () => tempDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function readAll(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const name of readdirSync(join(dir, 'images')).sort()) files.set(name, readFileSync(join(dir, 'images', name)));
  files.set('labels.csv', readFileSync(join(dir, 'labels.csv')));
  return files;
}

describe('synthesizeEquations', () => {
  test('writes 300x64 RGB PNGs and grammatical labels', async () => {
    const dir = tempDir();
    const result = await synthesizeEquations({ outDir: dir, count: 24, seed: 7, workers: 0, fonts: ['all'] });
    assert.equal(result.written, 24);
    const lines = readFileSync(join(dir, 'labels.csv'), 'utf8').trim().split('\n');
    assert.equal(lines[0], 'filename,label');
    assert.equal(lines.length, 25);
    for (const line of lines.slice(1)) {
      const [file, label] = line.split(',') as [string, string];
      assert.ok(isValidEquation(label), label);
      const image = await decodeImage(join(dir, file));
      assert.deepEqual([image.width, image.height, image.channels], [300, 64, 3]);
    }
    assert.equal(result.distributions.count, 24);
    // Light background, dark text: the corners are light, some pixels are dark.
    const first = await decodeImage(join(dir, 'images', '000000.png'), { channels: 1 });
    const sorted = Array.from(first.data).sort((a, b) => a - b);
    assert.ok((sorted[sorted.length >> 1] ?? 0) > 180, 'median pixel is light');
    assert.ok((sorted[20] ?? 255) < 130, 'some pixels are dark');
  });

  test('same seed gives byte-identical files, whatever the number of workers', async () => {
    const a = tempDir();
    const b = tempDir();
    await synthesizeEquations({ outDir: a, count: 70, seed: 'det', workers: 0, fonts: ['print', 'caveat'] });
    await synthesizeEquations({ outDir: b, count: 70, seed: 'det', workers: 2, fonts: ['print', 'caveat'] });
    const filesA = readAll(a);
    const filesB = readAll(b);
    assert.deepEqual([...filesA.keys()], [...filesB.keys()]);
    for (const [name, bytes] of filesA) assert.ok(bytes.equals(filesB.get(name) as Buffer), name);
    const c = tempDir();
    await synthesizeEquations({ outDir: c, count: 5, seed: 'other', workers: 0, fonts: ['print', 'caveat'] });
    assert.ok(!readFileSync(join(c, 'images', '000000.png')).equals(filesA.get('000000.png') as Buffer));
  });

  test('resumes after an interruption: torn and missing images are redrawn, complete ones kept', async () => {
    const dir = tempDir();
    await synthesizeEquations({ outDir: dir, count: 20, seed: 3, workers: 0 });
    const before = readAll(dir);
    // Simulate a crash: one image torn, one missing, a stale temp file, labels not yet written.
    truncateSync(join(dir, 'images', '000004.png'), 100);
    unlinkSync(join(dir, 'images', '000009.png'));
    writeFileSync(join(dir, 'images', '.000011.png.tmp-999-11'), 'partial');
    unlinkSync(join(dir, 'labels.csv'));
    const result = await synthesizeEquations({ outDir: dir, count: 20, seed: 3, workers: 0 });
    assert.equal(result.written, 2);
    assert.equal(result.skipped, 18);
    const after = readAll(dir);
    assert.deepEqual([...after.keys()], [...before.keys()]);
    for (const [name, bytes] of before) assert.ok(bytes.equals(after.get(name) as Buffer), name);
  });

  test('random placement moves the ink to the right of the left-aligned default', async () => {
    const centroid = async (placement: 'left' | 'random'): Promise<number> => {
      const dir = tempDir();
      await synthesizeEquations({ outDir: dir, count: 20, seed: 'place', workers: 0, placement });
      let weighted = 0;
      let total = 0;
      for (let i = 0; i < 20; i++) {
        // Dark pixels only: the tinted background would otherwise spread "ink" evenly.
        const gray = await decodeImage(join(dir, 'images', `${String(i).padStart(6, '0')}.png`), { channels: 1 });
        gray.data.forEach((v, p) => {
          if (v >= 128) return;
          weighted += p % gray.width;
          total += 1;
        });
      }
      return weighted / total;
    };
    const left = await centroid('left');
    const random = await centroid('random');
    assert.ok(left < 125, `left-aligned ink centroid ${left}`);
    assert.ok(random > left + 15, `random ${random} vs left ${left}`);
  });

  test('speckle noise is a different look: same labels and text, other noise; recorded only when not the default', async () => {
    const crosses = tempDir();
    const speckle = tempDir();
    await synthesizeEquations({ outDir: crosses, count: 4, seed: 'noise', workers: 0 });
    await synthesizeEquations({ outDir: speckle, count: 4, seed: 'noise', workers: 0, noise: 'speckle' });
    assert.deepEqual(readFileSync(join(speckle, 'labels.csv'), 'utf8'), readFileSync(join(crosses, 'labels.csv'), 'utf8'));
    for (let i = 0; i < 4; i++) {
      const name = `${String(i).padStart(6, '0')}.png`;
      assert.ok(!readFileSync(join(speckle, 'images', name)).equals(readFileSync(join(crosses, 'images', name))), `${name} differs`);
    }
    assert.equal(JSON.parse(readFileSync(join(speckle, 'synth.json'), 'utf8')).noise, 'speckle');
    assert.equal(JSON.parse(readFileSync(join(crosses, 'synth.json'), 'utf8')).noise, undefined);
    await assert.rejects(synthesizeEquations({ outDir: tempDir(), count: 1, workers: 0, noise: 'snow' as 'speckle' }), (e: unknown) => e instanceof ConfigError && /noise "snow" is not valid: expected crosses or speckle/.test(e.message));
  });

  test('refuses to resume with different options, and rejects bad ones', async () => {
    const dir = tempDir();
    await synthesizeEquations({ outDir: dir, count: 3, seed: 1, workers: 0 });
    await assert.rejects(synthesizeEquations({ outDir: dir, count: 3, seed: 2, workers: 0 }), DataError);
    await assert.rejects(synthesizeEquations({ outDir: tempDir(), count: 3, fonts: ['comic-sans'] }), (e: unknown) => e instanceof ConfigError && /comic-sans/.test(e.message) && /caveat/.test(e.message));
  });

  test("refuses a folder it did not make; force writes beside the user's files and never over them", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'images'));
    writeFileSync(join(dir, 'images', '000001.png'), 'my own image');
    writeFileSync(join(dir, 'images', 'cat.png'), 'another one');
    writeFileSync(join(dir, 'labels.csv'), 'filename,label\nimages/000001.png,1+1=2\n');
    const snapshot = (): string[] => ['images/000001.png', 'images/cat.png', 'labels.csv'].map((f) => readFileSync(join(dir, f), 'utf8'));
    const before = snapshot();
    await assert.rejects(
      synthesizeEquations({ outDir: dir, count: 5, seed: 1, workers: 0 }),
      (e: unknown) => e instanceof DataError && e.message.includes(dir) && /did not synthesise/.test(e.message) && /"labels\.csv"/.test(e.message) && /--force/.test(e.message),
    );
    await assert.rejects(
      synthesizeEquations({ outDir: dir, count: 5, seed: 1, workers: 0, force: true }),
      (e: unknown) => e instanceof DataError && /would overwrite 2 files it did not write \("labels\.csv", "images\/000001\.png"\)/.test(e.message),
    );
    assert.deepEqual(snapshot(), before, 'nothing of the user was touched');
    assert.ok(!existsSync(join(dir, 'synth.json')));
    assert.deepEqual(readdirSync(join(dir, 'images')).sort(), ['000001.png', 'cat.png']);

    // With nothing in the way, force writes beside the user's files.
    unlinkSync(join(dir, 'labels.csv'));
    unlinkSync(join(dir, 'images', '000001.png'));
    const result = await synthesizeEquations({ outDir: dir, count: 3, seed: 1, workers: 0, force: true });
    assert.equal(result.written, 3);
    assert.equal(readFileSync(join(dir, 'images', 'cat.png'), 'utf8'), 'another one');
    // The folder is synthesis's now: running again resumes without --force.
    assert.equal((await synthesizeEquations({ outDir: dir, count: 3, seed: 1, workers: 0 })).skipped, 3);
    await assert.rejects(synthesizeEquations({ outDir: join(dir, 'labels.csv'), count: 3, workers: 0 }), /is a file; synthesis needs a folder/);
  });

  test('a smaller count drops no labels silently: refused, or cut down with force', async () => {
    const dir = tempDir();
    await synthesizeEquations({ outDir: dir, count: 12, seed: 5, workers: 0 });
    const labels = readFileSync(join(dir, 'labels.csv'), 'utf8');
    await assert.rejects(
      synthesizeEquations({ outDir: dir, count: 8, seed: 5, workers: 0 }),
      (e: unknown) => e instanceof DataError && /holds a synthesis of 12 images/.test(e.message) && /drop the labels of images 8 to 11/.test(e.message) && /--count 12/.test(e.message),
    );
    assert.equal(readFileSync(join(dir, 'labels.csv'), 'utf8'), labels);
    const cut = await synthesizeEquations({ outDir: dir, count: 8, seed: 5, workers: 0, force: true });
    assert.deepEqual([cut.skipped, cut.written, cut.removed], [8, 0, 4]);
    assert.equal(readFileSync(join(dir, 'labels.csv'), 'utf8'), labels.split('\n').slice(0, 9).join('\n') + '\n');
    assert.equal(readdirSync(join(dir, 'images')).length, 8, 'no unlabelled image is left behind');
    // A larger count extends the set without --force.
    assert.equal((await synthesizeEquations({ outDir: dir, count: 10, seed: 5, workers: 0 })).written, 2);
  });

  test('a labels.csv edited after synthesis is not overwritten, even with force', async () => {
    const dir = tempDir();
    await synthesizeEquations({ outDir: dir, count: 4, seed: 6, workers: 0 });
    const edited = readFileSync(join(dir, 'labels.csv'), 'utf8').replace(/^(images\/000000\.png),.*$/m, '$1,1+1=2');
    writeFileSync(join(dir, 'labels.csv'), edited);
    for (const force of [false, true]) {
      await assert.rejects(synthesizeEquations({ outDir: dir, count: 4, seed: 6, workers: 0, force }), /labels\.csv was changed after synthesis wrote it/);
    }
    assert.equal(readFileSync(join(dir, 'labels.csv'), 'utf8'), edited);
  });
});
