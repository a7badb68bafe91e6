import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, openSync, readFileSync, readdirSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { TrackerError } from '../../src/errors';
import { SCHEMA_VERSION } from '../../src/tracker/schema';
import { closeStore, openStore, quickCheck } from '../../src/tracker/store';
import { deleteRun, finishRun, logMetrics, noteRun, startRun, tagRun } from '../../src/tracker/record';
import { getMetricHistory, getRun, listRuns } from '../../src/tracker/query';
import { forEachDriver, readOnlyRole, sqliteDb, tempDbPath, tempStore } from './helpers';

forEachDriver('openStore', (driver) => {
  test('creates the schema at the current version; a SQLite file in WAL mode with foreign keys on', () => {
    const store = openStore(tempStore(driver));
    try {
      if (driver === 'sqlite') {
        assert.equal(sqliteDb(store).pragma('journal_mode', { simple: true }), 'wal');
        assert.equal(sqliteDb(store).pragma('foreign_keys', { simple: true }), 1);
        assert.equal(sqliteDb(store).pragma('user_version', { simple: true }), SCHEMA_VERSION);
      }
      assert.equal(store.db.schemaVersion(), SCHEMA_VERSION);
      assert.deepEqual(store.db.tableNames(), ['artifacts', 'experiments', 'metric_summary', 'metrics', 'params', 'runs', 'tags']);
      assert.deepEqual(quickCheck(store), []);
    } finally {
      closeStore(store);
    }
  });

  test('reopening an up-to-date database keeps its runs', () => {
    const file = tempStore(driver);
    const store = openStore(file);
    const runId = startRun(store, { experiment: 'e', git: false, heartbeat: false });
    finishRun(store, runId);
    closeStore(store);
    const again = openStore(file);
    try {
      assert.equal(getRun(again, runId).status, 'finished');
    } finally {
      closeStore(again);
    }
  });

  test('a foreign key holds: a run of no experiment is refused', () => {
    const store = openStore(tempStore(driver));
    try {
      assert.throws(
        () => store.db.prepare("INSERT INTO runs (id, experiment_id, status, started_at, heartbeat_at) VALUES ('x', 999, 'running', 0, 0)").run(),
        /FOREIGN KEY|foreign key/,
      );
    } finally {
      closeStore(store);
    }
  });
});

// SQLite files only: a server keeps its own files; what a PostgreSQL store refuses is in postgres-driver.test.ts.
describe('bad database files', () => {
  test('a corrupt file gets a TrackerError naming it and is left untouched', () => {
    const file = tempDbPath('garbage.db');
    const garbage = Buffer.alloc(8192, 0x5a);
    writeFileSync(file, garbage);
    assert.throws(() => openStore(file), (e: unknown) => e instanceof TrackerError && e.message.includes(file) && /not a glyphlab experiment database or is corrupt/.test(e.message));
    assert.deepEqual(readFileSync(file), garbage);
  });

  test('a newer schema version asks to upgrade glyphlab and is left untouched', () => {
    const file = tempDbPath('newer.db');
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    db.close();
    assert.throws(() => openStore(file), (e: unknown) => e instanceof TrackerError && e.message.includes(file) && /upgrade glyphlab/.test(e.message));
    const check = new Database(file);
    assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION + 5);
    assert.equal(check.pragma('journal_mode', { simple: true }), 'delete');
    check.close();
  });

  test('a read-only file gets a clear error; { readonly: true } still reads it', () => {
    const file = tempDbPath('ro.db');
    const store = openStore(file);
    const runId = startRun(store, { git: false, heartbeat: false });
    finishRun(store, runId);
    closeStore(store);
    chmodSync(file, 0o444);
    assert.throws(() => openStore(file), (e: unknown) => e instanceof TrackerError && e.message.includes(file) && /read-only.*chmod u\+w/.test(e.message));
    const reader = openStore(file, { readonly: true });
    try {
      assert.equal(listRuns(reader)[0]?.id, runId);
      assert.throws(() => startRun(reader, { git: false }), (e: unknown) => e instanceof TrackerError && /opened read-only/.test(e.message));
    } finally {
      closeStore(reader);
    }
  });

  test('a database locked past the busy timeout gets a TrackerError saying so, with the SQL', () => {
    const file = tempDbPath();
    const store = openStore(file, { busyTimeoutMs: 100 });
    const runId = startRun(store, { git: false, heartbeat: false });
    const holder = new Database(file);
    holder.exec('BEGIN IMMEDIATE');
    try {
      assert.throws(
        () => logMetrics(store, runId, { loss: 1 }),
        (e: unknown) => e instanceof TrackerError && e.message.includes(file) && /is locked/.test(e.message) && /BEGIN|INSERT|UPDATE/.test(e.sql ?? ''),
      );
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    logMetrics(store, runId, { loss: 1 });
    assert.equal(getMetricHistory(store, runId).length, 1);
    closeStore(store);
  });

  test('a SQLite file of another program is refused, read-only or not, and left untouched', () => {
    const file = tempDbPath('notes.sqlite');
    const other = new Database(file);
    other.exec("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('keep me')");
    other.close();
    const before = readFileSync(file);
    for (const readonly of [false, true]) {
      assert.throws(
        () => openStore(file, { readonly }),
        (e: unknown) => e instanceof TrackerError && e.message.startsWith(`${file} is a SQLite database but not a glyphlab experiment store (schema version 0, tables: notes); it was left untouched`),
      );
    }
    assert.deepEqual(readFileSync(file), before);
    assert.deepEqual(readdirSync(dirname(file)), ['notes.sqlite'], 'no -wal or -shm file either');
    // Another program's file with a schema version of its own is no store either.
    const versioned = new Database(file);
    versioned.pragma('user_version = 1');
    versioned.close();
    assert.throws(() => openStore(file), /schema version 1, tables: notes; it lacks artifacts, experiments, metric_summary, metrics, params, runs, tags\)/);
  });
});

describe('opening a SQLite file read-only', () => {
  test('a missing path is an error naming it; nothing is created', () => {
    const dir = dirname(tempDbPath());
    const file = join(dir, 'not', 'here.db');
    assert.throws(() => openStore(file, { readonly: true }), (e: unknown) => e instanceof TrackerError && e.message.includes(file) && /does not exist/.test(e.message));
    assert.equal(existsSync(join(dir, 'not')), false);
    const empty = join(dir, 'empty.db');
    writeFileSync(empty, '');
    assert.throws(() => openStore(empty, { readonly: true }), /empty\.db is an empty SQLite database, not a glyphlab experiment store/);
    assert.equal(readFileSync(empty).length, 0);
  });
});

forEachDriver('opening read-only', (driver) => {
  test('writes nothing, yet shows a run whose process is gone as crashed', () => {
    const file = tempStore(driver);
    const writer = openStore(file);
    const runId = startRun(writer, { git: false, heartbeat: false });
    writer.db.prepare('UPDATE runs SET pid = 4194305 WHERE id = ?').run(runId);
    closeStore(writer);
    // On PostgreSQL, through a role that may only SELECT: a read-only opening needs no more.
    const reader = openStore(driver === 'postgres' ? readOnlyRole(file) : file, { readonly: true });
    try {
      const run = listRuns(reader)[0]!;
      assert.equal(run.status, 'crashed');
      assert.match(run.error ?? '', /process 4194305 .* ended without finishing the run/);
      assert.equal(getRun(reader, runId).status, 'crashed');
      const stored = reader.db.prepare('SELECT status FROM runs WHERE id = ?').get(runId) as { status: string };
      assert.equal(stored.status, 'running', 'the file was not written');
    } finally {
      closeStore(reader);
    }
  });
});

/**
 * A store of 30 finished runs with 20 steps of metrics each, its WAL folded into the file, with a
 * leaf page of `table` (a table or an index) overwritten in the middle by 64 bytes of garbage, as
 * a failing disk or a stray write leaves it.
 */
function storeWithDamagedPage(table: string): { file: string; runIds: string[] } {
  const file = tempDbPath();
  const store = openStore(file);
  const runIds: string[] = [];
  for (let r = 0; r < 30; r++) {
    const runId = startRun(store, { config: { r }, git: false, heartbeat: false });
    for (let step = 0; step < 20; step++) logMetrics(store, runId, { loss: 1 / (step + 1), val_accuracy: step / 20 }, { step });
    finishRun(store, runId);
    runIds.push(runId);
  }
  closeStore(store);
  const db = new Database(file);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const page = (db.prepare("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno LIMIT 1").get(table) as { pageno: number }).pageno;
  db.close();
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(64, 0xa5), 0, 64, (page - 1) * pageSize + 8);
  closeSync(fd);
  return { file, runIds };
}

describe('a damaged store', () => {
  test('a corrupt page of metric points: note, tag, delete and a new run are refused, saying how to recover, and the file is not written', () => {
    const { file, runIds } = storeWithDamagedPage('metrics');
    const before = readFileSync(file);
    const store = openStore(file);
    try {
      const damaged = (e: unknown): boolean =>
        e instanceof TrackerError &&
        e.message.startsWith(`experiment database ${file} is damaged (PRAGMA quick_check: Tree `) &&
        e.message.includes(`sqlite3 ${file} .recover | sqlite3 ${file}.recovered`) &&
        e.message.includes(`PRAGMA user_version = ${SCHEMA_VERSION}`) &&
        e.message.endsWith('nothing was written to it');
      assert.throws(() => noteRun(store, runIds[0]!, 'keep'), damaged);
      assert.throws(() => tagRun(store, runIds[0]!, 'keep'), damaged);
      assert.throws(() => deleteRun(store, runIds[1]!), damaged);
      assert.throws(() => startRun(store, { git: false, heartbeat: false }), damaged);
    } finally {
      closeStore(store);
    }
    assert.deepEqual(readFileSync(file), before, 'the damaged file is as it was');
    assert.equal(existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0, 0, 'and no change waits in its WAL');
  });

  test('a corrupt page of an index of the runs table: a read warns with how to recover, and still lists what it can', () => {
    const { file, runIds } = storeWithDamagedPage('runs_status');
    const warnings: string[] = [];
    const reader = openStore(file, { readonly: true, onWarning: (message) => warnings.push(message) });
    try {
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /^experiment database .* is damaged \(PRAGMA quick_check: Tree \d+ page \d+ cell \d+: .*\)\. Recover what it holds into a new file: .* what can still be read is shown, and writes to it are refused$/);
      assert.equal(listRuns(reader).length, runIds.length);
    } finally {
      closeStore(reader);
    }
  });

  test('the recovery the message gives works with the sqlite3 shell of this machine', { skip: spawnSync('sqlite3', ['-version']).status !== 0 && 'no sqlite3 shell' }, () => {
    const { file, runIds } = storeWithDamagedPage('metrics');
    const store = openStore(file);
    let message = '';
    try {
      noteRun(store, runIds[0]!, 'keep');
    } catch (error) {
      message = (error as Error).message;
    } finally {
      closeStore(store);
    }
    // The commands in backticks: .recover first, then the .dump way where .recover is missing.
    const [recover, dump] = [...message.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    const recovered = `${file}.recovered`;
    const works = (): boolean => {
      try {
        const again = openStore(recovered, { readonly: true });
        try {
          return listRuns(again).length === runIds.length;
        } finally {
          closeStore(again);
        }
      } catch {
        return false;
      }
    };
    spawnSync('sh', ['-c', recover!], { stdio: 'ignore' });
    if (!works()) {
      for (const leftover of [recovered, `${recovered}-wal`, `${recovered}-shm`]) if (existsSync(leftover)) execFileSync('rm', [leftover]);
      execFileSync('sh', ['-c', dump!], { stdio: 'ignore' });
    }
    assert.ok(works(), `neither ${recover} nor ${dump} gave a store listing ${runIds.length} runs`);
    const sound = openStore(recovered);
    try {
      noteRun(sound, runIds[0]!, 'recovered');
      assert.equal(listRuns(sound).find((r) => r.id === runIds[0])?.note, 'recovered');
    } finally {
      closeStore(sound);
    }
  });
});
