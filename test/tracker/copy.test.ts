import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError, TrackerError } from '../../src/errors';
import { loadRunModel } from '../../src/runs/run-model';
import { copyStore, storeChecksums } from '../../src/tracker/copy';
import { exportRuns, getMetricHistory, getRun, listRuns } from '../../src/tracker/query';
import { addArtifact, finishRun, logMetricPoints, logMetrics, noteRun, startRun, tagRun } from '../../src/tracker/record';
import { closeStore, execute, openStore } from '../../src/tracker/store';
import { cli } from '../support/cli';
import { trainTinyBaseRun } from '../support/equation-run';
import { readOnlyRole, tempDbPath, tempStore } from './helpers';

/** A SQLite store with two experiments, runs with awkward params, NaN and Infinity points, tags, a note and an artifact. */
async function sampleStore(): Promise<{ file: string; runIds: string[] }> {
  const file = tempDbPath();
  const store = openStore(file);
  try {
    const a = startRun(store, { experiment: 'eq', name: 'a', config: { model: 'crnn', lr: 1 / 3, optimizer: { name: 'adam' }, widths: [32, 64] }, params: { inf: -Infinity, nan: NaN, quote: 'a "b"\nc' }, git: false, heartbeat: false, tags: ['keep'] });
    logMetricPoints(store, a, [0, 1, 2].map((step) => ({ key: 'batch_loss', value: step === 1 ? NaN : 1 / (step + 1), step, epoch: 0, wallTime: 1_700_000_000_000 + step })));
    logMetrics(store, a, { val_accuracy: 0.5, loss: Infinity }, { step: 3, epoch: 0 });
    await addArtifact(store, a, { path: join(store.baseDir, 'runs', a, 'model.json'), kind: 'model', bytes: 10, sha256: 'ab' });
    noteRun(store, a, 'the first');
    finishRun(store, a);
    const b = startRun(store, { experiment: 'mnist', name: 'b', config: { model: 'mlp' }, git: false, heartbeat: false });
    logMetrics(store, b, { val_accuracy: 0.9 }, { step: 0 });
    tagRun(store, b, 'baseline');
    finishRun(store, b, 'failed', { error: 'diverged' });
    return { file, runIds: [a, b] };
  } finally {
    closeStore(store);
  }
}

/** What a store shows: every run as exported with its history, and each table's count and checksum. */
function shown(target: string): { runs: unknown; checksums: unknown } {
  const store = openStore(target, { readonly: true });
  try {
    const runs = listRuns(store, { orderBy: 'name' }).map((r) => ({ ...getRun(store, r.id), history: getMetricHistory(store, r.id) }));
    return { runs: JSON.parse(JSON.stringify(runs, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v))), checksums: storeChecksums(store) };
  } finally {
    closeStore(store);
  }
}

describe('copyStore', () => {
  test('SQLite to PostgreSQL and back: every run, param, point, tag, note and artifact as it was, counts and checksums equal', async () => {
    const { file, runIds } = await sampleStore();
    const server = tempStore('postgres');
    const copy = copyStore(file, server);
    assert.deepEqual(copy.tables.map((t) => [t.table, t.rows]), [['experiments', 2], ['runs', 2], ['params', 8], ['metrics', 6], ['metric_summary', 4], ['tags', 2], ['artifacts', 1]]);
    // Beside the original: a relative artifact path means the same file from there.
    const back = join(dirname(file), 'back.db');
    copyStore(readOnlyRole(server), back);
    const original = shown(file);
    // A store on a server finds run files in the experiments folder: here the one the file's runs are in.
    const experiments = process.env.GLYPHLAB_EXPERIMENTS_DIR;
    process.env.GLYPHLAB_EXPERIMENTS_DIR = dirname(file);
    try {
      assert.deepEqual(shown(server), original);
    } finally {
      if (experiments === undefined) delete process.env.GLYPHLAB_EXPERIMENTS_DIR;
      else process.env.GLYPHLAB_EXPERIMENTS_DIR = experiments;
    }
    assert.deepEqual(shown(back), original);
    // The copies are stores like any other: a new run goes in after the copied ones.
    const store = openStore(server);
    try {
      const c = startRun(store, { experiment: 'eq', git: false, heartbeat: false });
      finishRun(store, c);
      assert.deepEqual(listRuns(store, { orderBy: 'started_at' }).map((r) => r.id), [...runIds, c]);
      assert.equal(getRun(store, runIds[0]!).params.lr, 1 / 3);
      assert.ok(Number.isNaN(getRun(store, runIds[0]!).params.nan));
    } finally {
      closeStore(store);
    }
  });

  test('a schema-1 file copies into a current store, as it lists', () => {
    const file = tempDbPath();
    copyFileSync(join(__dirname, 'fixtures', 'v1-store.db'), file);
    const server = tempStore('postgres');
    copyStore(file, server);
    const exported = (target: string): string => {
      const store = openStore(target, { readonly: true });
      try {
        return exportRuns(store, { format: 'json', orderBy: 'name,started_at' });
      } finally {
        closeStore(store);
      }
    };
    assert.equal(exported(server), exported(file));
  });

  test('a destination that holds runs is refused and left as it was; a copy that differs names the table', async () => {
    const { file } = await sampleStore();
    const other = (await sampleStore()).file;
    const before = shown(other);
    assert.throws(() => copyStore(file, other), (e: unknown) => e instanceof ConfigError && /already holds 2 runs; copy into a new, empty store/.test(e.message));
    assert.deepEqual(shown(other), before);
    assert.throws(() => copyStore(file, file), /is both where to copy from and to/);
    // The checksums see a single changed value: a copy that lost or altered one would fail its check.
    const store = openStore(file);
    const server = tempStore('postgres');
    const original = copyStore(file, server);
    execute(store, "UPDATE params SET value_text = 'changed' WHERE key = 'quote'");
    closeStore(store);
    const destination = openStore(server);
    try {
      assert.notDeepEqual(storeChecksums(destination), storeChecksums(openStore(file, { readonly: true })));
      assert.deepEqual(storeChecksums(destination), original.tables);
    } finally {
      closeStore(destination);
    }
  });

  test('glyphlab store copy prints the tables copied, never a password, and refuses a third store', async () => {
    const { file } = await sampleStore();
    const server = tempStore('postgres');
    const result = await cli(['store', 'copy', file, server, '--no-files']);
    assert.equal(result.code, 0, result.err);
    assert.match(result.out, /^copied .* to postgres:\/\/postgres@127\.0\.0\.1:\d+\/\S+: 2 experiments, 2 runs, 8 params, 6 metrics, 4 metric_summary, 2 tags, 1 artifacts; every table's row count and checksum match\n$/);
    const refused = await cli(['store', 'copy', file, 'postgres://ana:s3cret@127.0.0.1:1/x', 'third']);
    assert.equal(refused.code, 2);
    assert.match(refused.err, /store copy takes two stores, FROM and TO .* got 3: .*postgres:\/\/ana:\*\*\*@127\.0\.0\.1:1\/x/);
    assert.ok(!refused.err.includes('s3cret'));
  });
});

/** Runs `fn` with GLYPHLAB_EXPERIMENTS_DIR set to `dir` (where a store on PostgreSQL looks for run folders), then as it was. */
async function withExperimentsDir<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env.GLYPHLAB_EXPERIMENTS_DIR;
  process.env.GLYPHLAB_EXPERIMENTS_DIR = dir;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.GLYPHLAB_EXPERIMENTS_DIR;
    else process.env.GLYPHLAB_EXPERIMENTS_DIR = before;
  }
}

describe('copyStore with the run files', () => {
  // One tiny trained run in a SQLite store: its folder holds real checkpoints (weights, optimizer state) and a model.
  let file = '';
  let runId = '';
  before(async () => {
    file = join(mkdtempSync(join(tmpdir(), 'glyphlab-copy-files-')), 'glyphlab.db');
    runId = (await trainTinyBaseRun(dirname(file), file)).runId;
  });
  after(() => rmSync(dirname(file), { recursive: true, force: true }));

  test('SQLite to PostgreSQL and back with every run folder, each recorded file checked against its SHA-256', async () => {
    const server = tempStore('postgres');
    const shared = join(dirname(tempDbPath()), 'shared');
    const there = copyStore(file, server, { files: { to: shared } });
    const files = there.files!;
    assert.equal(files.runFolders, 1);
    assert.ok(files.verified >= 3, `verified ${files.verified}`);
    // The optimizer state and checkpoint metadata travel with the folder though no artifact names them.
    assert.ok(files.files > files.verified, `${files.files} files, ${files.verified} verified`);
    assert.equal(files.outside, 0);
    const weights = join('runs', runId, 'model', 'weights.bin');
    assert.deepEqual(readFileSync(join(shared, weights)), readFileSync(join(dirname(file), weights)));
    // The server's store reads the copied model from its folder.
    const loaded = await withExperimentsDir(shared, () => loadRunModel(runId, { dbPath: server }));
    assert.equal(loaded.modelDir, join(shared, 'runs', runId, 'model'));
    loaded.model.dispose();

    const back = tempDbPath('back.db');
    const home = copyStore(readOnlyRole(server), back, { files: { from: shared } });
    assert.deepEqual({ ...home.files!, from: '', to: '' }, { ...files, from: '', to: '' });
    assert.deepEqual(readFileSync(join(dirname(back), weights)), readFileSync(join(dirname(file), weights)));
    // Beside its own file the copied store needs nothing copied: the files are only checked.
    const beside = copyStore(back, join(dirname(back), 'again.db'), { files: {} });
    assert.equal(beside.files!.runFolders, 0);
    assert.equal(beside.files!.verified, files.verified);
  });

  test('a changed or missing file, or a run folder already there, is named and fails the copy before anything is written', async () => {
    const server = tempStore('postgres');
    const shared = join(dirname(tempDbPath()), 'shared');
    copyStore(file, server, { files: { to: shared } });
    const best = join(shared, 'runs', runId, 'best', 'model.json');
    appendFileSync(best, ' ');
    const target = tempDbPath('target.db');
    assert.throws(
      () => copyStore(server, target, { files: { from: shared } }),
      (e: unknown) => e instanceof TrackerError && e.message.includes(`${best} has SHA-256`) && /nothing was copied/.test(e.message),
    );
    const untouched = openStore(target, { readonly: true });
    try {
      assert.equal(listRuns(untouched).length, 0);
    } finally {
      closeStore(untouched);
    }
    assert.ok(!existsSync(join(dirname(target), 'runs')));
    rmSync(best);
    assert.throws(() => copyStore(server, target, { files: { from: shared } }), (e: unknown) => e instanceof TrackerError && e.message.includes(`${best} is missing`));
    // Without its files the records still copy, when asked.
    assert.equal(copyStore(server, target).files, undefined);
    const occupied = join(dirname(tempDbPath()), 'occupied');
    mkdirSync(join(occupied, 'runs', runId), { recursive: true });
    assert.throws(() => copyStore(file, tempStore('postgres'), { files: { to: occupied } }), (e: unknown) => e instanceof TrackerError && e.message.includes(`${join(occupied, 'runs', runId)} already exists`));
  });

  test('glyphlab store copy --to-files copies the run folders and says how many files matched their SHA-256', async () => {
    const server = tempStore('postgres');
    const shared = join(dirname(tempDbPath()), 'shared');
    const result = await cli(['store', 'copy', file, server, '--to-files', shared]);
    assert.equal(result.code, 0, result.err);
    assert.match(result.out, new RegExp(`\\n1 run folder \\(\\d+ files, [\\d.]+ MB\\) from ${dirname(file)} to ${shared}; \\d+ artifacts match the SHA-256 recorded\\n$`));
    const both = await cli(['store', 'copy', file, tempStore('postgres'), '--no-files', '--to-files', shared]);
    assert.equal(both.code, 2);
    assert.match(both.err, /--no-files copies no run files, so --from-files and --to-files have nothing to name/);
  });
});
