/**
 * Experiment store speed, on a SQLite file in a temp folder and, with `--db postgres://...`, on
 * that PostgreSQL server too (each part in a schema of its own, dropped at the end):
 *   1. 8 concurrent writer processes x 25 runs x 150 metric points (3 keys a step, one
 *      logMetrics call a step, as a training records): wall time, and rows lost (must be 0).
 *   2. 100,000 metric points into one run (1,000 calls of 100, the callback's batch path,
 *      goal < 2 s on SQLite), then read back: getMetricSeries (what a curve reads) and
 *      getMetricHistory.
 *   3. Listing 10,000 runs (what `runs ls` reads), sorted by a metric (goal < 200 ms on SQLite),
 *      the top 20, and a filter.
 *   4. SQLite only: upgrading a schema-1 file of 10,000 runs.
 * Run: npm run bench:tracker [-- --db postgres://USER@HOST:PORT/DB] [--no-sqlite]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Client } from 'pg';
import { type TrackerStore, closeStore, openStore, selectOne } from '../../src/tracker/store';
import { finishRun, logMetricPoints, startRun } from '../../src/tracker/record';
import { getMetricHistory, getMetricSeries, listRuns } from '../../src/tracker/query';
import { metricsJsonSql, paramsJsonSql } from '../../src/tracker/schema';
import { connectPostgres } from '../../src/tracker/postgres-client';
import { isPostgresUrl, redactUrl } from '../../src/util/store-target';

const WRITERS = 8;
const RUNS_PER_WRITER = 25;
const POINTS_PER_RUN = 150;
const LISTED_RUNS = 10_000;
const POINTS = 100_000;

// Wall time is what the goals mean; this process's CPU time is given beside it because on a shared,
// loaded machine the wall time mostly measures waiting for a core.
const cpuMs = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

/** Where each part's store is: a new SQLite file, or a new schema of the server's database. */
interface Stores {
  label: string;
  /** A new, empty store for part `part`. */
  fresh(part: string): Promise<string>;
  dispose(): Promise<void>;
}

function sqliteStores(): Stores {
  const dir = mkdtempSync(join(tmpdir(), 'glyphlab-bench-tracker-'));
  return {
    label: 'sqlite',
    fresh: async (part) => join(dir, `${part}.db`),
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

function postgresStores(url: string): Stores {
  let admin: Client | undefined;
  const schemas: string[] = [];
  return {
    label: `postgres (${redactUrl(url)})`,
    fresh: async (part) => {
      admin ??= await connectPostgres(url, { applicationName: 'glyphlab bench' });
      const schema = `glyphlab_bench_${process.pid}_${part}`;
      await admin.query(`CREATE SCHEMA ${schema}`);
      schemas.push(schema);
      // The store works in the connection's current schema: this part's own.
      return `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    },
    dispose: async () => {
      for (const schema of schemas) await admin?.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin?.end();
    },
  };
}

/** Median wall and CPU time of 5 calls of `fn` after a warm-up call. */
function time(label: string, fn: () => unknown[], goal?: number): void {
  fn(); // warm: statements prepared, pages cached
  const wall: number[] = [];
  const cpu: number[] = [];
  let n = 0;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const c = cpuMs();
    n = fn().length;
    wall.push(performance.now() - t);
    cpu.push(cpuMs() - c);
  }
  wall.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  console.log(`  ${label}: ${n}, median ${wall[2]!.toFixed(1)} ms (cpu ${cpu[2]!.toFixed(1)} ms)${goal ? ` (goal < ${goal})` : ''}`);
}

/** Runs one writer process; resolves with the run ids it finished. */
function writer(target: string, label: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'tracker-writer.ts'), target, label, String(RUNS_PER_WRITER), String(POINTS_PER_RUN)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out.trim().split('\n').filter(Boolean)) : reject(new Error(`writer ${label} exited ${code}: ${err.slice(-500)}`))));
  });
}

async function concurrentWriters(stores: Stores): Promise<void> {
  const target = await stores.fresh('writers');
  closeStore(openStore(target)); // the schema exists before the writers race to it
  const t0 = performance.now();
  const finished = (await Promise.all(Array.from({ length: WRITERS }, (_, i) => writer(target, `w${i}`)))).flat();
  const wallMs = performance.now() - t0;
  const store = openStore(target, { readonly: true });
  try {
    const rows = selectOne<{ n: number }>(store, 'SELECT count(*) AS n FROM metrics')!.n;
    const runs = listRuns(store, { experiment: 'writers', details: false });
    const expected = WRITERS * RUNS_PER_WRITER * POINTS_PER_RUN;
    console.log(
      `  ${WRITERS} writer processes x ${RUNS_PER_WRITER} runs x ${POINTS_PER_RUN} points: ${wallMs.toFixed(0)} ms wall (process start included); ` +
        `${runs.filter((r) => r.status === 'finished').length} of ${WRITERS * RUNS_PER_WRITER} runs finished (${finished.length} reported), ` +
        `${rows} of ${expected} metric rows, rows lost: ${expected - rows}`,
    );
  } finally {
    closeStore(store);
  }
}

async function metricPoints(stores: Stores): Promise<void> {
  const store = openStore(await stores.fresh('points'));
  try {
    const runId = startRun(store, { git: false, heartbeat: false });
    const t0 = performance.now();
    const c0 = cpuMs();
    for (let flush = 0; flush < POINTS / 100; flush++) {
      const points = [];
      for (let i = 0; i < 100; i++) points.push({ key: 'batch_loss', value: Math.sin(flush * 100 + i), step: flush * 100 + i, epoch: flush, context: 'batch' });
      logMetricPoints(store, runId, points);
    }
    console.log(`  record ${POINTS.toLocaleString('en')} points, 1,000 transactions of 100: ${(performance.now() - t0).toFixed(0)} ms (cpu ${(cpuMs() - c0).toFixed(0)} ms) (goal < 2000 on SQLite)`);
    finishRun(store, runId);
    time(`read ${POINTS.toLocaleString('en')} points as a curve (getMetricSeries), points`, () => getMetricSeries(store, [runId], ['batch_loss'])[0]!.steps);
    time(`read ${POINTS.toLocaleString('en')} points as objects (getMetricHistory), points`, () => getMetricHistory(store, runId, ['batch_loss']));
  } finally {
    closeStore(store);
  }
}

/**
 * `LISTED_RUNS` runs: 100 recorded through the store's API, then each copied 99 times in SQL (the
 * same statements on both databases), their params and metric summaries with them: recording
 * 10,000 runs one by one is not what this part measures.
 */
function tenThousandRuns(store: TrackerStore): void {
  const base = LISTED_RUNS / 100;
  for (let r = 0; r < base; r++) {
    const runId = startRun(store, { experiment: r % 2 ? 'eq' : 'mnist', config: { model: r % 3 ? 'crnn' : 'vgg19-crnn', lr: 10 ** -(2 + (r % 3)), batch: 32, rnn: 'gru', seed: r }, git: false, heartbeat: false, source: 'bench', tags: r % 5 ? [] : ['keep'] });
    logMetricPoints(store, runId, [0, 1, 2].flatMap((step) => [
      { key: 'val_accuracy', value: Math.random(), step },
      { key: 'loss', value: Math.random(), step },
      { key: 'val_cer', value: Math.random(), step },
    ]));
    finishRun(store, runId);
  }
  const copies = `WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < ${LISTED_RUNS / base - 1})`;
  store.db.transaction(() => {
    store.db.run(`${copies} INSERT INTO runs (id, experiment_id, name, status, started_at, ended_at, heartbeat_at, pid, host, source, config_json)
      SELECT r.id || '-' || n.k, r.experiment_id, r.name, r.status, r.started_at - n.k, r.ended_at, r.heartbeat_at, r.pid, r.host, r.source, r.config_json FROM runs r, n`);
    store.db.run(`${copies} INSERT INTO params (run_id, key, type, value_text, value_num, value_bool)
      SELECT p.run_id || '-' || n.k, p.key, p.type, p.value_text, p.value_num, p.value_bool FROM params p, n`);
    store.db.run(`${copies} INSERT INTO metric_summary (run_id, key, last, last_step, best, best_step, mode, count)
      SELECT s.run_id || '-' || n.k, s.key, s.last * (1 - n.k / 1000.0), s.last_step, s.best * (1 - n.k / 1000.0), s.best_step, s.mode, s.count FROM metric_summary s, n`);
    store.db.run(`${copies} INSERT INTO tags (run_id, tag) SELECT t.run_id || '-' || n.k, t.tag FROM tags t, n`);
    store.db.run(`UPDATE runs SET params_json = ${paramsJsonSql('runs.id', store.db.kind)}, metrics_json = ${metricsJsonSql('runs.id', store.db.kind)}`);
  }, 'write');
}

async function listing(stores: Stores): Promise<string> {
  const target = await stores.fresh('runs');
  const store = openStore(target);
  try {
    const t0 = performance.now();
    tenThousandRuns(store);
    console.log(`  (setup: ${LISTED_RUNS.toLocaleString('en')} runs in ${(performance.now() - t0).toFixed(0)} ms)`);
    time(`list ${LISTED_RUNS.toLocaleString('en')} runs sorted by -val_accuracy, with params/metrics/tags, runs`, () => listRuns(store, { orderBy: '-val_accuracy' }), 200);
    time(`list ${LISTED_RUNS.toLocaleString('en')} runs sorted by -val_accuracy, run columns only, runs`, () => listRuns(store, { orderBy: '-val_accuracy', details: false }), 200);
    time(`top 20 of ${LISTED_RUNS.toLocaleString('en')} by -val_accuracy, runs`, () => listRuns(store, { orderBy: '-val_accuracy', limit: 20 }));
    time('filter params.model = "crnn" and metrics.val_accuracy > 0.9 or not experiment = "eq", sorted, runs', () =>
      listRuns(store, { where: 'params.model = "crnn" and metrics.val_accuracy > 0.9 or not experiment = "eq"', orderBy: '-val_accuracy' }));
  } finally {
    closeStore(store);
  }
  return target;
}

/** Upgrading a schema-1 file of 10,000 runs: the file put back to version 1 (no JSON or process columns, no triggers), reopened, which backfills the JSON columns. */
function upgradeSqlite(file: string): void {
  const store = openStore(file);
  for (const column of ['params_json', 'metrics_json']) {
    store.db.exec(`DROP TRIGGER ${column}_insert; DROP TRIGGER ${column}_update; DROP TRIGGER ${column}_delete; ALTER TABLE runs DROP COLUMN ${column};`);
  }
  // Schema 3's columns too, or its migration would find them there.
  store.db.exec('ALTER TABLE runs DROP COLUMN pid_start_ticks; ALTER TABLE runs DROP COLUMN boot_id; ALTER TABLE runs DROP COLUMN pid_namespace;');
  store.db.setSchemaVersion(1);
  closeStore(store);
  const t1 = performance.now();
  const c1 = cpuMs();
  closeStore(openStore(file));
  console.log(`  upgrade a ${LISTED_RUNS.toLocaleString('en')}-run schema-1 database (backfill params_json, metrics_json): ${(performance.now() - t1).toFixed(0)} ms (cpu ${(cpuMs() - c1).toFixed(0)} ms)`);
}

async function main(): Promise<void> {
  const url = argument('db');
  if (url !== undefined && !isPostgresUrl(url)) throw new Error(`--db ${url} is not a postgres:// URL; the SQLite part always runs on a temp file`);
  const all = [...(process.argv.includes('--no-sqlite') ? [] : [sqliteStores()]), ...(url ? [postgresStores(url)] : [])];
  for (const stores of all) {
    console.log(`== ${stores.label}`);
    try {
      await concurrentWriters(stores);
      await metricPoints(stores);
      const runs = await listing(stores);
      if (!isPostgresUrl(runs)) upgradeSqlite(runs);
    } finally {
      await stores.dispose();
    }
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
