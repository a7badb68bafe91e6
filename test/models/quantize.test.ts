import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
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
        const ratio = saved.floatWeightBytes / saved.weightBytes;
        assert.ok(Math.abs(ratio - (dtype === 'uint16' ? 2 : 4)) < 0.01, `size ratio ${ratio}`);
        assert.equal(statSync(saved.weightsPath).size, saved.weightBytes);
        const json = JSON.parse(readFileSync(saved.modelPath, 'utf8'));
        assert.equal(json.weightsManifest[0].weights[0].quantization.dtype, dtype);
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

  test('uint8 artifacts are standard tfjs: tfjs itself dequantises them', async () => {
    const model = buildLenet({ convFilters: [2, 2], denseUnits: [] });
    const q = await quantizeModel(model, { dtype: 'uint8' });
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
