/**
 * Copying a whole store between databases (SQLite to PostgreSQL and back, or file to file): every
 * experiment, run, param, metric point, summary, tag and artifact record, written in one
 * transaction into a store that has no runs yet, then verified table by table by row counts and
 * checksums read back from both sides. Surrogate ids (experiments', artifacts', a metric
 * point's rowid) are the destination's own; what they point to is kept (a run's experiment by
 * name, points in their recorded order). The run files an artifact names are not moved.
 */
import { createHash } from 'node:crypto';
import { ConfigError, TrackerError } from '../errors';
import { metricsJsonSql, paramsJsonSql } from './schema';
import { readSchemaVersion } from './migrations';
import { type TrackerStore, closeStore, executeMany, execute, inTransaction, openStore, selectOne, selectRaw } from './store';

/** Options of {@link copyStore}. */
export interface CopyStoreOptions {
  /** Rows read and written per batch. Defaults to 5000. */
  batchRows?: number;
  /** Called after each batch with the table and how many of its rows are copied so far. Defaults to none. */
  onProgress?: (table: string, rows: number) => void;
}

/** One table's verification: its rows on each side and their checksum (equal when the copy is whole). */
export interface CopiedTable {
  table: string;
  rows: number;
  checksum: string;
}

/** What {@link copyStore} copied: where from and to (passwords shown as `***`), and each table. */
export interface StoreCopy {
  from: string;
  to: string;
  tables: CopiedTable[];
}

/**
 * How each table is read the same way on both sides: its columns in a fixed order (a run's
 * experiment as its name, no surrogate ids), and a key that orders rows within a run.
 */
const TABLES: readonly { table: string; columns: string; from: string; order: string }[] = [
  { table: 'experiments', columns: 'x.name, x.created_at', from: 'experiments x', order: 'x.id' },
  {
    table: 'runs',
    columns:
      'x.id, e.name, x.name, x.status, x.started_at, x.ended_at, x.heartbeat_at, x.pid, x.host, x.git_commit, x.git_dirty, x.backend, x.threads, x.source, x.error, x.note, ' +
      'x.config_json, x.data_fingerprint, x.pid_start_ticks, x.boot_id, x.pid_namespace',
    from: 'runs x JOIN experiments e ON e.id = x.experiment_id',
    order: 'x.started_at, x.id',
  },
  { table: 'params', columns: 'x.run_id, x.key, x.type, x.value_text, x.value_num, x.value_bool', from: 'params x', order: 'x.run_id, x.key' },
  { table: 'metrics', columns: 'x.run_id, x.key, x.step, x.epoch, x.value, x.wall_time, x.context', from: 'metrics x', order: 'x.rowid' },
  { table: 'metric_summary', columns: 'x.run_id, x.key, x.last, x.last_step, x.best, x.best_step, x.mode, x.count', from: 'metric_summary x', order: 'x.run_id, x.key' },
  { table: 'tags', columns: 'x.run_id, x.tag', from: 'tags x', order: 'x.run_id, x.tag' },
  { table: 'artifacts', columns: 'x.run_id, x.path, x.kind, x.bytes, x.sha256, x.created_at', from: 'artifacts x', order: 'x.id' },
];

/** The INSERT of one row of `table` in the destination, from the columns {@link TABLES} reads. */
const INSERTS: Record<string, string> = {
  experiments: 'INSERT INTO experiments (name, created_at) VALUES (@p0, @p1)',
  runs:
    'INSERT INTO runs (id, experiment_id, name, status, started_at, ended_at, heartbeat_at, pid, host, git_commit, git_dirty, backend, threads, source, error, note, ' +
    'config_json, data_fingerprint, pid_start_ticks, boot_id, pid_namespace) VALUES (@p0, (SELECT id FROM experiments WHERE name = @p1), @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p9, @p10, ' +
    '@p11, @p12, @p13, @p14, @p15, @p16, @p17, @p18, @p19, @p20)',
  params: 'INSERT INTO params (run_id, key, type, value_text, value_num, value_bool) VALUES (@p0, @p1, @p2, @p3, @p4, @p5)',
  metrics: 'INSERT INTO metrics (run_id, key, step, epoch, value, wall_time, context) VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6)',
  metric_summary: 'INSERT INTO metric_summary (run_id, key, last, last_step, best, best_step, mode, count) VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7)',
  tags: 'INSERT INTO tags (run_id, tag) VALUES (@p0, @p1)',
  artifacts: 'INSERT INTO artifacts (run_id, path, kind, bytes, sha256, created_at) VALUES (@p0, @p1, @p2, @p3, @p4, @p5)',
};

/** The rows of one table of `store` in order, a batch at a time (keyset pages would need a key per table; OFFSET is fine for a one-off copy). */
function* readTable(store: TrackerStore, spec: (typeof TABLES)[number], batchRows: number): Generator<unknown[][]> {
  // A store opened read-only is not migrated: one from before schema 3 has no process identity columns.
  const columns = readSchemaVersion(store.db) >= 3 ? spec.columns : spec.columns.replace('x.pid_start_ticks, x.boot_id, x.pid_namespace', 'NULL, NULL, NULL');
  for (let offset = 0; ; offset += batchRows) {
    const rows = selectRaw(store, `SELECT ${columns} FROM ${spec.from} ORDER BY ${spec.order} LIMIT @limit OFFSET @offset`, { limit: batchRows, offset });
    if (rows.length > 0) yield rows;
    if (rows.length < batchRows) return;
  }
}

/**
 * A checksum of a table's rows that does not depend on their order (the two databases may sort
 * text differently): the sum, modulo 2^128, of each row's SHA-256 (first 16 bytes), its values
 * written as JSON. Numbers read back from either database print the same.
 */
function tableChecksum(store: TrackerStore, spec: (typeof TABLES)[number], batchRows: number): { rows: number; checksum: string } {
  let sum = 0n;
  let rows = 0;
  for (const batch of readTable(store, spec, batchRows)) {
    for (const row of batch) {
      const digest = createHash('sha256').update(JSON.stringify(row.map((v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)))).digest();
      sum = (sum + digest.readBigUInt64BE(0) * 2n ** 64n + digest.readBigUInt64BE(8)) % 2n ** 128n;
      rows++;
    }
  }
  return { rows, checksum: sum.toString(16).padStart(32, '0') };
}

/** Each table's row count and checksum (see {@link tableChecksum}). */
export function storeChecksums(store: TrackerStore, batchRows = 5000): CopiedTable[] {
  return TABLES.map((spec) => ({ table: spec.table, ...tableChecksum(store, spec, batchRows) }));
}

/**
 * Copies the store `from` into the store `to` (a SQLite file or a PostgreSQL URL each; `to` is
 * created or migrated, and must hold no runs yet), in one transaction, then checks that every
 * table has the same rows on both sides (counts and checksums). A difference is a TrackerError
 * naming the table, and the destination keeps what was written (delete it to try again).
 *
 * @example
 * copyStore('experiments/glyphlab.db', 'postgres://ana@db.lab/glyphlab');
 */
export function copyStore(from: string, to: string, options: CopyStoreOptions = {}): StoreCopy {
  const batchRows = options.batchRows ?? 5000;
  const source = openStore(from, { readonly: true });
  try {
    const destination = openStore(to);
    try {
      if (source.file === destination.file) throw new ConfigError(`store copy: ${source.file} is both where to copy from and to; give two different stores`);
      const held = Number(selectOne<{ n: number }>(destination, 'SELECT count(*) AS n FROM runs')?.n ?? 0);
      if (held > 0) throw new ConfigError(`store copy: ${destination.file} already holds ${held} run${held === 1 ? '' : 's'}; copy into a new, empty store (a new file, or a new database)`);
      inTransaction(destination, () => {
        for (const spec of TABLES) {
          let copied = 0;
          for (const batch of readTable(source, spec, batchRows)) {
            executeMany(destination, INSERTS[spec.table]!, batch.map((row) => Object.fromEntries(row.map((value, i) => [`p${i}`, value]))));
            copied += batch.length;
            options.onProgress?.(spec.table, copied);
          }
        }
        // The JSON the store caches per run, rebuilt once (the triggers cleared it as params and summaries came in).
        execute(destination, `UPDATE runs SET params_json = ${paramsJsonSql('runs.id', destination.db.kind)}, metrics_json = ${metricsJsonSql('runs.id', destination.db.kind)}`);
      });
      const before = storeChecksums(source, batchRows);
      const after = storeChecksums(destination, batchRows);
      for (const [i, expected] of before.entries()) {
        const found = after[i]!;
        if (found.rows !== expected.rows || found.checksum !== expected.checksum) {
          throw new TrackerError(
            `store copy: table ${expected.table} differs after copying ${source.file} to ${destination.file}: ${expected.rows} rows (checksum ${expected.checksum}) ` +
              `became ${found.rows} rows (checksum ${found.checksum}); the destination keeps what was written: delete it before trying again`,
          );
        }
      }
      return { from: source.file, to: destination.file, tables: after };
    } finally {
      closeStore(destination);
    }
  } finally {
    closeStore(source);
  }
}
