import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { isSqliteFile, outputConflict, writeFileAtomic } from '../../src/util/output-file';

const root = mkdtempSync(join(tmpdir(), 'glyphlab-output-file-'));
after(() => rmSync(root, { recursive: true, force: true }));

function folder(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A real SQLite database (not a glyphlab store) at `path`. */
function sqliteAt(path: string): string {
  const db = new Database(path);
  db.exec('create table notes (text text); insert into notes values (\'keep me\')');
  db.close();
  return path;
}

/**
 * Runs writeFileAtomic in a child process whose file size limit (`ulimit -f`, in KiB) is below
 * the size written: the write fails with EFBIG part way through, as on a full disk, for root too.
 */
function writeUnderSizeLimit(path: string, bytes: number, limitKib: number): { status: number | null; stdout: string; stderr: string } {
  const script = `
    const { writeFileAtomic } = require(${JSON.stringify(join(__dirname, '../../src/util/output-file.ts'))});
    try { writeFileAtomic(process.argv[1], Buffer.alloc(Number(process.argv[2]), 120)); console.log('written'); }
    catch (error) { console.log('failed ' + error.code); }`;
  const run = spawnSync('bash', ['-c', `ulimit -f ${limitKib} && exec "$0" --require tsx/cjs -e "$1" "$2" "$3"`, process.execPath, script, path, String(bytes)], { encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('writeFileAtomic', () => {
  test('writes a new file and replaces an earlier one, keeping its permissions', () => {
    const dir = folder('replace');
    const path = join(dir, 'report.html');
    writeFileAtomic(path, 'first');
    assert.equal(readFileSync(path, 'utf8'), 'first');
    chmodSync(path, 0o640);
    writeFileAtomic(path, new Uint8Array([104, 105]));
    assert.equal(readFileSync(path, 'utf8'), 'hi');
    assert.equal(statSync(path).mode & 0o777, 0o640);
    assert.deepEqual(readdirSync(dir), ['report.html'], 'no temporary file is left');
  });

  test('a write that fails part way (file size limit, as a full disk) leaves no file, or the earlier one unchanged, and no temporary file', () => {
    const dir = folder('too-big');
    const fresh = join(dir, 'fresh.csv');
    const failed = writeUnderSizeLimit(fresh, 512 * 1024, 64);
    assert.equal(failed.stdout.trim(), 'failed EFBIG', failed.stderr);
    assert.deepEqual(readdirSync(dir), [], 'neither an empty nor a truncated file');

    const earlier = join(dir, 'earlier.csv');
    writeFileSync(earlier, 'the earlier export\n');
    assert.equal(writeUnderSizeLimit(earlier, 512 * 1024, 64).stdout.trim(), 'failed EFBIG');
    assert.equal(readFileSync(earlier, 'utf8'), 'the earlier export\n');
    assert.deepEqual(readdirSync(dir), ['earlier.csv']);

    assert.equal(writeUnderSizeLimit(earlier, 1024, 64).stdout.trim(), 'written', 'the same child writes what fits');
    assert.equal(statSync(earlier).size, 1024);
  });

  test('a rename that fails (a folder holds the name) removes the temporary file', () => {
    const dir = folder('rename');
    mkdirSync(join(dir, 'taken', 'inner'), { recursive: true });
    assert.throws(() => writeFileAtomic(join(dir, 'taken'), 'text'), (error: NodeJS.ErrnoException) => ['EISDIR', 'ENOTEMPTY', 'EEXIST'].includes(error.code ?? ''));
    assert.deepEqual(readdirSync(dir), ['taken']);
    assert.deepEqual(readdirSync(join(dir, 'taken')), ['inner']);
  });

  test('a parent that is a file fails before anything is written', () => {
    const dir = folder('parent-file');
    writeFileSync(join(dir, 'plain'), 'x');
    assert.throws(() => writeFileAtomic(join(dir, 'plain', 'report.html'), 'text'), /ENOTDIR/);
    assert.deepEqual(readdirSync(dir), ['plain']);
  });

  test('follows a symbolic link to a file (the target is replaced, the link stays); writes straight into one that is no regular file', () => {
    const dir = folder('links');
    writeFileSync(join(dir, 'target.txt'), 'old');
    symlinkSync(join(dir, 'target.txt'), join(dir, 'link.txt'));
    writeFileAtomic(join(dir, 'link.txt'), 'new');
    assert.ok(lstatSync(join(dir, 'link.txt')).isSymbolicLink());
    assert.equal(readFileSync(join(dir, 'target.txt'), 'utf8'), 'new');

    // `--out /dev/stdout` must write to the device, not put a file in the link's place.
    symlinkSync('/dev/null', join(dir, 'null'));
    writeFileAtomic(join(dir, 'null'), 'discarded');
    assert.ok(lstatSync(join(dir, 'null')).isSymbolicLink());
    assert.ok(statSync('/dev/null').isCharacterDevice());
    assert.deepEqual(readdirSync(dir).sort(), ['link.txt', 'null', 'target.txt']);
  });
});

describe('outputConflict', () => {
  const dir = folder('conflicts');
  const store = sqliteAt(join(dir, 'glyphlab.db'));
  const labels = join(dir, 'labels.csv');
  writeFileSync(labels, 'filename,label\nimages/1.png,1+1=2\n');
  mkdirSync(join(dir, 'images'));
  writeFileSync(join(dir, 'images', '1.png'), 'png');
  const options = {
    inputs: [
      { path: store, what: 'the experiment store being read' },
      { path: labels, what: 'the labels file' },
    ],
    inputFolders: [{ path: join(dir, 'images'), what: "the data folder's images" }],
  };

  test('an input, by path, hard link or symbolic link', () => {
    assert.equal(outputConflict(store, options), 'is the experiment store being read');
    assert.equal(outputConflict(join(dir, '.', 'labels.csv'), options), 'is the labels file');
    linkSync(labels, join(dir, 'hard-link.csv'));
    assert.equal(outputConflict(join(dir, 'hard-link.csv'), options), `is the labels file (${labels})`);
    symlinkSync(store, join(dir, 'store-link'));
    assert.equal(outputConflict(join(dir, 'store-link'), options), `is the experiment store being read (${store})`);
  });

  test('anything inside an input folder, existing or not', () => {
    assert.match(outputConflict(join(dir, 'images', '1.png'), options) ?? '', /is inside .*images, the data folder's images/);
    assert.match(outputConflict(join(dir, 'images', 'new', 'report.html'), options) ?? '', /inside/);
    assert.equal(outputConflict(join(dir, 'images-report.html'), options), undefined, 'a name that merely starts like the folder is fine');
  });

  test('any SQLite database, whatever its name, and the -wal, -shm and -journal files beside one', () => {
    const other = sqliteAt(join(folder('elsewhere'), 'notes.txt'));
    assert.ok(isSqliteFile(other));
    assert.equal(outputConflict(other), 'is a SQLite database');
    assert.match(outputConflict(`${store}-wal`) ?? '', /is the wal file of the SQLite database .*glyphlab\.db/);
    assert.match(outputConflict(`${store}-shm`) ?? '', /shm file/);
    assert.match(outputConflict(`${store}-journal`) ?? '', /journal file/);
  });

  test('a new file, or an ordinary one, may be written', () => {
    assert.equal(outputConflict(join(dir, 'report.html'), options), undefined);
    writeFileSync(join(dir, 'old-report.html'), 'SQLite format 2');
    assert.equal(isSqliteFile(join(dir, 'old-report.html')), false);
    assert.equal(outputConflict(join(dir, 'old-report.html'), options), undefined);
    assert.equal(outputConflict(join(dir, 'x-wal'), options), undefined);
  });
});
