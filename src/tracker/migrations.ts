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
