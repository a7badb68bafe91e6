/**
 * The files of a saved model folder (`best/`, `last/`, `model/` of a run) on disk: written so that
 * a crash at any point leaves one complete copy, checked against a manifest when read, and
 * recovered when a crash fell between the two renames of a save.
 *
 * A save writes every file into `<dir>.tmp-<pid>/`, each fsynced, then `manifest.json` (the size
 * and SHA-256 of every other file) last, fsyncs that folder, renames the current `<dir>` to
 * `<dir>.old-<pid>` and the new copy to `<dir>`, fsyncs the parent and removes the old copy. POSIX
 * has no atomic exchange of two folders (Linux's `renameat2(RENAME_EXCHANGE)` is not in Node), so
 * between the two renames no folder has the final name; a reader that finds it so picks the newest
 * complete copy under the temporary names and, when the process that wrote it is gone, renames it
 * back. A copy is complete when its manifest is there and every file matches it: the manifest is
 * written last, so a copy cut short by a crash or a full disk has none.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DataError, errorMessage, GlyphlabError } from '../errors';
import { sha256 } from '../util/hash';
import { processAlive } from '../util/process';
import { syncFolder, writeFileDurably } from '../util/output-file';

/** The file, written last into every saved folder, that lists the size and SHA-256 of the others. */
export const MANIFEST_FILE = 'manifest.json';
const MANIFEST_FORMAT = 'glyphlab-saved-folder';
const MANIFEST_VERSION = 1;

/** Size and hash of one file of a saved folder. */
export interface ManifestEntry {
  bytes: number;
  /** Hex SHA-256 of the file's bytes. */
  sha256: string;
}

/** What `manifest.json` records. */
export interface FolderManifest {
  /** When the save wrote it (ISO 8601): orders the copies a crash left. */
  savedAt: string;
  files: Record<string, ManifestEntry>;
}

/**
 * A saved folder as found on disk: where to read its files from (the folder asked for, or a
 * complete copy of it that a crash left under a temporary name) and its manifest, absent for
 * folders saved before glyphlab wrote one (their files are read unchecked).
 */
export interface SavedFolder {
  /** The folder that was asked for. */
  requested: string;
  /** The folder the files are read from. */
  dir: string;
  manifest: FolderManifest | undefined;
}

/** Options of {@link openSavedFolder}. */
export interface OpenSavedFolderOptions {
  /**
   * Told when the folder is read from a copy a crash left, or restored from one. Defaults to a
   * `glyphlab: warning: ...` line on stderr.
   */
  warn?: (message: string) => void;
}

/** What a damaged saved folder's errors advise. */
const DAMAGED_ADVICE =
  'the saved model is damaged (a file changed or was cut short after it was saved); load another of the run\'s saved models (model/, best/ or last/) or train again';




/** A copy of a saved folder under a temporary name: `<dir>.tmp-<pid>` (a save's new copy) or `<dir>.old-<pid>` (the copy it replaced). */
interface FolderCopy {
  path: string;
  kind: 'tmp' | 'old';
  pid: number;
}

/** The temporary copies of `dir` beside it, left by a save in progress, a failed save or a crash. */
function listCopies(dir: string): FolderCopy[] {
  const parent = dirname(dir);
  const prefix = `${basename(dir)}.`;
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    if (!name.startsWith(prefix)) return [];
    const match = /^(tmp|old)-([1-9][0-9]*)$/.exec(name.slice(prefix.length));
    if (!match) return [];
    return [{ path: join(parent, name), kind: match[1] as 'tmp' | 'old', pid: Number(match[2]) }];
  });
}

function manifestText(files: Record<string, ManifestEntry>): string {
  return `${JSON.stringify({ format: MANIFEST_FORMAT, version: MANIFEST_VERSION, savedAt: new Date().toISOString(), files }, null, 1)}\n`;
}

/** Reads `dir`'s manifest: undefined when it has none (saved before manifests), a DataError when it is not one. */
export function readManifest(dir: string): FolderManifest | undefined {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return undefined;
  let json: { format?: unknown; version?: unknown; savedAt?: unknown; files?: unknown };
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as typeof json;
  } catch (error) {
    throw new DataError(`${path} is not valid JSON (${errorMessage(error)}); ${DAMAGED_ADVICE}`, { cause: error });
  }
  const files = json.files as Record<string, Partial<ManifestEntry>> | undefined;
  const valid =
    json.format === MANIFEST_FORMAT &&
    typeof json.savedAt === 'string' &&
    typeof files === 'object' &&
    files !== null &&
    Object.values(files).every((e) => typeof e === 'object' && e !== null && Number.isInteger(e.bytes) && typeof e.sha256 === 'string');
  if (!valid) {
    throw new DataError(`${path} is not a glyphlab manifest (expected {"format": "${MANIFEST_FORMAT}", "savedAt", "files": {name: {bytes, sha256}}}); ${DAMAGED_ADVICE}`);
  }
  if (json.version !== MANIFEST_VERSION) {
    throw new DataError(`${path} is manifest version ${JSON.stringify(json.version)}; this glyphlab reads version ${MANIFEST_VERSION} (upgrade glyphlab)`);
  }
  return { savedAt: json.savedAt as string, files: files as Record<string, ManifestEntry> };
}

/** Why `bytes` (or a missing file) does not match `entry`, as the start of an error message; undefined when it matches. */
function mismatch(path: string, entry: ManifestEntry, bytes: Uint8Array | undefined): string | undefined {
  const expected = `expected ${entry.bytes} bytes (sha256 ${entry.sha256})`;
  if (bytes === undefined) return `${path}: does not exist; ${expected}`;
  if (bytes.byteLength !== entry.bytes) return `${path}: ${expected}, found ${bytes.byteLength}`;
  const found = sha256(bytes);
  return found === entry.sha256 ? undefined : `${path}: ${expected}, found ${bytes.byteLength} bytes with sha256 ${found}`;
}

/** The first file of `dir` that does not match its manifest, described; undefined when every one matches. */
function firstMismatch(dir: string, manifest: FolderManifest): string | undefined {
  for (const [name, entry] of Object.entries(manifest.files)) {
    const path = join(dir, name);
    const problem = mismatch(path, entry, existsSync(path) ? readFileSync(path) : undefined);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** A folder fully checked: its manifest (undefined when it has none) and, when it is not complete, why. */
interface FolderCheck {
  manifest: FolderManifest | undefined;
  problem: string | undefined;
}

function checkFolder(dir: string): FolderCheck {
  try {
    const manifest = readManifest(dir);
    return { manifest, problem: manifest ? firstMismatch(dir, manifest) : undefined };
  } catch (error) {
    return { manifest: undefined, problem: errorMessage(error) };
  }
}

/**
 * Removes the copies of a saved folder that no save needs any more: those of a process that is
 * gone, and those older than the complete folder written at `completedAtMs` (a crashed save's
 * leftovers whose process id was reused since). The current process's own copies are left: they
 * belong to a save it is making. Best effort: a folder that cannot be removed (read-only) stays.
 */
function removeStaleCopies(copies: readonly FolderCopy[], completedAtMs: number): void {
  for (const copy of copies) {
    if (copy.pid === process.pid) continue;
    try {
      if (processAlive(copy.pid) && statSync(copy.path).mtimeMs >= completedAtMs) continue;
      rmSync(copy.path, { recursive: true, force: true });
    } catch {
      // Left for the next save or load to remove.
    }
  }
}

/** Removes a folder, when it can: a failure that is being reported should not be hidden by a second one. */
function removeQuietly(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    // Left for the next save or load to remove.
  }
}

function manifestTime(dir: string): number {
  return statSync(join(dir, MANIFEST_FILE)).mtimeMs;
}

/**
 * Writes `files` as folder `dir`, replacing it: a crash at any point leaves either the previous
 * folder or the new one complete, under `dir` or (between the two renames) under a temporary
 * name that {@link openSavedFolder} recovers. A failed write (a full disk) removes its temporary
 * folder and leaves `dir` as it was. Copies older saves left beside `dir` are removed.
 */
export function writeSavedFolder(dir: string, files: Record<string, string | Uint8Array>): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old-${process.pid}`;
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  rmSync(tmp, { recursive: true, force: true });
  try {
    mkdirSync(tmp);
    const entries: Record<string, ManifestEntry> = {};
    for (const [name, content] of Object.entries(files)) {
      const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
      writeFileDurably(join(tmp, name), bytes);
      entries[name] = { bytes: bytes.byteLength, sha256: sha256(bytes) };
    }
    // Last: a copy with a manifest is a complete copy.
    writeFileDurably(join(tmp, MANIFEST_FILE), Buffer.from(manifestText(entries), 'utf8'));
    syncFolder(tmp);
  } catch (error) {
    removeQuietly(tmp);
    throw new GlyphlabError(`saving ${dir} failed (${errorMessage(error)}); the folder is as it was before this save`, { cause: error });
  }
  const replacing = existsSync(dir);
  try {
    if (replacing) {
      rmSync(old, { recursive: true, force: true });
      renameSync(dir, old);
    }
  } catch (error) {
    removeQuietly(tmp);
    throw new GlyphlabError(`saving ${dir} failed renaming it to ${old} (${errorMessage(error)}); the folder is as it was before this save`, { cause: error });
  }
  try {
    renameSync(tmp, dir);
  } catch (error) {
    try {
      if (replacing) renameSync(old, dir);
      rmSync(tmp, { recursive: true, force: true });
    } catch {
      // Both copies stay complete under their temporary names; openSavedFolder recovers them.
    }
    throw new GlyphlabError(`saving ${dir} failed renaming ${tmp} to it (${errorMessage(error)})`, { cause: error });
  }
  syncFolder(parent);
  try {
    rmSync(old, { recursive: true, force: true });
    removeStaleCopies(listCopies(dir), manifestTime(dir));
  } catch {
    // The save is done; what is left is removed by the next save or load.
  }
}

/** Newest first: by the manifest's time, a save's new copy before the copy it replaced, complete copies before unchecked ones. */
function compareCandidates(a: { copy: FolderCopy; check: FolderCheck }, b: { copy: FolderCopy; check: FolderCheck }): number {
  const verified = Number(b.check.manifest !== undefined) - Number(a.check.manifest !== undefined);
  if (verified !== 0) return verified;
  const time = (b.check.manifest?.savedAt ?? '').localeCompare(a.check.manifest?.savedAt ?? '');
  if (time !== 0) return time;
  return Number(b.copy.kind === 'tmp') - Number(a.copy.kind === 'tmp');
}

function describeCopy(copy: FolderCopy, check: FolderCheck): string {
  return check.manifest ? `${copy.path} (complete, saved ${check.manifest.savedAt})` : `${copy.path} (saved before glyphlab wrote manifests, so unchecked)`;
}

function defaultWarn(message: string): void {
  process.stderr.write(`glyphlab: warning: ${message}\n`);
}

/**
 * Finds saved folder `dir` on disk. When no save left copies beside it, that is `dir` itself
 * (files are checked as they are read). Otherwise `dir` is checked in full: when complete, the
 * copies no save needs are removed; when it is missing or damaged, the newest complete copy is
 * used instead and `warn` says so. A missing `dir` is restored from it by a rename when the process
 * that wrote it is gone (a crash between the two renames of a save); a damaged `dir` is kept for a
 * look until the next save replaces it. A copy without a manifest counts only as a save's old copy
 * (`<dir>.old-<pid>`, the complete folder it was renamed from), and only when no checked copy exists.
 * When nothing can stand in, `dir` is returned as it is, and reading it names what is wrong.
 */
export function openSavedFolder(dir: string, options: OpenSavedFolderOptions = {}): SavedFolder {
  const warn = options.warn ?? defaultWarn;
  const copies = listCopies(dir);
  if (copies.length === 0) return { requested: dir, dir, manifest: existsSync(dir) ? readManifest(dir) : undefined };
  const present = existsSync(dir);
  const final = present ? checkFolder(dir) : undefined;
  if (final && final.problem === undefined) {
    // A folder without a manifest (saved by an older glyphlab) is used as it is, and copies beside it are left alone.
    if (final.manifest) removeStaleCopies(copies, manifestTime(dir));
    return { requested: dir, dir, manifest: final.manifest };
  }
  const candidates = copies
    .map((copy) => ({ copy, check: checkFolder(copy.path) }))
    .filter(({ copy, check }) => check.problem === undefined && (check.manifest !== undefined || copy.kind === 'old'))
    .sort(compareCandidates);
  const chosen = candidates[0];
  // Nothing complete stands in: read `dir` as it is, so that its damaged file (or manifest) is named.
  if (!chosen) return { requested: dir, dir, manifest: present ? readManifest(dir) : undefined };
  const { copy, check } = chosen;
  const described = describeCopy(copy, check);
  if (final) {
    warn(`${dir} is damaged (${final.problem}); reading ${described} instead; the next save replaces both`);
    return { requested: dir, dir: copy.path, manifest: check.manifest };
  }
  if (copy.pid !== process.pid && processAlive(copy.pid)) {
    warn(`${dir} is missing; reading ${described}, a copy of process ${copy.pid}, which still runs (saving it now, or a reused process id)`);
    return { requested: dir, dir: copy.path, manifest: check.manifest };
  }
  try {
    renameSync(copy.path, dir);
    syncFolder(dirname(dir));
  } catch (error) {
    warn(`${dir} is missing (a save was interrupted); reading ${described} in place, as it could not be renamed back (${errorMessage(error)})`);
    return { requested: dir, dir: copy.path, manifest: check.manifest };
  }
  warn(`${dir} was missing (a save was interrupted between its two renames); restored it from ${described}`);
  if (check.manifest) removeStaleCopies(copies.filter((c) => c !== copy), manifestTime(dir));
  return { requested: dir, dir, manifest: check.manifest };
}

/**
 * Reads file `name` of a saved folder, checked against its manifest: undefined when the file is
 * absent and the manifest does not list it (or there is no manifest); a DataError naming the file,
 * the size and hash expected and those found when it does not match.
 */
export function readSavedFile(folder: SavedFolder, name: string): Buffer | undefined {
  const path = join(folder.dir, name);
  const bytes = existsSync(path) ? readFileSync(path) : undefined;
  const entry = folder.manifest?.files[name];
  if (entry === undefined) return bytes;
  const problem = mismatch(path, entry, bytes);
  if (problem !== undefined) throw new DataError(`${problem}; ${DAMAGED_ADVICE}`);
  return bytes;
}

/**
 * Runs `read` on saved folder `dir`, once more when it fails because a save replaced the folder
 * while it read (another process saving `last/` as this one loads it mixes two saves' files).
 * `read` should only read: what it returns is built from one save's files.
 */
export function readSavedFolder<T>(dir: string, options: OpenSavedFolderOptions, read: (folder: SavedFolder) => T): T {
  const folder = openSavedFolder(dir, options);
  try {
    return read(folder);
  } catch (error) {
    let again: SavedFolder;
    try {
      again = openSavedFolder(dir, options);
    } catch {
      throw error;
    }
    const replaced = again.dir !== folder.dir || again.manifest?.savedAt !== folder.manifest?.savedAt;
    if (!replaced) throw error;
    return read(again);
  }
}
