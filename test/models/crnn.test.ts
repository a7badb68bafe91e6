import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index';
import { buildCrnn, crnnFeatureSize, resolveCrnnOptions } from '../../src/models/crnn';
import { BatchNorm } from '../../src/models/layers/batch-norm';
import { FusedBidirectional } from '../../src/models/layers/fused-bidirectional';
import { ConfigError } from '../../src/errors';
import { ctcLoss } from '../../src/losses/ctc';

const tiny = { inputHeight: 16, inputWidth: 32, convFilters: [4, 8], pools: [[2, 2], [2, 1]] as [number, number][], rnnUnits: 8 };

describe('buildCrnn', () => {
  before(async () => {
    await initBackend({ backend: 'wasm' });
  });

  test('defaults reproduce the reference implementation: 64x300 grayscale in, 75 time steps of 17 classes out', () => {
    const config = resolveCrnnOptions();
    assert.deepEqual(crnnFeatureSize(config), [4, 75]);
    assert.equal(config.numClasses, 17);
    assert.equal(config.rnn, 'lstm');
    assert.equal(config.rnnLayers, 2);
  });

  test('width becomes time through Permute and TimeDistributed(Flatten), then two BiLSTMs', () => {
    const model = buildCrnn(tiny);
    try {
      assert.deepEqual(model.outputs[0]?.shape, [null, 16, 17]);
      const names = model.layers.map((l) => l.getClassName());
      const permute = names.indexOf('Permute');
      assert.ok(permute > 0, 'has a Permute layer');
      // Each time step's [height, channels] flattened after the permute (a bare Reshape before it scrambles them).
      assert.equal(names[permute + 1], 'Reshape');
      assert.equal(names.filter((n) => n === 'Reshape').length, 1);
      assert.equal(names.filter((n) => n === FusedBidirectional.className).length, 2);
      assert.equal(names.filter((n) => n === BatchNorm.className).length, 2);
    } finally {
      model.dispose();
    }
  });

  test('GRU is an option', () => {
    const model = buildCrnn({ ...tiny, rnn: 'gru' });
    try {
      const recurrent = model.layers.filter((l): l is FusedBidirectional => l instanceof FusedBidirectional);
      assert.deepEqual(recurrent.map((l) => l.cell), ['gru', 'gru']);
      // Keras's GRU weights: kernel [features, 3 * units] per direction.
      assert.equal(recurrent[0]!.weights[0]!.shape[1], 3 * (tiny.rnnUnits ?? 128));
    } finally {
      model.dispose();
    }
  });

  test('the stock tfjs-layers recurrent layers remain an option (fusedRnn: false)', () => {
    const model = buildCrnn({ ...tiny, rnn: 'gru', fusedRnn: false });
    try {
      const bidirectional = model.layers.find((l) => l.getClassName() === 'Bidirectional') as unknown as { forwardLayer: tf.layers.Layer };
      assert.equal(bidirectional.forwardLayer.getClassName(), 'GRU');
    } finally {
      model.dispose();
    }
  });

  test('a training step runs on wasm and leaks no tensors', () => {
    const model = buildCrnn(tiny);
    const optimizer = tf.train.adam(0.01);
    const x = tf.randomNormal([2, 16, 32, 1]);
    try {
      // The first step creates the optimizer's slots; count from the second.
      optimizer.minimize(() => tf.mean(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar)?.dispose?.();
      const before = tf.memory().numTensors;
      const loss = optimizer.minimize(() => tf.mean(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, true);
      assert.ok(Number.isFinite(loss?.dataSync()[0]));
      loss?.dispose();
      assert.equal(tf.memory().numTensors, before);
    } finally {
      x.dispose();
      optimizer.dispose();
      model.dispose();
    }
  });

  test('the reference-size CRNN (64x300, filters 32-64-128-128, LSTM 128, batch 32) trains a CTC step on wasm within half the heap limit', () => {
    // With tfjs-layers' per-time-step LSTM this step needed more than the wasm backend's 4 GB
    // heap: the allocation failed and the backend crashed with "memory access out of bounds".
    const model = buildCrnn();
    const optimizer = tf.train.adam(1e-3);
    const x = tf.randomNormal([32, 64, 300, 1]);
    const labels = Array.from({ length: 32 }, (_, i) => [1 + (i % 9), 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    try {
      const loss = optimizer.minimize(() => ctcLoss(model.apply(x, { training: true }) as tf.Tensor3D, labels) as tf.Scalar, true);
      assert.ok(Number.isFinite(loss?.dataSync()[0]));
      loss?.dispose();
      const heapBytes = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
      assert.ok(heapBytes < 2 * 1024 ** 3, `wasm heap ${(heapBytes / 1024 ** 3).toFixed(2)} GB after the step`);
    } finally {
      x.dispose();
      optimizer.dispose();
      model.dispose();
    }
  });

  test('a strided stem downsamples in the first convolution: same feature map and weights, no first pool, and it trains', () => {
    const pooled = buildCrnn({ ...tiny, rnn: 'gru' });
    const strided = buildCrnn({ ...tiny, rnn: 'gru', stridedStem: true });
    try {
      assert.deepEqual(strided.outputs[0]?.shape, pooled.outputs[0]?.shape);
      assert.deepEqual(strided.weights.map((w) => w.shape), pooled.weights.map((w) => w.shape));
      const pools = (model: tf.LayersModel) => model.layers.filter((l) => l.getClassName() === 'MaxPooling2D').map((l) => l.name);
      assert.deepEqual([pools(pooled), pools(strided)], [['pool1', 'pool2'], ['pool2']]);
      const conv1 = strided.getLayer('conv1').getConfig() as { strides: number[] };
      assert.deepEqual(conv1.strides, [2, 2]);
      const x = tf.randomNormal([2, 16, 32, 1], 0, 1, 'float32', 1);
      const labels = [[1, 2, 3], [4, 5]];
      const optimizer = tf.train.adam(0.01);
      const losses = Array.from({ length: 3 }, () => {
        const cost = optimizer.minimize(() => ctcLoss(strided.apply(x, { training: true }) as tf.Tensor3D, labels) as tf.Scalar, true) as tf.Scalar;
        const value = cost.dataSync()[0] as number;
        cost.dispose();
        return value;
      });
      x.dispose();
      optimizer.dispose();
      assert.ok(losses.every(Number.isFinite) && (losses[2] as number) < (losses[0] as number), `losses ${losses.join(', ')}`);
    } finally {
      pooled.dispose();
      strided.dispose();
    }
  });

  test('a stem striding 4 pixels widens its kernel to 4x4 so that every pixel is read', () => {
    const options = { ...tiny, inputHeight: 32, inputWidth: 64, pools: [[4, 4], [2, 1]] as [number, number][], stridedStem: true };
    const model = buildCrnn(options);
    try {
      const conv1 = model.getLayer('conv1').getConfig() as { strides: number[]; kernelSize: number[] };
      assert.deepEqual([conv1.strides, conv1.kernelSize], [[4, 4], [4, 4]]);
      assert.deepEqual(model.getLayer('conv2').getConfig()['kernelSize'], [3, 3], 'later blocks keep 3x3');
      assert.equal(model.outputs[0]?.shape[1], crnnFeatureSize(resolveCrnnOptions(options))[1]);
      assert.equal(model.outputs[0]?.shape[1], 16);
      // Each output pixel of the stem sees its own 4x4 patch: a change in any one input pixel reaches the output.
      const x = tf.zeros([1, 32, 64, 1]);
      const base = model.predict(x) as tf.Tensor;
      const poked = tf.tidy(() => {
        const buffer = tf.buffer([1, 32, 64, 1]);
        buffer.set(1, 0, 3, 3, 0); // the last row and column of the first 4x4 patch: a 3x3 kernel at stride 4 would skip it
        return model.predict(buffer.toTensor()) as tf.Tensor;
      });
      const change = tf.tidy(() => tf.max(tf.abs(tf.sub(poked, base))).dataSync()[0] as number);
      tf.dispose([x, base, poked]);
      assert.ok(change > 0, 'the pixel at (3, 3) moves the output');
    } finally {
      model.dispose();
    }
  });

  test('convKernel sets every convolution\'s kernel (a strided stem\'s is at least its stride); an even size is refused', () => {
    const model = buildCrnn({ ...tiny, convKernel: 5 });
    try {
      assert.deepEqual(['conv1', 'conv2'].map((name) => model.getLayer(name).getConfig()['kernelSize']), [[5, 5], [5, 5]]);
      assert.deepEqual((model.getLayer('conv2').getWeights()[0] as tf.Tensor).shape, [5, 5, 4, 8]);
    } finally {
      model.dispose();
    }
    assert.equal(resolveCrnnOptions().convKernel, 3, 'the reference implementation\'s 3x3 by default');
    const stem = buildCrnn({ ...tiny, pools: [[4, 4], [2, 1]], stridedStem: true, convKernel: 5 });
    try {
      assert.deepEqual(stem.getLayer('conv1').getConfig()['kernelSize'], [5, 5]);
    } finally {
      stem.dispose();
    }
    assert.throws(() => resolveCrnnOptions({ convKernel: 4 }), (e: unknown) => e instanceof ConfigError && /convKernel 4 must be an odd whole number/.test(e.message));
  });

  test('the feature size of a strided stem rounds an odd input up, as its convolution does', () => {
    const model = buildCrnn({ ...tiny, inputWidth: 33, stridedStem: true });
    try {
      const [, steps] = crnnFeatureSize(resolveCrnnOptions({ ...tiny, inputWidth: 33, stridedStem: true }));
      assert.equal(steps, 17);
      assert.equal(model.outputs[0]?.shape[1], steps);
      assert.equal(crnnFeatureSize(resolveCrnnOptions({ ...tiny, inputWidth: 33 }))[1], 16);
    } finally {
      model.dispose();
    }
  });

  test('a seed makes the starting weights reproducible, each kernel drawn apart; no seed leaves them random', () => {
    const weightsOf = (options: Parameters<typeof buildCrnn>[0]): Map<string, Float32Array> => {
      const model = buildCrnn({ ...tiny, ...options });
      try {
        return new Map(model.weights.map((w) => [w.originalName, w.read().dataSync() as Float32Array]));
      } finally {
        model.dispose();
      }
    };
    for (const fusedRnn of [true, false]) {
      const first = weightsOf({ seed: 7, fusedRnn });
      const again = weightsOf({ seed: 7, fusedRnn });
      const other = weightsOf({ seed: 8, fusedRnn });
      const unseeded = weightsOf({ fusedRnn });
      const kernels = [...first.keys()].filter((name) => /kernel$/.test(name));
      // conv1, conv2, two recurrent kernels per direction per layer, logits.
      assert.equal(kernels.length, 2 + 2 * 2 * 2 + 1, kernels.join(', '));
      for (const name of kernels) {
        assert.deepEqual(again.get(name), first.get(name), `${name} (fusedRnn ${fusedRnn}) differs between two builds with seed 7`);
        assert.notDeepEqual(other.get(name), first.get(name), `${name} (fusedRnn ${fusedRnn}) is the same with seeds 7 and 8`);
        assert.notDeepEqual(unseeded.get(name), first.get(name), `${name} (fusedRnn ${fusedRnn}) unseeded equals seed 7`);
      }
      if (fusedRnn) {
        const forward = kernels.find((name) => name.includes('forward_') && name.endsWith('/kernel'))!;
        assert.notDeepEqual(first.get(forward.replace('forward_', 'backward_')), first.get(forward), 'the two directions start apart');
      }
    }
    assert.equal(resolveCrnnOptions({ seed: 7 }).seed, 7);
    assert.equal('seed' in resolveCrnnOptions(), false, 'an unseeded config records no seed key');
  });

  test('default pools follow the number of conv blocks', () => {
    assert.deepEqual(resolveCrnnOptions({ convFilters: [8, 16] }).pools, [[2, 2], [2, 2]]);
    assert.deepEqual(resolveCrnnOptions({ convFilters: [8, 16, 32, 32, 64] }).pools, [[2, 2], [2, 2], [2, 1], [2, 1], [2, 1]]);
  });

  test('bad configurations are rejected with the reason', () => {
    assert.throws(() => resolveCrnnOptions({ inputHeight: 8, pools: [[2, 2], [2, 2], [2, 1], [2, 1]] }), (e: unknown) =>
      e instanceof ConfigError && /too small for 4 pooling blocks/.test(e.message));
    assert.throws(() => resolveCrnnOptions({ convFilters: [8], pools: [] }), /one pool \(or null\) per conv block/);
    assert.throws(() => resolveCrnnOptions({ rnn: 'rnn' as 'gru' }), /not one of: lstm, gru/);
    assert.throws(() => resolveCrnnOptions({ convFilters: [8, 16], pools: [null, [2, 2]], stridedStem: true }), /stridedStem downsamples by the first block's pool, but pools\[0\] is null/);
  });
});
