import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index';
import { beamSearchDecode, compareDecoders, grammarDecode, greedyDecode } from '../../src/decode';
import { computeCtc } from '../../src/losses/ctc';
import { BLANK_INDEX, NUM_CLASSES, encodeLabel } from '../../src/labels/alphabet';
import { createRng } from '../../src/util/rng';
import { ConfigError } from '../../src/errors';
import { expectArraysClose } from '../support/tensors';

/** One probability row per frame: `main` on the frame's class, the rest spread evenly. */
function frames(classesPerStep: number[], classes: number, main = 0.9): number[][] {
  return classesPerStep.map((k) => Array.from({ length: classes }, (_, c) => (c === k ? main : (1 - main) / (classes - 1))));
}

/** Frames spelling `text` with a blank after each symbol. */
function spell(text: string): number[] {
  return encodeLabel(text).flatMap((k) => [k, BLANK_INDEX]);
}

describe('decoders', () => {
  before(async () => {
    await initBackend({ backend: 'cpu' });
  });

  test('greedy collapses repeats, drops blanks and respects input lengths', () => {
    const b = 3;
    const input = [frames([1, 1, b, 1, 2, 2, b, 0], 4), frames([b, 0, 0, 0, 2, b, 2, 2], 4)];
    assert.deepEqual(greedyDecode(input), [[1, 1, 2, 0], [0, 2, 2]]);
    assert.deepEqual(greedyDecode(input, { inputLengths: [4, 5] }), [[1, 1], [0, 2]]);
    const tensor = tf.tensor3d(input);
    const logits = tf.log(tensor);
    assert.deepEqual(greedyDecode(tensor as tf.Tensor3D), greedyDecode(input));
    assert.deepEqual(greedyDecode(logits as tf.Tensor3D), greedyDecode(input));
    assert.deepEqual(greedyDecode(input, { blank: 0 }), [[1, 3, 1, 2, 3], [3, 2, 3, 2]]);
    tf.dispose([tensor, logits]);
  });

  test('wide beam scores equal the exact CTC probability and find the brute-force best label', () => {
    const rng = createRng('beam-exact');
    for (let trial = 0; trial < 25; trial++) {
      const time = 1 + rng.int(5);
      const classes = 2 + rng.int(3);
      const logits = Array.from({ length: time * classes }, () => rng.normal() * 1.5);
      // Brute force: probability of every label over all paths.
      const byLabel = new Map<string, number>();
      for (let code = 0; code < classes ** time; code++) {
        let rest = code;
        let p = 1;
        const label: number[] = [];
        let previous = -1;
        for (let t = 0; t < time; t++) {
          const k = rest % classes;
          rest = Math.floor(rest / classes);
          const row = logits.slice(t * classes, (t + 1) * classes);
          const z = row.reduce((s, v) => s + Math.exp(v), 0);
          p *= Math.exp(row[k] as number) / z;
          if (k !== classes - 1 && k !== previous) label.push(k);
          previous = k;
        }
        byLabel.set(label.join(','), (byLabel.get(label.join(',')) ?? 0) + p);
      }
      const bestProbability = Math.max(...byLabel.values());
      const input = [Array.from({ length: time }, (_, t) => logits.slice(t * classes, (t + 1) * classes))];
      const hypotheses = beamSearchDecode(input, { beamWidth: 500, from: 'logits' })[0] ?? [];
      const top = hypotheses[0];
      assert.ok(top);
      expectArraysClose([Math.exp(top.logProbability)], [bestProbability], { rtol: 1e-9, atol: 1e-12, label: `trial ${trial}` });
      for (const h of hypotheses) {
        const loss = computeCtc(Float64Array.from(logits), [1, time, classes], [h.labels]).losses[0] as number;
        expectArraysClose([h.logProbability], [-loss], { rtol: 1e-9, atol: 1e-9, label: `trial ${trial} label ${h.labels}` });
      }
      const ordered = hypotheses.map((h) => h.logProbability);
      assert.deepEqual(ordered, [...ordered].sort((x, y) => y - x));
    }
  });

  test('beam search beats greedy where many paths share a label', () => {
    // Each step: blank 0.4, symbol 0 at 0.35, symbol 1 at 0.25. Greedy reads '' (all blanks),
    // but the label [0] collects more probability over its many paths.
    const input = [frames([2, 2, 2], 3, 0.4).map(() => [0.35, 0.25, 0.4])];
    assert.deepEqual(greedyDecode(input), [[]]);
    const [top] = beamSearchDecode(input, { beamWidth: 8, topPaths: 1 })[0] ?? [];
    assert.deepEqual(top?.labels, [0]);
  });

  test('rejects logits passed as probabilities', () => {
    assert.throws(() => beamSearchDecode([[[2, -1, 0.5]]]), (error: unknown) => error instanceof ConfigError && /from: 'logits'/.test(error.message));
  });

  test('grammar decoding picks the most probable true equation in the beam', () => {
    // '1+2+3=6' with the result read as 7 (0.55) over 6 (0.40): greedy says '1+2+3=7'.
    const steps = spell('1+2+3=6');
    const rows = frames(steps, NUM_CLASSES);
    const last = rows[steps.length - 2] as number[];
    last.fill(0.05 / (NUM_CLASSES - 2));
    last[encodeLabel('7')[0] as number] = 0.55;
    last[encodeLabel('6')[0] as number] = 0.4;
    const wrong = rows;
    const right = frames(spell('(1-8)*4=-28'), NUM_CLASSES);
    // A truth label that is itself false: greedy reads it, grammar "corrects" it away.
    const falseSteps = spell('2*2*2=9');
    const falseTruth = frames(falseSteps, NUM_CLASSES);
    const digit = falseTruth[falseSteps.length - 2] as number[];
    digit.fill(0.2 / (NUM_CLASSES - 2));
    digit[encodeLabel('9')[0] as number] = 0.5;
    digit[encodeLabel('8')[0] as number] = 0.3;
    const width = Math.max(wrong.length, right.length, falseTruth.length);
    const pad = (r: number[][]): number[][] => [...r, ...frames(new Array<number>(width - r.length).fill(BLANK_INDEX), NUM_CLASSES)];
    const input = [pad(wrong), pad(right), pad(falseTruth)];

    const results = grammarDecode(input);
    assert.equal(results[0]?.text, '1+2+3=6');
    assert.ok((results[0]?.rank ?? 0) > 0 && results[0]?.accepted);
    assert.equal(results[1]?.text, '(1-8)*4=-28');
    assert.equal(results[1]?.rank, 0);

    const report = compareDecoders(input, ['1+2+3=6', '(1-8)*4=-28', '2*2*2=9']);
    assert.equal(report.samples, 3);
    assert.equal(report.greedyCorrect, 2);
    assert.equal(report.fixed, 1);
    assert.equal(report.broken, 1, `grammar read ${results[2]?.text}`);
    assert.deepEqual(report.fixedExamples, [{ index: 0, truth: '1+2+3=6', greedy: '1+2+3=7', grammar: '1+2+3=6' }]);
    assert.equal(report.brokenExamples[0]?.truth, '2*2*2=9');
    assert.equal(report.grammarCorrect, 2);
  });

  test('grammar decoding falls back to the best beam entry when nothing parses', () => {
    const input = [frames(spell('1+2'), NUM_CLASSES)];
    const [result] = grammarDecode(input, { beamWidth: 4 });
    assert.equal(result?.text, '1+2');
    assert.equal(result?.accepted, false);
  });
});
