import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors';
import { type TrackerStore, closeStore, openStore } from '../../src/tracker/store';
import { finishRun, logMetrics, startRun, tagRun } from '../../src/tracker/record';
import { bestRun, compareRuns, exportRuns, listRuns } from '../../src/tracker/query';
import { FILTER_LIMITS, MAX_SORT_KEYS, WhereSyntaxError, compileFilter, parseOrderBy, parseWhere, type RunFilter } from '../../src/tracker/where';
import { forEachDriver, tempStore } from './helpers';

describe('parseWhere', () => {
  test('and binds tighter than or; not applies to the next term', () => {
    assert.deepEqual(parseWhere('params.model = "vgg19-crnn" and metrics.val_accuracy > 0.99 or not tags contains "bad"'), {
      or: [
        { and: [{ field: 'params.model', op: '=', value: 'vgg19-crnn' }, { field: 'metrics.val_accuracy', op: '>', value: 0.99 }] },
        { not: { field: 'tags', op: 'contains', value: 'bad' } },
      ],
    });
  });

  test('parentheses, in lists, not in, booleans and negative numbers', () => {
    assert.deepEqual(parseWhere("(status in ('finished', 'failed') or params.lr <= -1e-3) and params.augment != true and name not in (\"a\")"), {
      and: [
        { or: [{ field: 'status', op: 'in', value: ['finished', 'failed'] }, { field: 'params.lr', op: '<=', value: -1e-3 }] },
        { field: 'params.augment', op: '!=', value: true },
        { field: 'name', op: 'not in', value: ['a'] },
      ],
    });
  });

  const cases: [string, number, RegExp][] = [
    ['params.model = and', 16, /expected a value/],
    ['metrics.val_accuracy >', 23, /expected a value.*end of the expression/],
    ['params.model = "x" metrics.loss < 1', 20, /expected "and", "or"/],
    ['colour = "red"', 1, /unknown field "colour"/],
    ['(status = "finished"', 21, /expected "\)"/],
    ['params.model = "vgg', 16, /unterminated string/],
    ['params.lr ~ 3', 11, /unexpected character "~"/],
    ['status in ("finished" "failed")', 23, /expected "," or "\)"/],
  ];
  for (const [expression, column, reason] of cases) {
    test(`points at column ${column} of ${JSON.stringify(expression)}`, () => {
      assert.throws(
        () => parseWhere(expression),
        (e: unknown) => {
          assert.ok(e instanceof WhereSyntaxError && e instanceof ConfigError);
          assert.equal(e.column, column);
          assert.match(e.message, reason);
          const [, shown, caret] = e.message.split('\n');
          assert.equal(shown, `  ${expression}`);
          assert.equal(caret?.indexOf('^'), column + 1);
          return true;
        },
      );
    });
  }

  test('values are bound as parameters, never spliced into SQL', () => {
    const { sql, params } = compileFilter('params.model = "x\'; DROP TABLE runs; --" or name = \'a"b\'');
    assert.ok(!sql.includes('DROP'));
    assert.ok(!sql.includes('a"b'));
    assert.deepEqual(Object.values(params).filter((v) => typeof v === 'string' && v.includes('DROP')), ["x'; DROP TABLE runs; --"]);
  });

  test('bad values in a valid expression name the field and what is accepted', () => {
    assert.throws(() => compileFilter('status = "done"'), /status "done" is not one of running, finished, failed, interrupted, crashed/);
    assert.throws(() => compileFilter('started_at > "last tuesday"'), /not a date/);
    assert.throws(() => compileFilter('metrics.loss < "low"'), /compares with numbers/);
  });
});

describe('filter size limits', () => {
  const comparisons = (n: number): string => Array.from({ length: n }, (_, i) => `params.k${i} = ${i}`).join(' or ');

  test('a runaway expression is refused when parsed, pointing at where the limit was reached', () => {
    assert.deepEqual(FILTER_LIMITS, { length: 100_000, comparisons: 256, depth: 32, values: 10_000 });
    assert.throws(
      () => parseWhere(comparisons(2000)),
      (e: unknown) => e instanceof WhereSyntaxError && /more than 256 comparisons in one filter/.test(e.message) && e.column === comparisons(256).length + 5 && e.message.split('\n')[1]!.length < 100,
    );
    for (const deep of ['('.repeat(5000) + 'params.a = 1' + ')'.repeat(5000), 'not '.repeat(20000) + 'params.a = 1']) {
      assert.throws(() => parseWhere(deep), (e: unknown) => e instanceof WhereSyntaxError && /more than 32 nested parentheses and "not"s/.test(e.message) && e.column <= 33 * 4);
    }
    const list = `id in (${Array.from({ length: 10_001 }, (_, i) => `"r${i}"`).join(',')})`;
    assert.throws(() => parseWhere(list), /more than 10000 values in one filter/);
    assert.throws(() => parseWhere(`name = "${'x'.repeat(100_000)}"`), /the expression is 100009 characters long; at most 100000/);
  });

  test('a structured filter is held to the same limits, and so are sort keys', () => {
    const wide: RunFilter = { or: Array.from({ length: 300 }, (_, i) => ({ field: `params.k${i}`, op: '=' as const, value: i })) };
    assert.throws(() => compileFilter(wide), (e: unknown) => e instanceof ConfigError && /300 comparisons; at most 256/.test(e.message));
    let deep: RunFilter = { field: 'params.a', op: '=', value: 1 };
    for (let i = 0; i < 40; i++) deep = { not: deep };
    assert.throws(() => compileFilter(deep), /nested more than 32 levels deep/);
    assert.equal(MAX_SORT_KEYS, 16);
    assert.throws(() => parseOrderBy(Array.from({ length: 17 }, (_, i) => `params.p${i}`).join(',')), /bad sort: 17 keys; at most 16/);
  });
});

forEachDriver('the largest filters accepted', (driver) => {
  test('run in the database, within its limits (expression depth, bound variables)', () => {
    const store = openStore(tempStore(driver));
    try {
      // The 16 sort keys are params the run has: a key no run has is refused (see the sort-key test).
      const sortParams = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`p${i}`, i]));
      // Every key the filters name is recorded (a key no run has is refused: see the filter-key test); the run matches by k3.
      const filterParams = Object.fromEntries(Array.from({ length: 256 }, (_, i) => [`k${i}`, i === 3 ? 3 : 'other']));
      const runId = startRun(store, { config: { ...filterParams, ...sortParams }, git: false, heartbeat: false, tags: ['t5'] });
      const sort = Array.from({ length: 16 }, (_, i) => `params.p${i}`).join(',');
      const widest = Array.from({ length: 256 }, (_, i) => `params.k${i} in (${i}, "a", true)`).join(' or ');
      const deepest = '('.repeat(16) + 'not '.repeat(16) + Array.from({ length: 255 }, (_, i) => `tags contains "t${i}"`).join(' or ') + ')'.repeat(16);
      const longest = `id in (${Array.from({ length: 9999 }, (_, i) => `"r${i}"`).join(',')}, "${runId}")`;
      assert.deepEqual(listRuns(store, { where: widest, orderBy: sort }).map((r) => r.id), [runId]);
      assert.deepEqual(listRuns(store, { where: deepest, orderBy: sort }).map((r) => r.id), [runId]);
      assert.deepEqual(listRuns(store, { where: longest }).map((r) => r.id), [runId]);
    } finally {
      closeStore(store);
    }
  });
});

forEachDriver('listRuns with filters and sorting', (driver) => {
  let store: TrackerStore;
  const ids: Record<string, string> = {};
  before(() => {
    store = openStore(tempStore(driver));
    const specs = [
      { name: 'a', model: 'vgg19-crnn', lr: 1e-3, acc: 0.995, loss: 0.05, tags: ['keep'], experiment: 'eq' },
      { name: 'b', model: 'vgg19-crnn', lr: 1e-4, acc: 0.97, loss: 0.2, tags: ['bad'], experiment: 'eq' },
      { name: 'c', model: 'crnn', lr: 5e-4, acc: 0.9947, loss: 0.04, tags: [], experiment: 'eq' },
      { name: 'd', model: 'crnn', lr: 1e-2, acc: 0.5, loss: 1.5, tags: ['bad'], experiment: 'mnist' },
    ];
    for (const spec of specs) {
      const runId = startRun(store, { experiment: spec.experiment, name: spec.name, config: { model: spec.model, lr: spec.lr }, git: false, heartbeat: false, tags: spec.tags });
      logMetrics(store, runId, { val_accuracy: spec.acc - 0.1, loss: spec.loss * 2 }, { step: 0 });
      logMetrics(store, runId, { val_accuracy: spec.acc, loss: spec.loss }, { step: 1 });
      finishRun(store, runId, spec.name === 'd' ? 'failed' : 'finished');
      ids[spec.name] = runId;
    }
    // One run without metrics, to check that missing values sort last.
    ids.e = startRun(store, { experiment: 'eq', name: 'e', config: { model: 'crnn' }, git: false, heartbeat: false });
  });
  after(() => closeStore(store));

  const names = (runs: { name: string | null }[]): (string | null)[] => runs.map((r) => r.name);

  test('AND, OR and NOT over params, metrics and tags', () => {
    const runs = listRuns(store, { where: 'params.model = "vgg19-crnn" and metrics.val_accuracy > 0.99 or not tags contains "bad"', orderBy: 'name' });
    assert.deepEqual(names(runs), ['a', 'c', 'e']);
  });

  test('the structured form gives the same answer as the expression', () => {
    const runs = listRuns(store, {
      where: { or: [{ and: [{ field: 'params.model', op: '=', value: 'vgg19-crnn' }, { field: 'metrics.val_accuracy', op: '>', value: 0.99 }] }, { not: { field: 'tags', op: 'contains', value: 'bad' } }] },
      orderBy: [{ field: 'name' }],
    });
    assert.deepEqual(names(runs), ['a', 'c', 'e']);
  });

  test('experiment, status, in lists, dates and param ranges', () => {
    assert.deepEqual(names(listRuns(store, { experiment: 'mnist' })), ['d']);
    assert.deepEqual(names(listRuns(store, { where: 'status = "failed"' })), ['d']);
    assert.deepEqual(names(listRuns(store, { where: 'status in ("running", "failed")', orderBy: 'name' })), ['d', 'e']);
    assert.deepEqual(names(listRuns(store, { where: 'params.lr >= 5e-4 and params.lr < 0.005', orderBy: 'name' })), ['a', 'c']);
    assert.deepEqual(names(listRuns(store, { where: 'params.lr = null' })), ['e']);
    assert.equal(listRuns(store, { where: 'started_at > "2000-01-01"' }).length, 5);
    assert.equal(listRuns(store, { where: 'started_at < "2000-01-01"' }).length, 0);
    assert.deepEqual(names(listRuns(store, { where: 'metrics.loss.best < 0.1', orderBy: 'name' })), ['a', 'c']);
  });

  test('sorting by a metric, descending, missing values last, with a limit', () => {
    assert.deepEqual(names(listRuns(store, { orderBy: '-val_accuracy' })), ['a', 'c', 'b', 'd', 'e']);
    assert.deepEqual(names(listRuns(store, { orderBy: 'val_accuracy' })), ['d', 'b', 'c', 'a', 'e']);
    assert.deepEqual(names(listRuns(store, { orderBy: '-val_accuracy', limit: 2 })), ['a', 'c']);
    assert.deepEqual(names(listRuns(store, { orderBy: 'params.lr', experiment: 'eq' })), ['b', 'c', 'a', 'e']);
  });

  test('a sort key that is junk or names no recorded metric or param is refused, with the accepted forms and what was probably meant', () => {
    const refused = (orderBy: string, ...patterns: RegExp[]): void =>
      assert.throws(
        () => listRuns(store, { orderBy }),
        (e: unknown) => e instanceof ConfigError && patterns.every((p) => p.test(e.message)) && /Sort keys: KEY, -KEY or KEY:desc/.test(e.message),
        orderBy,
      );
    refused('name; drop table runs', /^bad sort key "name; drop table runs": no run in .* has a metric "name; drop table runs"; did you mean "name"\? Recorded metrics: loss, val_accuracy; params: params\.lr, params\.model\./);
    refused('-val_acuracy', /no run .* has a metric "val_acuracy"; did you mean "val_accuracy"\?/);
    refused('Loss:desc', /did you mean "loss"\?/);
    refused('-val_acc', /did you mean "val_accuracy"\?/);
    refused('params.lrr', /has a param "lrr"; did you mean "params\.lr"\?/);
    refused('metrics.loss.bset', /has a metric "loss\.bset"/);
    refused('statu', /did you mean "status"\?/);
    refused('tags', /cannot sort by tags/);
    refused('-', /^bad sort key "-": no name after the direction/);
    refused('val_accuracy:down', /has a metric "val_accuracy:down"; did you mean "val_accuracy"\?/);
    // What is recorded, and run columns, sort as before.
    assert.deepEqual(names(listRuns(store, { orderBy: 'metrics.loss.best,-params.model,status:desc' })).length, 5);
  });

  test('a store with no runs takes any plain sort key (there is nothing to sort), never junk', () => {
    const empty = openStore(tempStore(driver));
    try {
      assert.deepEqual(listRuns(empty, { orderBy: '-val_accuracy,params.lr' }), []);
      assert.throws(() => listRuns(empty, { orderBy: 'name; drop table runs' }), /bad sort key "name; drop table runs"/);
    } finally {
      closeStore(empty);
    }
  });

  test('bestRun follows the mode of the metric, or the one asked for', () => {
    assert.equal(bestRun(store, { metric: 'val_accuracy' })?.name, 'a');
    assert.equal(bestRun(store, { metric: 'loss' })?.name, 'c');
    assert.equal(bestRun(store, { metric: 'val_accuracy', mode: 'min' })?.name, 'd');
    assert.equal(bestRun(store, { metric: 'val_accuracy', where: 'params.model = "crnn"' })?.name, 'c');
    assert.equal(bestRun(store, { metric: 'nonexistent' }), undefined);
    assert.equal(bestRun(store, { metric: 'nonexistent', mode: 'max' }), undefined);
  });

  test('compareRuns lists differing params and a metric table', () => {
    const comparison = compareRuns(store, [ids.a!, ids.c!]);
    assert.deepEqual(Object.keys(comparison.paramDiffs), ['lr', 'model']);
    assert.deepEqual(comparison.paramDiffs.model, { [ids.a!]: 'vgg19-crnn', [ids.c!]: 'crnn' });
    assert.equal(comparison.metrics.val_accuracy?.[ids.c!]?.last, 0.9947);
    assert.deepEqual(comparison.runs.map((r) => r.name), ['a', 'c']);
    assert.throws(() => compareRuns(store, [ids.a!, 'nope']), /no run "nope"/);
  });

  test('exports as CSV and JSON', () => {
    const csv = exportRuns(store, { format: 'csv', orderBy: 'name', experiment: 'eq' });
    const lines = csv.trim().split('\n');
    assert.equal(lines.length, 5);
    const header = lines[0]!.split(',');
    assert.ok(header.includes('params.model') && header.includes('metrics.val_accuracy') && header.includes('metrics.val_accuracy.best'));
    const row = lines[1]!.split(',');
    assert.equal(row[header.indexOf('params.model')], 'vgg19-crnn');
    assert.equal(row[header.indexOf('metrics.val_accuracy')], '0.995');
    const json = JSON.parse(exportRuns(store, { format: 'json', where: 'name = "a"', history: true })) as { name: string; history: unknown[] }[];
    assert.equal(json[0]?.name, 'a');
    assert.equal(json[0]?.history.length, 4);
  });
});
