/**
 * A real, throwaway PostgreSQL server for tests: one cluster per test process, started on first
 * use, with a fresh database per test (or per file). No mock and no in-memory imitation: the
 * tests speak to the `postgres` that Debian's `postgresql` package installs (`.ci/run` installs
 * it; without it these helpers throw, so the tests fail rather than skip).
 *
 * Signatures (all synchronous, so a test or a helper can call them anywhere):
 *
 *   startTestCluster(): TestCluster
 *     Starts the process's cluster the first time (later calls return the same one): `initdb` in
 *     a new temporary folder owned by the `postgres` OS user (PostgreSQL refuses to run as root:
 *     as root, every server command goes through `runuser -u postgres --`), `pg_ctl start`
 *     listening only on 127.0.0.1 on a free port, no Unix socket, fsync off (a test cluster
 *     never outlives a power cut). The superuser `postgres` connects without a password from
 *     127.0.0.1; every other role must give its password (scram-sha-256). The cluster is stopped
 *     and its folder removed when the process exits, also after a failure, a signal or SIGKILL
 *     (a watchdog process waits for this one to end).
 *
 *   createTestDatabase(options?: { name?: string; owner?: string }): string
 *     Creates a new empty database (named `glyphlab_test_<pid>_<n>` unless `name` is given) and
 *     returns its URL for the superuser, e.g. `postgres://postgres@127.0.0.1:54321/glyphlab_test_77_1`.
 *
 *   createTestRole(cluster: TestCluster, options: TestRoleOptions): string
 *     Creates a login role with a password, e.g. one that may only read one database's tables,
 *     and returns its URL (password included: tests of redaction want one).
 *
 *   runSql(cluster: TestCluster, sql: string, database?: string): string
 *     Runs SQL as the superuser through `psql` and returns what it printed (unaligned, tuples only).
 *
 * @example
 * const url = createTestDatabase();           // postgres://postgres@127.0.0.1:PORT/glyphlab_test_PID_1
 * const store = openStore(url);
 */
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running test cluster. */
export interface TestCluster {
  /** Always `127.0.0.1`. */
  readonly host: string;
  readonly port: number;
  /** The superuser, `postgres`, who connects without a password. */
  readonly superuser: string;
  /** The folder holding the server binaries (initdb, pg_ctl, psql). */
  readonly bindir: string;
  /** The cluster's data folder (removed at exit). */
  readonly dataDir: string;
  /** The URL of `database` for `user` (the superuser when omitted), with `password` when given. */
  url(database: string, user?: string, password?: string): string;
}

/** Options of {@link createTestRole}. */
export interface TestRoleOptions {
  /** Role name. Defaults to `glyphlab_role_<pid>_<n>`. */
  name?: string;
  /** Its password. Defaults to a fixed test password with characters that need escaping in a URL. */
  password?: string;
  /** The database its URL names and, when `readonly`, the one whose tables it may read. */
  database: string;
  /**
   * Only SELECT on the tables of `database`'s public schema, now and later ones created by the
   * superuser (default privileges); no other right. Otherwise the role owns nothing but may
   * connect and create tables in `database`. Defaults to false.
   */
  readonly?: boolean;
}

const SUPERUSER = 'postgres';
/** The OS user the server runs as when this process is root. */
const SERVER_OS_USER = 'postgres';

let cluster: TestCluster | undefined;
let databases = 0;
let roles = 0;

/**
 * The folder of PostgreSQL's server binaries: `GLYPHLAB_PG_BINDIR`, else the one `pg_config
 * --bindir` names when it holds `initdb` (Debian's pg_config may come from libpq-dev without a
 * server), else the newest `/usr/lib/postgresql/<version>/bin`, else wherever `initdb` is on PATH.
 */
export function findPostgresBindir(env: Record<string, string | undefined> = process.env): string {
  const candidates: string[] = [];
  if (env.GLYPHLAB_PG_BINDIR) candidates.push(env.GLYPHLAB_PG_BINDIR);
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // No pg_config: look in Debian's folders.
  }
  if (existsSync('/usr/lib/postgresql')) {
    const versions = readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  }
  try {
    const initdb = execFileSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (initdb) candidates.push(join(initdb, '..'));
  } catch {
    // Not on PATH either.
  }
  const found = candidates.find((dir) => ['initdb', 'pg_ctl', 'psql'].every((tool) => existsSync(join(dir, tool))));
  if (!found) {
    throw new Error(
      `PostgreSQL's server binaries (initdb, pg_ctl, psql) were not found (looked in ${candidates.join(', ') || 'GLYPHLAB_PG_BINDIR, pg_config --bindir, /usr/lib/postgresql/*/bin, PATH'}); ` +
        "the store's tests need a real PostgreSQL: install Debian's postgresql (apt-get install postgresql), as .ci/run does, or set GLYPHLAB_PG_BINDIR",
    );
  }
  return found;
}

const asRoot = (): boolean => process.getuid?.() === 0;

/** Runs server binary `tool` as the server's OS user (through runuser when this process is root). */
function runServerTool(bindir: string, tool: string, args: string[]): string {
  const [command, commandArgs] = asRoot() ? ['runuser', ['-u', SERVER_OS_USER, '--', join(bindir, tool), ...args]] : [join(bindir, tool), args];
  try {
    return execFileSync(command, commandArgs, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const detail = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${tool} ${args.join(' ')} failed: ${detail.stderr || detail.stdout || detail.message}`);
  }
}

/** A TCP port no one listens on now (asked of the kernel by a short-lived process). */
function freePort(): number {
  const script = "const s = require('net').createServer(); s.listen(0, '127.0.0.1', () => { process.stdout.write(String(s.address().port)); s.close(); });";
  return Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
}

/**
 * Starts a process, detached from this one, that stops the cluster and removes its folder once
 * this process is gone, however it ended (a SIGKILLed test runner leaves no server behind).
 */
function startWatchdog(bindir: string, dataDir: string, folder: string): void {
  const stop = `${asRoot() ? `runuser -u ${SERVER_OS_USER} -- ` : ''}'${join(bindir, 'pg_ctl')}' stop -D '${dataDir}' -m immediate`;
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; if [ -d '${dataDir}' ]; then ${stop} >/dev/null 2>&1; rm -rf '${folder}'; fi`;
  const watchdog = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  watchdog.unref();
}

/** Stops the cluster at once and removes its folder (at exit; also safe to call twice). */
function stopCluster(bindir: string, dataDir: string, folder: string): void {
  if (!existsSync(dataDir)) return;
  try {
    runServerTool(bindir, 'pg_ctl', ['stop', '-D', dataDir, '-m', 'immediate', '-w']);
  } catch {
    // Already stopped: removing the folder is what is left.
  }
  rmSync(folder, { recursive: true, force: true });
}

/** The process's test cluster, started on first call (see the file head). */
export function startTestCluster(): TestCluster {
  if (cluster) return cluster;
  const bindir = findPostgresBindir();
  const folder = mkdtempSync(join(tmpdir(), 'glyphlab-pg-'));
  const dataDir = join(folder, 'data');
  if (asRoot()) {
    const ids = execFileSync('id', ['-u', SERVER_OS_USER], { encoding: 'utf8' }).trim();
    const gid = execFileSync('id', ['-g', SERVER_OS_USER], { encoding: 'utf8' }).trim();
    chownSync(folder, Number(ids), Number(gid));
  }
  const stop = (): void => stopCluster(bindir, dataDir, folder);
  process.once('exit', stop);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stop();
      process.kill(process.pid, signal);
    });
  }
  startWatchdog(bindir, dataDir, folder);
  runServerTool(bindir, 'initdb', ['-D', dataDir, '-U', SUPERUSER, '-E', 'UTF8', '--locale=C', '--no-sync', '--auth-local=trust', '--auth-host=scram-sha-256']);
  // The superuser connects from 127.0.0.1 without a password; other roles must give theirs.
  writeFileSync(join(dataDir, 'pg_hba.conf'), `host all ${SUPERUSER} 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n`);
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = freePort();
    const settings = [`-c listen_addresses=127.0.0.1`, `-c port=${port}`, "-c unix_socket_directories=''", '-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off', '-c max_connections=200'];
    try {
      runServerTool(bindir, 'pg_ctl', ['start', '-w', '-t', '120', '-D', dataDir, '-l', join(folder, 'server.log'), '-o', settings.join(' ')]);
      break;
    } catch (error) {
      // Another process may have taken the port between asking for it and listening on it.
      if (attempt === 3) throw error;
    }
  }
  cluster = {
    host: '127.0.0.1',
    port,
    superuser: SUPERUSER,
    bindir,
    dataDir,
    url: (database, user = SUPERUSER, password) =>
      `postgres://${encodeURIComponent(user)}${password === undefined ? '' : `:${encodeURIComponent(password)}`}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
  };
  return cluster;
}

/** Runs `sql` as the superuser on `database` (default `postgres`) and returns psql's unaligned output. */
export function runSql(on: TestCluster, sql: string, database = 'postgres'): string {
  try {
    return execFileSync(join(on.bindir, 'psql'), ['-h', on.host, '-p', String(on.port), '-U', on.superuser, '-d', database, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PGPASSWORD: '', PGSSLMODE: 'disable' },
    });
  } catch (error) {
    const detail = error as { stderr?: string; message: string };
    throw new Error(`psql on ${database}: ${sql.slice(0, 200)} failed: ${detail.stderr || detail.message}`);
  }
}

/** A quoted SQL identifier. */
const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;
/** A quoted SQL string literal. */
const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** A new empty database on the process's cluster, as a superuser URL (see the file head). */
export function createTestDatabase(options: { name?: string; owner?: string } = {}): string {
  const on = startTestCluster();
  const name = options.name ?? `glyphlab_test_${process.pid}_${++databases}`;
  runSql(on, `CREATE DATABASE ${ident(name)}${options.owner ? ` OWNER ${ident(options.owner)}` : ''}`);
  return on.url(name);
}

/** A new login role with a password (see {@link TestRoleOptions}); returns its URL for `options.database`. */
export function createTestRole(on: TestCluster, options: TestRoleOptions): string {
  const name = options.name ?? `glyphlab_role_${process.pid}_${++roles}`;
  const password = options.password ?? "s3cret:/@'pw";
  runSql(on, `CREATE ROLE ${ident(name)} LOGIN PASSWORD ${literal(password)}`);
  const db = ident(options.database);
  if (options.readonly) {
    runSql(
      on,
      `REVOKE CREATE ON SCHEMA public FROM PUBLIC; GRANT CONNECT ON DATABASE ${db} TO ${ident(name)}; GRANT USAGE ON SCHEMA public TO ${ident(name)}; ` +
        `GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${ident(name)}; ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO ${ident(name)}`,
      options.database,
    );
  } else {
    runSql(on, `GRANT CONNECT, CREATE ON DATABASE ${db} TO ${ident(name)}; GRANT ALL ON SCHEMA public TO ${ident(name)}`, options.database);
  }
  return on.url(options.database, name, password);
}
