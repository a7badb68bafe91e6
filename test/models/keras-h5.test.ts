import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index';
import { DataError } from '../../src/errors';
import { loadH5wasm, readKerasH5Weights, readLayerWeights, readTfjsLayersWeights, setLayerWeights } from '../../src/models/keras-h5';
import { saveModel } from '../../src/models/io';
import { buildVgg19Crnn, loadVgg19Weights, VGG19_BLOCKS, VGG19_CONV_LAYERS } from '../../src/models/vgg19-crnn';
import { createRng } from '../../src/util/rng';

// Filters divided by 16 (4..32): the real Keras layout and 3x3xCinxCout kernels, in kilobytes.
const DIVISOR = 16;
const tiny = { inputHeight: 32, inputWidth: 64, filterDivisor: DIVISOR, rnnUnits: 4, rnnLayers: 1 };

interface FixtureLayer {
  name: string;
  weights: { name: string; shape: number[]; values: Float32Array }[];
}

/**
 * The layers of Keras' VGG19 notop file, computed from the architecture (not from our model):
 * `input_1`, then per block its convs and pool. `style` picks the weight names: 'keras1' as in
 * the released file (`block1_conv1_W_1:0` beside `block1_conv1_b_1:0`), 'keras2' as
 * `save_weights` writes them today (`block1_conv1/kernel:0`, a nested path).
 */
function vgg19FixtureLayers(divisor: number, style: 'keras1' | 'keras2', seed: string): FixtureLayer[] {
  const rng = createRng(seed);
  const layers: FixtureLayer[] = [{ name: 'input_1', weights: [] }];
  let channels = 3;
  VGG19_BLOCKS.forEach((block, b) => {
    const filters = block.filters / divisor;
    for (let c = 0; c < block.convs; c++) {
      const name = `block${b + 1}_conv${c + 1}`;
      const kernelShape = [3, 3, channels, filters];
      const kernel = Float32Array.from({ length: 9 * channels * filters }, () => rng.uniform(-0.5, 0.5));
      const bias = Float32Array.from({ length: filters }, () => rng.uniform(-0.1, 0.1));
      const [k, bn] = style === 'keras1' ? [`${name}_W_1:0`, `${name}_b_1:0`] : [`${name}/kernel:0`, `${name}/bias:0`];
      layers.push({ name, weights: [{ name: k, shape: kernelShape, values: kernel }, { name: bn, shape: [filters], values: bias }] });
      channels = filters;
    }
    layers.push({ name: `block${b + 1}_pool`, weights: [] });
  });
  return layers;
}

/** Writes `layers` with h5wasm in the layout of Keras' `save_weights` (optionally inside `model_weights`). */
async function writeKerasH5(path: string, layers: FixtureLayer[], options: { wholeModel?: boolean } = {}): Promise<void> {
  const h5 = await loadH5wasm();
  const file = new h5.File(path, 'w');
  try {
    const root = options.wholeModel ? file.create_group('model_weights') : file;
    const names = layers.map((l) => l.name);
    const width = Math.max(...names.map((n) => n.length));
    root.create_attribute('layer_names', names, null, `S${width}`);
    root.create_attribute('backend', 'tensorflow');
    root.create_attribute('keras_version', '2.1.5');
    for (const layer of layers) {
      const group = root.create_group(layer.name);
      const weightNames = layer.weights.map((w) => w.name);
      group.create_attribute('weight_names', weightNames, null, `S${Math.max(1, ...weightNames.map((n) => n.length))}`);
      for (const weight of layer.weights) {
        const parts = weight.name.split('/');
        let parent = group;
        for (const part of parts.slice(0, -1)) parent = (parent.get(part) as typeof group | null) ?? parent.create_group(part);
        parent.create_dataset({ name: parts[parts.length - 1] as string, data: weight.values, shape: weight.shape, dtype: '<f' });
      }
    }
  } finally {
    file.close();
  }
}

function convValues(model: tf.LayersModel, layer: string): Float32Array[] {
  return model.getLayer(layer).getWeights().map((w) => w.dataSync() as Float32Array);
}

describe('Keras HDF5 and tfjs weights', () => {
  let dir: string;
  before(async () => {
    await initBackend({ backend: 'cpu' });
    dir = mkdtempSync(join(tmpdir(), 'glyphlab-keras-h5-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the released VGG19 layout (Keras 1 weight names) loads into the conv stack by layer name', async () => {
    const layers = vgg19FixtureLayers(DIVISOR, 'keras1', 'k1');
    const path = join(dir, 'vgg19-keras1.h5');
    await writeKerasH5(path, layers);
    const model = buildVgg19Crnn(tiny);
    try {
      const headBefore = convValues(model, 'logits');
      const report = await loadVgg19Weights(model, { path });
      assert.deepEqual(report, { weights: 'imagenet', weightsPath: path });
      for (const layer of layers.filter((l) => l.weights.length > 0)) {
        const loaded = convValues(model, layer.name);
        assert.equal(loaded.length, 2);
        assert.deepEqual(loaded[0], layer.weights[0]?.values, `${layer.name} kernel`);
        assert.deepEqual(loaded[1], layer.weights[1]?.values, `${layer.name} bias`);
      }
      assert.deepEqual(convValues(model, 'logits'), headBefore, 'the head keeps its initialisation');
    } finally {
      model.dispose();
    }
  });

  test('Keras 2 names (nested kernel:0 paths) inside a whole-model save are read too', async () => {
    const layers = vgg19FixtureLayers(DIVISOR, 'keras2', 'k2');
    const path = join(dir, 'vgg19-keras2.h5');
    await writeKerasH5(path, layers, { wholeModel: true });
    const file = await readKerasH5Weights(path, { layers: ['block3_conv2'] });
    assert.equal(file.format, 'keras-h5');
    assert.deepEqual(file.layerNames, layers.map((l) => l.name));
    assert.deepEqual([...file.layers.keys()], ['block3_conv2'], 'only the layers asked for are read');
    const block = file.layers.get('block3_conv2');
    assert.deepEqual(block?.map((w) => w.name), ['block3_conv2/kernel:0', 'block3_conv2/bias:0']);
    assert.deepEqual(block?.map((w) => w.shape), [[3, 3, 16, 16], [16]]);
    assert.deepEqual(block?.[0]?.values, layers.find((l) => l.name === 'block3_conv2')?.weights[0]?.values);
  });

  test('a file without one of the layers names the layer and the file, and writes nothing', async () => {
    const layers = vgg19FixtureLayers(DIVISOR, 'keras1', 'missing').filter((l) => l.name !== 'block5_conv4');
    const path = join(dir, 'vgg19-no-block5-conv4.h5');
    await writeKerasH5(path, layers);
    const model = buildVgg19Crnn(tiny);
    try {
      const before = convValues(model, 'block1_conv1');
      await assert.rejects(loadVgg19Weights(model, { path }), (error: unknown) =>
        error instanceof DataError && error.message.includes(path) && /no weights for layer block5_conv4/.test(error.message));
      assert.deepEqual(convValues(model, 'block1_conv1'), before, 'checked before anything is written');
    } finally {
      model.dispose();
    }
  });

  test('a shape mismatch names the layer, the expected and found shapes, and the file', async () => {
    const path = join(dir, 'vgg19-div8.h5');
    await writeKerasH5(path, vgg19FixtureLayers(8, 'keras1', 'wide'));
    const model = buildVgg19Crnn(tiny);
    try {
      await assert.rejects(loadVgg19Weights(model, { path }), (error: unknown) =>
        error instanceof DataError &&
        error.message.includes(path) &&
        /layer block1_conv1 weight block1_conv1_W_1:0: the model expects shape \[3, 3, 3, 4\] but the file holds \[3, 3, 3, 8\]/.test(error.message));
    } finally {
      model.dispose();
    }
  });

  test('corrupt and missing files are refused with the file named', async () => {
    const garbage = join(dir, 'garbage.h5');
    writeFileSync(garbage, Buffer.from('this is not an HDF5 file at all, just text'.repeat(40)));
    await assert.rejects(readKerasH5Weights(garbage), (e: unknown) => e instanceof DataError && e.message.includes(garbage) && /not an HDF5 file/.test(e.message));

    const whole = join(dir, 'vgg19-keras1.h5');
    const truncated = join(dir, 'truncated.h5');
    const bytes = readFileSync(whole);
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 3)));
    await assert.rejects(readKerasH5Weights(truncated), (e: unknown) =>
      e instanceof DataError && e.message.includes(truncated) && /\(truncated file: eof = \d+.*\); the file is truncated or corrupted/.test(e.message));

    const noKeras = join(dir, 'plain.h5');
    const h5 = await loadH5wasm();
    const plain = new h5.File(noKeras, 'w');
    plain.create_dataset({ name: 'x', data: new Float32Array(3) });
    plain.close();
    await assert.rejects(readKerasH5Weights(noKeras), /has no layer_names attribute/);

    await assert.rejects(readLayerWeights(join(dir, 'absent.h5')), (e: unknown) => e instanceof DataError && /absent\.h5 does not exist/.test(e.message));
  });

  test('a tfjs layers-format folder loads by layer name', async () => {
    const source = buildVgg19Crnn(tiny);
    const target = buildVgg19Crnn(tiny);
    try {
      const folder = join(dir, 'tfjs-vgg');
      await saveModel(source, folder);
      const file = await readTfjsLayersWeights(folder, { layers: VGG19_CONV_LAYERS });
      assert.equal(file.format, 'tfjs-layers');
      assert.ok(file.layerNames.includes('logits') && !file.layers.has('logits'), 'lists every layer, reads those asked for');
      assert.deepEqual(file.layers.get('block2_conv1')?.map((w) => w.shape), [[3, 3, 4, 8], [8]]);
      assert.notDeepEqual(convValues(target, 'block4_conv2'), convValues(source, 'block4_conv2'));
      const report = await loadVgg19Weights(target, { path: join(folder, 'model.json') });
      assert.equal(report.weights, 'imagenet');
      for (const name of VGG19_CONV_LAYERS) assert.deepEqual(convValues(target, name), convValues(source, name), name);
      assert.notDeepEqual(convValues(target, 'logits'), convValues(source, 'logits'), 'only the conv stack is loaded');

      rmSync(join(folder, 'weights.bin'));
      await assert.rejects(readLayerWeights(folder), /weights\.bin, named by .*model\.json, does not exist/);
    } finally {
      source.dispose();
      target.dispose();
    }
  });

  test('setLayerWeights refuses a layer the model lacks and one whose weight count differs', async () => {
    const model = buildVgg19Crnn(tiny);
    try {
      const file = await readKerasH5Weights(join(dir, 'vgg19-keras1.h5'));
      assert.throws(() => setLayerWeights(model, file, ['block9_conv1']), /has no layer block9_conv1; its layers are image, vgg19_preprocess, block1_conv1/);
      const oneWeight = { ...file, layers: new Map([['block1_conv1', file.layers.get('block1_conv1')!.slice(0, 1)]]) };
      assert.throws(() => setLayerWeights(model, oneWeight, ['block1_conv1']), /layer block1_conv1 has 1 weights in the file \(block1_conv1_W_1:0\) but the model's layer has 2/);
    } finally {
      model.dispose();
    }
  });
});
