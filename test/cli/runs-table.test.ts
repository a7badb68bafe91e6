import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compareRuns } from '../../src/tracker/query';
import { finishRun, logMetrics, startRun } from '../../src/tracker/record';
import { type TrackerStore, closeStore, openStore } from '../../src/tracker/store';
import { jsonSafe } from '../../src/util/json';
import { cli as runCli } from '../support/cli';
import { tempDbPath } from '../tracker/helpers';

/** The CLI; with `columns`, its stdout is a terminal that wide. */
const cli = (argv: string[], options: { columns?: number } = {}) => runCli(argv, { terminal: options.columns !== undefined, columns: options.columns });

/** The longest line of `text`, in characters. */
const widest = (text: string): number => Math.max(...text.trimEnd().split('\n').map((line) => line.length));

/** A spec-shaped config like those `glyphlab train` records, with the recipe's values overridden by `over`. */
function config(over: { recipe: string; dir: string; filters: number[]; epochs: number; schedule: number[]; phases?: { name: string; epochs: number }[] }): Record<string, unknown> {
  return {
    recipe: over.recipe,
    model: 'crnn',
    crnn: { inputHeight: 32, inputWidth: 150, convFilters: over.filters, rnn: 'gru', rnnUnits: 128, dropout: 0 },
    data: { dir: over.dir, sizes: { train: 51200, val: 1000, test: 2000 }, split: 'stratified 8:1:1' },
    training: { epochs: over.epochs, learningRate: 0.003, weightDecay: 0.05, minutes: 13.11, schedule: 'warmup-cosine', learningRateSchedule: over.schedule },
    ...(over.phases ? { phases: over.phases } : {}),
  };
}

/** The learning rates of `epochs` epochs of a cosine: the long JSON list that made `runs compare` 196 columns wide. */
const cosine = (epochs: number, peak: number): number[] => Array.from({ length: epochs }, (_, i) => Number((peak * 0.5 * (1 + Math.cos((Math.PI * i) / epochs))).toPrecision(6)));

describe('runs ls and runs compare fit the terminal', () => {
  const file = tempDbPath();
  let store: TrackerStore;
  const ids: string[] = [];
  before(() => {
    store = openStore(file);
    const runs = [
      { name: 'crnn-start', tags: ['npm-start'], recipe: 'quick', dir: '/home/researcher/glyphlab/data/equations', filters: [16, 32, 64, 96], epochs: 5, test: 0.953, val: 0.958, cer: 0.004741, phases: [{ name: 'all layers', epochs: 5 }] },
      { name: 'crnn', tags: [], recipe: 'quick', dir: '/home/researcher/glyphlab/data/eq10k', filters: [16, 32, 64, 96], epochs: 136, test: 0.98, val: 0.983, cer: 0.00209, phases: [{ name: 'all layers', epochs: 136 }] },
      { name: 'crnn', tags: [], recipe: 'long', dir: '/home/researcher/glyphlab/data/equations', filters: [16, 32, 64, 96], epochs: 40, test: 0.9525, val: 0.947, cer: 0.0065, phases: [{ name: 'all layers', epochs: 40 }] },
      { name: 'reference', tags: [], recipe: 'reference', dir: '/home/researcher/glyphlab/data/eq10k', filters: [32, 64, 128, 128], epochs: 3, test: 0.065, val: 0.065, cer: 0.2048, phases: [{ name: 'head', epochs: 1 }, { name: 'all layers', epochs: 2 }] },
    ];
    for (const run of runs) {
      const runId = startRun(store, { experiment: 'equations', name: run.name, tags: run.tags, config: config({ ...run, schedule: cosine(run.epochs, 0.003) }), git: false, heartbeat: false });
      logMetrics(store, runId, { loss: 0.03472, val_loss: 0.153, val_accuracy: run.val, val_cer: run.cer, lr: 3e-5, epoch_time_s: 26.52 }, { step: 0, epoch: 0 });
      logMetrics(store, runId, { test_accuracy: run.test, test_cer: run.cer * 1.2, test_loss: 0.1795 }, { step: 0, epoch: 0 });
      finishRun(store, runId);
      ids.push(runId);
    }
  });
  after(() => closeStore(store));

  test('the default runs ls fits 120 columns, shows test accuracy, and writes shares as percentages and durations one way', async () => {
    const { code, out } = await cli(['runs', 'ls', '--db', file]);
    assert.equal(code, 0);
    assert.ok(widest(out) <= 120, out);
    const [header, ...rows] = out.trimEnd().split('\n');
    assert.match(header!, /^id\s+name\s+status\s+started\s+duration\s+test_acc\s+val_acc\s+val_cer\s+tags$/);
    const start = rows.find((row) => row.startsWith(ids[0]!))!;
    assert.match(start, /\s95\.30%\s+95\.80%\s+0\.47%\s+npm-start$/);
    assert.match(start, /\s\d+s\s/, 'the duration as formatSeconds writes it');
  });

  test('on a terminal the table fits its width, long text elided; --wide shows it whole', async () => {
    const narrow = await cli(['runs', 'ls', '--db', file, '--columns', 'id,name,recipe,params.data.dir,test_acc'], { columns: 80 });
    assert.ok(widest(narrow.out) <= 80, narrow.out);
    assert.match(narrow.out, /\/home\/\S*\u2026\S*equations/);
    const wide = await cli(['runs', 'ls', '--db', file, '--columns', 'id,name,recipe,params.data.dir,test_acc', '--wide'], { columns: 80 });
    assert.match(wide.out, /\/home\/researcher\/glyphlab\/data\/equations/);
    assert.doesNotMatch(wide.out, /\u2026/);
  });

  test('--columns picks run fields, params, metrics (last or best) and aliases, in order', async () => {
    const { code, out } = await cli(['runs', 'ls', '--db', file, '--columns', 'name,recipe,test_acc,cer,metrics.val_accuracy.best,params.training.epochs,lr,duration', '--sort', '-test_accuracy']);
    assert.equal(code, 0, out);
    const [header, first] = out.trimEnd().split('\n');
    assert.match(header!, /^name\s+recipe\s+test_acc\s+cer\s+val_accuracy\.best\s+training\.epochs\s+lr\s+duration$/);
    assert.match(first!, /^crnn\s+quick\s+98\.00%\s+0\.25%\s+98\.30%\s+136\s+3e-5\s+\d+s$/);
  });

  test('an unknown column is refused, exit 2, with what it may have meant and every accepted form', async () => {
    const { code, out, err } = await cli(['runs', 'ls', '--db', file, '--columns', 'id,val_acuracy']);
    assert.equal(code, 2);
    assert.equal(out, '');
    assert.match(err, /--columns: no column "val_acuracy": it is no run field or alias, and no run in .* recorded it; did you mean "val_acc" or "val_accuracy"\?/);
    assert.match(err, /Columns are run fields \(id, name, experiment, status, started_at, ended_at, heartbeat_at, duration, /);
    assert.match(err, /aliases \(test_acc \(metrics\.test_accuracy\), val_acc \(metrics\.val_accuracy\), /);
    assert.match(err, /Recorded metrics: epoch_time_s, loss, lr, test_accuracy, /);
    assert.match((await cli(['runs', 'ls', '--db', file, '--columns', 'params.recpe'])).err, /did you mean "recipe" or "params\.recipe"\?|did you mean "params\.recipe" or "recipe"\?/);
    assert.match((await cli(['runs', 'ls', '--db', file, '--columns', ' , '])).err, /names no column/);
  });

  test('runs compare of four runs fits 120 columns: short run labels, JSON params key by key, long values elided in the middle', async () => {
    const { code, out } = await cli(['runs', 'compare', ...ids.map((id) => id.slice(-6)), '--db', file]);
    assert.equal(code, 0, out);
    assert.ok(widest(out) <= 120, out);
    const lines = out.split('\n');
    // The runs, headed by their ids' last part (what every command accepts).
    for (const id of ids) assert.ok(lines.some((line) => line.startsWith(`  ${id.slice(-6)}  ${id}  `)), id);
    const header = lines[lines.indexOf('params that differ:') + 1]!;
    assert.deepEqual(header.trim().split(/\s+/), ids.map((id) => id.slice(-6)));
    // A list of objects is shown by sub-key, only where the runs differ.
    assert.ok(lines.some((line) => /^ {2}phases\[0\]\.name\s+all layers\s+all layers\s+all layers\s+head$/.test(line)), out);
    assert.ok(!lines.some((line) => line.startsWith('  phases ')), 'no JSON blob');
    // The 136-rate schedule keeps its start and its end.
    const schedule = lines.find((line) => line.startsWith('  training.learningRateSchedule'))!;
    assert.match(schedule, /\[0\.003,\S*\u2026\S*\]/);
    assert.match(lines.find((line) => line.startsWith('  data.dir'))!, /\/home\/\S*\u2026\S*/);
    assert.match(out, /^ {2}test_accuracy\s+95\.30% \/ 95\.30%\s+98\.00% \/ 98\.00%/m);
  });

  test('runs compare --wide shows every value whole; --json is the whole comparison, unchanged', async () => {
    const wide = await cli(['runs', 'compare', ...ids, '--wide', '--db', file]);
    assert.doesNotMatch(wide.out, /\u2026/);
    assert.ok(wide.out.includes(JSON.stringify(cosine(136, 0.003))), 'the whole schedule');
    const json = await cli(['runs', 'compare', ids[0]!.slice(-6), ids[1]!, '--json', '--db', file]);
    assert.deepEqual(JSON.parse(json.out), JSON.parse(JSON.stringify(compareRuns(store, [ids[0]!, ids[1]!]), jsonSafe)));
  });

  test('runs compare of more runs than fit side by side shows them a block at a time', async () => {
    const more: string[] = [...ids];
    for (let i = 0; i < 6; i++) {
      const runId = startRun(store, { experiment: 'equations', name: `sweep-${i}`, config: config({ recipe: 'quick', dir: `/home/researcher/glyphlab/data/sweep-${i}`, filters: [8 * (i + 1)], epochs: 5, schedule: cosine(5, 0.001 * (i + 1)) }), git: false, heartbeat: false });
      finishRun(store, runId);
      more.push(runId);
    }
    const { code, out } = await cli(['runs', 'compare', ...more, '--db', file], { columns: 100 });
    assert.equal(code, 0, out);
    assert.ok(widest(out) <= 100, out);
    const headers = out.split('\n').filter((line) => /^\s+[0-9a-f]{6}(\s+[0-9a-f]{6})*$/.test(line));
    assert.ok(headers.length >= 4, `blocks of params and of metrics: ${headers.join(' | ')}`);
    const labelled = new Set(headers.flatMap((line) => line.trim().split(/\s+/)));
    assert.deepEqual([...labelled].sort(), more.map((id) => id.slice(-6)).sort());
  });
});

describe('runs --where with a key no run has', () => {
  const file = tempDbPath();
  before(() => {
    const store = openStore(file);
    const a = startRun(store, { experiment: 'eq', name: 'a', config: { model: 'crnn', lr: 0.001 }, git: false, heartbeat: false });
    logMetrics(store, a, { val_accuracy: 0.9, loss: 0.2 }, { step: 0 });
    finishRun(store, a);
    // Only this run has a test accuracy and an augment param: keys on some runs are known.
    const b = startRun(store, { experiment: 'eq', name: 'b', config: { model: 'crnn', lr: 0.003, augment: true }, git: false, heartbeat: false });
    logMetrics(store, b, { val_accuracy: 0.95, loss: 0.1, test_accuracy: 0.94 }, { step: 0 });
    finishRun(store, b);
    closeStore(store);
  });

  test('is an error naming the key and the recorded keys close to it, exit 2, not "no runs match"', async () => {
    const metric = await cli(['runs', 'ls', '--db', file, '--where', 'metrics.val_acuracy > 0.9']);
    assert.equal(metric.code, 2);
    assert.equal(metric.out, '');
    assert.match(metric.err, /^glyphlab runs ls: bad filter: unknown "metrics\.val_acuracy": no run in .* has a metric "val_acuracy"; did you mean "metrics\.val_accuracy"\? Recorded metrics: loss, test_accuracy, val_accuracy; params: params\.augment, params\.lr, params\.model\./);
    const param = await cli(['runs', 'ls', '--db', file, '--where', 'params.model = "crnn" and params.learning_rate < 0.01']);
    assert.equal(param.code, 2);
    assert.match(param.err, /unknown "params\.learning_rate": no run in .* has a param "learning_rate"/);
    const two = await cli(['runs', 'export', '--db', file, '--where', 'metrics.acc > 0.5 or not params.lrr = 1']);
    assert.equal(two.code, 2);
    assert.match(two.err, /unknown "metrics\.acc", "params\.lrr": .*has a metric "acc".* has a param "lrr"; did you mean "params\.lr"\?/);
    const best = await cli(['runs', 'best', '--metric', 'val_accuracy', '--db', file, '--where', 'params.modl = "crnn"']);
    assert.equal(best.code, 2);
    assert.match(best.err, /did you mean "params\.model"\?/);
  });

  test('a key some runs have is known: the filter answers, exit 0', async () => {
    const some = await cli(['runs', 'ls', '--db', file, '--where', 'metrics.test_accuracy > 0.5 and params.augment = true', '--json']);
    assert.equal(some.code, 0, some.err);
    assert.deepEqual((JSON.parse(some.out) as { name: string }[]).map((r) => r.name), ['b']);
    const none = await cli(['runs', 'ls', '--db', file, '--where', 'metrics.test_accuracy > 0.99']);
    assert.equal(none.code, 0);
    assert.match(none.out, /match the filter/);
  });

  test('an empty store accepts any key: nothing can match, and a script may filter before its first run', async () => {
    const empty = tempDbPath();
    openStore(empty).db.close();
    const { code, out } = await cli(['runs', 'ls', '--db', empty, '--where', 'metrics.val_accuracy > 0.9']);
    assert.equal(code, 0);
    assert.match(out, /^no runs in .* match the filter/);
  });
});
