import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index';
import { computeCtc, ctcLoss } from '../../src/losses/ctc';
import { createRng, type Rng } from '../../src/util/rng';
import { DataError, ConfigError } from '../../src/errors';
import { expectArraysClose } from '../support/tensors';

/** Probability of `label` under per-step distributions, by enumerating every path. */
function bruteForceLoss(probs: number[][], label: number[], blank: number): number {
  const steps = probs.length;
  const classes = probs[0]?.length ?? 0;
  if (steps === 0) return label.length === 0 ? 0 : Infinity;
  let total = 0;
  const path = new Array<number>(steps).fill(0);
  const count = classes ** steps;
  for (let code = 0; code < count; code++) {
    let rest = code;
    for (let t = 0; t < steps; t++) {
      path[t] = rest % classes;
      rest = Math.floor(rest / classes);
    }
    const collapsed: number[] = [];
    for (let t = 0; t < steps; t++) {
      const k = path[t] as number;
      if (k !== blank && (t === 0 || path[t - 1] !== k)) collapsed.push(k);
    }
    if (collapsed.length !== label.length || collapsed.some((k, i) => k !== label[i])) continue;
    let p = 1;
    for (let t = 0; t < steps; t++) p *= (probs[t] as number[])[path[t] as number] as number;
    total += p;
  }
  return -Math.log(total);
}

function softmaxRows(logits: number[], steps: number, classes: number, from = 0): number[][] {
  const rows: number[][] = [];
  for (let t = 0; t < steps; t++) {
    const row = logits.slice(from + t * classes, from + (t + 1) * classes);
    const max = Math.max(...row);
    const e = row.map((v) => Math.exp(v - max));
    const z = e.reduce((a, b) => a + b, 0);
    rows.push(e.map((v) => v / z));
  }
  return rows;
}

function randomLabel(rng: Rng, length: number, classes: number, blank: number): number[] {
  const label: number[] = [];
  for (let i = 0; i < length; i++) {
    let k = rng.int(classes - 1);
    if (k >= blank) k++;
    label.push(k);
  }
  return label;
}

function logBinomial(n: number, k: number): number {
  let sum = 0;
  for (let i = 1; i <= k; i++) sum += Math.log(n - k + i) - Math.log(i);
  return sum;
}

// Graves' reference implementation values, as used in TensorFlow's ctc_loss_op_test
// (two samples, 5 steps, 6 classes, blank 5).
const GRAVES_PROBS_0 = [
  [0.633766, 0.221185, 0.0917319, 0.0129757, 0.0142857, 0.0260553],
  [0.111121, 0.588392, 0.278779, 0.0055756, 0.00569609, 0.010436],
  [0.0357786, 0.633813, 0.321418, 0.00249248, 0.00272882, 0.0037688],
  [0.0663296, 0.643849, 0.280111, 0.00283995, 0.0035545, 0.00331533],
  [0.458235, 0.396634, 0.123377, 0.00648837, 0.00903441, 0.00623107],
];
const GRAVES_GRAD_0 = [
  [-0.366234, 0.221185, 0.0917319, 0.0129757, 0.0142857, 0.0260553],
  [0.111121, -0.411608, 0.278779, 0.0055756, 0.00569609, 0.010436],
  [0.0357786, 0.633813, -0.678582, 0.00249248, 0.00272882, 0.0037688],
  [0.0663296, -0.356151, 0.280111, 0.00283995, 0.0035545, 0.00331533],
  [-0.541765, 0.396634, 0.123377, 0.00648837, 0.00903441, 0.00623107],
];
const GRAVES_PROBS_1 = [
  [0.30176, 0.28562, 0.0831517, 0.0862751, 0.0816851, 0.161508],
  [0.24082, 0.397533, 0.0557226, 0.0546814, 0.0557528, 0.19549],
  [0.230246, 0.450868, 0.0389607, 0.038309, 0.0391602, 0.202456],
  [0.280884, 0.429522, 0.0326593, 0.0339046, 0.0326856, 0.190345],
  [0.423286, 0.315517, 0.0338439, 0.0393744, 0.0339315, 0.154046],
];
const GRAVES_GRAD_1 = [
  [-0.69824, 0.28562, 0.0831517, 0.0862751, 0.0816851, 0.161508],
  [0.24082, -0.602467, 0.0557226, 0.0546814, 0.0557528, 0.19549],
  [0.230246, 0.450868, 0.0389607, 0.038309, 0.0391602, -0.797544],
  [0.280884, -0.570478, 0.0326593, 0.0339046, 0.0326856, 0.190345],
  [-0.576714, 0.315517, 0.0338439, 0.0393744, 0.0339315, 0.154046],
];

describe('ctcLoss', () => {
  before(async () => {
    await initBackend({ backend: 'cpu' });
  });

  test('matches Graves reference losses and gradients', () => {
    const logits = tf.tidy(() => tf.log(tf.tensor3d([GRAVES_PROBS_0, GRAVES_PROBS_1]))) as tf.Tensor3D;
    const labels = [
      [0, 1, 2, 1, 0],
      [0, 1, 1, 0],
    ];
    const losses = ctcLoss(logits, labels, { reduction: 'none' });
    expectArraysClose(losses.dataSync(), [3.34211, 5.42262], { atol: 1e-4, rtol: 0 });
    // With reduction 'sum' the gradient of each sample is its own gradient.
    const grad = tf.grad((x: tf.Tensor) => ctcLoss(x as tf.Tensor3D, labels, { reduction: 'sum' }))(logits);
    expectArraysClose(grad.dataSync(), [...GRAVES_GRAD_0.flat(), ...GRAVES_GRAD_1.flat()], { atol: 2e-5, rtol: 0 });
    tf.dispose([logits, losses, grad]);
  });

  test('equals brute-force enumeration of all alignments (random shapes and labels)', () => {
    const rng = createRng('ctc-brute-force');
    for (let trial = 0; trial < 60; trial++) {
      const batch = 1 + rng.int(3);
      const time = 1 + rng.int(5);
      const classes = 2 + rng.int(3);
      const blank = rng.int(classes);
      const logits = Array.from({ length: batch * time * classes }, () => rng.normal() * 2);
      const labels = Array.from({ length: batch }, () => randomLabel(rng, rng.int(4), classes, blank));
      const inputLengths = Array.from({ length: batch }, () => rng.int(time + 1));
      const x = tf.tensor3d(logits, [batch, time, classes]);
      const result = ctcLoss(x, labels, { blank, inputLengths, reduction: 'none' });
      const actual = result.dataSync();
      for (let b = 0; b < batch; b++) {
        const probs = softmaxRows(logits, inputLengths[b] as number, classes, b * time * classes);
        const expected = bruteForceLoss(probs, labels[b] as number[], blank);
        const context = `trial ${trial} sample ${b}: T=${inputLengths[b]} C=${classes} blank=${blank} label=${labels[b]}`;
        if (expected === Infinity) assert.equal(actual[b], Infinity, context);
        else expectArraysClose([actual[b] as number], [expected], { atol: 1e-5, rtol: 1e-5, label: context });
      }
      tf.dispose([x, result]);
    }
  });

  test('uniform outputs give the closed-form loss -log(paths * C^-T)', () => {
    // With all logits equal every path has probability C^-T, and a label of length L with r
    // adjacent repeats has binomial(T + L - r, 2L) valid paths (2L+1 runs, r blank runs forced
    // non-empty).
    const cases = [
      { time: 75, classes: 17, label: [6, 0, 7, 2, 8, 3, 9, 4, 3, 8, 9] },
      { time: 75, classes: 17, label: [6, 6, 7, 7, 8, 3, 3, 3, 10, 11] },
      { time: 500, classes: 17, label: [1, 2, 3] },
      { time: 4, classes: 3, label: [0, 0] },
    ];
    for (const { time, classes, label } of cases) {
      const repeats = label.filter((k, i) => i > 0 && label[i - 1] === k).length;
      const expected = -logBinomial(time + label.length - repeats, 2 * label.length) + time * Math.log(classes);
      const x = tf.zeros([1, time, classes]) as tf.Tensor3D;
      const loss = ctcLoss(x, [label]);
      expectArraysClose(loss.dataSync(), [expected], { rtol: 1e-6, atol: 1e-4, label: `T=${time} label=${label}` });
      tf.dispose([x, loss]);
    }
  });

  test('gradient agrees with central finite differences', () => {
    const rng = createRng('ctc-finite-diff');
    for (let trial = 0; trial < 8; trial++) {
      const batch = 1 + rng.int(2);
      const time = 3 + rng.int(6);
      const classes = 3 + rng.int(3);
      const shape: [number, number, number] = [batch, time, classes];
      const logits = Float64Array.from({ length: batch * time * classes }, () => rng.normal() * 3);
      const labels = Array.from({ length: batch }, () => randomLabel(rng, 1 + rng.int(Math.floor(time / 2)), classes, classes - 1));
      const weights = Array.from({ length: batch }, () => rng.uniform(0.5, 2));
      const grad = new Float32Array(logits.length);
      computeCtc(logits, shape, labels).gradient(weights, grad);
      const objective = (values: Float64Array): number => {
        const losses = computeCtc(values, shape, labels).losses;
        return losses.reduce((sum, loss, b) => sum + (weights[b] as number) * loss, 0);
      };
      const h = 1e-5;
      const numeric = Array.from(logits, (_, i) => {
        const plus = Float64Array.from(logits);
        const minus = Float64Array.from(logits);
        plus[i] = (plus[i] as number) + h;
        minus[i] = (minus[i] as number) - h;
        return (objective(plus) - objective(minus)) / (2 * h);
      });
      expectArraysClose(grad, numeric, { atol: 1e-5, rtol: 1e-4, label: `trial ${trial}` });
    }
  });

  test('upstream gradient scales per sample for every reduction', () => {
    const rng = createRng('ctc-reductions');
    const [batch, time, classes] = [3, 6, 4];
    const x = tf.tensor3d(Array.from({ length: batch * time * classes }, () => rng.normal()), [batch, time, classes]);
    const labels = [[0, 1], [2], [1, 1, 0]];
    const perSample = new Float32Array(batch * time * classes);
    const ctc = computeCtc(x.dataSync(), [batch, time, classes], labels);
    ctc.gradient([1, 1, 1], perSample);
    const weights = tf.tensor1d([0.5, -2, 3]);
    const gradNone = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(ctcLoss(v as tf.Tensor3D, labels, { reduction: 'none' }), weights)))(x);
    const gradMean = tf.grad((v: tf.Tensor) => tf.mul(ctcLoss(v as tf.Tensor3D, labels), 4))(x);
    const gradSum = tf.grad((v: tf.Tensor) => ctcLoss(v as tf.Tensor3D, labels, { reduction: 'sum' }))(x);
    const w = [0.5, -2, 3];
    const per = time * classes;
    expectArraysClose(gradNone.dataSync(), Array.from(perSample, (g, i) => g * (w[Math.floor(i / per)] as number)), { atol: 1e-6 });
    expectArraysClose(gradMean.dataSync(), Array.from(perSample, (g) => (g * 4) / batch), { atol: 1e-6 });
    expectArraysClose(gradSum.dataSync(), perSample, { atol: 1e-6 });
    const mean = ctcLoss(x, labels);
    const sum = ctcLoss(x, labels, { reduction: 'sum' });
    expectArraysClose(mean.dataSync(), [(ctc.losses[0]! + ctc.losses[1]! + ctc.losses[2]!) / 3], { rtol: 1e-6 });
    expectArraysClose(sum.dataSync(), [ctc.losses[0]! + ctc.losses[1]! + ctc.losses[2]!], { rtol: 1e-6 });
    tf.dispose([x, weights, gradNone, gradMean, gradSum, mean, sum]);
  });

  test('repeated labels need a blank between them; impossible alignments give Infinity or 0', () => {
    const x = tf.zeros([3, 3, 3]) as tf.Tensor3D;
    // [0, 0] needs 3 steps (0, blank, 0); with 2 it is impossible. [0, 1] fits in 2.
    const labels = [[0, 0], [0, 0], [0, 1]];
    const inputLengths = [3, 2, 2];
    const losses = ctcLoss(x, labels, { inputLengths, reduction: 'none' }).dataSync();
    assert.ok(Number.isFinite(losses[0]));
    assert.equal(losses[1], Infinity);
    assert.ok(Number.isFinite(losses[2]));
    // One valid path for [0, 0] in 3 steps: p = 3^-3.
    expectArraysClose([losses[0] as number], [3 * Math.log(3)], { rtol: 1e-6 });
    assert.equal(ctcLoss(x, labels, { inputLengths }).dataSync()[0], Infinity);

    const zeroed = ctcLoss(x, labels, { inputLengths, reduction: 'none', zeroInfinity: true });
    assert.equal(zeroed.dataSync()[1], 0);
    const grad = tf.grad((v: tf.Tensor) => ctcLoss(v as tf.Tensor3D, labels, { inputLengths, zeroInfinity: true }))(x);
    const g = grad.dataSync();
    assert.ok(g.slice(9, 18).every((v) => v === 0), 'the impossible sample has a zero gradient');
    assert.ok(g.slice(0, 9).some((v) => v !== 0), 'the possible samples have a gradient');
    assert.ok(g.every((v) => Number.isFinite(v)));
    // Frames past the input length get zero gradient.
    assert.ok(g.slice(18 + 2 * 3, 27).every((v) => v === 0));
    tf.dispose([x, zeroed, grad]);
  });

  test('never NaN for long inputs and very peaked distributions', () => {
    const rng = createRng('ctc-peaked');
    const [batch, time, classes] = [2, 500, 17];
    const values = new Float32Array(batch * time * classes);
    for (let i = 0; i < values.length; i++) values[i] = rng.normal() * 5;
    // Peaked: one class at +400 per step, far from the label, so the true path is ~e^-400 per step.
    for (let r = 0; r < batch * time; r++) values[r * classes + (r % 3)] = 400;
    const x = tf.tensor3d(values, [batch, time, classes]);
    const labels = [randomLabel(rng, 11, classes, 16), randomLabel(rng, 10, classes, 16)];
    const losses = ctcLoss(x, labels, { reduction: 'none' });
    const grad = tf.grad((v: tf.Tensor) => ctcLoss(v as tf.Tensor3D, labels))(x);
    const l = losses.dataSync();
    assert.ok(l.every((v) => Number.isFinite(v) && v > 1000), `losses ${Array.from(l)}`);
    assert.ok(grad.dataSync().every((v) => Number.isFinite(v)));
    tf.dispose([x, losses, grad]);
  });

  test('trains through a tfjs optimizer and leaks no tensors', () => {
    const rng = createRng('ctc-train');
    const variable = tf.variable(tf.tensor3d(Array.from({ length: 2 * 8 * 5 }, () => rng.normal() * 0.1), [2, 8, 5]));
    const labels = [[0, 1, 1], [3, 2]];
    const optimizer = tf.train.adam(0.1);
    const before = tf.memory().numTensors;
    let first = NaN;
    let last = NaN;
    for (let step = 0; step < 40; step++) {
      const cost = optimizer.minimize(() => ctcLoss(variable, labels) as tf.Scalar, true) as tf.Scalar;
      last = cost.dataSync()[0] as number;
      if (step === 0) first = last;
      cost.dispose();
    }
    assert.ok(last < first / 4, `loss went from ${first} to ${last}`);
    // Adam creates its slot variables on the first step; count from the second pass on.
    const afterWarm = tf.memory().numTensors;
    const cost = optimizer.minimize(() => ctcLoss(variable, labels) as tf.Scalar, true) as tf.Scalar;
    cost.dispose();
    assert.equal(tf.memory().numTensors, afterWarm);
    assert.ok(afterWarm >= before);
    optimizer.dispose();
    variable.dispose();
  });

  test('rejects bad labels and options with errors that name the value', () => {
    const x = tf.zeros([2, 4, 3]) as tf.Tensor3D;
    assert.throws(() => ctcLoss(x, [[0]]), DataError);
    assert.throws(() => ctcLoss(x, [[0], [2]]), /label 1 has 2 at position 0/);
    assert.throws(() => ctcLoss(x, [[0], [1.5]]), DataError);
    assert.throws(() => ctcLoss(x, [[0], [1]], { inputLengths: [4, 5] }), /inputLengths\[1\] is 5/);
    assert.throws(() => ctcLoss(x, [[0], [1]], { blank: 3 }), ConfigError);
    assert.throws(() => ctcLoss(x, [[0], [1]], { reduction: 'avg' as 'mean' }), /reduction "avg"/);
    x.dispose();
  });
});

describe('ctcLoss on wasm', () => {
  test('gives the Graves reference loss and gradient', async () => {
    await initBackend({ backend: 'wasm' });
    try {
      const before = tf.memory().numTensors;
      const logits = tf.tidy(() => tf.log(tf.tensor3d([GRAVES_PROBS_0]))) as tf.Tensor3D;
      const { value, grad: grads } = tf.valueAndGrad((x: tf.Tensor) => ctcLoss(x as tf.Tensor3D, [[0, 1, 2, 1, 0]]))(logits);
      expectArraysClose(value.dataSync(), [3.34211], { atol: 1e-4, rtol: 0 });
      expectArraysClose(grads.dataSync(), GRAVES_GRAD_0.flat(), { atol: 2e-5, rtol: 0 });
      tf.dispose([logits, value, grads]);
      assert.equal(tf.memory().numTensors, before);
    } finally {
      await initBackend({ backend: 'cpu' });
    }
  });
});
