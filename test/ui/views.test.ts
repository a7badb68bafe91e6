import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { ConfigError } from '../../src/errors';
import { closeStore, openStore, type TrackerStore } from '../../src/tracker/store';
import { WhereSyntaxError } from '../../src/tracker/where';
import { normalizeColumn } from '../../src/tracker/columns';
import { runPage, runsTable } from '../../src/ui/views';
import { tempDbPath } from '../tracker/helpers';
import { fillUiStore, type UiStoreFixture } from '../support/ui-store';

describe('ui views', () => {
  // Removed when the file's tests end (created here: an after() registered in a before() hook runs when the hook ends).
  const dir = dirname(tempDbPath());
  let fixture: UiStoreFixture;
  let store: TrackerStore;

  before(async () => {
    fixture = await fillUiStore(dir);
    store = openStore(fixture.file, { readonly: true });
  });

  test('the default table lists every run, newest first, with the usual metrics that exist', () => {
    const table = runsTable(store);
    assert.deepEqual(table.rows.map((r) => r.name), ['scratch', 'lr-too-high', 'vgg19', 'lstm-wide', 'gru-small']);
    assert.deepEqual(table.columns, ['status', 'started_at', 'duration', 'params.model', 'metrics.test_accuracy', 'metrics.val_accuracy', 'metrics.val_cer', 'metrics.val_loss', 'metrics.loss']);
    const vgg = table.rows.find((r) => r.name === 'vgg19')!;
    assert.equal(vgg.label, `vgg19 · ${fixture.ids.vgg19!.slice(-6)}`);
    assert.equal(vgg.cells[table.columns.indexOf('params.model')], 'vgg19-crnn');
    assert.equal(vgg.cells[table.columns.indexOf('metrics.test_accuracy')], 0.8);
    assert.ok(table.metricKeys.includes('batch_loss') && table.paramKeys.includes('lr'));
    assert.deepEqual(table.warnings, []);
  });

  test('a filter narrows the table, a sort orders it, chosen columns read last and best values', () => {
    const table = runsTable(store, { where: 'params.model = "crnn" and metrics.test_accuracy > 0.5', sort: '-test_accuracy', columns: ['name', 'test_accuracy', 'metrics.batch_loss.best', 'params.lr', 'tags'] });
    assert.deepEqual(table.columns, ['name', 'metrics.test_accuracy', 'metrics.batch_loss.best', 'params.lr', 'tags']);
    assert.deepEqual(table.rows.map((r) => r.cells[0]), ['lstm-wide', 'gru-small']);
    assert.deepEqual(table.rows.map((r) => r.cells[3]), [5e-4, 1e-3]);
    const best = table.rows[0]!.cells[2] as number;
    assert.ok(best > 0 && best < 0.1, `best batch loss ${best}`);
  });

  test('a bad expression, sort key or column is a ConfigError naming it', () => {
    assert.throws(() => runsTable(store, { where: 'metrics.val_accuracy >' }), WhereSyntaxError);
    assert.throws(() => runsTable(store, { sort: 'tags' }), /cannot sort by tags/);
    assert.throws(() => runsTable(store, { columns: ['name', ''] }), (error: unknown) => error instanceof ConfigError && /column "" is not valid/.test(error.message));
    assert.throws(() => normalizeColumn('-val_accuracy'), /column "-val_accuracy" is not valid/);
  });

  test('columns take the names of runs ls --columns: aliases, the filter\'s run fields, a bare param key', () => {
    const table = runsTable(store, { where: 'name = "vgg19"', columns: ['test_acc', 'started', 'started_at', 'best_val_acc', 'rnn', 'git'] });
    assert.deepEqual(table.columns, ['metrics.test_accuracy', 'started_at', 'metrics.val_accuracy.best', 'params.rnn', 'git_commit']);
    const [cells] = table.rows.map((r) => r.cells);
    assert.equal(cells![0], 0.8);
    assert.match(String(cells![1]), /^\d{4}-\d\d-\d\dT/);
    assert.equal(cells![3], 'lstm');
    assert.ok(table.runFields.includes('git_commit') && table.aliases.test_acc === 'metrics.test_accuracy', 'the picker gets the same names');
  });

  test('a column no listed run has is named in a warning, not dropped silently', () => {
    const table = runsTable(store, { columns: ['name', 'val_acuracy', 'params.nothing'] });
    assert.equal(table.rows.every((r) => r.cells[1] === null), true);
    assert.deepEqual(table.warnings, ['no run listed has the metric "val_acuracy" (column metrics.val_acuracy)', 'no run listed has the param "nothing" (column params.nothing)']);
  });

  test('the limit cuts the table and says so', () => {
    const table = runsTable(store, { limit: 2 });
    assert.equal(table.rows.length, 2);
    assert.equal(table.truncated, true);
    assert.equal(runsTable(store, { limit: 5 }).truncated, false);
  });

  test("a run's page has its params, metrics, files by name and why it stopped", () => {
    const failed = runPage(store, fixture.ids['lr-too-high']!);
    assert.match(failed.stopReason ?? '', /diverged/);
    assert.equal(failed.run.params.lr, 1e-2);
    assert.match(runPage(store, fixture.ids.vgg19!).stopReason ?? '', /^early stopping: val_accuracy did not improve for 2 epochs/);
    const finished = runPage(store, fixture.ids['gru-small']!);
    assert.equal(finished.stopReason, null);
    assert.deepEqual(finished.artifacts, [{ kind: 'eval-report', name: 'gru-small-eval-report.json', bytes: finished.artifacts[0]!.bytes }]);
    assert.equal(finished.run.metrics.batch_loss!.count, 240);
    assert.equal('config' in finished.run, false, 'the nested config is left out (the params hold it)');
    assert.throws(() => runPage(store, 'no-such-run'), /no run "no-such-run"/);
  });
});
