import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dataFrameHtml, metricHistoryToDataFrame } from '../../src/tracker/dataframe';
import type { MetricPoint } from '../../src/tracker/query';

const points: MetricPoint[] = [0, 1, 2].map((epoch) => ({
  runId: '20261130-034942-139ef3',
  key: 'val_accuracy',
  step: epoch,
  epoch,
  value: 0.1234567891 * (epoch + 1),
  wallTime: '2026-11-30T03:49:42.000Z',
  context: 'val',
}));

describe('dataFrameHtml', () => {
  test('an HTML table with every column, full ids, numbers right-aligned, and the shape', () => {
    const html = dataFrameHtml(metricHistoryToDataFrame(points));
    assert.match(html, /^<div class="glyphlab-dataframe"/);
    for (const column of ['runId', 'key', 'step', 'epoch', 'value', 'wallTime', 'context']) assert.match(html, new RegExp(`>${column}</th>`));
    assert.equal((html.match(/>20261130-034942-139ef3</g) ?? []).length, 3, 'ids in full');
    assert.match(html, /text-align: right; white-space: nowrap;">0\.123457</, 'six significant digits, right-aligned');
    assert.match(html, />2026-11-30T03:49:42\.000Z</);
    assert.match(html, /3 rows × 7 columns<\/p>/);
    assert.ok(!/[╔║]/.test(html));
  });

  test('long frames are cut at maxRows and say how many there are', () => {
    const html = dataFrameHtml(metricHistoryToDataFrame(points), { maxRows: 2 });
    const body = html.split('<tbody>')[1] ?? '';
    assert.equal((body.match(/<tr>/g) ?? []).length, 2, 'two body rows');
    assert.match(html, /3 rows × 7 columns, the first 2 shown/);
  });
});
