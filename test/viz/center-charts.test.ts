import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CenterLossComparison } from '../../src/runs/center-loss-run';
import { centerComparisonTable, centerHistoryFigure } from '../../src/viz/center-charts';

describe('centerHistoryFigure', () => {
  test('one line per arm and present statistic; the overlap on the right axis; NaN epochs left out', () => {
    const figure = centerHistoryFigure([
      { name: 'ctc', history: [{ center_own_distance: 3, val_center_overlap: 0.6 }, { center_own_distance: 2.5, val_center_overlap: 0.55 }] },
      { name: 'ctc+center', history: [{ center_own_distance: Number.NaN, val_center_overlap: 0.5 }, { center_own_distance: 1.5, val_center_overlap: 0.4 }] },
    ]);
    const byName = new Map(figure.data.map((t) => [t['name'] as string, t]));
    assert.deepEqual([...byName.keys()], [
      'ctc: to own center (train)',
      'ctc: look-alike overlap (val, right axis)',
      'ctc+center: to own center (train)',
      'ctc+center: look-alike overlap (val, right axis)',
    ]);
    assert.deepEqual(byName.get('ctc+center: to own center (train)')?.['x'], [2]);
    assert.deepEqual(byName.get('ctc+center: look-alike overlap (val, right axis)')?.['y'], [0.5, 0.4]);
    assert.equal(byName.get('ctc: look-alike overlap (val, right axis)')?.['yaxis'], 'y2');
    assert.equal(byName.get('ctc: to own center (train)')?.['yaxis'], 'y');
  });
});

describe('centerComparisonTable', () => {
  test('a row for the base and one per arm, as percentages', () => {
    const scores = { testAccuracy: 0.5, testCer: 0.1, lookalikeAccuracy: 0.25, lookalikeCer: 0.2 };
    const comparison: CenterLossComparison = {
      baseRunId: 'base-1',
      base: scores,
      variants: [
        { ...scores, name: 'ctc', lambda: 0, runId: 'r1', status: 'finished', metrics: { lookalike_center_overlap: 0.61234 }, history: [] },
        { ...scores, testAccuracy: 0.625, name: 'ctc+center', lambda: 0.003, runId: 'r2', status: 'finished', metrics: {}, history: [] },
      ],
      sizes: { train: 1, val: 1, test: 1, lookalike: 1 },
      lookalikeShare: { test: 0.4, lookalike: 0.8 },
    };
    const { columns, rows } = centerComparisonTable(comparison);
    assert.equal(columns.length, 7);
    assert.deepEqual(rows[0], ['base (before fine-tuning)', 'base-1', '50.00%', '10.00%', '25.00%', '20.00%', '']);
    assert.deepEqual(rows[1]?.slice(0, 3), ['ctc (lambda 0)', 'r1', '50.00%']);
    assert.equal(rows[1]?.[6], '0.6123');
    assert.deepEqual(rows[2]?.slice(0, 3), ['ctc+center (lambda 0.003)', 'r2', '62.50%']);
    assert.equal(rows[2]?.[6], '');
  });
});
