/**
 * Bounded reads of the files glyphlab is handed: images, labels files, manifests. Each is opened
 * without blocking and checked before a byte is read: a FIFO, a device or a folder is refused
 * (a FIFO would block the open forever, `/dev/zero` would fill memory), and so is a file larger
 * than the caller's limit, with a message naming the file, its size, the limit and the
 * environment variable that raises it. Images live here because they are the first such files;
 * labels and manifests use the same reader with their own limits.
 */
import { closeSync, constants, fstatSync, openSync, promises as fs, readSync, type Stats } from 'node:fs';
import { DataError } from '../errors';
import { describeBytes, maxImageBytes } from './limits';

/** The size limit of one kind of file, and how a message names it. */
export interface FileReadLimit {
  /** Largest size in bytes. */
  maxBytes: number;
  /** What the file is, for messages, e.g. `image file`, `labels file`. */
  what: string;
  /** The environment variable that raises the limit, named in the message. Defaults to none: the limit is fixed. */
  limitVariable?: string;
  /** What else a larger file needs, added to the message. Defaults to nothing. */
  advice?: string;
}

/** The limit of an image file: `GLYPHLAB_MAX_IMAGE_BYTES` (see `limits.ts`), or `maxBytes` when given. */
export function imageFileLimit(maxBytes: number = maxImageBytes()): FileReadLimit {
  return { maxBytes, what: 'image file', limitVariable: 'GLYPHLAB_MAX_IMAGE_BYTES' };
}

// O_NONBLOCK makes opening a FIFO return at once instead of waiting for a writer; regular files
// ignore it. Windows has no such flag and no FIFOs to open.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** What kind of thing a non-regular file is, in words: `a folder`, `a FIFO (named pipe)`, `a character device`... */
export function fileKind(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Throws a DataError when `stats` is not a regular file or is larger than the limit; `path`
 * names it. Exported for callers that already hold a file's stats (from `fs.stat`).
 */
export function checkRegularFile(path: string, stats: Stats, limit: FileReadLimit): void {
  if (!stats.isFile()) {
    throw new DataError(`${path} is ${fileKind(stats)}, not a regular file: expected ${articled(limit.what)}`);
  }
  if (stats.size > limit.maxBytes) {
    throw new DataError(
      `${path} is ${describeBytes(stats.size)}, more than the limit of ${describeBytes(limit.maxBytes)} for ${articled(limit.what)}; ` +
        (limit.limitVariable ? `${limit.limitVariable}=N (bytes) raises it` : 'the limit is fixed') +
        (limit.advice ? ` (${limit.advice})` : ''),
    );
  }
}

function articled(what: string): string {
  return /^[aeiou]/i.test(what) ? `an ${what}` : `a ${what}`;
}

/**
 * Reads a whole regular file of at most `limit.maxBytes` bytes. A FIFO, device or folder, or a
 * larger file, is a DataError naming it; errors of the file system (ENOENT, EACCES) pass through
 * unchanged, with their `code`.
 *
 * @example
 * const bytes = readRegularFileSync('a.png', imageFileLimit());
 */
export function readRegularFileSync(path: string, limit: FileReadLimit): Buffer {
  return readOpenedSync(path, limit, Infinity);
}

/** The first `length` bytes (fewer when the file is shorter) of a regular file within `limit`; see {@link readRegularFileSync}. */
export function readRegularFileHeadSync(path: string, length: number, limit: FileReadLimit): Buffer {
  return readOpenedSync(path, limit, length);
}

function readOpenedSync(path: string, limit: FileReadLimit, length: number): Buffer {
  const fd = openSync(path, OPEN_FLAGS);
  try {
    const stats = fstatSync(fd);
    checkRegularFile(path, stats, limit);
    const bytes = Buffer.alloc(Math.min(stats.size, length));
    let filled = 0;
    while (filled < bytes.length) {
      const read = readSync(fd, bytes, filled, bytes.length - filled, filled);
      if (read === 0) break; // the file shrank since fstat
      filled += read;
    }
    return filled < bytes.length ? bytes.subarray(0, filled) : bytes;
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens a regular file within `limit` for reading (see {@link readRegularFileSync}) and returns
 * the handle with the size it had when checked; the caller closes the handle.
 */
export async function openRegularFile(path: string, limit: FileReadLimit): Promise<{ handle: fs.FileHandle; size: number }> {
  const handle = await fs.open(path, OPEN_FLAGS);
  try {
    const stats = await handle.stat();
    checkRegularFile(path, stats, limit);
    return { handle, size: stats.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** The asynchronous {@link readRegularFileSync}. */
export async function readRegularFile(path: string, limit: FileReadLimit): Promise<Buffer> {
  return readOpened(path, limit, Infinity);
}

/** The asynchronous {@link readRegularFileHeadSync}. */
export async function readRegularFileHead(path: string, length: number, limit: FileReadLimit): Promise<Buffer> {
  return readOpened(path, limit, length);
}

async function readOpened(path: string, limit: FileReadLimit, length: number): Promise<Buffer> {
  const { handle, size } = await openRegularFile(path, limit);
  try {
    const bytes = Buffer.alloc(Math.min(size, length));
    let filled = 0;
    while (filled < bytes.length) {
      const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled < bytes.length ? bytes.subarray(0, filled) : bytes;
  } finally {
    await handle.close();
  }
}
