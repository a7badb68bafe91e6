import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, EXIT_OK, EXIT_USAGE } from '../../src/cli/main';
import { encodePng } from '../../src/image/png';
import { createRawImage } from '../../src/image/raw-image';
import { cli } from '../support/cli';

const root = mkdtempSync(join(tmpdir(), 'glyphlab-cli-data-'));
after(() => rmSync(root, { recursive: true, force: true }));


describe('glyphlab data', () => {
  const dir = join(root, 'set');

  test('synth writes images and labels and reports the distributions', async () => {
    const result = await cli(['data', 'synth', '--out', dir, '--count', '30', '--seed', '4', '--workers', '0', '--fonts', 'dejavu-sans,kalam', '--placement', 'random']);
    assert.equal(result.code, EXIT_OK, result.err);
    assert.match(result.out, /wrote 30 images/);
    assert.match(result.out, /label lengths: /);
    assert.match(result.out, /= \d/);
    assert.equal(readFileSync(join(dir, 'labels.csv'), 'utf8').trim().split('\n').length, 31);
  });

  test('explore prints tables and writes the HTML report', async () => {
    const report = join(root, 'report.html');
    const result = await cli(['data', 'explore', dir, '--out', report, '--max-images', '10']);
    assert.equal(result.code, EXIT_OK, result.err);
    assert.match(result.out, /label lengths/);
    assert.match(result.out, /ink in the left half/);
    assert.ok(existsSync(report));
  });

  test('split writes split.json and prints the fingerprint', async () => {
    const result = await cli(['data', 'split', dir, '--ratios', '8:1:1', '--seed', '2', '--json']);
    assert.equal(result.code, EXIT_OK, result.err);
    const printed = JSON.parse(result.out) as { fingerprint: string; sizes: Record<string, number> };
    const manifest = JSON.parse(readFileSync(join(dir, 'split.json'), 'utf8')) as { fingerprint: string };
    assert.equal(printed.fingerprint, manifest.fingerprint);
    assert.equal(printed.sizes['train']! + printed.sizes['val']! + printed.sizes['test']!, 30);
  });

  test('a bad row fails with exit 2 and one line naming it; --skip-invalid reports it', async () => {
    appendFileSync(join(dir, 'labels.csv'), 'images/missing.png,1+1=2\n');
    const failed = await cli(['data', 'check', dir]);
    assert.equal(failed.code, EXIT_USAGE);
    assert.match(failed.err, /row 32 \(images\/missing\.png\): missing-image/);
    assert.equal(failed.err.trim().split('\n').length, 1);
    const skipped = await cli(['data', 'check', dir, '--skip-invalid']);
    assert.equal(skipped.code, EXIT_OK);
    assert.match(skipped.err, /skipped 1 invalid rows \(missing-image 1\)/);
    assert.match(skipped.out, /30 valid images/);
  });

  test("synth refuses a folder of the user's own images (exit 2, nothing touched); --force cuts a set to a smaller --count", async () => {
    const own = join(root, 'own');
    mkdirSync(join(own, 'images'), { recursive: true });
    writeFileSync(join(own, 'images', '000001.png'), 'my image');
    writeFileSync(join(own, 'labels.csv'), 'filename,label\nimages/000001.png,1+1=2\n');
    const refused = await cli(['data', 'synth', '--out', own, '--count', '5', '--workers', '0']);
    assert.equal(refused.code, EXIT_USAGE);
    assert.match(refused.err, /already holds files that glyphlab did not synthesise/);
    assert.equal(refused.err.trim().split('\n').filter((l) => l.startsWith('glyphlab')).length, 1);
    assert.equal(readFileSync(join(own, 'images', '000001.png'), 'utf8'), 'my image');
    assert.equal(readFileSync(join(own, 'labels.csv'), 'utf8'), 'filename,label\nimages/000001.png,1+1=2\n');

    const set = join(root, 'small');
    assert.equal((await cli(['data', 'synth', '--out', set, '--count', '6', '--workers', '0'])).code, EXIT_OK);
    const smaller = await cli(['data', 'synth', '--out', set, '--count', '4', '--workers', '0']);
    assert.equal(smaller.code, EXIT_USAGE);
    assert.match(smaller.err, /would drop the labels of images 4 to 5/);
    assert.equal(readFileSync(join(set, 'labels.csv'), 'utf8').trim().split('\n').length, 7);
    const forced = await cli(['data', 'synth', '--out', set, '--count', '4', '--workers', '0', '--force']);
    assert.equal(forced.code, EXIT_OK, forced.err);
    assert.match(forced.out, /removed 2 images of the earlier run beyond --count 4/);
    assert.equal(readFileSync(join(set, 'labels.csv'), 'utf8').trim().split('\n').length, 5);
  });

  test("synth never labels or deletes a user's image dropped at one of its names (exit 2, one line naming it, nothing touched)", async () => {
    // Issue #37 item 5: a 1x1 images/000060.png was labelled when the set grew and deleted when it shrank.
    const set = join(root, 'dropped');
    assert.equal((await cli(['data', 'synth', '--out', set, '--count', '5', '--workers', '0'])).code, EXIT_OK);
    const mine = encodePng(createRawImage(1, 1, 3, [255, 255, 255]));
    writeFileSync(join(set, 'images', '000006.png'), mine);
    const labels = readFileSync(join(set, 'labels.csv'), 'utf8');
    const grown = await cli(['data', 'synth', '--out', set, '--count', '8', '--workers', '0']);
    assert.equal(grown.code, EXIT_USAGE);
    assert.equal(grown.err.trim().split('\n').length, 1, grown.err);
    assert.match(grown.err, /"images\/000006\.png": not an image synthesis wrote \(a 1x1 PNG\)/);
    assert.match(grown.err, /never labels, overwrites or deletes a file it did not write: move it out of /);
    assert.equal(readFileSync(join(set, 'labels.csv'), 'utf8'), labels);
    assert.doesNotMatch(readFileSync(join(set, 'labels.csv'), 'utf8'), /000006/);
    const cut = await cli(['data', 'synth', '--out', set, '--count', '3', '--workers', '0', '--force']);
    assert.equal(cut.code, EXIT_OK, cut.err);
    assert.match(cut.out, /removed 2 images of the earlier run beyond --count 3/);
    assert.ok(readFileSync(join(set, 'images', '000006.png')).equals(mine), "the user's image is still there, unchanged");
  });

  test('after synth extends a folder, its old split.json is named: synth says so and train refuses it until `data split` rewrites it', async () => {
    const set = join(root, 'extended');
    assert.equal((await cli(['data', 'synth', '--out', set, '--count', '10', '--workers', '0'])).code, EXIT_OK);
    assert.equal((await cli(['data', 'split', set])).code, EXIT_OK);
    const extended = await cli(['data', 'synth', '--out', set, '--count', '14', '--workers', '0']);
    assert.equal(extended.code, EXIT_OK, extended.err);
    assert.match(extended.out, new RegExp(`note: .*split\\.json lists 10 images, labels\\.csv now 14: \`glyphlab data split ${set.replace(/[./]/g, '\\$&')}\` rewrites it`));
    const db = join(root, 'extended.db');
    const refused = await cli(['train', '--data', set, '--epochs', '1', '--db', db]);
    assert.equal(refused.code, EXIT_USAGE);
    assert.match(refused.err, /split\.json no longer matches the labels: 4 of the 14 images in .*labels\.csv are in no split/);
    assert.ok(!existsSync(db), 'no run was started');
    assert.equal((await cli(['data', 'split', set])).code, EXIT_OK);
    const manifest = JSON.parse(readFileSync(join(set, 'split.json'), 'utf8')) as { files: Record<string, unknown[]> };
    assert.equal(Object.values(manifest.files).reduce((n, files) => n + files.length, 0), 14);
  });

  test('a labels.csv that is a folder, or a split.json that is one, gets one line naming it and exit 2', async () => {
    const odd = join(root, 'odd');
    mkdirSync(join(odd, 'labels.csv'), { recursive: true });
    for (const argv of [['data', 'check', odd], ['data', 'split', odd], ['train', '--data', odd, '--db', join(root, 'odd.db')]]) {
      const result = await cli(argv);
      assert.equal(result.code, EXIT_USAGE, argv.join(' '));
      assert.match(result.err, new RegExp(`labels file ${join(odd, 'labels.csv').replace(/[./]/g, '\\$&')} is a folder, not a file`));
      assert.doesNotMatch(result.err, /EISDIR|--verbose/);
    }
    const splitFolder = join(root, 'split-folder');
    assert.equal((await cli(['data', 'synth', '--out', splitFolder, '--count', '3', '--workers', '0'])).code, EXIT_OK);
    mkdirSync(join(splitFolder, 'split.json'));
    const result = await cli(['train', '--data', splitFolder, '--db', join(root, 'odd.db')]);
    assert.equal(result.code, EXIT_USAGE);
    assert.match(result.err, /split manifest .*split\.json is a folder, not a file/);
  });

  test('bad options name what is accepted', async () => {
    const result = await cli(['data', 'synth', '--out', join(root, 'x'), '--placement', 'middle']);
    assert.equal(result.code, EXIT_USAGE);
    assert.match(result.err, /expected left or random/);
    const workers = await cli(['data', 'synth', '--out', join(root, 'never'), '--workers', '999']);
    assert.equal(workers.code, EXIT_USAGE);
    assert.match(workers.err, /--workers "999" is not valid: expected an integer from 0 to 64/);
    assert.ok(!existsSync(join(root, 'never')));
  });
});
