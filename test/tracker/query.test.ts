import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TrackerError } from '../../src/errors';
import { closeStore, openStore } from '../../src/tracker/store';
import { finishRun, logMetricPoints, logMetrics, startRun } from '../../src/tracker/record';
import { compareRuns, exportRuns, getMetricHistory, getMetricSeries, getRun, listRuns, rowsToCsv } from '../../src/tracker/query';
import { forEachDriver, tempStore } from './helpers';

describe('rowsToCsv', () => {
  test('text a spreadsheet would run as a formula gets a leading quote; numbers and other text do not', () => {
    const rows = [
      { name: '=HYPERLINK("http://evil","click")', note: '@SUM(A1)', tag: '+cmd', lr: '-2+3', tabbed: '\t=1', plain: 'crnn, big', loss: -0.5, best: -Infinity, ok: true },
    ];
    const [header, line] = rowsToCsv(rows).trim().split('\n');
    assert.equal(header, 'name,note,tag,lr,tabbed,plain,loss,best,ok');
    assert.equal(line, `"'=HYPERLINK(""http://evil"",""click"")",'@SUM(A1),'+cmd,'-2+3,'\t=1,"crnn, big",-0.5,-Infinity,true`);
    assert.equal(rowsToCsv(rows, { raw: true }).trim().split('\n')[1], `"=HYPERLINK(""http://evil"",""click"")",@SUM(A1),+cmd,-2+3,\t=1,"crnn, big",-0.5,-Infinity,true`);
  });
});

forEachDriver('a damaged run row', (driver) => {
  /** Three finished runs with params and metrics, and where warnings went. */
  function threeRuns(): { file: string; runIds: string[] } {
    const file = tempStore(driver);
    const store = openStore(file);
    const runIds = ['a', 'b', 'c'].map((name, i) => {
      const runId = startRun(store, { name, config: { model: 'crnn', lr: 10 ** -(i + 2), optimizer: { name: 'adam' } }, git: false, heartbeat: false });
      logMetrics(store, runId, { val_accuracy: 0.5 + i / 10, loss: 1 - i / 10 }, { step: 0 });
      finishRun(store, runId);
      return runId;
    });
    closeStore(store);
    return { file, runIds };
  }

  test('invalid JSON in params_json or metrics_json: warned about by run and column, read from the tables; every run listed and exported', () => {
    const { file, runIds } = threeRuns();
    const writer = openStore(file);
    writer.db.prepare("UPDATE runs SET params_json = '{\"model\": \"crn' WHERE id = ?").run(runIds[0]);
    writer.db.prepare("UPDATE runs SET metrics_json = '[1, 2]' WHERE id = ?").run(runIds[1]);
    closeStore(writer);
    const warnings: string[] = [];
    const store = openStore(file, { readonly: true, onWarning: (message) => warnings.push(message) });
    try {
      const runs = listRuns(store, { orderBy: 'name' });
      assert.deepEqual(runs.map((r) => r.name), ['a', 'b', 'c']);
      assert.deepEqual(runs[0]?.params, { model: 'crnn', lr: 0.01, 'optimizer.name': 'adam' });
      assert.equal(runs[1]?.metrics.val_accuracy?.last, 0.6);
      assert.deepEqual(warnings.map((w) => w.split(' (')[0]), [`run ${runIds[0]}: its column params_json is damaged`, `run ${runIds[1]}: its column metrics_json is damaged`]);
      assert.equal((JSON.parse(exportRuns(store)) as unknown[]).length, 3);
    } finally {
      closeStore(store);
    }
  });

  // SQLite only: a PostgreSQL BIGINT column cannot hold text, so no row there can be damaged so.
  if (driver === 'sqlite') test('a start time that is no time: that run is left out with a warning naming it and the column, the others are listed; reading it alone names the column', () => {
    const { file, runIds } = threeRuns();
    const writer = openStore(file);
    writer.db.prepare("UPDATE runs SET started_at = 'yesterday' WHERE id = ?").run(runIds[1]);
    closeStore(writer);
    const warnings: string[] = [];
    const store = openStore(file, { readonly: true, onWarning: (message) => warnings.push(message) });
    try {
      assert.deepEqual(listRuns(store, { orderBy: 'name' }).map((r) => r.name), ['a', 'c']);
      assert.deepEqual(warnings, [
        `run ${runIds[1]} is left out: its column started_at holds "yesterday", not a time in milliseconds since 1970; fix the column, or delete the run (glyphlab runs delete ${runIds[1]})`,
      ]);
      assert.equal(exportRuns(store, { format: 'csv' }).trim().split('\n').length, 3, 'a header and two runs');
      assert.throws(() => getRun(store, runIds[1]!), (e: unknown) => e instanceof TrackerError && /cannot be read: its column started_at holds "yesterday"/.test(e.message));
      assert.throws(() => compareRuns(store, [runIds[0]!, runIds[1]!]), /cannot be read: its column started_at/);
    } finally {
      closeStore(store);
    }
  });

  test('invalid JSON in config_json: the run is shown without its config, with a warning naming the column', () => {
    const { file, runIds } = threeRuns();
    const writer = openStore(file);
    writer.db.prepare("UPDATE runs SET config_json = 'not json' WHERE id = ?").run(runIds[2]);
    closeStore(writer);
    const warnings: string[] = [];
    const store = openStore(file, { readonly: true, onWarning: (message) => warnings.push(message) });
    try {
      const run = getRun(store, runIds[2]!);
      assert.equal(run.config, null);
      assert.equal(run.params.model, 'crnn');
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, new RegExp(`^run ${runIds[2]}: its column config_json is damaged \\(.*\\); the run is shown without its config`));
    } finally {
      closeStore(store);
    }
  });
});

forEachDriver('getMetricSeries', (driver) => {
  test('the points of getMetricHistory as parallel arrays, wall times in ms, after a step when asked', () => {
    const store = openStore(tempStore(driver));
    try {
      const [a, b] = ['a', 'b'].map((name) => startRun(store, { name, git: false, heartbeat: false }));
      const t0 = Date.UTC(2026, 11, 6, 8, 0, 0);
      logMetricPoints(store, a!, [
        ...[0, 1, 2, 3].map((step) => ({ key: 'batch_loss', value: step === 2 ? NaN : 1 / (step + 1), step, epoch: Math.floor(step / 2), wallTime: t0 + step * 1000 })),
        { key: 'loss', value: 0.7, step: 1, epoch: 0, wallTime: t0 + 1500, context: 'train' },
        { key: 'loss', value: 0.6, step: 1, epoch: 0, wallTime: t0 + 1600, context: 'test' },
      ]);
      logMetricPoints(store, b!, [{ key: 'val_accuracy', value: 0.5, step: 9, epoch: 0, wallTime: t0 }]);
      const series = getMetricSeries(store, [b!, a!]);
      assert.deepEqual(series.map((s) => `${s.runId === a ? 'a' : 'b'}:${s.key}`), ['b:val_accuracy', 'a:batch_loss', 'a:loss'], 'runs in the order given, keys sorted');
      const [, loss, mixed] = series;
      assert.deepEqual(loss, { runId: a, key: 'batch_loss', steps: [0, 1, 2, 3], epochs: [0, 0, 1, 1], values: [1, 0.5, NaN, 0.25], wallTimes: [t0, t0 + 1000, t0 + 2000, t0 + 3000], contexts: ['batch', 'batch', 'batch', 'batch'] });
      assert.deepEqual(mixed!.contexts, ['train', 'test'], 'a key recorded in two contexts keeps each point\'s');
      // The same points as the object-per-point read.
      const history = getMetricHistory(store, a!, ['batch_loss']);
      assert.deepEqual(history.map((p) => [p.step, p.epoch, p.value, Date.parse(p.wallTime), p.context]), loss!.steps.map((step, i) => [step, loss!.epochs[i], loss!.values[i], loss!.wallTimes[i], loss!.contexts[i]]));
      assert.deepEqual(getMetricSeries(store, [a!], ['batch_loss', 'nothing'], { afterStep: 1 }).map((s) => [s.key, s.steps]), [['batch_loss', [2, 3]]], 'only later points; an unrecorded key gives no series');
      assert.deepEqual(getMetricSeries(store, [a!], ['batch_loss'], { afterStep: 3 }), []);
    } finally {
      closeStore(store);
    }
  });
});
