// Issue #37 item 1: no output of the CLI may replace the store it reads, one of its inputs or any
// SQLite file, and a write that fails leaves no empty or truncated file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../../src/cli/main';
import { listRuns } from '../../src/tracker/query';
import { closeStore, openStore } from '../../src/tracker/store';
import { projectRoot } from '../../src/util/paths';
import { fillDashboardDb } from '../dashboard/fixtures';
import { cli } from '../support/cli';

const root = mkdtempSync(join(tmpdir(), 'glyphlab-cli-outputs-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** The store still opens as a glyphlab store and lists its runs: the bytes on disk were not replaced. */
function assertStoreIntact(file: string, bytesBefore: Buffer, runCount: number): void {
  assert.ok(readFileSync(file).equals(bytesBefore), `${file} is unchanged`);
  const store = openStore(file, { readonly: true });
  try {
    assert.equal(listRuns(store).length, runCount);
  } finally {
    closeStore(store);
  }
}

/** A SQLite database of some other program: no glyphlab store, and not to be replaced either. */
function otherProgramsDatabase(path: string): string {
  const db = new Database(path);
  db.exec("create table contacts (name text); insert into contacts values ('Ada')");
  db.close();
  return path;
}

function contactsOf(path: string): unknown[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('select name from contacts').all();
  } finally {
    db.close();
  }
}

describe('outputs never replace the store, an input or a SQLite file', () => {
  const db = join(root, 'experiments', 'glyphlab.db');
  let storeBytes: Buffer;
  before(async () => {
    mkdirSync(join(root, 'experiments'));
    await fillDashboardDb(db, join(root, 'experiments'));
    // Close cleanly first so that the whole store is in the one file compared below.
    closeStore(openStore(db));
    storeBytes = readFileSync(db);
  });

  test('dashboard --out onto the store of --db, or of GLYPHLAB_DB, is refused with exit 2 and the store still opens', async () => {
    const refused = await cli(['dashboard', '--db', db, '--out', db]);
    assert.equal(refused.code, EXIT_USAGE, refused.err);
    assert.match(refused.err, /--out \S+glyphlab\.db is the experiment store being read: refusing to write over it/);
    assertStoreIntact(db, storeBytes, 3);

    const previous = process.env['GLYPHLAB_DB'];
    process.env['GLYPHLAB_DB'] = db;
    try {
      const fromEnv = await cli(['dashboard', '--out', db]);
      assert.equal(fromEnv.code, EXIT_USAGE, fromEnv.err);
      assert.match(fromEnv.err, /is the experiment store being read/);
    } finally {
      if (previous === undefined) delete process.env['GLYPHLAB_DB'];
      else process.env['GLYPHLAB_DB'] = previous;
    }
    assertStoreIntact(db, storeBytes, 3);
  });

  test('runs export --out onto the store (csv or json, directly or through a link) is refused and the store still opens', async () => {
    for (const format of ['csv', 'json']) {
      const refused = await cli(['runs', 'export', '--db', db, '--format', format, '--out', db]);
      assert.equal(refused.code, EXIT_USAGE, refused.err);
      assert.match(refused.err, /is the experiment store being read/);
    }
    const link = join(root, 'store-link.db');
    symlinkSync(db, link);
    const viaLink = await cli(['runs', 'export', '--db', db, '--format', 'csv', '--out', link]);
    assert.equal(viaLink.code, EXIT_USAGE, viaLink.err);
    assert.match(viaLink.err, /is the experiment store being read \(\S+glyphlab\.db\)/);
    for (const companion of ['-wal', '-shm']) {
      const beside = await cli(['runs', 'export', '--db', db, '--out', `${db}${companion}`]);
      assert.equal(beside.code, EXIT_USAGE, beside.err);
      assert.match(beside.err, new RegExp(`is the ${companion.slice(1)} file of the SQLite database`));
    }
    assertStoreIntact(db, storeBytes, 3);
    const exported = await cli(['runs', 'export', '--db', db, '--format', 'csv', '--out', join(root, 'runs.csv')]);
    assert.equal(exported.code, EXIT_OK, exported.err);
    assert.equal(readFileSync(join(root, 'runs.csv'), 'utf8').trim().split('\n').length, 4);
  });

  test('an existing SQLite file of another program, whatever its name, is refused by every --out', async () => {
    const other = otherProgramsDatabase(join(root, 'address-book.txt'));
    const before = readFileSync(other);
    const attempts = [
      ['dashboard', '--db', db, '--out', other],
      ['runs', 'export', '--db', db, '--format', 'json', '--out', other],
      ['classify', 'samples', '--data', 'mnist', '--limit', '10', '--out', other],
      ['data', 'explore', 'mnist', '--limit', '10', '--out', other],
    ];
    for (const argv of attempts) {
      const refused = await cli(argv);
      assert.equal(refused.code, EXIT_USAGE, `${argv.join(' ')}: ${refused.err}`);
      assert.match(refused.err, /address-book\.txt is a SQLite database: refusing to write over it/, argv.join(' '));
    }
    assert.ok(readFileSync(other).equals(before));
    assert.deepEqual(contactsOf(other), [{ name: 'Ada' }]);
  });

  test('data explore D --out D/labels.csv, or into D/images, is refused before reading the images, and the labels stay', async () => {
    const data = join(root, 'eq');
    const synth = await cli(['data', 'synth', '--out', data, '--count', '6', '--seed', '3', '--workers', '0']);
    assert.equal(synth.code, EXIT_OK, synth.err);
    const labels = readFileSync(join(data, 'labels.csv'));
    const image = readFileSync(join(data, 'images', '000001.png'));

    const onLabels = await cli(['data', 'explore', data, '--out', join(data, 'labels.csv')]);
    assert.equal(onLabels.code, EXIT_USAGE, onLabels.err);
    assert.match(onLabels.err, /labels\.csv is the data folder's labels\.csv: refusing to write over it/);
    const onImage = await cli(['data', 'explore', data, '--out', join(data, 'images', '000001.png')]);
    assert.equal(onImage.code, EXIT_USAGE, onImage.err);
    assert.match(onImage.err, /is inside \S+images, the data folder's images/);
    const viaLabelsOption = await cli(['data', 'explore', data, '--labels', 'labels.csv', '--out', join(data, 'labels.csv')]);
    assert.equal(viaLabelsOption.code, EXIT_USAGE, viaLabelsOption.err);

    assert.ok(readFileSync(join(data, 'labels.csv')).equals(labels), 'labels.csv is unchanged');
    assert.ok(readFileSync(join(data, 'images', '000001.png')).equals(image));
    const check = await cli(['data', 'check', data]);
    assert.equal(check.code, EXIT_OK, check.err);
    assert.match(check.out, /^6 valid images/);

    const fine = await cli(['data', 'explore', data, '--max-images', '6']);
    assert.equal(fine.code, EXIT_OK, fine.err);
    assert.ok(readdirSync(data).includes('report.html'), 'the default report beside the labels is still written');
  });

  test('classify and data explore refuse to write over the letters CSV they read, before reading it', async () => {
    const letters = join(root, 'letters.csv');
    writeFileSync(letters, 'not,a,letters,file\n');
    const samples = await cli(['classify', 'samples', '--data', `letters-csv:${letters}`, '--out', letters]);
    assert.equal(samples.code, EXIT_USAGE, samples.err);
    assert.match(samples.err, /letters\.csv is the letters CSV being read \(--data\)/);
    const explore = await cli(['data', 'explore', `letters-csv:${letters}`, '--out', letters]);
    assert.equal(explore.code, EXIT_USAGE, explore.err);
    assert.match(explore.err, /letters\.csv is the letters CSV being read/);
    assert.equal(readFileSync(letters, 'utf8'), 'not,a,letters,file\n');
  });
});

describe('outputs are written whole or not at all', () => {
  // A store of its own, so that these tests stand even where the ones above destroyed theirs.
  const db = join(root, 'whole', 'glyphlab.db');
  before(async () => {
    mkdirSync(join(root, 'whole'));
    await fillDashboardDb(db, join(root, 'whole'));
  });

  test('a write that fails part way (a file size limit, as on a full disk) leaves no file and the earlier report unchanged', () => {
    // The dashboard inlines plotly (about 5 MB); the limit of 2 MiB stops the write part way. A
    // file size limit applies to root too, unlike file permissions.
    const folder = mkdtempSync(join(root, 'full-'));
    const run = (out: string): ReturnType<typeof spawnSync> =>
      spawnSync('bash', ['-c', 'ulimit -f 2048 && exec "$@"', 'bash', process.execPath, join(projectRoot(), 'scripts', 'glyphlab.js'), 'dashboard', '--db', db, '--out', out], { encoding: 'utf8' });
    const fresh = run(join(folder, 'report.html'));
    assert.deepEqual(readdirSync(folder), [], 'neither an empty nor a truncated file, nor a temporary one');
    assert.equal(fresh.status, EXIT_FAILURE, String(fresh.stderr));
    assert.match(String(fresh.stderr), /could not write --out \S+report\.html: EFBIG/);

    writeFileSync(join(folder, 'earlier.html'), '<p>the earlier report</p>');
    const again = run(join(folder, 'earlier.html'));
    assert.equal(again.status, EXIT_FAILURE, String(again.stderr));
    assert.equal(readFileSync(join(folder, 'earlier.html'), 'utf8'), '<p>the earlier report</p>');
    assert.deepEqual(readdirSync(folder), ['earlier.html']);
  });

  test('--out naming a folder is refused; a missing folder above the file is created', async () => {
    const refused = await cli(['runs', 'export', '--db', db, '--out', root]);
    assert.equal(refused.code, EXIT_USAGE, refused.err);
    assert.match(refused.err, /is a folder: give the name of a file to write/);
    const nested = join(root, 'new', 'deeper', 'runs.json');
    const written = await cli(['runs', 'export', '--db', db, '--out', nested]);
    assert.equal(written.code, EXIT_OK, written.err);
    assert.equal((JSON.parse(readFileSync(nested, 'utf8')) as unknown[]).length, 3);
  });
});
