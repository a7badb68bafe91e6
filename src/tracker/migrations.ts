/**
 * Schema migrations, versioned by `PRAGMA user_version` on SQLite and a one-row table on
 * PostgreSQL. They run in one write transaction that takes the lock before reading the version
 * (`BEGIN IMMEDIATE` on SQLite, an advisory lock on PostgreSQL): when two processes open a new
 * database at the same moment, the second waits, re-reads the version and finds nothing to do.
 */
import { TrackerError } from '../errors';
import type { StoreDriver } from './driver';
import { postgresMigrationSql } from './dialect';
import { SCHEMA_MIGRATIONS, SCHEMA_VERSION } from './schema';
import { toTrackerError } from './sqlite-errors';

/** What migrations need of a connection: a driver, which on PostgreSQL also takes the migration lock. */
type MigratingDriver = StoreDriver & { lockForMigration?: () => void };

/** The schema version recorded in the store. */
export function readSchemaVersion(db: StoreDriver): number {
  return db.schemaVersion();
}

/** What a store's database is called in messages. */
const databaseWord = (db: StoreDriver): string => (db.kind === 'postgres' ? 'PostgreSQL database' : 'SQLite database');

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
export function assertGlyphlabStore(db: StoreDriver, file: string, readonly: boolean): void {
  const { version, tables } = readStoreShape(db);
  const keep = 'it was left untouched; give --db or GLYPHLAB_DB the path of a glyphlab experiment database (e.g. experiments/glyphlab.db)';
  if (version === 0 && tables.length === 0) {
    if (readonly) throw new TrackerError(`${file} is an empty ${databaseWord(db)}, not a glyphlab experiment store (no runs were ever recorded in it); ${keep}`);
    return;
  }
  const missing = STORE_TABLES.filter((table) => !tables.includes(table));
  if (version === 0 || missing.length > 0) {
    const shown = tables.slice(0, 5).join(', ') + (tables.length > 5 ? `, ... (${tables.length} tables)` : '');
    throw new TrackerError(
      `${file} is a ${databaseWord(db)} but not a glyphlab experiment store (schema version ${version}, tables: ${shown || 'none'}` +
        `${version > 0 ? `; it lacks ${missing.join(', ')}` : ''}); ${keep}`,
    );
  }
}

/**
 * The schema version and table names, read in one read transaction. Read as two autocommit
 * statements, another process creating the store could commit between them, and this one would
 * see version 0 with glyphlab's tables: a store mistaken for a foreign file.
 */
function readStoreShape(db: StoreDriver): { version: number; tables: string[] } {
  const read = (): { version: number; tables: string[] } => ({ version: readSchemaVersion(db), tables: db.tableNames() });
  return db.inTransaction ? read() : db.transaction(read, 'read');
}

/**
 * Brings `db` up to {@link SCHEMA_VERSION}. Returns the versions applied (empty when none were
 * needed). A newer file gets a TrackerError telling the user to upgrade, never a reset.
 */
export function migrate(db: MigratingDriver, file: string): number[] {
  assertKnownVersion(readSchemaVersion(db), file);
  if (readSchemaVersion(db) === SCHEMA_VERSION) return [];
  const applied: number[] = [];
  let sql = 'BEGIN IMMEDIATE';
  try {
    db.transaction(() => {
      db.lockForMigration?.();
      // Another process may have migrated between our first read and taking the lock.
      const current = readSchemaVersion(db);
      assertKnownVersion(current, file);
      for (const migration of SCHEMA_MIGRATIONS) {
        if (migration.version <= current) continue;
        sql = db.kind === 'postgres' ? postgresMigrationSql(migration.version, migration.sql) : migration.sql;
        db.exec(sql);
        sql = `schema version ${migration.version}`;
        db.setSchemaVersion(migration.version);
        applied.push(migration.version);
      }
      sql = 'COMMIT';
    }, 'write');
  } catch (error) {
    throw toTrackerError(error, file, sql);
  }
  return applied;
}
