import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { trainingCurveFigure } from '../../src/viz/training-charts';
import { trainingCurvesFigure } from '../../src/viz/classification-charts';
import { centerHistoryFigure } from '../../src/viz/center-charts';

const history = (epochs: number) => Array.from({ length: epochs }, (_, i) => ({ loss: 3 / (i + 1), val_loss: 3.2 / (i + 1), val_accuracy: i / epochs }));
const dtick = (figure: { layout: Record<string, unknown> }) => (figure.layout.xaxis as { dtick?: number }).dtick;

describe('epoch axes of the notebook charts', () => {
  test('whole-number ticks about ten apart at most: one per epoch for a short run, every 50 at 500 epochs', () => {
    assert.equal(dtick(trainingCurveFigure(history(4))), 1);
    assert.equal(dtick(trainingCurveFigure(history(500))), 50);
    assert.equal(dtick(trainingCurvesFigure(history(136))), 20);
    assert.equal(dtick(centerHistoryFigure([{ name: 'ctc', history: Array.from({ length: 300 }, () => ({ own_distance: 1 })) }], ['own_distance'])), 50);
  });
});
