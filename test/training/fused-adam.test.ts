import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index';
import { setNativeKernelsEnabled } from '../../src/backend/native-kernels';
import { canFuseAdam, fusedAdamStep } from '../../src/training/fused-adam';
import { clipGradients } from '../../src/training/train';
import { createRng } from '../../src/util/rng';
import { expectArraysClose } from '../support/tensors';

function random(seed: string, shape: number[], scale = 1): tf.Tensor {
  const rng = createRng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => scale * rng.normal()), shape);
}

const SHAPES: Record<string, number[]> = { kernel: [7, 5], bias: [5], frozen: [3] };

/** Variables named per test, the same start values each time. */
function makeVariables(prefix: string): tf.Variable[] {
  return Object.entries(SHAPES).map(([name, shape]) => {
    const start = random(`start-${name}`, shape);
    const variable = tf.variable(start, true, `${prefix}/${name}`);
    start.dispose();
    return variable;
  });
}

/** Gradients of step `k` for all but the last variable (one without a gradient, as tfjs allows), large enough to clip. */
function gradientsOf(variables: tf.Variable[], k: number): tf.NamedTensorMap {
  return Object.fromEntries(variables.slice(0, 2).map((v) => [v.name, random(`grad-${k}-${v.name.split('/')[1]}`, v.shape, 3)]));
}

/** The training loop's unfused step: decayWeights, clipGradients, AdamOptimizer.applyGradients. */
function stockStep(optimizer: tf.Optimizer, variables: tf.Variable[], grads: tf.NamedTensorMap, learningRate: number, weightDecay: number, clipNorm: number): void {
  tf.tidy(() => {
    for (const v of variables) v.assign(tf.mul(v, 1 - learningRate * weightDecay));
  });
  const clipped = clipGradients(grads, clipNorm);
  optimizer.applyGradients(clipped);
  tf.dispose(clipped);
}

async function finalState(prefix: string, fused: boolean): Promise<{ values: Float32Array[]; moments: { name: string; values: Float32Array }[] }> {
  const variables = makeVariables(prefix);
  const optimizer = tf.train.adam(0.01);
  for (let k = 0; k < 6; k++) {
    const grads = gradientsOf(variables, k);
    // A learning rate that changes between steps, as the schedules set it.
    (optimizer as unknown as { learningRate: number }).learningRate = 0.01 * (1 - k / 10);
    if (fused) fusedAdamStep(optimizer, variables, grads, { weightDecay: 0.5, clipNorm: 2 });
    else stockStep(optimizer, variables, grads, 0.01 * (1 - k / 10), 0.5, 2);
    tf.dispose(grads);
  }
  const named = await optimizer.getWeights();
  const state = {
    values: variables.map((v) => Float32Array.from(v.dataSync())),
    moments: named.map((w) => ({ name: w.name.replace(prefix, 'P'), values: Float32Array.from(w.tensor.dataSync()) })),
  };
  named[0]?.tensor.dispose(); // the iteration count getWeights made
  optimizer.dispose();
  tf.dispose(variables);
  return state;
}

describe('fusedAdamStep (Adam, clipping and weight decay in one pass per variable)', () => {
  before(async () => {
    await initBackend({ backend: 'wasm' });
  });
  after(() => setNativeKernelsEnabled(true));

  for (const native of [true, false]) {
    test(`${native ? 'natively' : 'in JavaScript'}: six steps equal the unfused decay, clip and tfjs Adam, moments and iteration count included`, async () => {
      setNativeKernelsEnabled(native);
      const before = tf.memory().numTensors;
      const stock = await finalState(`stock-${native}`, false);
      const fused = await finalState(`fused-${native}`, true);
      assert.equal(tf.memory().numTensors - before, 0, 'tensors leaked');
      stock.values.forEach((values, i) => expectArraysClose(fused.values[i] as Float32Array, values, { atol: 1e-6, rtol: 1e-5, label: `variable ${i}` }));
      // The variable without a gradient was decayed and not moved by Adam.
      const frozenStart = random('start-frozen', SHAPES['frozen'] as number[]);
      const factor = [0, 1, 2, 3, 4, 5].reduce((f, k) => f * (1 - 0.01 * (1 - k / 10) * 0.5), 1);
      const expectedFrozen = Float32Array.from(frozenStart.dataSync(), (x) => x * factor);
      frozenStart.dispose();
      expectArraysClose(fused.values[2] as Float32Array, expectedFrozen, { atol: 1e-5, rtol: 1e-4, label: 'the variable without a gradient' });
      // Same saved optimizer state: names (as checkpoints store them), the iteration count, and the moments.
      assert.deepEqual(
        fused.moments.map((m) => m.name),
        stock.moments.map((m) => m.name),
      );
      assert.equal(fused.moments[0]?.values[0], 6);
      stock.moments.forEach((m, i) => expectArraysClose(fused.moments[i]?.values as Float32Array, m.values, { atol: 1e-6, rtol: 1e-5, label: m.name }));
    });
  }

  test('a fused step really clips: gradients under the norm are used as they are, larger ones scaled to it', () => {
    const [variable] = makeVariables('clip');
    const v = variable as tf.Variable;
    const optimizer = tf.train.adam(0.1);
    // Adam's first step moves each value by the learning rate times sign(g) whatever the scale, so
    // compare the first moment instead: (1 - beta1) * g * scale.
    const grads = { [v.name]: tf.fill(v.shape, 1) };
    fusedAdamStep(optimizer, [v], grads, { weightDecay: 0, clipNorm: Math.sqrt(35) / 2 });
    const m = (optimizer as unknown as { accumulatedFirstMoment: { variable: tf.Variable }[] }).accumulatedFirstMoment[0]?.variable as tf.Variable;
    expectArraysClose(m.dataSync() as Float32Array, new Float32Array(35).fill(0.1 * 0.5), { atol: 1e-6, label: 'clipped first moment' });
    tf.dispose(grads);
    optimizer.dispose();
    v.dispose();
  });

  test('only a tfjs Adam on a backend with the kernels can be fused', async () => {
    assert.equal(canFuseAdam(tf.train.adam(0.01)), true);
    assert.equal(canFuseAdam(tf.train.sgd(0.01)), false);
    await tf.setBackend('cpu');
    try {
      assert.equal(canFuseAdam(tf.train.adam(0.01)), false);
    } finally {
      await tf.setBackend('wasm');
    }
  });
});
