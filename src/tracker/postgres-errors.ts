/**
 * Errors of the PostgreSQL driver: {@link PostgresError} carries the server's SQLSTATE (or Node's
 * connection error code), and {@link postgresErrorMessage} says, for each kind, what the user
 * should do. Messages name the store by its URL without the password (see `redactUrl`).
 */

/** An error of the server or of the connection to it, as the connection thread reported it. */
export class PostgresError extends Error {
  constructor(
    message: string,
    /** SQLSTATE (e.g. `42501`), or Node's code for a connection error (e.g. `ECONNREFUSED`). */
    readonly code?: string,
    readonly detail?: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'PostgresError';
  }
}

/**
 * SQLSTATEs of a lock another connection held past the lock timeout, a deadlock, or a
 * serialization failure: failures that go away when tried again, as SQLite's SQLITE_BUSY.
 */
const BUSY_CODES = new Set(['55P03', '40P01', '40001']);

/** Whether `error` is a PostgresError that goes away when tried again (see {@link BUSY_CODES}). */
export function isPostgresBusy(error: unknown): boolean {
  return error instanceof PostgresError && error.code !== undefined && BUSY_CODES.has(error.code);
}

/** The one-line message for `error` on the store `where` (a URL without its password). */
export function postgresErrorMessage(error: PostgresError, where: string): string {
  const code = error.code ?? '';
  const detail = [error.message, error.detail].filter(Boolean).join(': ');
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET', '57P03'].includes(code) || /timeout expired|Connection terminated/i.test(error.message)) {
    return `cannot reach the PostgreSQL server of experiment store ${where} (${detail}); check that the server runs and that the URL's host and port are right`;
  }
  if (code === '28P01' || code === '28000') {
    return (
      `PostgreSQL refused the login to experiment store ${where} (${detail}); give the role's password in PGPASSWORD or ~/.pgpass ` +
      '(a password written in --db or GLYPHLAB_DB works too, but is seen by anyone who lists processes), or ask the server\'s admin for access'
    );
  }
  if (code === '3D000') return `experiment store ${where}: ${detail}; create the database first (createdb NAME) or correct the URL`;
  if (code === '42501') {
    return (
      `experiment store ${where}: the database role may not do this (${detail}); a role that may only read opens the store with { readonly: true } ` +
      '(the commands that only read do so), and recording runs needs a role that may write to the store\'s tables'
    );
  }
  if (code === '25006') return `experiment store ${where} was opened read-only (${detail}); open it without { readonly: true } to record`;
  if (BUSY_CODES.has(code)) {
    return `experiment store ${where} is busy: another connection held a lock longer than the busy timeout (${detail}); wait for it to finish (pg_stat_activity shows who holds it) and try again`;
  }
  if (code === '53300') return `the PostgreSQL server of experiment store ${where} has no free connection (${detail}); close other connections or raise max_connections`;
  if (code === '57P01' || code === 'GLYPHLAB_CLOSED') return `the connection to experiment store ${where} was lost or closed (${detail}); open the store again`;
  return `experiment store ${where}: ${detail}${error.hint ? ` (hint: ${error.hint})` : ''}`;
}
