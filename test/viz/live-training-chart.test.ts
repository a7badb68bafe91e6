import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTrainingCurves, liveTrainingHtml, type LiveTrainingProgress } from '../../src/viz/live-training-chart';

/** `steps` batches of a run with `stepsPerEpoch`, and the logs of the epochs they completed. */
function progress(steps: number, stepsPerEpoch: number, summary = 'epoch 1/3 · step 2/4'): LiveTrainingProgress {
  const batchSteps = Array.from({ length: steps }, (_, i) => i + 1);
  const ended = Math.floor(steps / stepsPerEpoch);
  return {
    batches: { steps: batchSteps, epochs: batchSteps.map((s) => s / stepsPerEpoch), minutes: batchSteps.map((s) => s / 60), losses: batchSteps.map((s) => 10 / (s * s)) },
    epochLogs: Array.from({ length: ended }, (_, i) => ({ step: (i + 1) * stepsPerEpoch, minutes: ((i + 1) * stepsPerEpoch) / 60, logs: { loss: 3 - i, val_loss: 4 - i, val_accuracy: 0.2 * (i + 1), val_cer: 0.5 / (i + 1) } })),
    summary,
  };
}

/** The figures in the HTML, as the plotly calls carry them. */
function plots(html: string): { data: { x: number[]; y: number[] }[]; layout: Record<string, unknown> }[] {
  return [...html.matchAll(/Plotly\.newPlot\(el, (.*?), (\{.*?\}), \{ responsive/g)].map((m) => ({ data: JSON.parse(m[1] as string), layout: JSON.parse(m[2] as string) }));
}

describe('the live training view', () => {
  test('curves: batch_loss per step, then the epoch keys an epoch logged, at the step it ended', () => {
    assert.deepEqual(liveTrainingCurves(progress(3, 4), ['loss', 'val_loss']).map((c) => c.key), ['batch_loss'], 'no epoch ended yet');
    const curves = liveTrainingCurves(progress(9, 4), ['loss', 'val_loss', 'absent']);
    assert.deepEqual(curves.map((c) => [c.key, c.per]), [['batch_loss', 'step'], ['loss', 'epoch'], ['val_loss', 'epoch']]);
    assert.deepEqual(curves[1]?.steps, [4, 8]);
    assert.deepEqual(curves[1]?.epochs, [1, 2]);
    assert.deepEqual(curves[1]?.values, [3, 2]);
    assert.equal(curves[0]?.values.length, 9);
  });

  test('html: the summary line escaped, the losses by step, and the scores by epoch once an epoch has ended', () => {
    const early = liveTrainingHtml(progress(2, 4, 'epoch 1/3 · step 2/4 <b>'));
    assert.match(early, /<p[^>]*>epoch 1\/3 · step 2\/4 &lt;b&gt;<\/p>/);
    assert.equal(plots(early).length, 1, 'no scores before an epoch ends');

    const later = plots(liveTrainingHtml(progress(9, 4)));
    assert.equal(later.length, 2);
    const [losses, scores] = later;
    const xs = losses?.data.map((trace) => trace.x.at(-1));
    assert.deepEqual(xs, [9, 9, 8, 8], 'batch loss raw and smoothed to step 9, the epoch losses to the step epoch 2 ended');
    assert.equal((losses?.layout['yaxis'] as { type: string }).type, 'log', 'a batch loss from 10 down to 0.12 spans about two decades');
    assert.equal((scores?.layout['yaxis'] as { type: string }).type, 'linear');
    assert.deepEqual(scores?.data.map((trace) => trace.y), [[0.2, 0.4], [0.5, 0.25]]);
  });
});
