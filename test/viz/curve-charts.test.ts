import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type MetricCurve, downsampleMinMax, metricCurveFigure, smoothEma } from '../../src/viz/curve-charts';

type Trace = { type: string; name: string; x: number[]; y: (number | null)[]; showlegend?: boolean; opacity?: number; line: { color: string; dash: string }; legendgroup: string };
const traces = (figure: { data: Record<string, unknown>[] }): Trace[] => figure.data as Trace[];
const layout = (figure: { layout: Record<string, unknown> }) => figure.layout as {
  title: { text: string };
  xaxis: { title: { text: string }; dtick?: number; tickmode?: string };
  yaxis: { type: string };
  annotations?: { text: string }[];
};

/** A per-step loss of `n` points: 4 falling to 0.04 (two decades). */
function stepCurve(runId: string, n: number, key = 'batch_loss'): MetricCurve {
  const steps = Array.from({ length: n }, (_, i) => i + 1);
  return {
    runId,
    label: `run ${runId}`,
    key,
    per: 'step',
    steps,
    epochs: steps.map((s) => s / 10),
    minutes: steps.map((s) => s / 20),
    values: steps.map((s) => 4 * 0.01 ** ((s - 1) / Math.max(1, n - 1))),
  };
}

function epochCurve(runId: string, key: string, values: number[], steps: (number | null)[] | null = null): MetricCurve {
  return {
    runId,
    label: `run ${runId}`,
    key,
    per: 'epoch',
    steps: steps ?? values.map((_, i) => (i + 1) * 10),
    epochs: values.map((_, i) => i + 1),
    minutes: values.map((_, i) => i + 1),
    values,
  };
}

describe('smoothEma', () => {
  test('is TensorBoard\'s debiased moving average', () => {
    const smoothed = smoothEma([1, 2, 3], 0.5);
    // n=1: 0.5/0.5 = 1; n=2: (0.25 + 1)/0.75; n=3: (0.625 + 1.5)/0.875.
    assert.deepEqual(smoothed.map((v) => Number(v?.toFixed(6))), [1, Number((1.25 / 0.75).toFixed(6)), Number((2.125 / 0.875).toFixed(6))]);
    assert.equal(smoothEma([5, 5, 5], 0.9).every((v) => Math.abs((v ?? 0) - 5) < 1e-12), true, 'a constant stays constant from the first point (debiased)');
    assert.deepEqual(smoothEma([1, 2], 0), [1, 2], 'weight 0 is the raw line');
  });

  test('a null stays a gap and leaves the average alone', () => {
    const smoothed = smoothEma([2, null, 2, Number.NaN], 0.7);
    assert.equal(smoothed[1], null);
    assert.equal(smoothed[3], null);
    assert.ok(Math.abs((smoothed[2] ?? 0) - 2) < 1e-12);
  });

  test('a weight outside [0, 1) is refused, naming it', () => {
    assert.throws(() => smoothEma([1], 1), /smoothing weight 1 is not valid: expected a number in \[0, 1\)/);
  });
});

describe('downsampleMinMax', () => {
  test('keeps a lone spike and the first and last points, within maxPoints', () => {
    const n = 100_000;
    const x = Array.from({ length: n }, (_, i) => i);
    const y = x.map((i) => (i === 54_321 ? 50 : i === 70_000 ? -3 : Math.sin(i / 500)));
    const thin = downsampleMinMax(x, y, 4000);
    assert.ok(thin.x.length <= 4000, `${thin.x.length} points`);
    assert.ok(thin.x.length > 3000);
    assert.equal(Math.max(...(thin.y as number[])), 50, 'the spike survives');
    assert.equal(Math.min(...(thin.y as number[])), -3, 'so does the dip');
    assert.ok(thin.x.includes(54_321));
    assert.deepEqual([thin.x[0], thin.x[thin.x.length - 1]], [0, n - 1]);
    for (let i = 1; i < thin.x.length; i++) assert.ok((thin.x[i] as number) > (thin.x[i - 1] as number), 'x stays in order');
  });

  test('short lines come back whole; a gap survives', () => {
    assert.deepEqual(downsampleMinMax([1, 2, 3], [3, null, 1], 10), { x: [1, 2, 3], y: [3, null, 1] });
    const x = Array.from({ length: 1000 }, (_, i) => i);
    const y = x.map((i) => (i === 500 ? null : i));
    assert.ok(downsampleMinMax(x, y, 100).y.includes(null));
  });
});

describe('metricCurveFigure', () => {
  test('a smoothed per-step curve: faint raw line behind, no legend entry for it', () => {
    const figure = metricCurveFigure([stepCurve('a', 200)], { smoothing: 0.9 });
    const [raw, smooth] = traces(figure);
    assert.equal(figure.data.length, 2);
    assert.equal(raw?.opacity, 0.25);
    assert.equal(raw?.showlegend, false);
    assert.notEqual(smooth?.opacity, 0.25);
    assert.equal(raw?.y[0], smooth?.y[0], 'debiased: the smoothed line starts on the first value');
    assert.ok((smooth?.y[100] as number) > (raw?.y[100] as number), 'a falling loss smoothed lags above the raw line');
    assert.match(layout(figure).annotations?.[0]?.text ?? '', /smoothing 0.9/);
  });

  test('smoothing 0 draws one line per curve; per-epoch curves are never smoothed', () => {
    assert.equal(metricCurveFigure([stepCurve('a', 50)], { smoothing: 0 }).data.length, 1);
    const figure = metricCurveFigure([epochCurve('a', 'val_loss', [3, 2, 1])], { smoothing: 0.9 });
    assert.equal(figure.data.length, 1);
    assert.deepEqual(traces(figure)[0]?.y, [3, 2, 1]);
  });

  test('the x axis: step by default, epoch or minutes when asked', () => {
    const curve = stepCurve('a', 10);
    assert.deepEqual(traces(metricCurveFigure([curve], { smoothing: 0 }))[0]?.x, curve.steps);
    assert.equal(layout(metricCurveFigure([curve])).xaxis.title.text, 'step');
    assert.deepEqual(traces(metricCurveFigure([curve], { x: 'epoch', smoothing: 0 }))[0]?.x, curve.epochs);
    const minutes = metricCurveFigure([curve], { x: 'minutes', smoothing: 0 });
    assert.deepEqual(traces(minutes)[0]?.x, curve.minutes);
    assert.equal(layout(minutes).xaxis.title.text, 'minutes since the run started');
    assert.throws(() => metricCurveFigure([curve], { x: 'hours' as 'step' }), /x axis "hours" is not valid: expected one of step, epoch, minutes/);
  });

  test('a curve without steps moves the default axis to epochs; asked for steps, it is named as not drawn', () => {
    const noSteps = epochCurve('a', 'val_loss', [2, 1], [null, null]);
    assert.equal(layout(metricCurveFigure([noSteps])).xaxis.title.text, 'epoch');
    const figure = metricCurveFigure([stepCurve('b', 5), noSteps], { x: 'step', smoothing: 0 });
    assert.equal(figure.data.length, 1);
    assert.match(layout(figure).annotations?.[0]?.text ?? '', /not drawn: run a val_loss \(all of 2 points: no step recorded\)/);
  });

  test('epoch ticks stay readable: a step of 50 at 500 epochs, 1 at 4, never one per epoch of a long run', () => {
    const long = epochCurve('a', 'val_accuracy', Array.from({ length: 500 }, (_, i) => i / 500));
    assert.equal(layout(metricCurveFigure([long], { x: 'epoch' })).xaxis.dtick, 50);
    const short = epochCurve('a', 'val_accuracy', [0.1, 0.2, 0.3, 0.4]);
    assert.equal(layout(metricCurveFigure([short], { x: 'epoch' })).xaxis.dtick, 1);
  });

  test('log axis by itself for losses spanning decades, linear otherwise', () => {
    assert.equal(layout(metricCurveFigure([stepCurve('a', 100)])).yaxis.type, 'log', '4 to 0.04: two decades');
    assert.equal(layout(metricCurveFigure([epochCurve('a', 'val_loss', [3, 2, 1])])).yaxis.type, 'linear', 'half a decade');
    assert.equal(layout(metricCurveFigure([epochCurve('a', 'val_accuracy', [0.001, 0.5, 0.99])])).yaxis.type, 'linear', 'accuracy is never log by itself');
    assert.equal(layout(metricCurveFigure([epochCurve('a', 'val_loss', [3, 2, 1])], { yScale: 'log' })).yaxis.type, 'log');
    assert.equal(layout(metricCurveFigure([stepCurve('a', 100)], { yScale: 'linear' })).yaxis.type, 'linear');
  });

  test('one colour per run, one dash per key; the title names only the styles drawn', () => {
    const curves = [stepCurve('a', 30), epochCurve('a', 'val_loss', [2, 1]), stepCurve('b', 30), epochCurve('b', 'val_loss', [2.5, 1.5])];
    const figure = metricCurveFigure(curves, { smoothing: 0 });
    const lines = traces(figure);
    assert.equal(lines.length, 4);
    assert.equal(lines[0]?.line.color, lines[1]?.line.color);
    assert.notEqual(lines[0]?.line.color, lines[2]?.line.color);
    assert.deepEqual(lines.map((t) => t.line.dash), ['solid', 'dash', 'solid', 'dash']);
    assert.deepEqual(lines.map((t) => t.name), ['run a · batch_loss', 'run a · val_loss', 'run b · batch_loss', 'run b · val_loss']);
    assert.match(layout(figure).title.text, /solid: batch_loss, dashed: val_loss/);
    // One key: no style legend at all (nothing dashed is promised).
    const single = metricCurveFigure([epochCurve('a', 'val_accuracy', [0.5]), epochCurve('b', 'val_accuracy', [0.6])]);
    assert.doesNotMatch(layout(single).title.text, /dash|solid/);
    assert.deepEqual(traces(single).map((t) => t.name), ['run a', 'run b']);
  });

  test('100,000 points per run stay light: downsampled SVG lines, WebGL only when asked', () => {
    const curves = [stepCurve('a', 100_000), stepCurve('b', 100_000)];
    const figure = metricCurveFigure(curves);
    assert.equal(figure.data.length, 4);
    for (const trace of traces(figure)) {
      assert.equal(trace.type, 'scatter');
      assert.ok(trace.x.length <= 4000, `${trace.x.length} points`);
    }
    assert.ok(JSON.stringify(figure).length < 1_000_000, 'the figure is under a megabyte');
    assert.ok(traces(metricCurveFigure(curves, { webgl: true })).every((t) => t.type === 'scattergl'));
    assert.ok(traces(metricCurveFigure(curves, { maxPoints: 500 })).every((t) => t.x.length <= 500));
  });

  test('bad options are refused, naming the value', () => {
    assert.throws(() => metricCurveFigure([], { smoothing: 1.5 }), /smoothing 1.5 is not valid: expected a number in \[0, 1\)/);
    assert.throws(() => metricCurveFigure([], { maxPoints: 2 }), /maxPoints 2 is not valid/);
    assert.throws(() => metricCurveFigure([], { yScale: 'symlog' as 'log' }), /yScale "symlog" is not valid: expected auto, linear or log/);
  });
});
