import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError, ConfigError } from '../../../src/errors';
import { isValidEquation } from '../../../src/labels/equation-grammar';
import { SYNTH_HASHES_FILE, synthesizeEquations } from '../../../src/data/equations/synth';
import { encodePng } from '../../../src/image/png';
import { createRawImage } from '../../../src/image/raw-image';
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

/** A user's own image: a 1x1 white PNG. */
const USER_PNG = encodePng(createRawImage(1, 1, 3, [255, 255, 255]));

/** Every file of the folder (images/ included) with its bytes, to show that a refusal changed nothing. */
function snapshotFolder(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const name of readdirSync(dir).sort()) if (name !== 'images') files.set(name, readFileSync(join(dir, name)));
  for (const name of readdirSync(join(dir, 'images')).sort()) files.set(`images/${name}`, readFileSync(join(dir, 'images', name)));
  return files;
}

function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The hashes file holds exactly one line per image, in order, with the hash of the bytes on disk. */
function assertHashesRecorded(dir: string, count: number): void {
  const expected = Array.from({ length: count }, (_, i) => {
    const name = `images/${String(i).padStart(6, '0')}.png`;
    return `${sha256Hex(readFileSync(join(dir, name)))}  ${name}`;
  });
  assert.deepEqual(readFileSync(join(dir, SYNTH_HASHES_FILE), 'utf8').trimEnd().split('\n'), expected);
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
    assertHashesRecorded(a, 70);
    assertHashesRecorded(b, 70);
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

  test("a user's image at a synthesis name is never labelled, adopted or deleted: extending, resuming and cutting refuse, naming it", async () => {
    const dir = tempDir();
    await synthesizeEquations({ outDir: dir, count: 10, seed: 8, workers: 0 });
    // Issue #37 item 5: a 1x1 image dropped beyond the set was labelled when the set grew.
    writeFileSync(join(dir, 'images', '000012.png'), USER_PNG);
    const before = snapshotFolder(dir);
    await assert.rejects(
      synthesizeEquations({ outDir: dir, count: 16, seed: 8, workers: 0 }),
      (e: unknown) =>
        e instanceof DataError &&
        /1 file at names synthesis writes is not what it wrote there \("images\/000012\.png": not an image synthesis wrote \(a 1x1 PNG\)\)/.test(e.message) &&
        /never labels, overwrites or deletes a file it did not write: move it out of .*images and run again, or give another folder/.test(e.message),
    );
    assert.deepEqual(snapshotFolder(dir), before, 'nothing in the folder changed');

    // An image synthesis wrote, replaced by the user's own: not relabelled on a resume, not deleted by a cut.
    unlinkSync(join(dir, 'images', '000012.png'));
    writeFileSync(join(dir, 'images', '000008.png'), USER_PNG);
    const replaced = snapshotFolder(dir);
    for (const run of [{ count: 10 }, { count: 12 }, { count: 6, force: true }]) {
      await assert.rejects(
        synthesizeEquations({ outDir: dir, seed: 8, workers: 0, ...run }),
        (e: unknown) => e instanceof DataError && /"images\/000008\.png": changed since synthesis wrote it \(now a 1x1 PNG\)/.test(e.message),
        JSON.stringify(run),
      );
      assert.deepEqual(snapshotFolder(dir), replaced, `nothing changed with ${JSON.stringify(run)}`);
    }
    // Moved away, as the message says: the set resumes, and a cut deletes only synthesis's own images.
    unlinkSync(join(dir, 'images', '000008.png'));
    writeFileSync(join(dir, 'images', 'mine.png'), USER_PNG);
    assert.deepEqual((await synthesizeEquations({ outDir: dir, count: 10, seed: 8, workers: 0 })).written, 1);
    const cut = await synthesizeEquations({ outDir: dir, count: 6, seed: 8, workers: 0, force: true });
    assert.equal(cut.removed, 4);
    assert.deepEqual(readdirSync(join(dir, 'images')).sort(), ['000000.png', '000001.png', '000002.png', '000003.png', '000004.png', '000005.png', 'mine.png']);
    assertHashesRecorded(dir, 6);
  });

  test('a folder, a link or an oversized file at a synthesis name is refused, never followed or read', async () => {
    const dir = tempDir();
    await synthesizeEquations({ outDir: dir, count: 4, seed: 9, workers: 0 });
    mkdirSync(join(dir, 'images', '000004.png'));
    symlinkSync(join(dir, 'images', '000000.png'), join(dir, 'images', '000005.png'));
    writeFileSync(join(dir, 'images', '000006.png'), Buffer.alloc(300 * 64 * 3 * 2 + 10_000));
    await assert.rejects(synthesizeEquations({ outDir: dir, count: 8, seed: 9, workers: 0 }), (e: unknown) =>
      e instanceof DataError &&
      /3 files at names synthesis writes are not what it wrote there/.test(e.message) &&
      /"images\/000004\.png": a folder; synthesis writes files/.test(e.message) &&
      /"images\/000005\.png": a symbolic link; synthesis writes none/.test(e.message) &&
      /"images\/000006\.png": 125200 bytes, more than any image synthesis writes/.test(e.message),
    );
    assert.equal(readFileSync(join(dir, 'labels.csv'), 'utf8').trim().split('\n').length, 5);
  });

  test('an interrupted run resumes honestly: images written but not yet recorded are recognised by rendering them again', async () => {
    const dir = tempDir();
    await synthesizeEquations({ outDir: dir, count: 12, seed: 10, workers: 0 });
    const before = readAll(dir);
    assert.equal(JSON.parse(readFileSync(join(dir, 'synth.json'), 'utf8')).imageHashes, SYNTH_HASHES_FILE);
    // A crash after images 6 to 11 were renamed into place but before their hashes were appended,
    // in the middle of appending the line of image 5, and before labels.csv was written.
    const lines = readFileSync(join(dir, SYNTH_HASHES_FILE), 'utf8').split('\n');
    writeFileSync(join(dir, SYNTH_HASHES_FILE), `${lines.slice(0, 5).join('\n')}\n${(lines[5] ?? '').slice(0, 30)}`);
    truncateSync(join(dir, 'images', '000009.png'), 50);
    unlinkSync(join(dir, 'labels.csv'));
    const result = await synthesizeEquations({ outDir: dir, count: 12, seed: 10, workers: 0 });
    assert.deepEqual([result.written, result.skipped], [1, 11], 'only the torn image is rendered again');
    const after = readAll(dir);
    for (const [name, bytes] of before) assert.ok(bytes.equals(after.get(name) as Buffer), name);
    assertHashesRecorded(dir, 12);
    // `sha256sum -c` in the folder checks the images against the record.
    assert.match(execFileSync('sha256sum', ['-c', SYNTH_HASHES_FILE], { cwd: dir, encoding: 'utf8' }), /images\/000011\.png: OK/);
  });

  test('a folder of a glyphlab that recorded no hashes: its images are kept and recorded, a stranger among them is refused', async () => {
    const dir = tempDir();
    await synthesizeEquations({ outDir: dir, count: 8, seed: 11, workers: 0 });
    // What 6fe60ea left: a synth.json without imageHashes, and no record.
    const manifest = JSON.parse(readFileSync(join(dir, 'synth.json'), 'utf8')) as Record<string, unknown>;
    delete manifest['imageHashes'];
    writeFileSync(join(dir, 'synth.json'), JSON.stringify(manifest, null, 2));
    unlinkSync(join(dir, SYNTH_HASHES_FILE));
    writeFileSync(join(dir, 'images', '000003.png'), USER_PNG);
    writeFileSync(join(dir, 'images', '000009.png'), USER_PNG);
    await assert.rejects(synthesizeEquations({ outDir: dir, count: 10, seed: 11, workers: 0 }), (e: unknown) =>
      e instanceof DataError && /2 files .*"images\/000003\.png": not an image synthesis wrote \(a 1x1 PNG\); "images\/000009\.png": not an image synthesis wrote/.test(e.message),
    );
    unlinkSync(join(dir, 'images', '000003.png'));
    unlinkSync(join(dir, 'images', '000009.png'));
    const result = await synthesizeEquations({ outDir: dir, count: 10, seed: 11, workers: 0 });
    assert.deepEqual([result.written, result.skipped], [3, 7]);
    assertHashesRecorded(dir, 10);
  });
});
