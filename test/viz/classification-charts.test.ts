import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { createCharDataset } from '../../src/data/characters/dataset';
import { perClassMetrics } from '../../src/metrics/classification';
import {
  confusionHeatmapFigure,
  misclassifiedSamples,
  perClassAccuracyFigure,
  sampleGridFigure,
  sampleGridImage,
  sampleGridPng,
  trainingCurvesFigure,
} from '../../src/viz/classification-charts';

const matrix = [
  [8, 2],
  [1, 9],
];

describe('classification charts', () => {
  test('confusion heatmap: true classes on y (top first), predicted on x, counts or row shares', () => {
    const counts = confusionHeatmapFigure(matrix, ['cat', 'dog']);
    const trace = counts.data[0]!;
    assert.equal(trace['type'], 'heatmap');
    assert.deepEqual(trace['z'], matrix);
    assert.deepEqual(trace['x'], ['cat', 'dog']);
    assert.deepEqual(trace['text'], [['8', '2'], ['1', '9']]);
    assert.equal((counts.layout['yaxis'] as Record<string, unknown>)['autorange'], 'reversed');
    const shares = confusionHeatmapFigure(matrix, ['cat', 'dog'], { normalize: true });
    assert.deepEqual(shares.data[0]!['z'], [[0.8, 0.2], [0.1, 0.9]]);
  });

  test('per-class accuracy bars and training curves carry the numbers', () => {
    const bars = perClassAccuracyFigure(perClassMetrics(matrix, ['cat', 'dog']));
    assert.deepEqual(bars.data[0]!['y'], [0.8, 0.9]);
    assert.deepEqual(bars.data[0]!['text'], ['8/10', '9/10']);
    const curves = trainingCurvesFigure([{ loss: 1, val_loss: 1.2 }, { loss: 0.5, val_loss: 0.9 }]);
    assert.deepEqual(curves.data.map((t) => t['name']), ['loss', 'val_loss']);
    assert.deepEqual(curves.data[1]!['y'], [1.2, 0.9]);
  });

  test('misclassified samples are captioned with true and predicted class names', () => {
    const data = createCharDataset(Float32Array.from({ length: 3 * 4 }, (_, i) => i / 12), Int32Array.from([0, 1, 1]), ['A', 'B'], { height: 2, width: 2 });
    const samples = misclassifiedSamples(data, [0, 0, 1], [1]);
    assert.equal(samples.length, 1);
    assert.equal(samples[0]!.caption, 'true B / pred A');
    assert.deepEqual([...(samples[0]!.pixels as Float32Array)], [...data.images.subarray(4, 8)]);
    const figure = sampleGridFigure(samples, { height: 2, width: 2 });
    assert.deepEqual(figure.data[0]!['z'], [[4 / 12, 5 / 12].map(Math.fround), [6 / 12, 7 / 12].map(Math.fround)]);
    assert.equal((figure.layout['annotations'] as { text: string }[])[0]!.text, 'true B / pred A');
  });

  test('sample grid: cells tiled with gaps, ink dark on white, readable PNG', async () => {
    const ink = new Float32Array(4).fill(1);
    const blank = new Float32Array(4);
    const image = sampleGridImage([ink, blank, ink], { height: 2, width: 2 }, { columns: 2, scale: 2, gap: 1 });
    assert.deepEqual([image.width, image.height], [9, 9]);
    assert.equal(image.data[0], 0, 'ink is black');
    assert.equal(image.data[5], 255, 'blank cell is white');
    assert.equal(image.data[4], 200, 'gap column');
    const png = sampleGridPng([ink, blank, ink], { height: 2, width: 2 }, { columns: 2, scale: 2, gap: 1 });
    const meta = await sharp(png).metadata();
    assert.deepEqual([meta.width, meta.height, meta.channels], [9, 9, 1]);
  });
});
