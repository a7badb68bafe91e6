import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index';
import { runSelfCheck } from '../../src/backend/self-check';

test('a one-batch training step of a small conv net runs on wasm with the cpu backend\'s gradients', async () => {
  await initBackend({ backend: 'wasm' });
  const before = tf.memory().numTensors;
  const check = await runSelfCheck({ steps: 4, batchSize: 3 });
  assert.equal(check.backend, 'wasm');
  assert.ok(check.maxRelativeGradientDiff !== undefined && check.maxRelativeGradientDiff < 1e-4,
    `gradients differ from cpu by ${check.maxRelativeGradientDiff}`);
  assert.equal(check.losses.length, 4);
  assert.ok(check.losses.every(Number.isFinite), `losses ${check.losses}`);
  assert.ok((check.losses[3] as number) < (check.losses[0] as number), `loss did not fall: ${check.losses}`);
  assert.equal(tf.getBackend(), 'wasm', 'the check restores the backend it started on');
  assert.equal(tf.memory().numTensors, before, 'the check leaks no tensors');
});

test('the self-check on cpu skips the comparison with itself', async () => {
  await initBackend({ backend: 'cpu' });
  const check = await runSelfCheck({ steps: 2 });
  assert.equal(check.backend, 'cpu');
  assert.equal(check.maxRelativeGradientDiff, undefined);
});

test('selfCheckFailure names the reason a check fails', async () => {
  const { selfCheckFailure } = await import('../../src/backend/self-check');
  const base = { backend: 'wasm', stepMs: 1 };
  assert.equal(selfCheckFailure({ ...base, losses: [2, 1], maxRelativeGradientDiff: 1e-6 }), undefined);
  assert.equal(selfCheckFailure({ ...base, losses: [2, 1], maxRelativeGradientDiff: undefined }), undefined);
  assert.match(selfCheckFailure({ ...base, losses: [1, 1], maxRelativeGradientDiff: 0 }) ?? '', /loss did not fall/);
  assert.match(selfCheckFailure({ ...base, losses: [2, 1], maxRelativeGradientDiff: 0.01 }) ?? '', /gradients differ .* by 0\.01/);
  assert.match(selfCheckFailure({ ...base, losses: [2, 1], maxRelativeGradientDiff: Number.NaN }) ?? '', /gradients differ/);
});
