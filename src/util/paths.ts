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
 */
export function runsDirFor(databaseFile: string, env: Record<string, string | undefined> = process.env): string {
  if (isPostgresUrl(databaseFile)) return join(experimentsDir(env), 'runs');
  return join(dirname(resolve(databaseFile)), 'runs');
}
