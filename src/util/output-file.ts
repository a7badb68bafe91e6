/**
 * Writing the files a command produces without losing one it reads. A mistyped `--out` that
 * names the experiment store, the labels file or any SQLite database is refused before anything
 * is written ({@link outputConflict}), and every output is written whole or not at all
 * ({@link writeFileAtomic}): a full disk leaves the old file, not an empty or half-written one.
 */
import { randomBytes } from 'node:crypto';
import { type Stats, closeSync, existsSync, fsyncSync, openSync, readSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';

/** A path the command reads, with what it is in words: `{ path: 'd/labels.csv', what: 'the labels file' }`. */
export interface NamedPath {
  path: string;
  what: string;
}

/** What an output must not land on; see {@link outputConflict}. */
export interface OutputConflictOptions {
  /** Files (or folders) the command reads: the output may be none of them. Defaults to none. */
  inputs?: readonly NamedPath[];
  /** Folders whose files the command reads (a data set's images): no output goes inside them. Defaults to none. */
  inputFolders?: readonly NamedPath[];
}

/** The first 16 bytes of every SQLite 3 database file. */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** The files SQLite keeps beside a database: replacing one loses the transactions it holds. */
const SQLITE_COMPANION = /-(wal|shm|journal)$/;

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Whether `path` is an existing SQLite database (its first 16 bytes are SQLite's header,
 * whatever the file is called).
 */
export function isSqliteFile(path: string): boolean {
  if (!statOrUndefined(path)?.isFile()) return false;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(SQLITE_HEADER.length);
    return readSync(fd, head, 0, head.length, 0) === head.length && head.equals(SQLITE_HEADER);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * `path` with symbolic links resolved, also for a path that does not exist yet: the nearest
 * existing folder above it is resolved and the rest appended, so that `out/new/report.html` and
 * a link to `out/` compare equal.
 */
export function resolvePhysical(path: string): string {
  const absolute = resolve(path);
  let existing = absolute;
  while (!existsSync(existing)) {
    const parent = dirname(existing);
    if (parent === existing) return absolute;
    existing = parent;
  }
  try {
    return join(realpathSync(existing), relative(existing, absolute));
  } catch {
    return absolute;
  }
}

/** The same file as `output` (stat'ed once by the caller): one device and inode when both exist, hard and symbolic links included, else the same resolved path. */
function sameFile(output: string, outputStat: Stats | undefined, input: string): boolean {
  if (resolve(output) === resolve(input)) return true;
  // Inputs exist; an output that does not cannot be one of them under another name.
  if (!outputStat) return false;
  const inputStat = statOrUndefined(input);
  return inputStat !== undefined && inputStat.dev === outputStat.dev && inputStat.ino === outputStat.ino;
}

function isInside(path: string, folder: string): boolean {
  const inner = resolvePhysical(path);
  const outer = resolvePhysical(folder);
  return inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);
}

/**
 * Why `path` must not be written as a command's output, or `undefined` when it may be: it is
 * one of the command's `inputs` (compared by device and inode, so a link to the input counts),
 * lies inside one of its `inputFolders`, is a SQLite database (recognised by its header, whatever
 * its name), or is the `-wal`, `-shm` or `-journal` file of one. The reason reads after the path:
 * `'is the experiment store being read'`.
 *
 * @example
 * outputConflict('experiments/glyphlab.db', { inputs: [{ path: db, what: 'the experiment store being read' }] });
 * // 'is the experiment store being read'
 */
export function outputConflict(path: string, options: OutputConflictOptions = {}): string | undefined {
  const outputStat = statOrUndefined(path);
  for (const input of options.inputs ?? []) {
    if (sameFile(path, outputStat, input.path)) return `is ${input.what}${resolve(input.path) === resolve(path) ? '' : ` (${input.path})`}`;
  }
  for (const folder of options.inputFolders ?? []) {
    if (isInside(path, folder.path)) return `is inside ${folder.path}, ${folder.what}`;
  }
  if (isSqliteFile(path)) return 'is a SQLite database';
  const companion = SQLITE_COMPANION.exec(path);
  if (companion && isSqliteFile(path.slice(0, companion.index))) {
    return `is the ${companion[1]} file of the SQLite database ${path.slice(0, companion.index)} (replacing it loses what it holds)`;
  }
  return undefined;
}

/**
 * Writes `data` to `path` whole or not at all: into a new temporary file beside it, flushed to
 * disk (fsync), then renamed over `path` in one step. On any failure (a full disk, a file size
 * limit, a folder in the way) the temporary file is removed and `path` is left as it was, so no
 * empty or truncated file remains. An existing file keeps its permissions; a symbolic link is
 * followed, so the file it points to is replaced, not the link. A path that is no regular file
 * (`/dev/stdout`, a named pipe) is written to directly, since it cannot be replaced.
 *
 * @example
 * writeFileAtomic('report.html', html);
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const existing = statOrUndefined(path);
  if (existing && !existing.isFile() && !existing.isDirectory()) {
    // A device or pipe cannot be replaced, nor synced (EINVAL).
    writeWhole(path, data, 'w', { sync: false });
    return;
  }
  const target = existing?.isFile() ? realpathSync(path) : resolve(path);
  const temporary = join(dirname(target), `.${basename(target)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileDurably(temporary, data, { exclusive: true, mode: existing?.isFile() ? existing.mode & 0o7777 : undefined });
    renameSync(temporary, target);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  syncFolder(dirname(target));
}

/** Writes all of `data` to the file at `path` opened with `flags`; `sync` flushes it to disk before returning. */
function writeWhole(path: string, data: string | Uint8Array, flags: 'w' | 'wx', options: { mode?: number; sync: boolean }): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const fd = openSync(path, flags, options.mode);
  try {
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    if (options.sync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `data` to a file at `path` (made, or emptied first; with `exclusive`, only made) and
 * flushes it to the disk before returning: what a later rename must be able to rely on.
 */
export function writeFileDurably(path: string, data: string | Uint8Array, options: { exclusive?: boolean; mode?: number } = {}): void {
  writeWhole(path, data, options.exclusive ? 'wx' : 'w', { mode: options.mode, sync: true });
}

/**
 * Flushes a folder's entries (the names made or renamed in it) to the disk, so that a rename
 * survives a power loss. Where a folder cannot be opened or synced for this (Windows, some file
 * systems) the rename is as durable as it gets there, and nothing is thrown; any other failure is.
 */
export function syncFolder(folder: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(folder, 'r');
    fsyncSync(fd);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!['EISDIR', 'EPERM', 'EACCES', 'EINVAL', 'EBADF'].includes(code ?? '')) throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
