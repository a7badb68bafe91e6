import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { FusedBidirectional } from '../../src/models/layers/fused-bidirectional';
import { initBackend } from '../../src/backend/index';
import { ConfigError, DataError } from '../../src/errors';
import { ctcLoss } from '../../src/losses/ctc';
import { crnnFeatureSize } from '../../src/models/crnn';
import { loadModel, saveModel } from '../../src/models/io';
import {
  buildVgg19Crnn,
  createVgg19Crnn,
  loadVgg19Weights,
  resolveVgg19CrnnOptions,
  vgg19Preprocess,
  VGG19_CONV_LAYERS,
  VGG19_WEIGHTS_FILE,
} from '../../src/models/vgg19-crnn';
import { expectArraysClose } from '../support/tensors';

const tiny = { inputHeight: 32, inputWidth: 64, filterDivisor: 16, rnnUnits: 8 };

describe('VGG19-CRNN', () => {
  let dir: string;
  before(async () => {
    await initBackend({ backend: 'wasm' });
    dir = mkdtempSync(join(tmpdir(), 'glyphlab-vgg19-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('defaults: 64x300 RGB gives a 4-row feature map and 37 time steps (Keras pools would give 18)', () => {
    const config = resolveVgg19CrnnOptions();
    assert.deepEqual(crnnFeatureSize(config), [4, 37]);
    assert.deepEqual(crnnFeatureSize({ ...config, pools: [[2, 2], [2, 2], [2, 2], [2, 2]] }), [4, 18]);
    assert.equal(config.numClasses, 17);
    assert.equal(config.rnn, 'lstm');
    assert.equal(config.rnnLayers, 2);
  });

  test('full size: the exact Keras VGG19 conv stack (20,024,384 parameters) up to block5_conv4, then the sequence head', () => {
    const model = buildVgg19Crnn({ inputHeight: 32, inputWidth: 128 });
    try {
      assert.deepEqual(model.inputs[0]?.shape, [null, 32, 128, 3]);
      assert.deepEqual(model.outputs[0]?.shape, [null, 16, 17]);
      const convs = model.layers.filter((l) => l.getClassName() === 'Conv2D');
      assert.deepEqual(convs.map((l) => l.name), VGG19_CONV_LAYERS);
      assert.equal(convs.reduce((n, l) => n + l.countParams(), 0), 20_024_384);
      for (const conv of convs) {
        const config = conv.getConfig();
        assert.deepEqual([config['kernelSize'], config['padding'], config['activation']], [[3, 3], 'same', 'relu'], conv.name);
      }
      const names = model.layers.map((l) => l.name);
      assert.deepEqual(names.filter((n) => n.endsWith('_pool')), ['block1_pool', 'block2_pool', 'block3_pool', 'block4_pool']);
      assert.equal(names[names.indexOf('block5_conv4') + 1], 'width_as_time');
      const classes = model.layers.map((l) => l.getClassName());
      assert.equal(classes[classes.indexOf('Permute') + 1], 'Reshape');
      assert.equal(classes.filter((c) => c === FusedBidirectional.className).length, 2);
      assert.equal(model.getLayer('logits').getConfig()['activation'], 'linear');
    } finally {
      model.dispose();
    }
  });

  test('preprocessing turns RGB in [-1, 1] into caffe-style BGR minus the ImageNet mean, inside the model', () => {
    // Pixels (R, G, B) = (0, 127.5, 255) and (255, 0, 51) as the batches give them: x/255*2-1.
    const rgb = [[0, 127.5, 255], [255, 0, 51]];
    const input = tf.tensor4d(rgb.flat().map((v) => (v / 255) * 2 - 1), [1, 1, 2, 3]);
    const expected = rgb.flatMap(([r, g, b]) => [(b as number) - 103.939, (g as number) - 116.779, (r as number) - 123.68]);
    const model = buildVgg19Crnn(tiny);
    const preprocess = tf.model({ inputs: model.inputs, outputs: model.getLayer('vgg19_preprocess').output as tf.SymbolicTensor });
    const image = tf.tidy(() => tf.tile(input, [1, 32, 32, 1]));
    try {
      const direct = vgg19Preprocess(input);
      expectArraysClose(direct.dataSync(), expected, { atol: 1e-3 });
      direct.dispose();
      const inModel = preprocess.predict(image) as tf.Tensor;
      expectArraysClose(inModel.slice([0, 0, 0, 0], [1, 1, 2, 3]).dataSync(), expected, { atol: 1e-3 });
      inModel.dispose();
      const plain = buildVgg19Crnn({ ...tiny, preprocess: false });
      assert.equal(plain.layers.some((l) => l.name === 'vgg19_preprocess'), false);
      plain.dispose();
    } finally {
      tf.dispose([input, image]);
      model.dispose();
    }
  });

  test('a saved model reloads with its preprocessing layer and predicts the same', async () => {
    const model = buildVgg19Crnn(tiny);
    const x = tf.randomUniform([1, 32, 64, 3], -1, 1, 'float32', 3);
    try {
      await saveModel(model, join(dir, 'saved'));
      const loaded = await loadModel(join(dir, 'saved'));
      const [a, b] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
      assert.deepEqual(b.shape, [1, 8, 17]);
      expectArraysClose(b.dataSync(), a.dataSync());
      tf.dispose([a, b]);
      loaded.dispose();
    } finally {
      x.dispose();
      model.dispose();
    }
  });

  test('a tiny variant trains one CTC step on wasm: gradients reach block1_conv1, no tensors leak', () => {
    const model = buildVgg19Crnn(tiny);
    const optimizer = tf.train.adam(0.01);
    const x = tf.randomUniform([2, 32, 64, 3], -1, 1, 'float32', 1);
    const labels = [[1, 2, 3], [4, 5]];
    const step = (): tf.Scalar | null => optimizer.minimize(() => ctcLoss(model.apply(x, { training: true }) as tf.Tensor3D, labels) as tf.Scalar, true);
    try {
      const first = model.getLayer('block1_conv1').getWeights()[0]!.dataSync().slice();
      step()?.dispose();
      const before = tf.memory().numTensors;
      const loss = step();
      const value = loss?.dataSync()[0] ?? Number.NaN;
      loss?.dispose();
      assert.ok(Number.isFinite(value) && value > 0, `CTC loss ${value}`);
      assert.equal(tf.memory().numTensors, before, 'no tensors leak across a step');
      const after = model.getLayer('block1_conv1').getWeights()[0]!.dataSync();
      assert.ok(after.some((v, i) => v !== first[i]), 'the first conv layer was updated');
    } finally {
      x.dispose();
      optimizer.dispose();
      model.dispose();
    }
  });

  test('without a weights file the model keeps random weights and says where to put the file', async () => {
    const env = { GLYPHLAB_EXPERIMENTS_DIR: join(dir, 'experiments') };
    const expectedPath = join(dir, 'experiments', 'weights', VGG19_WEIGHTS_FILE);
    const build = await createVgg19Crnn({ ...tiny, env });
    try {
      assert.equal(build.weights, 'random');
      assert.equal(build.weightsPath, expectedPath);
      assert.ok(build.message?.includes(`put Keras' ${VGG19_WEIGHTS_FILE}`) && build.message.includes(expectedPath) && build.message.includes('GLYPHLAB_VGG19_WEIGHTS'), build.message);
      await assert.rejects(loadVgg19Weights(build.model, { env, required: true }), (e: unknown) => e instanceof DataError && e.message.includes(expectedPath));
      const missing = join(dir, 'nowhere.h5');
      await assert.rejects(loadVgg19Weights(build.model, { env: { ...env, GLYPHLAB_VGG19_WEIGHTS: missing } }), new RegExp(`${missing} \\(from GLYPHLAB_VGG19_WEIGHTS\\) do not exist`));
      await assert.rejects(loadVgg19Weights(build.model, { path: missing, env }), (e: unknown) => e instanceof DataError && e.message.includes(missing));
    } finally {
      build.model.dispose();
    }
    const random = await createVgg19Crnn({ ...tiny, weights: 'random' });
    assert.deepEqual([random.weights, random.message], ['random', undefined]);
    random.model.dispose();
  });

  test('GLYPHLAB_VGG19_WEIGHTS may name a tfjs folder; the build reports imagenet and the path', async () => {
    const source = buildVgg19Crnn(tiny);
    const folder = join(dir, 'pretrained');
    await saveModel(source, folder);
    const build = await createVgg19Crnn({ ...tiny, env: { GLYPHLAB_VGG19_WEIGHTS: folder } });
    try {
      assert.deepEqual([build.weights, build.weightsPath, build.message], ['imagenet', join(folder, 'model.json'), undefined]);
      const a = source.getLayer('block5_conv4').getWeights()[0]!.dataSync();
      assert.deepEqual(build.model.getLayer('block5_conv4').getWeights()[0]!.dataSync(), a);
    } finally {
      source.dispose();
      build.model.dispose();
    }
  });

  test('bad configurations are refused with what would be accepted', async () => {
    assert.throws(() => resolveVgg19CrnnOptions({ pools: [[2, 2]] }), (e: unknown) => e instanceof ConfigError && /give 4, one \(or null\) for each of block1_pool \.\. block4_pool/.test(e.message));
    assert.throws(() => resolveVgg19CrnnOptions({ filterDivisor: 3 }), /positive integer dividing 64/);
    assert.throws(() => resolveVgg19CrnnOptions({ inputHeight: 8 }), /input 8x300 is too small/);
    assert.throws(() => resolveVgg19CrnnOptions({ rnn: 'rnn' as 'gru' }), /not one of: lstm, gru/);
    await assert.rejects(createVgg19Crnn({ ...tiny, weights: 'coco' as 'random' }), /not one of: imagenet, random/);
  });
});
