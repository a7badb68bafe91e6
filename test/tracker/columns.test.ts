import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors';
import { COLUMN_ALIASES, RUN_FIELD_COLUMNS, defaultColumns, normalizeColumn, parseColumns, resolveColumn } from '../../src/tracker/columns';
import { listRuns } from '../../src/tracker/query';
import { finishRun, logMetrics, startRun } from '../../src/tracker/record';
import { closeStore, openStore, type TrackerStore } from '../../src/tracker/store';
import { parseOrderBy, sortTarget } from '../../src/tracker/where';
import { forEachDriver, tempStore } from './helpers';

forEachDriver('tracker columns', (driver) => {
  const file = tempStore(driver);
  let store: TrackerStore;

  before(() => {
    store = openStore(file);
    const id = startRun(store, { experiment: 'columns', name: 'small', config: { model: 'crnn', training: { learningRate: 1e-3 } }, git: false, heartbeat: false });
    logMetrics(store, id, { val_accuracy: 0.5, loss: 1.2 }, { step: 1 });
    logMetrics(store, id, { val_accuracy: 0.7, loss: 0.4, test_accuracy: 0.66 }, { step: 2 });
    finishRun(store, id, 'finished');
  });
  after(() => {
    closeStore(store);
  });

  test('every run field and alias is a sort key, so a table sorts by any column it shows', () => {
    for (const name of [...RUN_FIELD_COLUMNS.filter((field) => field !== 'tags'), ...Object.keys(COLUMN_ALIASES)]) {
      const column = resolveColumn(store, name, { unrecorded: 'accept' });
      assert.doesNotThrow(() => sortTarget(parseOrderBy(column.name)[0]!), column.name);
    }
  });

  test('an alias, its target and a bare recorded key are one column; headers keep the name asked for', () => {
    const columns = parseColumns(store, 'test_acc,metrics.test_accuracy,started,git,val_accuracy.best,model,training.learningRate');
    assert.deepEqual(columns.map((c) => c.name), ['metrics.test_accuracy', 'started_at', 'git_commit', 'metrics.val_accuracy.best', 'params.model', 'params.training.learningRate']);
    assert.deepEqual(columns.map((c) => c.header), ['test_acc', 'started', 'git', 'val_accuracy.best', 'model', 'training.learningRate']);
    const [run] = listRuns(store);
    assert.deepEqual(columns.map((c) => c.read(run!)), [0.66, run!.startedAt, null, 0.7, 'crnn', 1e-3]);
    assert.equal(normalizeColumn(' metrics.loss.last '), 'metrics.loss');
  });

  test('an unrecorded key is an error saying what it was probably meant to be, unless accepted', () => {
    assert.throws(
      () => resolveColumn(store, 'val_acuracy'),
      (error: unknown) => error instanceof ConfigError && /no column "val_acuracy".*did you mean "val_acc" or "val_accuracy"\?/.test(error.message),
    );
    assert.throws(() => resolveColumn(store, 'params.mdel'), /did you mean "model" or "params\.model"\?|did you mean "params\.model" or "model"\?/);
    assert.equal(resolveColumn(store, 'val_acuracy', { unrecorded: 'accept' }).name, 'metrics.val_acuracy');
    assert.throws(() => resolveColumn(store, '-loss'), /column "-loss" is not valid/);
    assert.throws(() => parseColumns(store, ['name', ' ']), /column " " is not valid/);
    assert.throws(() => parseColumns(store, ' , '), /names no column/);
  });

  test('defaults: the usual metrics some run has, the sorted-by key first among them, identity columns only where asked', () => {
    const runs = listRuns(store);
    assert.deepEqual(defaultColumns(store, runs).map((c) => c.header), ['id', 'name', 'status', 'started', 'duration', 'test_acc', 'val_acc', 'loss']);
    const sorted = defaultColumns(store, runs, { orderBy: parseOrderBy('-loss'), metricCount: 1 });
    assert.deepEqual(sorted.map((c) => c.name).slice(-2), ['metrics.loss', 'metrics.test_accuracy']);
    assert.deepEqual(defaultColumns(store, runs, { identity: false, params: ['model', 'rnn'] }).map((c) => c.name), ['status', 'started_at', 'duration', 'params.model', 'metrics.test_accuracy', 'metrics.val_accuracy', 'metrics.loss']);
  });
});
