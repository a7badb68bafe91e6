import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after } from 'node:test';
import { buildComparison, describeComparison } from '../../src/dashboard/compare';
import { EVAL_REPORT_KIND, evalReportFromMetrics, readEvalReport, writeEvalReport } from '../../src/runs/eval-report';
import {
  comparisonCurveFigure,
  confusionFigure,
  dashboardFigures,
  labelLengths,
  learningRateFigure,
  lengthAccuracyFigure,
  runColors,
  stepLossFigure,
  sweepFigures,
} from '../../src/dashboard/figures';
import { dashboardSections } from '../../src/dashboard/html';
import { ConfigError, DataError } from '../../src/errors';
import { accuracyByLength, characterErrorRate, confusionPairs, sequenceAccuracy, sequenceMetrics } from '../../src/metrics/sequence';
import { closeStore, openStore, type TrackerStore } from '../../src/tracker/store';
import { addArtifact, finishRun, logMetrics, startRun } from '../../src/tracker/record';
import { tempDbPath } from '../tracker/helpers';
import { type DashboardFixture, FIXTURE_STEPS_PER_EPOCH, fillDashboardDb } from './fixtures';

describe('buildComparison', () => {
  const file = tempDbPath();
  let fixture: DashboardFixture;
  let store: TrackerStore;
  before(async () => {
    fixture = await fillDashboardDb(file, dirname(file));
    store = openStore(file);
  });
  after(() => closeStore(store));

  test('an experiment: both runs with the table, curves, per-length accuracy and confusions as evaluated', () => {
    const comparison = buildComparison(store, { experiment: 'equations' });
    assert.deepEqual(comparison.warnings, []);
    assert.equal(comparison.matched, 2);
    assert.deepEqual(new Set(comparison.runs.map((r) => r.id)), new Set([fixture.vggId, fixture.crnnId]));
    for (const [key, runId, model, epochs] of [['vgg', fixture.vggId, 'vgg19-crnn', 3], ['crnn', fixture.crnnId, 'crnn', 4]] as const) {
      const { truths, predictions } = fixture.evaluations[key];
      const run = comparison.runs.find((r) => r.id === runId)!;
      assert.equal(run.model, model);
      assert.equal(run.testAccuracy, sequenceAccuracy(truths, predictions));
      assert.equal(run.testCer, characterErrorRate(truths, predictions));
      assert.equal(run.epochs, epochs);
      assert.ok(run.parameterCount! > 1e6);
      const row = comparison.table.find((r) => r.id === runId)!;
      assert.equal(row['test accuracy'], run.testAccuracy);
      assert.equal(row.parameters, run.parameterCount);
      assert.deepEqual(comparison.byLength.find((l) => l.runId === runId)?.byLength, accuracyByLength(truths, predictions));
      assert.deepEqual(comparison.confusions.find((c) => c.runId === runId)?.confusions, confusionPairs(truths, predictions).slice(0, 10));
      const valCurve = comparison.curves.accuracy.find((c) => c.runId === runId && c.key === 'val_accuracy')!;
      assert.deepEqual(valCurve.epochs, [...Array(epochs).keys()]);
      assert.equal(valCurve.values[epochs - 1], run.bestValAccuracy, 'the fixture improves every epoch');
      assert.equal(comparison.curves.loss.filter((c) => c.runId === runId).length, 2, 'loss and val_loss');
    }
    const accuracies = comparison.runs.map((r) => r.testAccuracy!);
    const best = comparison.runs[accuracies.indexOf(Math.max(...accuracies))]!;
    assert.deepEqual(comparison.best, { runId: best.id, label: best.label, model: best.model, metric: 'test_accuracy', value: best.testAccuracy });
  });

  test('where, ids and their errors', () => {
    const vgg = buildComparison(store, { where: 'params.model = "vgg19-crnn"' });
    assert.deepEqual(vgg.runs.map((r) => r.id), [fixture.vggId]);
    const ordered = buildComparison(store, { ids: [fixture.otherId, fixture.vggId] });
    assert.deepEqual(ordered.runs.map((r) => r.id), [fixture.otherId, fixture.vggId]);
    // The failed run recorded no test accuracy, so the VGG run is the best of the two.
    assert.equal(ordered.best?.runId, fixture.vggId);
    assert.match(ordered.warnings.join('\n'), new RegExp(`${fixture.otherId} recorded no ${EVAL_REPORT_KIND} artifact`));
    const bySuffix = buildComparison(store, { ids: [fixture.otherId.slice(-6), fixture.vggId.slice(-6)] });
    assert.deepEqual(bySuffix.runs.map((r) => r.id), [fixture.otherId, fixture.vggId], 'the short ids the dashboard shows name runs');
    const narrowed = buildComparison(store, { ids: [fixture.otherId, fixture.crnnId], experiment: 'equations' });
    assert.deepEqual(narrowed.runs.map((r) => r.id), [fixture.crnnId]);
    assert.match(narrowed.warnings.join('\n'), new RegExp(`${fixture.otherId} were asked for by id but do not match`));
    assert.throws(() => buildComparison(store, { ids: ['nope-1'] }), (e: unknown) => e instanceof ConfigError && /no run "nope-1"/.test(e.message));
    assert.throws(() => buildComparison(store, { where: 'params.model = ' }), /bad filter expression/);
    const limited = buildComparison(store, { limit: 1 });
    assert.equal(limited.runs.length, 1);
    assert.equal(limited.matched, 3);
    assert.match(limited.warnings[0] ?? '', /3 runs match; showing the 1 newest/);
  });

  test('no matching runs: an empty comparison with no best run', () => {
    const empty = buildComparison(store, { experiment: 'does-not-exist' });
    assert.equal(empty.runs.length, 0);
    assert.equal(empty.best, null);
    assert.match(describeComparison(empty, file), /^No runs in .* match this selection, so there is nothing to compare yet/);
    assert.match(describeComparison(undefined, '/nowhere/x.db'), /^No experiment database at \/nowhere\/x\.db yet, so there are no runs to compare/);
    assert.equal(describeComparison(buildComparison(store, { experiment: 'equations' }), file), `Comparing 2 of 2 matching runs from ${file}.`);
    assert.deepEqual(dashboardFigures(empty), {
      stepLoss: null,
      learningRate: null,
      accuracyCurves: null,
      lossCurves: null,
      testAccuracy: null,
      lengthAccuracy: null,
      confusions: null,
      sweeps: [],
    });
  });

  test('figures: one trace per curve, a run keeps its colour, the title names only the styles drawn', () => {
    const comparison = buildComparison(store, { experiment: 'equations' });
    const loss = comparisonCurveFigure(comparison, 'loss')!;
    assert.equal(loss.data.length, comparison.curves.loss.length);
    const colors = runColors(comparison);
    for (const trace of loss.data) {
      const series = comparison.curves.loss.find((s) => trace.name === `${s.label} · ${s.key}`)!;
      assert.ok(series, `trace ${String(trace.name)} is a curve of the comparison`);
      assert.equal((trace.line as { color: string }).color, colors.get(series.runId));
      assert.equal((trace.line as { dash: string }).dash, series.split === 'train' ? 'dash' : 'solid');
    }
    assert.match((loss.layout.title as { text: string }).text, /solid: val_loss, dashed: loss/);
    // The fixture records no training accuracy: the accuracy chart promises no dashed line.
    const accuracy = comparisonCurveFigure(comparison, 'accuracy')!;
    assert.doesNotMatch((accuracy.layout.title as { text: string }).text, /dash/);
    assert.equal((accuracy.layout.xaxis as { dtick?: number }).dtick, 1, 'whole epochs, not halves');
    const lengths = lengthAccuracyFigure(comparison)!;
    assert.equal(lengths.data.length, 2);
    const confusion = confusionFigure(comparison)!;
    // The categories are every pair of every run, most frequent last (plotly draws it on top).
    const pairs = new Set(comparison.confusions.flatMap((c) => c.confusions.map((p) => `${p.truth || '∅'}→${p.predicted || '∅'}`)));
    assert.deepEqual(new Set(confusion.data[0]!.y as string[]), pairs);
  });

  test('the loss per step: each run\'s smoothed batch_loss over its raw line, with its val_loss at epoch ends', () => {
    const comparison = buildComparison(store, { experiment: 'equations' });
    const steps = comparison.metricCurves.filter((c) => c.key === 'batch_loss');
    assert.equal(steps.length, 2);
    assert.equal(steps.find((c) => c.runId === fixture.crnnId)?.values.length, 4 * FIXTURE_STEPS_PER_EPOCH);
    const figure = stepLossFigure(comparison)!;
    const traces = figure.data as { name: string; x: number[]; opacity?: number; showlegend?: boolean }[];
    assert.equal(traces.length, 2 * 2 + 2, 'raw and smoothed batch_loss per run, and val_loss per run');
    assert.equal(traces.filter((t) => t.opacity === 0.25 && t.showlegend === false).length, 2);
    const val = traces.find((t) => t.name.endsWith('val_loss') && t.name.startsWith('custom'))!;
    assert.deepEqual(val.x, [1, 2, 3, 4].map((e) => e * FIXTURE_STEPS_PER_EPOCH), 'at each epoch\'s last step');
    assert.equal((figure.layout.xaxis as { title: { text: string } }).title.text, 'step');
    // The fixture records the learning rate per epoch only (as training does): drawn per epoch, at each epoch's last step.
    const lr = learningRateFigure(comparison)!;
    assert.match((lr.layout.title as { text: string }).text, /Learning rate per epoch/);
    assert.deepEqual((lr.data as { x: number[] }[]).map((t) => t.x.length).sort(), [3, 4]);
    // A run that recorded its rate per step (a per-batch schedule) is drawn so, the others per epoch beside it.
    const crnnLr = comparison.metricCurves.find((c) => c.key === 'lr' && c.runId === fixture.crnnId)!;
    const perStep = { ...crnnLr, key: 'batch_lr', per: 'step' as const, steps: [1, 2, 3], epochs: [0.1, 0.2, 0.3], minutes: [0, 0, 0], values: [1e-4, 2e-4, 3e-4] };
    const mixed = learningRateFigure({ ...comparison, metricCurves: [...comparison.metricCurves, perStep] })!;
    assert.match((mixed.layout.title as { text: string }).text, /per step where recorded so, else per epoch/);
    const names = (mixed.data as { name: string }[]).map((t) => t.name);
    assert.equal(names.filter((n) => n.endsWith('batch_lr')).length, 1);
    assert.equal(names.filter((n) => n.endsWith(' lr')).length, 1, "the per-step run's per-epoch rate is not drawn twice");
  });

  test('params against the result: one figure per param the runs differ in, numeric first', () => {
    const comparison = buildComparison(store, { experiment: 'equations' });
    assert.deepEqual(comparison.sweeps.map((s) => s.param), ['epochs', 'lr', 'parameter_count', 'model']);
    assert.ok(comparison.sweeps.every((s) => s.metric === 'test_accuracy'));
    const lr = comparison.sweeps.find((s) => s.param === 'lr')!;
    assert.deepEqual(new Map(lr.points.map((p) => [p.runId, p.param])), new Map([[fixture.vggId, 1e-3], [fixture.crnnId, 5e-4]]));
    assert.equal(sweepFigures(comparison).length, 4);
    const few = buildComparison(store, { experiment: 'equations', maxSweeps: 1 });
    assert.deepEqual(few.sweepsLeftOut, ['lr', 'parameter_count', 'model']);
    assert.deepEqual(buildComparison(store, { ids: [fixture.vggId] }).sweeps, [], 'one run differs from nothing');
    assert.throws(() => buildComparison(store, { maxSweeps: -1 }), /maxSweeps -1 is not valid: expected a whole number >= 0/);
  });

  test('misreads of each run come with the comparison, at most misreadsPerRun', () => {
    const comparison = buildComparison(store, { experiment: 'equations', misreadsPerRun: 2 });
    const vgg = comparison.misreads.find((m) => m.runId === fixture.vggId)!;
    assert.equal(vgg.listed, 3);
    assert.equal(vgg.misreads.length, 2);
    assert.equal(comparison.misreads.find((m) => m.runId === fixture.crnnId)?.listed, 1);
  });

  test('label lengths sort as numbers and the pivots read runs x lengths and pairs x runs', () => {
    const comparison = buildComparison(store, { experiment: 'equations' });
    // Lengths in the report's order of first appearance, shuffled as a long run's would be.
    const shuffled = { ...comparison, byLength: comparison.byLength.map((run) => ({ ...run, byLength: [...run.byLength].reverse() })) };
    const lengths = labelLengths(shuffled);
    assert.deepEqual(lengths, [...lengths].sort((a, b) => Number(a) - Number(b)));
    assert.ok(lengths.length >= 3);
    const figure = lengthAccuracyFigure(shuffled)!;
    assert.deepEqual(figure.data[0]!.x, lengths);
    assert.deepEqual((figure.layout.xaxis as { categoryarray: string[] }).categoryarray, lengths);
    const sections = dashboardSections(comparison);
    const lengthTable = /<table class="length-table">([\s\S]*?)<\/table>/.exec(sections.find((s) => s.id === 'length-accuracy')!.html)?.[1] ?? '';
    assert.equal((lengthTable.match(/<tr/g) ?? []).length, 1 + comparison.byLength.length, 'a header and one row per run');
    assert.match(lengthTable, new RegExp(`<th>${lengths[0]}</th><th>${lengths[1]}</th>`));
    const confusionTable = /<table class="confusion-table">([\s\S]*?)<\/table>/.exec(sections.find((s) => s.id === 'confusions')!.html)?.[1] ?? '';
    assert.match(confusionTable, /<th>truth→read<\/th><th>[^<]+<\/th><th>[^<]+<\/th><th>all runs<\/th>/);
    // 8→3 is misread by both runs: its row comes first with a total of 2.
    assert.match(confusionTable, /<tr><td>8→3<\/td><td>1 \([\d.]+%\)<\/td><td>1 \([\d.]+%\)<\/td><td>2<\/td><\/tr>/);
    const runsTable = sections.find((s) => s.id === 'runs')!.html;
    assert.match(runsTable, /<td>\d+\.\d\d%<\/td>/, 'CER as a percentage, as accuracy');
    assert.doesNotMatch(runsTable, /<td>0\.0\d{3}<\/td>/);
  });
});

describe('eval reports', () => {
  const dir = mkdtempSync(join(tmpdir(), 'glyphlab-eval-report-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('round trip through the file: Infinity kept, extra fields ignored, no version accepted', () => {
    const metrics = sequenceMetrics(['1+1=2', ''], ['1+1=3', 'x']);
    const path = writeEvalReport(join(dir, 'report.json'), { ...evalReportFromMetrics(metrics, 'val'), errors: [{ truth: '1+1=2', predicted: '1+1=3' }] } as ReturnType<typeof evalReportFromMetrics>);
    assert.deepEqual(readEvalReport(path), evalReportFromMetrics(metrics, 'val'));
    const infinite = sequenceMetrics([''], ['x']);
    assert.equal(infinite.characterErrorRate, Infinity);
    assert.equal(readEvalReport(writeEvalReport(join(dir, 'inf.json'), evalReportFromMetrics(infinite))).characterErrorRate, Infinity);
    const { version: _version, ...unversioned } = evalReportFromMetrics(metrics);
    writeFileSync(join(dir, 'old.json'), JSON.stringify(unversioned));
    assert.deepEqual(readEvalReport(join(dir, 'old.json')).byLength, metrics.byLength);
  });

  test('bad files are DataErrors naming the file and the field', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ version: 1, samples: 1, accuracy: 1, characterErrorRate: 0, byLength: [{ length: 'ten', samples: 1, correct: 1, accuracy: 1 }], confusions: [] }));
    assert.throws(() => readEvalReport(bad), (e: unknown) => e instanceof DataError && e.message.includes(bad) && /byLength\[0\]\.length \("ten"\) is not valid; expected a number/.test(e.message));
    writeFileSync(bad, '{ nope');
    assert.throws(() => readEvalReport(bad), /cannot be read/);
    assert.throws(() => readEvalReport(join(dir, 'missing.json')), /missing\.json does not exist/);
  });

  test('a run whose report is missing or corrupt is still compared, with a warning naming the file', async () => {
    const file = join(dir, 'runs.db');
    const store = openStore(file);
    try {
      const runId = startRun(store, { experiment: 'e', config: { model: 'crnn' }, git: false, heartbeat: false });
      logMetrics(store, runId, { loss: 1, val_accuracy: 0.5, test_accuracy: 0.4 }, { step: 0, epoch: 0 });
      const corrupt = join(dir, 'corrupt.json');
      writeFileSync(corrupt, '[]');
      await addArtifact(store, runId, { path: corrupt, kind: EVAL_REPORT_KIND });
      finishRun(store, runId);
      const comparison = buildComparison(store, {});
      assert.equal(comparison.runs[0]?.testAccuracy, 0.4);
      assert.equal(comparison.byLength.length, 0);
      assert.match(comparison.warnings.join('\n'), new RegExp(`run ${runId}: eval report ${corrupt.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the file is not valid`));
    } finally {
      closeStore(store);
    }
  });
});
