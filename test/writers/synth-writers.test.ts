import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createSyntheticWriters, renderWriterLine, synthesizeWriterLines } from '../../src/writers/synth-writers';
import { createRng } from '../../src/util/rng';

const digest = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

describe('synthetic writers', () => {
  test('writers get distinct fonts and styles; the same seed gives the same writers', () => {
    const writers = createSyntheticWriters(6, { seed: 3 });
    assert.equal(new Set(writers.map((w) => w.font)).size, 6);
    assert.deepEqual(createSyntheticWriters(6, { seed: 3 }), writers);
    assert.notDeepEqual(createSyntheticWriters(6, { seed: 4 }), writers);
    assert.throws(() => createSyntheticWriters(0), /writer count 0 must be a positive integer/);
  });

  test('lines are deterministic, grayscale, with ink, and differ between writers', () => {
    const writers = createSyntheticWriters(2, { seed: 1 });
    const a = synthesizeWriterLines(writers, { seed: 1, linesPerWriter: 2, maxWidth: 400 });
    const b = synthesizeWriterLines(writers, { seed: 1, linesPerWriter: 2, maxWidth: 400 });
    assert.equal(a.length, 4);
    assert.deepEqual(a.map((l) => digest(l.image.data)), b.map((l) => digest(l.image.data)));
    for (const line of a) {
      assert.equal(line.image.channels, 1);
      assert.equal(line.image.height, 128);
      assert.ok(line.image.width <= 400);
      const ink = line.image.data.filter((v) => v < 128).length;
      assert.ok(ink > 200, `line ${line.lineId} has only ${ink} dark pixels`);
    }
    // Same text, two hands: different pixels.
    const text = 'the same words';
    const first = renderWriterLine(text, writers[0]!, createRng(9));
    const second = renderWriterLine(text, writers[1]!, createRng(9));
    assert.notEqual(digest(first.data), digest(second.data));
    assert.throws(() => renderWriterLine('Hello', writers[0]!, createRng(1)), /cannot write "H"/);
  });
});
