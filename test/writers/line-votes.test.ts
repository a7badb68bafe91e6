import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index';
import { ConfigError } from '../../src/errors';
import { buildWriterCnn } from '../../src/writers/model';
import { evaluateWriterLines, runWriterIdentification, splitWriterLines } from '../../src/writers/identify';
import type { WriterLineImage } from '../../src/writers/patches';
import { predictWriterLines, writerConfusion, type LinePrediction } from '../../src/writers/line-votes';
import { createSyntheticWriters, synthesizeWriterLines } from '../../src/writers/synth-writers';

before(async () => {
  await initBackend({ backend: 'cpu' });
});

const lines: WriterLineImage[] = synthesizeWriterLines(createSyntheticWriters(3, { seed: 4, lineHeight: 24 }), {
  seed: 4,
  linesPerWriter: 4,
  lineHeight: 24,
  maxWidth: 80,
});

describe('splitWriterLines', () => {
  test('every writer in every part, disjoint, reproducible from its seed', () => {
    const split = splitWriterLines(lines, { seed: 1, valLinesPerWriter: 1, testLinesPerWriter: 1 });
    assert.deepEqual(split.writers, ['w000', 'w001', 'w002']);
    assert.deepEqual([split.train.length, split.val.length, split.test.length], [6, 3, 3]);
    assert.deepEqual(split.test.map((l) => l.writerId), ['w000', 'w001', 'w002']);
    const ids = [...split.train, ...split.val, ...split.test].map((l) => l.lineId);
    assert.equal(new Set(ids).size, lines.length);
    assert.deepEqual(splitWriterLines(lines, { seed: 1, valLinesPerWriter: 1, testLinesPerWriter: 1 }).test, split.test);
    assert.throws(() => splitWriterLines(lines, { valLinesPerWriter: 2, testLinesPerWriter: 2 }), /writer w000 has 4 lines; needs at least 5/);
    assert.throws(() => splitWriterLines(lines.slice(0, 4)), ConfigError);
  });

  test('runWriterIdentification returns the split it trained and tested on', async () => {
    const options = { patchSize: 16, evalPatchesPerLine: 3, seed: 5 };
    const result = await runWriterIdentification({
      ...options,
      lines,
      valLinesPerWriter: 1,
      testLinesPerWriter: 1,
      trainPatchesPerLine: 4,
      epochs: 1,
      model: { convFilters: [2, 2, 2], denseUnits: [4] },
    });
    const split = splitWriterLines(lines, { seed: 5, valLinesPerWriter: 1, testLinesPerWriter: 1 });
    assert.deepEqual(result.lines.test.map((l) => l.lineId), split.test.map((l) => l.lineId));
    assert.deepEqual(result.lines.train.map((l) => l.lineId), split.train.map((l) => l.lineId));
    const writerIndex = new Map(result.writers.map((w, i) => [w, i] as [string, number]));
    const votes = predictWriterLines(result.model, result.lines.test, writerIndex, options);
    assert.equal(votes.filter((v) => v.predicted === v.truth).length / votes.length, result.test.lineAccuracy);
    result.model.dispose();
  });
});

describe('predictWriterLines and writerConfusion', () => {
  test('per-line votes add up to evaluateWriterLines and to a confusion matrix of the lines', () => {
    const size = 16;
    const model = buildWriterCnn({ numWriters: 3, inputSize: size, convFilters: [2, 2, 2], denseUnits: [4], dropout: 0, seed: 3 });
    const writerIndex = new Map(['w000', 'w001', 'w002'].map((w, i) => [w, i]));
    const before = tf.memory().numTensors;
    const options = { patchSize: size, evalPatchesPerLine: 5, seed: 9 };
    const predictions = predictWriterLines(model, lines, writerIndex, options);
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    assert.equal(predictions.length, lines.length);
    for (const p of predictions) {
      assert.equal(p.patches, 5);
      assert.ok(Math.abs(p.vote.reduce((a, b) => a + b, 0) - 1) < 1e-4, 'the vote is a mean of probabilities');
      assert.equal(p.predicted, p.vote.indexOf(Math.max(...p.vote)));
    }
    const evaluation = evaluateWriterLines(model, lines, writerIndex, options);
    assert.equal(evaluation.lineAccuracy, predictions.filter((p) => p.predicted === p.truth).length / lines.length);
    assert.equal(evaluation.patchAccuracy, predictions.reduce((a, p) => a + p.patchHits, 0) / 60);

    const confusion = writerConfusion(predictions, ['w000', 'w001', 'w002']);
    assert.deepEqual(confusion.matrix.map((row) => row.reduce((a, b) => a + b, 0)), [4, 4, 4]);
    const diagonal = confusion.matrix.reduce((a, row, i) => a + (row[i] as number), 0);
    assert.equal(diagonal / 12, evaluation.lineAccuracy);
    assert.deepEqual(confusion.perWriter.map((w) => w.lines), [4, 4, 4]);
    model.dispose();
  });

  test('a hand-made set of votes gives the expected matrix; bad indices are errors', () => {
    const vote = (truth: number, predicted: number): LinePrediction => ({ lineId: `l${truth}${predicted}`, writerId: `w${truth}`, truth, predicted, vote: new Float64Array(2), patches: 1, patchHits: 0, lossSum: 0 });
    const confusion = writerConfusion([vote(0, 0), vote(0, 1), vote(1, 1), vote(1, 1)], ['a', 'b']);
    assert.deepEqual(confusion.matrix, [[1, 1], [0, 2]]);
    assert.deepEqual(confusion.perWriter.map((w) => w.accuracy), [0.5, 1]);
    assert.throws(() => writerConfusion([vote(0, 2)], ['a', 'b']), /line l02: writer indices 0 -> 2 are outside the 2 writers/);
  });
});
