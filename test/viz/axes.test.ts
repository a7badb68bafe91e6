import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { epochAxis, isRatioScaleKey, niceTickStep, runColorMap, sortCategories, spansDecades } from '../../src/viz/axes';

describe('axes', () => {
  test('tick steps are 1, 2 or 5 times a power of ten, at most about ten ticks', () => {
    assert.equal(niceTickStep(500, 10, 1), 50);
    assert.equal(niceTickStep(136, 10, 1), 20);
    assert.equal(niceTickStep(4, 10, 1), 1, 'never below the least step');
    assert.equal(niceTickStep(0.3, 10), 0.05);
    assert.equal(niceTickStep(0, 10, 1), 1);
  });

  test('an epoch axis has whole-number ticks, not one per epoch', () => {
    assert.deepEqual(epochAxis(500), { title: { text: 'epoch' }, tickmode: 'linear', tick0: 0, dtick: 50, rangemode: 'tozero' });
    assert.equal(epochAxis(3).dtick, 1);
  });

  test('numeric categories sort as numbers, others as text', () => {
    assert.deepEqual(sortCategories(['7', '9', '10', '8', '11', '9']), ['7', '8', '9', '10', '11']);
    assert.deepEqual(sortCategories(['b', '10', 'a']), ['10', 'a', 'b']);
  });

  test('log scale for positive values spanning more than 1.5 decades', () => {
    assert.equal(spansDecades([0.05, 4]), true);
    assert.equal(spansDecades([0.5, 4, null]), false);
    assert.equal(spansDecades([0, 40]), false, 'a zero has no logarithm');
    assert.equal(isRatioScaleKey('batch_loss') && isRatioScaleKey('val_loss') && isRatioScaleKey('lr'), true);
    assert.equal(isRatioScaleKey('val_accuracy'), false);
  });

  test('a run keeps its colour; the palette repeats after ten', () => {
    const colors = runColorMap(['a', 'b', 'a', ...'cdefghijk'.split('')]);
    assert.equal(colors.size, 11);
    assert.equal(colors.get('k'), colors.get('a'));
    assert.notEqual(colors.get('a'), colors.get('b'));
  });
});
