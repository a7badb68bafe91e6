/**
 * Turns the drivers' errors (better-sqlite3's, and the PostgreSQL driver's `PostgresError`) into
 * one-line {@link TrackerError}s that name the store, say what to do, and carry the SQL and
 * parameters for debugging.
 */
import { TrackerError } from '../errors';
import { PostgresError, isPostgresBusy, postgresErrorMessage } from './postgres-errors';

/** The SQLite result code of an error thrown by better-sqlite3, e.g. `'SQLITE_BUSY'`. */
export function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/**
 * Whether `error` (or the driver error a TrackerError carries) says that another connection held
 * the lock past the busy timeout: a failure that goes away, unlike a full disk or a damaged file.
 */
export function isBusyError(error: unknown): boolean {
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (isPostgresBusy(error) || isPostgresBusy(cause)) return true;
  const code = sqliteCode(error) ?? sqliteCode(cause) ?? '';
  return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
}

/**
 * A {@link TrackerError} for `error`, thrown while running `sql` with `params` on the store `file`
 * (a SQLite file, or a PostgreSQL URL without its password). Already-translated errors pass
 * through unchanged.
 */
export function toTrackerError(error: unknown, file: string, sql?: string, params?: unknown): TrackerError {
  if (error instanceof TrackerError) return error;
  if (error instanceof PostgresError) return new TrackerError(postgresErrorMessage(error, file).replace(/\s*\n\s*/g, ' '), { cause: error, sql, params });
  const code = sqliteCode(error) ?? '';
  const detail = error instanceof Error ? error.message : String(error);
  let message: string;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    message =
      `experiment database ${file} is locked: another process kept it busy longer than the busy timeout (${detail}); ` +
      `wait for that process to finish (find it with \`fuser ${file}\`) and try again`;
  } else if (code.startsWith('SQLITE_READONLY')) {
    message =
      `experiment database ${file} is read-only (${detail}); make the file and its folder writable ` +
      `(chmod u+w), or open it with { readonly: true } to read without recording`;
  } else if (code.startsWith('SQLITE_CORRUPT')) {
    message = `${damagedStoreMessage(file, detail)}; it was left untouched`;
  } else if (code === 'SQLITE_NOTADB') {
    message =
      `${file} is not a glyphlab experiment database or is corrupt (${detail}); it was left untouched: ` +
      `restore it from a backup, or move it aside and glyphlab will create a new one (GLYPHLAB_DB or --db choose another file)`;
  } else if (code.startsWith('SQLITE_CANTOPEN')) {
    message = `cannot open experiment database ${file} (${detail}); check that its folder exists and is writable`;
  } else if (code.startsWith('SQLITE_FULL') || code.startsWith('SQLITE_IOERR')) {
    message = `cannot write experiment database ${file} (${detail}); check free disk space and the file system`;
  } else {
    message = `experiment database ${file}: ${detail}`;
  }
  return new TrackerError(message.replace(/\s*\n\s*/g, ' '), { cause: error, sql, params });
}

/**
 * What a damaged store is told: what found the damage (`finding`, e.g. the first lines of
 * `PRAGMA quick_check`) and how to get its runs out into a sound file with the sqlite3 shell.
 * `.recover` needs a shell built with the dbpage module (Debian's is not); `.dump` works
 * everywhere but ends in ROLLBACK when it met damage, and does not carry the schema version
 * (`schemaVersion`, the damaged file's `PRAGMA user_version`), which glyphlab needs to know the file.
 */
export function damagedStoreMessage(file: string, finding: string, schemaVersion?: number): string {
  const db = shellWord(file);
  const recovered = shellWord(`${file}.recovered`);
  const version = schemaVersion ?? `$(sqlite3 ${db} 'PRAGMA user_version')`;
  return (
    `experiment database ${file} is damaged (${finding.replace(/\s*\n\s*/g, ' ')}). Recover what it holds into a new file: ` +
    `\`sqlite3 ${db} .recover | sqlite3 ${recovered}\`, or where .recover is missing or fails, ` +
    `\`sqlite3 ${db} .dump | sed 's/^ROLLBACK; -- due to errors$/COMMIT;/' | sqlite3 ${recovered} && sqlite3 ${recovered} "PRAGMA user_version = ${version}"\`; ` +
    `check that \`sqlite3 ${recovered} "PRAGMA integrity_check"\` says ok, then move the damaged file aside and the recovered one into its place ` +
    '(or give it with --db / GLYPHLAB_DB); or restore a backup'
  );
}

/** `text` as one word of a POSIX shell command: quoted when it holds anything but safe characters. */
function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}
