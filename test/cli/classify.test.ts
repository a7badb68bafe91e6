import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { initBackend } from '../../src/backend/index';
import { runCli, EXIT_OK, EXIT_USAGE } from '../../src/cli/main';
import { loadCharDataset } from '../../src/data/characters/source';
import { buildMlp } from '../../src/models/mlp';
import { saveModel } from '../../src/models/io';
import { loadQuantizedModel } from '../../src/models/quantize';
import { evaluateClassifier } from '../../src/training/classification';
import { cli } from '../support/cli';

const root = mkdtempSync(join(tmpdir(), 'glyphlab-cli-classify-'));
after(() => rmSync(root, { recursive: true, force: true }));


describe('glyphlab classify', () => {
  const modelDir = join(root, 'model');
  const data = ['--data', 'mnist', '--limit', '100', '--seed', '4', '--part', 'val'];

  before(async () => {
    process.env['GLYPHLAB_BACKEND'] = 'cpu';
    await initBackend();
    await saveModel(buildMlp({ hiddenUnits: [16] }), modelDir);
  });

  test('samples writes a PNG grid and prints class counts', async () => {
    const png = join(root, 'grid.png');
    const result = await cli(['classify', 'samples', '--out', png, '--count', '10', '--augment', ...data]);
    assert.equal(result.code, EXIT_OK, result.err);
    assert.match(result.out, /class counts: 0 1, 1 1, 2 1/);
    assert.match(result.out, /wrote a grid of 10 augmented images/);
    const meta = await sharp(readFileSync(png)).metadata();
    assert.deepEqual([meta.width, meta.height], [8 * 56 + 7 * 2, 2 * 56 + 2]);
  });

  test('evaluate reports the same accuracy as evaluateClassifier', async () => {
    const errors = join(root, 'errors.png');
    const result = await cli(['classify', 'evaluate', modelDir, '--json', '--errors', errors, ...data]);
    assert.equal(result.code, EXIT_OK, result.err);
    const json = JSON.parse(result.out);
    const { splits } = await loadCharDataset('mnist', { limit: 100, seed: 4 });
    const expected = evaluateClassifier(await loadQuantizedModel(modelDir), splits.val);
    assert.equal(json.accuracy, expected.accuracy);
    assert.equal(json.errors, expected.misclassified.length);
    assert.equal(json.perClass.length, 10);
    assert.ok((await sharp(readFileSync(errors)).metadata()).width! > 0);
  });

  test('quantize writes a 4x smaller uint8 model and compares accuracies', async () => {
    const out = join(root, 'uint8');
    const result = await cli(['classify', 'quantize', modelDir, '--out', out, '--json', ...data]);
    assert.equal(result.code, EXIT_OK, result.err);
    const json = JSON.parse(result.out);
    // Only the MLP's 784x16 kernel has 1024 values or more: the 16x10 kernel and the biases stay float32.
    assert.ok(json.ratio > 3.5 && json.ratio < 4, `ratio ${json.ratio}`);
    assert.ok(Math.abs(json.accuracyChange) <= 0.1, `accuracy change ${json.accuracyChange}`);
    const text = await cli(['classify', 'quantize', modelDir, '--out', out, '--dtype', 'int8', '--min-elements', '0']);
    assert.match(text.out, /int8 weights \d+ bytes \(float32 \d+, 4\.00x smaller\)/);
  });

  test('bad specifiers and missing arguments exit 2 with one line', async () => {
    const bad = await cli(['classify', 'samples', '--out', join(root, 'x.png'), '--data', 'emnist']);
    assert.equal(bad.code, EXIT_USAGE);
    assert.match(bad.err, /unknown data specifier "emnist"; expected mnist, idx:DIR or letters-csv:FILE/);
    const missing = await cli(['classify', 'evaluate']);
    assert.equal(missing.code, EXIT_USAGE);
    assert.match(missing.err, /missing MODEL_DIR/);
  });
});
