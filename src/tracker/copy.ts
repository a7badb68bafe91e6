/**
 * Copying a whole store between databases (SQLite to PostgreSQL and back, or file to file): every
 * experiment, run, param, metric point, summary, tag and artifact record, written in one
 * transaction into a store that has no runs yet, then verified table by table by row counts and
 * checksums read back from both sides. Surrogate ids (experiments', artifacts', a metric
 * point's rowid) are the destination's own; what they point to is kept (a run's experiment by
 * name, points in their recorded order).
 *
 * With `files`, the run files go too: each run's folder `runs/<id>/` (checkpoints, optimizer state,
 * model, reports) from the folder FROM's artifact paths are relative to into TO's (see
 * `TrackerStore.baseDir`: beside a SQLite file; for a store on PostgreSQL, the experiments folder,
 * which a team shares). Every artifact the store recorded a SHA-256 for is checked in FROM's folder
 * before anything is written (a missing or changed file fails the copy, named) and again in TO's
 * after, and every copied file against its original (the store hashes a checkpoint's model.json,
 * not its weights), so a copy is whole or says which file is not.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, mkdirSync, copyFileSync, constants } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { ConfigError, TrackerError } from '../errors';
import { sha256 } from '../util/hash';
import { metricsJsonSql, paramsJsonSql } from './schema';
import { readSchemaVersion } from './migrations';
import { type TrackerStore, closeStore, executeMany, execute, inTransaction, openStore, selectAll, selectOne, selectRaw } from './store';

/** Options of {@link copyStore}. */
export interface CopyStoreOptions {
  /** Rows read and written per batch. Defaults to 5000. */
  batchRows?: number;
  /** Called after each batch with the table and how many of its rows are copied so far. Defaults to none. */
  onProgress?: (table: string, rows: number) => void;
  /** Copy the run files too, between these folders (see {@link CopyFilesOptions}). Defaults to none: only the records are copied. */
  files?: CopyFilesOptions;
}

/** Where {@link copyStore} copies run files from and to: each a folder holding `runs/<run id>/`. */
export interface CopyFilesOptions {
  /** The folder FROM's relative artifact paths are relative to. Defaults to FROM's own (`TrackerStore.baseDir`: beside a SQLite file, GLYPHLAB_EXPERIMENTS_DIR for PostgreSQL). */
  from?: string;
  /** The folder TO's artifact paths will be relative to. Defaults to TO's own, as for `from`. */
  to?: string;
}

/** What {@link copyStore} did with the run files. */
export interface CopiedFiles {
  from: string;
  to: string;
  /** Run folders copied: none when `from` and `to` are one folder (the files are already where TO looks). */
  runFolders: number;
  /** Files copied (recorded as artifacts or not: a checkpoint's optimizer state is in its folder) and their bytes. */
  files: number;
  bytes: number;
  /** Artifacts whose file in `to` has the SHA-256 the store recorded for it. */
  verified: number;
  /** Artifacts recorded without a hash (a folder), so checked by nothing but their run folder's copy. */
  unhashed: number;
  /** Artifacts recorded by absolute path, outside the store's folder: left where they are, checked there. */
  outside: number;
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
  /** The run files copied and verified, when `files` was asked for. */
  files?: CopiedFiles;
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

/** An artifact as recorded: its run, its path (relative to the store's folder, or absolute) and its hash, if any. */
interface ArtifactFile {
  run_id: string;
  path: string;
  kind: string;
  sha256: string | null;
}

/** The run files of a copy, planned and checked before anything is written. */
interface FilesPlan {
  from: string;
  to: string;
  /** The run folders to copy (none when `from` and `to` are one folder). */
  runIds: string[];
  /** Relative artifact files outside every run folder (e.g. a model exported beside the store), copied one by one. */
  loose: string[];
  artifacts: ArtifactFile[];
}

/** Hex SHA-256 of a file (read whole: a checkpoint is a few MB, and the copy is synchronous). */
function fileSha256(path: string): string {
  return sha256(readFileSync(path));
}

/** The real path of `dir`, or `dir` resolved when it does not exist yet. */
function realFolder(dir: string): string {
  return existsSync(dir) ? realpathSync(dir) : resolve(dir);
}

/** What is wrong with `artifact`'s file in `folder` (missing, or not the bytes recorded), or undefined. */
function artifactProblem(artifact: ArtifactFile, folder: string): string | undefined {
  const file = isAbsolute(artifact.path) ? artifact.path : join(folder, artifact.path);
  const what = `run ${artifact.run_id}'s ${artifact.kind} ${file}`;
  if (!existsSync(file)) return `${what} is missing`;
  if (artifact.sha256 === null || !statSync(file).isFile()) return undefined;
  const found = fileSha256(file);
  return found === artifact.sha256 ? undefined : `${what} has SHA-256 ${found}, not the ${artifact.sha256} recorded`;
}

/** Throws a TrackerError listing `problems` (the first 20 by name), after `context`; nothing when there are none. */
function throwFileProblems(problems: string[], context: string): void {
  if (problems.length === 0) return;
  const shown = problems.slice(0, 20).join('; ');
  const more = problems.length > 20 ? `; and ${problems.length - 20} more` : '';
  throw new TrackerError(`store copy: ${problems.length} run file${problems.length === 1 ? '' : 's'} ${context}: ${shown}${more}`);
}

/**
 * The files `source`'s runs need copied from `from` to `to`, checked before anything is written:
 * every hashed artifact present in `from` with the bytes recorded, and no run folder already in
 * `to` (a copy never overwrites files). A problem is a TrackerError naming each file.
 */
function planFiles(source: TrackerStore, from: string, to: string): FilesPlan {
  const artifacts = selectAll<ArtifactFile>(source, 'SELECT run_id, path, kind, sha256 FROM artifacts ORDER BY run_id, path');
  const problems = artifacts.map((artifact) => artifactProblem(artifact, from)).filter((p): p is string => p !== undefined);
  throwFileProblems(problems, `in ${from} are not as the store recorded them, so nothing was copied (copy without the files with --no-files, or put them back)`);
  if (realFolder(from) === realFolder(to)) return { from, to, runIds: [], loose: [], artifacts };
  const runIds = selectAll<{ id: string }>(source, 'SELECT id FROM runs ORDER BY id')
    .map((row) => row.id)
    .filter((runId) => existsSync(join(from, 'runs', runId)));
  const inRunFolder = (path: string): boolean => runIds.some((runId) => path.startsWith(`runs/${runId}/`));
  const loose = [...new Set(artifacts.filter((a) => !isAbsolute(a.path) && !inRunFolder(a.path) && existsSync(join(from, a.path))).map((a) => a.path))];
  const taken = [...runIds.map((runId) => join(to, 'runs', runId)), ...loose.map((path) => join(to, path))].filter((path) => existsSync(path));
  throwFileProblems(taken.map((path) => `${path} already exists`), `would overwrite files in ${to}, so nothing was copied (copy into a folder without them)`);
  return { from, to, runIds, loose, artifacts };
}

/**
 * Every file under `from` (recursively) against its copy under `to`: their number, bytes, and the
 * copies whose SHA-256 is not the original's (the store hashes a checkpoint's model.json, not its
 * weights, so each copied file is also checked against the file it was copied from).
 */
function compareCopied(from: string, to: string): { count: number; bytes: number; differs: string[] } {
  let count = 0;
  let bytes = 0;
  const differs: string[] = [];
  for (const entry of readdirSync(from, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const original = join(entry.parentPath ?? entry.path, entry.name);
    const copy = join(to, relative(from, original));
    count++;
    bytes += statSync(original).size;
    if (!existsSync(copy) || fileSha256(copy) !== fileSha256(original)) differs.push(`${copy} is not a copy of ${original}`);
  }
  return { count, bytes, differs };
}

/**
 * Copies the planned run folders and loose files, then checks every hashed artifact in `to`. A run
 * folder is copied under a temporary name and renamed into place, so a copy cut short leaves no
 * half folder where the store looks.
 */
function copyFiles(plan: FilesPlan): CopiedFiles {
  let files = 0;
  let bytes = 0;
  const problems: string[] = [];
  for (const runId of plan.runIds) {
    const target = join(plan.to, 'runs', runId);
    const partial = join(plan.to, 'runs', `.${runId}.copying`);
    rmSync(partial, { recursive: true, force: true });
    cpSync(join(plan.from, 'runs', runId), partial, { recursive: true, errorOnExist: true, force: false });
    renameSync(partial, target);
    const copied = compareCopied(join(plan.from, 'runs', runId), target);
    files += copied.count;
    bytes += copied.bytes;
    problems.push(...copied.differs);
  }
  for (const path of plan.loose) {
    mkdirSync(dirname(join(plan.to, path)), { recursive: true });
    copyFileSync(join(plan.from, path), join(plan.to, path), constants.COPYFILE_EXCL);
    files++;
    bytes += statSync(join(plan.to, path)).size;
  }
  problems.push(...plan.artifacts.map((artifact) => artifactProblem(artifact, plan.to)).filter((p): p is string => p !== undefined));
  throwFileProblems(problems, `in ${plan.to} differ from what the store recorded after the copy; the destination keeps what was written: delete it before trying again`);
  const hashed = plan.artifacts.filter((a) => !isAbsolute(a.path) && a.sha256 !== null).length;
  const outside = plan.artifacts.filter((a) => isAbsolute(a.path)).length;
  return { from: plan.from, to: plan.to, runFolders: plan.runIds.length, files, bytes, verified: hashed, unhashed: plan.artifacts.length - hashed - outside, outside };
}

/**
 * Copies the store `from` into the store `to` (a SQLite file or a PostgreSQL URL each; `to` is
 * created or migrated, and must hold no runs yet), in one transaction, then checks that every
 * table has the same rows on both sides (counts and checksums). A difference is a TrackerError
 * naming the table, and the destination keeps what was written (delete it to try again). With
 * `files`, the run folders go too, checked against the hashes the store recorded (see the module
 * comment).
 *
 * @example
 * copyStore('experiments/glyphlab.db', 'postgres://ana@db.lab/glyphlab', { files: { to: '/mnt/team/glyphlab' } });
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
      const plan = options.files && planFiles(source, resolve(options.files.from ?? source.baseDir), resolve(options.files.to ?? destination.baseDir));
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
      const files = plan ? copyFiles(plan) : undefined;
      return { from: source.file, to: destination.file, tables: after, ...(files ? { files } : {}) };
    } finally {
      closeStore(destination);
    }
  } finally {
    closeStore(source);
  }
}
