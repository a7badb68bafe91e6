import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ParamMetricPoint, paramMetricFigure } from '../../src/viz/param-charts';

const point = (runId: string, param: ParamMetricPoint['param'], value: number | null): ParamMetricPoint => ({ runId, label: `run ${runId}`, param, value });
type Trace = { x: unknown[]; y: unknown[]; text: string[]; hovertemplate: string; customdata: string[]; marker: { color: string[] } };

describe('paramMetricFigure', () => {
  test('one point per run, its name on hover; a learning rate swept over decades gets a log axis', () => {
    const points = [point('a', 1e-4, 0.6), point('b', 1e-3, 0.9), point('c', 1e-2, 0.7)];
    const figure = paramMetricFigure(points, { param: 'lr', metric: 'val_accuracy' });
    const trace = figure.data[0] as Trace;
    assert.equal(figure.data.length, 1);
    assert.deepEqual(trace.x, [1e-4, 1e-3, 1e-2]);
    assert.deepEqual(trace.text, ['run a', 'run b', 'run c']);
    assert.match(trace.hovertemplate, /%\{text\}<br>lr %\{x\}<br>val_accuracy %\{customdata\}/);
    assert.deepEqual(trace.customdata, ['60.00%', '90.00%', '70.00%']);
    assert.equal((figure.layout.xaxis as { type: string }).type, 'log');
    assert.equal((figure.layout.yaxis as { tickformat?: string }).tickformat, '.0%');
  });

  test('less than a decade stays linear; log when asked', () => {
    const points = [point('a', 5e-4, 0.6), point('b', 1e-3, 0.9)];
    assert.equal((paramMetricFigure(points, { param: 'lr', metric: 'val_accuracy' }).layout.xaxis as { type: string }).type, 'linear');
    assert.equal((paramMetricFigure(points, { param: 'lr', metric: 'val_accuracy', xScale: 'log' }).layout.xaxis as { type: string }).type, 'log');
  });

  test('a whole-number param gets whole-number ticks', () => {
    const axis = paramMetricFigure([point('a', 3, 0.5), point('b', 4, 0.6)], { param: 'epochs', metric: 'm' }).layout.xaxis as { dtick?: number };
    assert.equal(axis.dtick, 1);
    const wide = paramMetricFigure([point('a', 100, 0.5), point('b', 500, 0.6)], { param: 'epochs', metric: 'm' }).layout.xaxis as { dtick?: number };
    assert.equal(wide.dtick, 50);
    assert.equal((paramMetricFigure([point('a', 0.5, 0.5), point('b', 1, 0.6)], { param: 'dropout', metric: 'm' }).layout.xaxis as { dtick?: number }).dtick, undefined);
  });

  test('a text param is a category axis in numeric order where its values are numbers', () => {
    const figure = paramMetricFigure([point('a', '10', 0.5), point('b', '9', 0.4), point('c', '128', 0.8)], { param: 'filters', metric: 'test_accuracy' });
    assert.deepEqual((figure.layout.xaxis as { categoryarray: string[] }).categoryarray, ['9', '10', '128']);
    assert.equal((figure.layout.xaxis as { type: string }).type, 'category');
    assert.throws(() => paramMetricFigure([point('a', 'gru', 0.5)], { param: 'rnn', metric: 'm', xScale: 'log' }), /param rnn is not numeric in every run, so it cannot have a log axis/);
  });

  test('runs missing the param or the metric are named, not dropped silently; colours follow the runs', () => {
    const colors = new Map([['a', '#111111'], ['b', '#222222']]);
    const figure = paramMetricFigure([point('a', 1, 0.5), point('b', 2, 0.6), point('c', null, 0.7), point('d', 3, null)], { param: 'epochs', metric: 'loss', colors });
    assert.equal((figure.data[0] as Trace).x.length, 2);
    assert.deepEqual((figure.data[0] as Trace).marker.color, ['#111111', '#222222']);
    assert.deepEqual((figure.data[0] as Trace).customdata, ['0.5', '0.6'], 'a loss is not a percentage');
    assert.match((figure.layout.annotations as { text: string }[])[0]!.text, /not drawn \(no epochs or loss\): run c, run d/);
  });

  test('the highlighted run is ringed by a trace of its own, named in the legend; a run not drawn rings nothing', () => {
    const points = [point('a', 1e-4, 0.6), point('b', 1e-3, 0.9), point('c', 1e-2, null)];
    const figure = paramMetricFigure(points, { param: 'lr', metric: 'val_accuracy', highlight: 'b' });
    assert.equal(figure.data.length, 2);
    const ring = figure.data[1] as Trace & { name: string; marker: { symbol: string } };
    assert.deepEqual([ring.x, ring.y, ring.name, ring.marker.symbol], [[1e-3], [0.9], 'best: run b', 'circle-open']);
    assert.equal(figure.layout.showlegend, true);
    assert.equal(paramMetricFigure(points, { param: 'lr', metric: 'val_accuracy', highlight: 'c' }).data.length, 1);
    assert.equal(paramMetricFigure(points, { param: 'lr', metric: 'val_accuracy', highlight: 'c' }).layout.showlegend, false);
  });
});
