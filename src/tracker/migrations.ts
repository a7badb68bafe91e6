/**
 * Schema migrations, versioned by `PRAGMA user_version`. They run inside `BEGIN IMMEDIATE`, which
 * takes the write lock before reading the version: when two processes open a new database at the
 * same moment, the second waits (busy timeout), re-reads the version and finds nothing to do.
 */
import type Database from 'better-sqlite3';
import { TrackerError } from '../errors';
import { SCHEMA_MIGRATIONS, SCHEMA_VERSION } from './schema';
import { toTrackerError } from './sqlite-errors';

/** The schema version recorded in the file. */
export function readSchemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Throws when the file was written by a newer glyphlab; never touches such a file. */
export function assertKnownVersion(version: number, file: string): void {
  if (version > SCHEMA_VERSION) {
    throw new TrackerError(
      `experiment database ${file} has schema version ${version}, but this glyphlab only knows versions up to ${SCHEMA_VERSION}: ` +
        'it was written by a newer glyphlab; upgrade glyphlab to read it (the file was left untouched)',
    );
  }
}

/** The tables every glyphlab store has had since schema version 1. */
const STORE_TABLES = ['artifacts', 'experiments', 'metric_summary', 'metrics', 'params', 'runs', 'tags'] as const;

/**
 * Throws, before anything is written, when `db` is not a glyphlab experiment store: a SQLite file
 * of another program (tables but no glyphlab schema version, or a version without glyphlab's
 * tables), or, opened `readonly`, an empty database that has no store yet. An empty database
 * opened to write is fine: the migrations make it a store.
 */
export function assertGlyphlabStore(db: Database.Database, file: string, readonly: boolean): void {
  const { version, tables } = readStoreShape(db);
  const keep = 'it was left untouched; give --db or GLYPHLAB_DB the path of a glyphlab experiment database (e.g. experiments/glyphlab.db)';
  if (version === 0 && tables.length === 0) {
    if (readonly) throw new TrackerError(`${file} is an empty SQLite database, not a glyphlab experiment store (no runs were ever recorded in it); ${keep}`);
    return;
  }
  const missing = STORE_TABLES.filter((table) => !tables.includes(table));
  if (version === 0 || missing.length > 0) {
    const shown = tables.slice(0, 5).join(', ') + (tables.length > 5 ? `, ... (${tables.length} tables)` : '');
    throw new TrackerError(
      `${file} is a SQLite database but not a glyphlab experiment store (schema version ${version}, tables: ${shown || 'none'}` +
        `${version > 0 ? `; it lacks ${missing.join(', ')}` : ''}); ${keep}`,
    );
  }
}

/**
 * The schema version and table names, read in one read transaction. Read as two autocommit
 * statements, another process creating the store could commit between them, and this one would
 * see version 0 with glyphlab's tables: a store mistaken for a foreign file.
 */
function readStoreShape(db: Database.Database): { version: number; tables: string[] } {
  const read = (): { version: number; tables: string[] } => ({
    version: readSchemaVersion(db),
    tables: (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map(
      (t) => t.name,
    ),
  });
  if (db.inTransaction) return read();
  db.exec('BEGIN');
  try {
    return read();
  } finally {
    if (db.inTransaction) db.exec('COMMIT');
  }
}

/**
 * Brings `db` up to {@link SCHEMA_VERSION}. Returns the versions applied (empty when none were
 * needed). A newer file gets a TrackerError telling the user to upgrade, never a reset.
 */
export function migrate(db: Database.Database, file: string): number[] {
  assertKnownVersion(readSchemaVersion(db), file);
  if (readSchemaVersion(db) === SCHEMA_VERSION) return [];
  const applied: number[] = [];
  let sql = 'BEGIN IMMEDIATE';
  try {
    db.exec(sql);
    try {
      // Another process may have migrated between our first read and taking the lock.
      const current = readSchemaVersion(db);
      assertKnownVersion(current, file);
      for (const migration of SCHEMA_MIGRATIONS) {
        if (migration.version <= current) continue;
        sql = migration.sql;
        db.exec(sql);
        sql = `PRAGMA user_version = ${migration.version}`;
        db.pragma(`user_version = ${migration.version}`);
        applied.push(migration.version);
      }
      sql = 'COMMIT';
      db.exec(sql);
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    }
  } catch (error) {
    throw toTrackerError(error, file, sql);
  }
  return applied;
}
