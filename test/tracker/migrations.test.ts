/**
 * Schema migrations on real files: a database written by the schema-1 glyphlab
 * (fixtures/v1-store.db, made by fixtures/make-v1-store.ts) upgrades and lists exactly what that
 * glyphlab listed, alone or with three processes opening it at once; and `runs.params_json` and
 * `runs.metrics_json` stay in step with their tables through every later write (or are cleared,
 * then read from the tables).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TrackerError } from '../../src/errors';
import { SCHEMA_VERSION } from '../../src/tracker/schema';
import { closeStore, execute, openStore, selectAll, type TrackerStore } from '../../src/tracker/store';
import { deleteRun, logMetricPoints, logMetrics, logParams, startRun } from '../../src/tracker/record';
import { type ParamValue, decodeParam, exportRuns, getRun, listRuns } from '../../src/tracker/query';
import { forEachDriver, runFixture, sqliteDb, tempDbPath, tempStore } from './helpers';

const fixtures = join(__dirname, 'fixtures');
/** What `exportRuns` of the schema-1 glyphlab printed for the fixture. */
const expectedExport = readFileSync(join(fixtures, 'v1-store.expected.json'), 'utf8');
const exportOptions = { format: 'json', orderBy: 'name,started_at' } as const;

/** A copy of the schema-1 fixture in a temp folder (the fixture itself is never opened for writing). */
function copyOfV1Store(): string {
  const file = tempDbPath();
  copyFileSync(join(fixtures, 'v1-store.db'), file);
  return file;
}

/** Each run's params as decoded from the params table, and its params_json as stored. */
function paramsBothWays(store: TrackerStore): Map<string, { table: Record<string, ParamValue>; json: string | null }> {
  const out = new Map<string, { table: Record<string, ParamValue>; json: string | null }>();
  for (const run of selectAll<{ id: string; params_json: string | null }>(store, 'SELECT id, params_json FROM runs')) {
    out.set(run.id, { table: {}, json: run.params_json });
  }
  for (const row of selectAll<{ run_id: string; key: string; type: 'number'; value_text: string | null; value_num: number | null; value_bool: number | null }>(
    store,
    'SELECT * FROM params ORDER BY run_id, key',
  )) {
    out.get(row.run_id)!.table[row.key] = decodeParam(row);
  }
  return out;
}

/** Asserts that every run's params_json decodes to its params rows, or is NULL when one is NaN. */
function assertParamsJsonInStep(store: TrackerStore): void {
  for (const [id, { table, json }] of paramsBothWays(store)) {
    const hasNaN = Object.values(table).some((v) => typeof v === 'number' && Number.isNaN(v));
    if (hasNaN) assert.equal(json, null, `run ${id} has a NaN param, so no params_json`);
    else assert.deepStrictEqual(JSON.parse(json ?? 'null'), table, `params_json of run ${id}`);
  }
}

/** Each run's metric summaries as read from the table (NULL -> NaN), and its metrics_json as stored. */
function metricsBothWays(store: TrackerStore): Map<string, { table: Record<string, unknown>; json: string | null }> {
  const out = new Map<string, { table: Record<string, unknown>; json: string | null }>();
  for (const run of selectAll<{ id: string; metrics_json: string | null }>(store, 'SELECT id, metrics_json FROM runs')) {
    out.set(run.id, { table: {}, json: run.metrics_json });
  }
  for (const s of selectAll<{ run_id: string; key: string; last: number | null; last_step: number; best: number | null; best_step: number | null; mode: string; count: number }>(
    store,
    'SELECT * FROM metric_summary ORDER BY run_id, key',
  )) {
    out.get(s.run_id)!.table[s.key] = { last: s.last ?? NaN, lastStep: s.last_step, best: s.best ?? NaN, bestStep: s.best_step, mode: s.mode, count: s.count };
  }
  return out;
}

/** Asserts that every run's metrics_json decodes (null -> NaN) to its summary rows. */
function assertMetricsJsonInStep(store: TrackerStore): void {
  for (const [id, { table, json }] of metricsBothWays(store)) {
    assert.notEqual(json, null, `run ${id} has metrics_json`);
    const parsed = JSON.parse(json!) as Record<string, { last: number | null; best: number | null }>;
    for (const s of Object.values(parsed)) {
      s.last ??= NaN;
      s.best ??= NaN;
    }
    assert.deepStrictEqual(parsed, table, `metrics_json of run ${id}`);
  }
}

describe('migrating a schema-1 database', () => {
  test('upgrades to the current version and lists exactly what the schema-1 glyphlab listed', () => {
    const file = copyOfV1Store();
    // Read-only opens never migrate: this is the listing through the params table.
    const reader = openStore(file, { readonly: true });
    let before;
    try {
      assert.equal(sqliteDb(reader).pragma('user_version', { simple: true }), 1);
      before = listRuns(reader, { orderBy: 'name,started_at' });
      assert.equal(exportRuns(reader, exportOptions), expectedExport);
    } finally {
      closeStore(reader);
    }
    const store = openStore(file);
    try {
      assert.equal(sqliteDb(store).pragma('user_version', { simple: true }), SCHEMA_VERSION);
      assert.ok(SCHEMA_VERSION >= 2);
      const after = listRuns(store, { orderBy: 'name,started_at' });
      // deepStrictEqual tells Infinity from "Infinity" and 0.30000000000000004 from 0.3, which the JSON export cannot.
      assert.deepStrictEqual(after, before);
      assert.equal(exportRuns(store, exportOptions), expectedExport);
      for (const run of after) assert.deepStrictEqual(getRun(store, run.id).params, run.params);
      // The listing really came from the column: every run but the one with a NaN param has it.
      const byName = new Map(after.map((r) => [r.name, r]));
      const both = paramsBothWays(store);
      assert.equal(both.size, 8);
      assert.equal(both.get(byName.get('nan-param')!.id)!.json, null);
      assert.equal([...both.values()].filter((b) => b.json !== null).length, 7);
      assert.equal(byName.get('awkward')!.params.inf, Infinity);
      assert.equal(byName.get('awkward')!.params.lr, 'changed to text');
      assert.ok(Number.isNaN(byName.get('nan-param')!.params.lr));
      assertParamsJsonInStep(store);
      assertMetricsJsonInStep(store);
      // NaN and Infinity summaries came through the column as numbers.
      assert.ok(Number.isNaN(byName.get('awkward')!.metrics.loss!.last));
      assert.equal(byName.get('awkward')!.metrics.val_accuracy!.best, Infinity);
      assert.equal(byName.get('awkward')!.metrics.val_accuracy!.count, 2);
      assert.equal(sqliteDb(store).pragma('integrity_check', { simple: true }), 'ok');
    } finally {
      closeStore(store);
    }
    // Opening again finds nothing to do and changes nothing.
    const again = openStore(file);
    try {
      assert.equal(exportRuns(again, exportOptions), expectedExport);
    } finally {
      closeStore(again);
    }
  });

  test('three processes opening the same schema-1 file at one moment: one migrates, all list the same', async () => {
    const file = copyOfV1Store();
    const startMs = String(Date.now() + 2000);
    const results = await Promise.all([1, 2, 3].map(() => runFixture('open-and-list.ts', [file, startMs])));
    for (const result of results) {
      assert.equal(result.stderr, '', result.stderr);
      assert.equal(result.code, 0);
      assert.equal(result.stdout, expectedExport);
    }
    const store = openStore(file);
    try {
      assert.equal(sqliteDb(store).pragma('user_version', { simple: true }), SCHEMA_VERSION);
      const columns = selectAll<{ name: string }>(store, 'SELECT name FROM pragma_table_info(\'runs\')').map((c) => c.name);
      assert.equal(columns.filter((c) => c === 'params_json').length, 1);
      const triggers = selectAll<{ name: string }>(store, "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name").map((t) => t.name);
      assert.deepEqual(triggers, ['metrics_json_delete', 'metrics_json_insert', 'metrics_json_update', 'params_json_delete', 'params_json_insert', 'params_json_update']);
      assertParamsJsonInStep(store);
      assertMetricsJsonInStep(store);
    } finally {
      closeStore(store);
    }
  });
});

forEachDriver('runs.metrics_json', (driver) => {
  test('follows every metric write, NaN and Infinity included; other writes clear it', () => {
    const store = openStore(tempStore(driver));
    try {
      const runId = startRun(store, { git: false, heartbeat: false });
      assertMetricsJsonInStep(store);
      assert.deepStrictEqual(getRun(store, runId).metrics, {});
      logMetrics(store, runId, { loss: 0.5, val_accuracy: 0.1 + 0.2 }, { step: 0 });
      logMetrics(store, runId, { loss: NaN, val_accuracy: Infinity }, { step: 1 });
      logMetricPoints(store, runId, [{ key: 'batch_loss', value: 1 / 3, step: 0 }, { key: 'batch_loss', value: -Infinity, step: 1 }]);
      assertMetricsJsonInStep(store);
      const expected = {
        batch_loss: { last: -Infinity, lastStep: 1, best: -Infinity, bestStep: 1, mode: 'min', count: 2 },
        loss: { last: NaN, lastStep: 1, best: 0.5, bestStep: 0, mode: 'min', count: 2 },
        val_accuracy: { last: Infinity, lastStep: 1, best: Infinity, bestStep: 1, mode: 'max', count: 2 },
      };
      assert.deepStrictEqual(listRuns(store)[0]?.metrics, expected);
      // A summary changed by other means: the column is cleared and the table read until the next write.
      execute(store, "UPDATE metric_summary SET count = 7 WHERE run_id = @runId AND key = 'loss'", { runId });
      assert.equal(metricsBothWays(store).get(runId)!.json, null);
      assert.equal(listRuns(store)[0]?.metrics.loss?.count, 7);
      logMetrics(store, runId, { lr: 1e-3 }, { step: 2 });
      assertMetricsJsonInStep(store);
      assert.equal(listRuns(store)[0]?.metrics.loss?.count, 7);
      assert.equal(listRuns(store)[0]?.metrics.lr?.last, 1e-3);
    } finally {
      closeStore(store);
    }
  });
});

forEachDriver('runs.params_json', (driver) => {
  test('follows startRun and logParams overwrites, type changes and NaN; other writes clear it', () => {
    const store = openStore(tempStore(driver));
    try {
      const config = { model: 'crnn', lr: 0.1 + 0.2, optimizer: { name: 'adam', beta1: 0.9 }, channels: [32, 64], seed: null, augment: true };
      const runId = startRun(store, { config, params: { note: 'a "quoted"\nline', inf: -Infinity }, git: false, heartbeat: false });
      const other = startRun(store, { config: { model: 'mlp' }, git: false, heartbeat: false });
      assertParamsJsonInStep(store);
      const expected: Record<string, ParamValue> = {
        augment: true,
        channels: [32, 64],
        inf: -Infinity,
        lr: 0.1 + 0.2,
        model: 'crnn',
        note: 'a "quoted"\nline',
        'optimizer.beta1': 0.9,
        'optimizer.name': 'adam',
        seed: null,
      };
      assert.deepStrictEqual(getRun(store, runId).params, expected);

      // Overwrites that change the type, and new keys.
      logParams(store, runId, { lr: 'auto', seed: 7, augment: ['flip', 'crop'], batch: 64 });
      Object.assign(expected, { lr: 'auto', seed: 7, augment: ['flip', 'crop'], batch: 64 });
      assertParamsJsonInStep(store);
      assert.deepStrictEqual(getRun(store, runId).params, expected);
      assert.deepStrictEqual(listRuns(store, { where: { field: 'id', op: '=', value: runId } })[0]?.params, expected);

      // NaN has no JSON form: the column goes NULL and listings read the table; a later finite value brings it back.
      logParams(store, runId, { lr: NaN });
      assertParamsJsonInStep(store);
      assert.ok(Number.isNaN(listRuns(store, { where: { field: 'id', op: '=', value: runId } })[0]?.params.lr));
      logParams(store, runId, { lr: 1e-3 });
      expected.lr = 1e-3;
      assertParamsJsonInStep(store);
      assert.deepStrictEqual(listRuns(store, { where: { field: 'id', op: '=', value: runId } })[0]?.params, expected);

      // Writes that bypass the store's functions (another tool, or an older glyphlab's process) clear
      // the column through the triggers, and listings read the params table until the next logParams.
      execute(store, "DELETE FROM params WHERE run_id = @runId AND key = 'batch'", { runId });
      execute(store, "UPDATE params SET value_text = 'gru' WHERE run_id = @runId AND key = 'model'", { runId });
      execute(store, "INSERT INTO params (run_id, key, type, value_num) VALUES (@runId, 'epochs', 'number', 12)", { runId });
      delete expected.batch;
      expected.model = 'gru';
      expected.epochs = 12;
      assert.equal(paramsBothWays(store).get(runId)!.json, null);
      assert.notEqual(paramsBothWays(store).get(other)!.json, null, 'the other run keeps its column');
      assert.deepStrictEqual(getRun(store, runId).params, expected);
      assert.deepStrictEqual(listRuns(store, { where: { field: 'id', op: '=', value: runId } })[0]?.params, expected);
      logParams(store, runId, { epochs: 12 });
      assertParamsJsonInStep(store);
      assert.deepStrictEqual(getRun(store, runId).params, expected);

      // Filters on params still work (they read the params table), and the other run never changed.
      assert.deepEqual(listRuns(store, { where: 'params.model = "gru"' }).map((r) => r.id), [runId]);
      assert.deepStrictEqual(getRun(store, other).params, { model: 'mlp' });
      deleteRun(store, runId);
      assert.deepEqual(listRuns(store).map((r) => r.id), [other]);
      assertParamsJsonInStep(store);
    } finally {
      closeStore(store);
    }
  });

  test('decodes to exactly what the params table holds for awkward values', () => {
    const store = openStore(tempStore(driver));
    try {
      class Opaque {
        toJSON(): undefined {
          return undefined;
        }
      }
      const params = {
        third: 1 / 3,
        max: Number.MAX_VALUE,
        min: Number.MIN_VALUE,
        big: 2 ** 53 + 2,
        bigint: 12345678901234567890n,
        neg: -1e-300,
        inf: Infinity,
        text_inf: 'Infinity',
        nul: 'a\u0000b',
        'k\u0000ey': 1,
        control: '\u0001\u001f\u007f',
        backslash: '\\',
        unicode: 'é ✓ 😀',
        opaque: new Opaque(),
        date: new Date(0),
        nested_nan: [NaN, { x: Infinity }],
      };
      if (driver === 'postgres') {
        // PostgreSQL's text holds no NUL character: such a param is refused with the server's reason, and nothing is recorded.
        assert.throws(() => startRun(store, { params, git: false, heartbeat: false }), (e: unknown) => e instanceof TrackerError && /0x00/.test(e.message));
        assert.deepEqual(listRuns(store), []);
        delete (params as Partial<typeof params>).nul;
        delete (params as Record<string, unknown>)['k\u0000ey'];
      }
      const runId = startRun(store, { params, git: false, heartbeat: false });
      assertParamsJsonInStep(store);
      const listed = listRuns(store)[0]!.params;
      assert.equal(listed.inf, Infinity);
      assert.equal(listed.text_inf, 'Infinity');
      assert.equal(listed.third, 1 / 3);
      assert.equal(listed.min, Number.MIN_VALUE);
      if (driver === 'sqlite') assert.equal(listed.nul, 'a\u0000b');
      assert.equal(listed.opaque, '[object Object]');
      assert.deepEqual(listed.nested_nan, ['NaN', { x: 'Infinity' }]);
      assert.equal(Object.keys(listed).length, Object.keys(params).length);
      assert.ok(runId);
    } finally {
      closeStore(store);
    }
  });
});
