/**
 * Turns better-sqlite3's errors into one-line {@link TrackerError}s that name the database file,
 * say what to do, and carry the SQL and parameters for debugging.
 */
import { TrackerError } from '../errors';

/** The SQLite result code of an error thrown by better-sqlite3, e.g. `'SQLITE_BUSY'`. */
export function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/**
 * A {@link TrackerError} for `error`, thrown while running `sql` with `params` on `file`.
 * Already-translated errors pass through unchanged.
 */
export function toTrackerError(error: unknown, file: string, sql?: string, params?: unknown): TrackerError {
  if (error instanceof TrackerError) return error;
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
  } else if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
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
