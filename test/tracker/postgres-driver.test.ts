/**
 * What only a store on PostgreSQL has: roles and their rights, passwords (in the URL,
 * PGPASSWORD, ~/.pgpass) that never reach a message or a record, a server that is not there,
 * databases that are not glyphlab stores, and the synchronous bridge to the connection thread.
 * The behaviour both drivers share is tested once for both (forEachDriver in the other files).
 * All on the test process's own cluster (test/support/postgres.ts).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TrackerError } from '../../src/errors';
import { getRun, listRuns } from '../../src/tracker/query';
import { finishRun, logMetrics, startRun } from '../../src/tracker/record';
import { SCHEMA_VERSION } from '../../src/tracker/schema';
import { closeStore, inTransaction, execute, openStore, selectOne, storeDataVersion } from '../../src/tracker/store';
import { cli } from '../support/cli';
import { createTestDatabase, createTestRole, runSql, startTestCluster } from '../support/postgres';
import { readOnlyRole, tempDbPath } from './helpers';

const databaseOf = (url: string): string => decodeURIComponent(new URL(url).pathname.slice(1));
const PASSWORD = "s3cret:/@'pw";

/** A store with one finished run, for readers. */
function storeWithRun(): { url: string; runId: string } {
  const url = createTestDatabase();
  const store = openStore(url);
  const runId = startRun(store, { name: 'first', config: { lr: 0.01 }, git: false, heartbeat: false });
  logMetrics(store, runId, { val_accuracy: 0.9 }, { step: 0 });
  finishRun(store, runId);
  closeStore(store);
  return { url, runId };
}

/** Runs `fn` with environment variables set, then puts them back. */
function withEnv<T>(vars: Record<string, string>, fn: () => T): T {
  const before = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  Object.assign(process.env, vars);
  try {
    return fn();
  } finally {
    for (const [name, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

describe('a store on PostgreSQL: roles', () => {
  test('a role that may only SELECT reads every run; opening it to write is refused, naming the role\'s rights and what to do', () => {
    const { url, runId } = storeWithRun();
    const reader = readOnlyRole(url);
    const store = openStore(reader, { readonly: true });
    try {
      assert.deepEqual(listRuns(store).map((r) => r.id), [runId]);
      assert.equal(getRun(store, runId).metrics.val_accuracy?.last, 0.9);
      assert.throws(() => startRun(store, { git: false }), (e: unknown) => e instanceof TrackerError && /opened read-only/.test(e.message));
    } finally {
      closeStore(store);
    }
    const writer = openStore(reader);
    try {
      assert.throws(
        () => startRun(writer, { git: false, heartbeat: false }),
        (e: unknown) => e instanceof TrackerError && /the database role may not do this \(permission denied for table/.test(e.message) && /\{ readonly: true \}/.test(e.message),
      );
    } finally {
      closeStore(writer);
    }
  });

  test('a read-only opening of an empty database is refused and creates nothing', () => {
    const url = createTestDatabase();
    assert.throws(() => openStore(url, { readonly: true }), /is an empty PostgreSQL database, not a glyphlab experiment store/);
    assert.equal(runSql(startTestCluster(), "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", databaseOf(url)).trim(), '0');
  });
});

describe('a store on PostgreSQL: databases that are not glyphlab stores', () => {
  test('a database of another program is refused, read-only or not, and left untouched', () => {
    const url = createTestDatabase();
    runSql(startTestCluster(), 'CREATE TABLE notes (id integer)', databaseOf(url));
    for (const readonly of [false, true]) {
      assert.throws(() => openStore(url, { readonly }), (e: unknown) => e instanceof TrackerError && /is a PostgreSQL database but not a glyphlab experiment store \(schema version 0, tables: notes\)/.test(e.message));
    }
    assert.equal(runSql(startTestCluster(), "SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public'", databaseOf(url)).trim(), 'notes');
  });

  test('a newer schema version asks to upgrade glyphlab and is left untouched', () => {
    const { url } = storeWithRun();
    runSql(startTestCluster(), `UPDATE glyphlab_schema SET version = ${SCHEMA_VERSION + 5}`, databaseOf(url));
    assert.throws(() => openStore(url), (e: unknown) => e instanceof TrackerError && /has schema version \d+, but this glyphlab only knows versions up to/.test(e.message));
    assert.equal(runSql(startTestCluster(), 'SELECT version FROM glyphlab_schema', databaseOf(url)).trim(), String(SCHEMA_VERSION + 5));
  });

  test('a server that is not there is a clear error naming where it was looked for', () => {
    const cluster = startTestCluster();
    // A port nothing listens on: the cluster's own, plus one, is taken by nothing the tests start.
    const url = `postgres://nobody:${encodeURIComponent(PASSWORD)}@127.0.0.1:${cluster.port + 1}/nothing`;
    assert.throws(
      () => openStore(url),
      (e: unknown) =>
        e instanceof TrackerError &&
        e.message.startsWith(`cannot reach the PostgreSQL server of experiment store postgres://nobody:***@127.0.0.1:${cluster.port + 1}/nothing`) &&
        !e.message.includes('s3cret'),
    );
  });

  test('a database that does not exist says to create it', () => {
    const cluster = startTestCluster();
    assert.throws(() => openStore(cluster.url('no_such_db')), /database "no_such_db" does not exist; create the database first/);
  });
});

describe('a store on PostgreSQL: passwords', () => {
  test('the URL\'s password, else PGPASSWORD, else ~/.pgpass (PGPASSFILE): each logs in; a wrong one is refused without being shown', () => {
    const { url, runId } = storeWithRun();
    const withPassword = readOnlyRole(url);
    const parsed = new URL(withPassword);
    const role = decodeURIComponent(parsed.username);
    const bare = `postgres://${parsed.username}@${parsed.host}${parsed.pathname}`;
    const list = (target: string): string[] => {
      const store = openStore(target, { readonly: true });
      try {
        return listRuns(store).map((r) => r.id);
      } finally {
        closeStore(store);
      }
    };
    assert.deepEqual(list(withPassword), [runId]);
    assert.deepEqual(withEnv({ PGPASSWORD: PASSWORD }, () => list(bare)), [runId]);
    const pgpass = join(dirname(tempDbPath()), 'pgpass');
    const escaped = (text: string): string => text.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
    writeFileSync(pgpass, `127.0.0.1:${parsed.port}:${databaseOf(url)}:${escaped(role)}:${escaped(PASSWORD)}\n`);
    chmodSync(pgpass, 0o600);
    assert.deepEqual(withEnv({ PGPASSFILE: pgpass }, () => list(bare)), [runId]);
    const wrong = `postgres://${parsed.username}:wrong-${encodeURIComponent(PASSWORD)}@${parsed.host}${parsed.pathname}`;
    assert.throws(
      () => list(wrong),
      (e: unknown) =>
        e instanceof TrackerError &&
        /PostgreSQL refused the login to experiment store postgres:\/\/glyphlab_role_\d+_\d+:\*\*\*@127\.0\.0\.1:\d+\/\S+ \(password authentication failed for user/.test(e.message) &&
        /PGPASSWORD or ~\/\.pgpass/.test(e.message) &&
        !e.message.includes('s3cret') &&
        !JSON.stringify(e.params ?? null).includes('s3cret'),
    );
  });

  test('GLYPHLAB_DB or --db: no password reaches store.file, a run\'s source, params or config, a warning, or runs show and ls', async () => {
    const url = createTestDatabase();
    const writer = createTestRole(startTestCluster(), { database: databaseOf(url), password: PASSWORD });
    const shown = `postgres://${new URL(writer).username}:***@${new URL(writer).host}/${databaseOf(url)}`;
    const warnings: string[] = [];
    const store = openStore(writer, { onWarning: (message) => warnings.push(message) });
    let runId = '';
    try {
      assert.equal(store.file, shown);
      assert.ok(!JSON.stringify(store).includes('s3cret') && !String(Object.values(store)).includes('s3cret'), 'the store object holds the password out of sight');
      runId = startRun(store, { source: `glyphlab train --db ${writer}`, config: { db: writer, note: `copied from ${writer}` }, params: { store: writer }, git: false, heartbeat: false });
      logMetrics(store, runId, { val_accuracy: 0.5 }, { step: 0 });
      finishRun(store, runId);
      const run = getRun(store, runId);
      assert.ok(!JSON.stringify(run).includes('s3cret'), JSON.stringify(run));
      assert.equal(run.source, `glyphlab train --db ${shown}`);
      assert.equal(run.params.store, shown);
    } finally {
      closeStore(store);
    }
    const shownRun = await cli(['runs', 'show', runId, '--db', writer]);
    assert.equal(shownRun.code, 0, shownRun.err);
    assert.ok(shownRun.out.includes(runId));
    assert.ok(!`${shownRun.out}${shownRun.err}`.includes('s3cret'), shownRun.out + shownRun.err);
    // GLYPHLAB_DB names the store as --db does.
    const before = process.env.GLYPHLAB_DB;
    process.env.GLYPHLAB_DB = writer;
    try {
      const listed = await cli(['runs', 'ls', '--json']);
      assert.equal(listed.code, 0, listed.err);
      assert.deepEqual((JSON.parse(listed.out) as { id: string }[]).map((r) => r.id), [runId]);
    } finally {
      if (before === undefined) delete process.env.GLYPHLAB_DB;
      else process.env.GLYPHLAB_DB = before;
    }
    const refused = await cli(['runs', 'ls', '--db', writer.replace(encodeURIComponent(PASSWORD), 'nope-s3cret')]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.err, /PostgreSQL refused the login/);
    assert.ok(!`${refused.out}${refused.err}`.includes('s3cret'), refused.err);
    assert.ok(!warnings.join('\n').includes('s3cret'));
  });
});

describe('a store on PostgreSQL: the synchronous connection', () => {
  test('a failing statement is a TrackerError with its SQL; the transaction it was in is rolled back, savepoints undo only their part', () => {
    const { url, runId } = storeWithRun();
    const store = openStore(url);
    try {
      assert.throws(
        () => execute(store, 'UPDATE runs SET no_such_column = 1 WHERE id = @runId', { runId }),
        (e: unknown) => e instanceof TrackerError && /column "no_such_column" of relation "runs" does not exist/.test(e.message) && /no_such_column/.test(e.sql ?? ''),
      );
      assert.throws(() =>
        inTransaction(store, () => {
          execute(store, 'UPDATE runs SET note = @note WHERE id = @runId', { note: 'lost', runId });
          throw new Error('changed my mind');
        }),
      /changed my mind/);
      inTransaction(store, () => {
        execute(store, 'UPDATE runs SET note = @note WHERE id = @runId', { note: 'kept', runId });
        assert.throws(() =>
          inTransaction(store, () => {
            execute(store, 'UPDATE runs SET note = @note WHERE id = @runId', { note: 'undone', runId });
            execute(store, 'SELECT * FROM nowhere');
          }),
        /relation "nowhere" does not exist/);
      });
      assert.equal(selectOne<{ note: string }>(store, 'SELECT note FROM runs WHERE id = @runId', { runId })?.note, 'kept');
    } finally {
      closeStore(store);
    }
  });

  test('a transaction\'s BEGIN goes with its first statement: one that runs none leaves no transaction open, and the next writes commit', () => {
    const { url, runId } = storeWithRun();
    const store = openStore(url);
    const reader = openStore(url, { readonly: true });
    try {
      assert.equal(inTransaction(store, () => 'nothing done'), 'nothing done');
      assert.equal(store.db.inTransaction, false);
      execute(store, 'UPDATE runs SET note = @note WHERE id = @runId', { note: 'committed', runId });
      assert.equal(selectOne<{ note: string }>(reader, 'SELECT note FROM runs WHERE id = @runId', { runId })?.note, 'committed', 'another connection sees it: no transaction was left open');
      assert.throws(() => inTransaction(store, () => execute(store, 'UPDATE nowhere SET x = 1')), /relation "nowhere" does not exist/);
      execute(store, 'UPDATE runs SET note = @note WHERE id = @runId', { note: 'after a failed first statement', runId });
      assert.equal(selectOne<{ note: string }>(reader, 'SELECT note FROM runs WHERE id = @runId', { runId })?.note, 'after a failed first statement');
    } finally {
      closeStore(reader);
      closeStore(store);
    }
  });

  test('storeDataVersion moves when another connection commits, and stays while nothing does', () => {
    const { url, runId } = storeWithRun();
    const viewer = openStore(readOnlyRole(url), { readonly: true });
    const writer = openStore(url);
    try {
      const seen = storeDataVersion(viewer);
      assert.equal(storeDataVersion(viewer), seen);
      execute(writer, 'UPDATE runs SET note = @note WHERE id = @runId', { note: 'changed', runId });
      assert.notEqual(storeDataVersion(viewer), seen);
    } finally {
      closeStore(writer);
      closeStore(viewer);
    }
  });
});
