import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BatchNorm } from '../../src/models/layers/batch-norm';
import { initBackend } from '../../src/backend/index';
import { buildLenet } from '../../src/models/lenet';
import { loadQuantizedArtifacts, loadQuantizedModel, quantizeModel, quantizeValues, saveQuantizedModel } from '../../src/models/quantize';
import { DataError } from '../../src/errors';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

describe('weight quantisation', () => {
  before(async () => {
    await initBackend({ backend: 'cpu' });
  });

  test('quantizeValues: uint8 keeps 0 exact and errs by at most half a step', () => {
    const values = Float32Array.from([-0.3, 0, 0.05, 0.7, 0.2]);
    const { bytes, quantization } = quantizeValues(values, 'uint8');
    assert.equal(bytes.length, 5);
    const back = [...bytes].map((q) => q * quantization.scale + (quantization.min ?? 0));
    assert.equal(back[1], 0, 'zero stays exactly zero');
    assert.ok(maxAbsDiff(back, values) <= quantization.scale / 2 + 1e-7);
    const int8 = quantizeValues(values, 'int8');
    const back8 = [...new Int8Array(int8.bytes.buffer)].map((q) => q * int8.quantization.scale);
    assert.ok(maxAbsDiff(back8, values) <= int8.quantization.scale / 2 + 1e-7);
    assert.deepEqual([...quantizeValues(Float32Array.from([2, 2]), 'uint8').bytes].length, 2, 'constant tensors do not divide by zero');
  });

  for (const dtype of ['uint8', 'int8', 'uint16'] as const) {
    test(`${dtype}: the saved model is smaller, loads back and predicts like the float model`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'glyphlab-quant-'));
      const model = buildLenet({ convFilters: [4, 8], denseUnits: [16] });
      try {
        const saved = await saveQuantizedModel(model, dir, { dtype });
        // Kernels of 1024 values or more are integers; the biases (and conv1's 100-value kernel) stay float32.
        const bytesPerValue = dtype === 'uint16' ? 2 : 1;
        const expected = model.weights.reduce((sum, w) => {
          const n = (w.shape as number[]).reduce((a, b) => a * b, 1);
          return sum + n * (n >= 1024 ? bytesPerValue : 4);
        }, 0);
        assert.equal(saved.weightBytes, expected);
        assert.ok(saved.floatWeightBytes / saved.weightBytes > (dtype === 'uint16' ? 1.5 : 2.5), `size ratio ${saved.floatWeightBytes / saved.weightBytes}`);
        assert.equal(statSync(saved.weightsPath).size, saved.weightBytes);
        const json = JSON.parse(readFileSync(saved.modelPath, 'utf8'));
        const specs = json.weightsManifest[0].weights as { name: string; shape: number[]; quantization?: { dtype: string } }[];
        for (const spec of specs) {
          const n = spec.shape.reduce((a, b) => a * b, 1);
          assert.equal(spec.quantization?.dtype, n >= 1024 ? dtype : undefined, spec.name);
        }
        const loaded = await loadQuantizedModel(dir);
        const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 7);
        const [a, b] = tf.tidy(() => [(model.predict(x) as tf.Tensor).dataSync(), (loaded.predict(x) as tf.Tensor).dataSync()]);
        const scale = Math.max(...Array.from(a!, Math.abs));
        assert.ok(maxAbsDiff(a!, b!) < (dtype === 'uint16' ? 1e-3 : 0.05) * scale + 1e-6, `logits differ by ${maxAbsDiff(a!, b!)} (scale ${scale})`);
        x.dispose();
        loaded.dispose();
      } finally {
        model.dispose();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  test('a batch-normalised CNN keeps its accuracy: batch-norm statistics stay float32', async () => {
    const model = buildLenet({ convFilters: [8, 16], kernelSize: 3, convsPerBlock: 2, batchNorm: true, denseUnits: [32] });
    try {
      // Moving variances spread over [0.01, 4], as after training: affine uint8 over [0, 4] would round the small ones to 0.
      const batchNorms = model.layers.filter((l) => l.getClassName() === BatchNorm.className);
      assert.equal(batchNorms.length, 4);
      for (const layer of batchNorms) {
        const [gamma, beta, mean, variance] = layer.getWeights();
        const channels = variance!.shape[0]!;
        const spread = tf.tensor1d(Array.from({ length: channels }, (_, i) => (i === 0 ? 4 : 0.01 + i * 0.001)));
        layer.setWeights([gamma!, beta!, mean!, spread]);
        spread.dispose();
      }
      const x = tf.randomUniform([8, 28, 28, 1], 0, 1, 'float32', 3);
      const float = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
      const scale = Math.max(...Array.from(float, Math.abs));
      const logitsOf = async (minElements: number): Promise<Float32Array> => {
        const loaded = await loadQuantizedArtifacts(await quantizeModel(model, { dtype: 'uint8', minElements }));
        const out = tf.tidy(() => (loaded.predict(x) as tf.Tensor).dataSync() as Float32Array);
        loaded.dispose();
        return out;
      };
      const kept = maxAbsDiff(float, await logitsOf(1024));
      const all = maxAbsDiff(float, await logitsOf(0));
      assert.ok(kept < 0.05 * scale, `with float32 batch-norm statistics the logits differ by ${kept} (scale ${scale})`);
      assert.ok(all > 4 * kept, `quantising the statistics too is much worse: ${all} vs ${kept}`);
      x.dispose();
    } finally {
      model.dispose();
    }
  });

  test('uint8 artifacts are standard tfjs: tfjs itself dequantises them', async () => {
    const model = buildLenet({ convFilters: [2, 2], denseUnits: [] });
    const q = await quantizeModel(model, { dtype: 'uint8', minElements: 0 });
    assert.ok(q.weightSpecs.every((spec) => spec.quantization?.dtype === 'uint8'), 'minElements 0 quantises every weight');
    const viaTfjs = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: q.modelTopology, weightSpecs: q.weightSpecs as tf.io.WeightsManifestEntry[], weightData: q.weightData }));
    const viaUs = await loadQuantizedArtifacts(q);
    const [w1, w2] = [viaTfjs.getWeights()[0]!.dataSync(), viaUs.getWeights()[0]!.dataSync()];
    assert.deepEqual([...w1], [...w2]);
    [model, viaTfjs, viaUs].forEach((m) => m.dispose());
  });

  test('a truncated weights file or a missing folder is a DataError', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glyphlab-quant-'));
    const model = buildLenet({ convFilters: [2, 2], denseUnits: [] });
    try {
      const saved = await saveQuantizedModel(model, dir, { dtype: 'int8' });
      writeFileSync(saved.weightsPath, readFileSync(saved.weightsPath).subarray(0, 50));
      await assert.rejects(loadQuantizedModel(dir), (e: unknown) => e instanceof DataError && /model\.json: weight .* needs bytes .* but the weights hold 50; the file is truncated/.test(e.message));
      await assert.rejects(loadQuantizedModel(join(dir, 'nope')), /model\.json does not exist/);
      await assert.rejects(quantizeModel(model, { dtype: 'int4' as 'int8' }), /quantisation dtype "int4" is not one of: uint8, uint16, int8/);
    } finally {
      model.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
