/**
 * Where glyphlab keeps things. Paths resolve against the project root (the folder holding
 * glyphlab's package.json), not the current directory, so the CLI, tests and notebooks (which
 * run with the notebook's folder as cwd) agree. Environment variables move them:
 * `GLYPHLAB_DB` (the experiment database: a SQLite file or a PostgreSQL URL), `GLYPHLAB_DATA_DIR`, `GLYPHLAB_EXPERIMENTS_DIR`.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isPostgresUrl } from './store-target';

let cachedRoot: string | undefined;

/**
 * The glyphlab project root: the nearest folder above this file with glyphlab's package.json.
 * The walk starts from this file's real folder: under tslab, src/ is reached through a
 * notebook folder's `glyphlab` link, and `__dirname` names the link, not `src/`.
 */
export function projectRoot(): string {
  if (cachedRoot) return cachedRoot;
  const start = realpathSync(__dirname);
  let dir = start;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'glyphlab') {
          cachedRoot = dir;
          return dir;
        }
      } catch {
        // An unreadable package.json is not ours; keep walking up.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find glyphlab's package.json above ${start}`);
    dir = parent;
  }
}

function fromEnv(name: string, env: Record<string, string | undefined>): string | undefined {
  const value = env[name];
  return value !== undefined && value.trim() !== '' ? resolve(value) : undefined;
}

/** Folder for data sets. Defaults to `<root>/data`, or `GLYPHLAB_DATA_DIR`. */
export function dataDir(env: Record<string, string | undefined> = process.env): string {
  return fromEnv('GLYPHLAB_DATA_DIR', env) ?? join(projectRoot(), 'data');
}

/** Folder for run folders, models and the database. Defaults to `<root>/experiments`, or `GLYPHLAB_EXPERIMENTS_DIR`. */
export function experimentsDir(env: Record<string, string | undefined> = process.env): string {
  return fromEnv('GLYPHLAB_EXPERIMENTS_DIR', env) ?? join(projectRoot(), 'experiments');
}

/**
 * The experiment store: `GLYPHLAB_DB` (a SQLite file, or a `postgres://` URL, which is returned
 * as given), else `<experiments>/glyphlab.db`. A URL may hold a password: show it through
 * `redactUrl` (util/store-target.ts), never as it is.
 */
export function databasePath(env: Record<string, string | undefined> = process.env): string {
  const value = env.GLYPHLAB_DB;
  if (value !== undefined && isPostgresUrl(value)) return value.trim();
  return fromEnv('GLYPHLAB_DB', env) ?? join(experimentsDir(env), 'glyphlab.db');
}

/**
 * Folder of run folders (checkpoints, models, reports): `runs/` beside the SQLite file they are
 * recorded in; for a store on PostgreSQL (a URL), `runs/` in the experiments folder.
 *
 * A team's store on PostgreSQL keeps its run files out of the database, in a folder every machine
 * can read: the experiments folder put on a shared file system (NFS, SMB, a cluster's shared
 * disk), each machine naming its own mount of it with GLYPHLAB_EXPERIMENTS_DIR. The store records
 * artifact paths relative to that folder (`runs/<id>/best/model.json`; see `storedArtifactPath`,
 * tracker/record.ts), so machines that mount it at different paths find the same files. Not in
 * the database, because of size and of failures: a CRNN run rewrites its last checkpoint (2.5 MB
 * of weights and 7 MB of optimizer state) every epoch, which as rows would be ~10 MB of bytea
 * churned per epoch per run (bloat for VACUUM, and every backup and `store copy` carrying dead
 * checkpoints), while a file system writes a checkpoint to a temporary folder and renames it into
 * place, so a crash mid-write leaves the previous checkpoint whole, and a reader loads it with the
 * file APIs TensorFlow.js already uses.
 */
export function runsDirFor(databaseFile: string, env: Record<string, string | undefined> = process.env): string {
  if (isPostgresUrl(databaseFile)) return join(experimentsDir(env), 'runs');
  return join(dirname(resolve(databaseFile)), 'runs');
}

/**
 * Why run `runId`'s folder may be missing from `runsDir` on this machine, and what to set: said
 * when a run's checkpoints or model are looked for and not found, e.g. on a machine of a team that
 * has not mounted the shared experiments folder where GLYPHLAB_EXPERIMENTS_DIR says.
 */
export function missingRunFolderHint(runId: string, runsDir: string, env: Record<string, string | undefined> = process.env): string {
  const runDir = join(runsDir, runId);
  if (existsSync(runDir)) return '';
  const setting = env.GLYPHLAB_EXPERIMENTS_DIR?.trim() ? `GLYPHLAB_EXPERIMENTS_DIR=${env.GLYPHLAB_EXPERIMENTS_DIR}` : `GLYPHLAB_EXPERIMENTS_DIR is not set, so ${experimentsDir(env)}`;
  const where =
    resolve(runsDir) === join(experimentsDir(env), 'runs')
      ? `run folders are looked for in ${runsDir}, the runs/ of the experiments folder (${setting}); for a team's store on PostgreSQL, set GLYPHLAB_EXPERIMENTS_DIR to the folder where this machine mounts the shared experiments folder the run was trained in`
      : `run folders are looked for in ${runsDir}, beside the SQLite store (glyphlab store copy brings run folders along with a store)`;
  return `; the folder ${runDir} is not on this machine: ${where}`;
}
