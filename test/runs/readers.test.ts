/**
 * Readers (runs/readers.ts): a tiny recorded run exported into a real folder and read back,
 * through the API and the CLI (`readers export`, `predict --model`, `train --init-from
 * reader:DIR`), and the reader shipped in data/readers/equations-wide reading fresh images of
 * the style space it was trained on.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/index';
import { EXIT_OK } from '../../src/cli/main';
import { createBatchSource } from '../../src/data/equations/batches';
import { loadLabeledImages } from '../../src/data/equations/load';
import { synthesizeEquations } from '../../src/data/equations/synth';
import { stylePreset } from '../../src/data/equations/synth-style';
import { ConfigError, DataError } from '../../src/errors';
import { EQUATION_ALPHABET } from '../../src/labels/alphabet';
import { sequenceMetrics } from '../../src/metrics/sequence';
import { exportReader, loadReader, READER_FILE, readerDir } from '../../src/runs/readers';
import { closeStore, openStore } from '../../src/tracker/store';
import { predictSequences } from '../../src/training/sequence';
import { projectRoot } from '../../src/util/paths';
import { cli } from '../support/cli';
import { trainTinyBaseRun } from '../support/equation-run';

describe('readers', () => {
  let dir: string;
  let dbPath: string;
  let runId: string;
  let readerPath: string;
  before(async () => {
    await initBackend({ backend: 'wasm' });
    dir = mkdtempSync(join(tmpdir(), 'glyphlab-readers-'));
    dbPath = join(dir, 'glyphlab.db');
    runId = (await trainTinyBaseRun(dir, dbPath)).runId;
    readerPath = join(dir, 'readers', 'tiny');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('exportReader writes the run\'s model byte for byte with a reader.json of its origin and figures', async () => {
    const store = openStore(dbPath, { readonly: true });
    let info;
    try {
      info = await exportReader(store, runId, readerPath);
    } finally {
      closeStore(store);
    }
    assert.deepEqual(readdirSync(readerPath).sort(), ['manifest.json', 'model.json', READER_FILE, 'weights.bin']);
    assert.deepEqual(readFileSync(join(readerPath, 'weights.bin')), readFileSync(join(dir, 'runs', runId, 'model', 'weights.bin')));
    const written = JSON.parse(readFileSync(join(readerPath, READER_FILE), 'utf8'));
    assert.deepEqual(written, info);
    assert.equal(info.name, 'tiny');
    assert.equal(info.run.id, runId);
    assert.equal(info.alphabet, EQUATION_ALPHABET);
    assert.deepEqual(info.input, { height: 32, width: 128, channels: 1 });
    assert.deepEqual(info.config?.['convFilters'], [8, 16, 16], 'the builder config a run starting from it is built with');
    assert.equal((info.data as { dir: string }).dir, join(dir, 'data'));
    assert.equal(info.scores[0]?.set, 'test');
    assert.equal(info.modelBytes, statSync(join(readerPath, 'weights.bin')).size + statSync(join(readerPath, 'model.json')).size);
    const reader = await loadReader(readerPath);
    try {
      assert.deepEqual(reader.model.inputs[0]!.shape, [null, 32, 128, 1]);
    } finally {
      reader.model.dispose();
    }
  });

  test('a changed file is refused by the manifest; an unknown name lists the readers there are', async () => {
    const copy = join(dir, 'readers', 'tampered');
    const store = openStore(dbPath, { readonly: true });
    try {
      await exportReader(store, runId, copy);
    } finally {
      closeStore(store);
    }
    const info = JSON.parse(readFileSync(join(copy, READER_FILE), 'utf8'));
    writeFileSync(join(copy, READER_FILE), JSON.stringify({ ...info, scores: [{ set: 'test', images: 1, accuracy: 1, cer: 0 }] }));
    await assert.rejects(loadReader(copy), (e: unknown) => e instanceof DataError && /reader\.json/.test(e.message));
    await assert.rejects(loadReader('no-such-reader'), (e: unknown) => e instanceof ConfigError && /no reader "no-such-reader".*equations-wide/.test(e.message));
    assert.throws(() => readerDir('../up'), (e: unknown) => e instanceof ConfigError && /reader name/.test(e.message));
  });

  test('glyphlab readers export, predict --model and train --init-from reader: on a reader folder', async () => {
    const out = join(dir, 'readers', 'cli');
    const exported = await cli(['readers', 'export', runId.slice(-6), 'cli', '--out', out, '--db', dbPath]);
    assert.equal(exported.code, EXIT_OK, exported.err);
    assert.match(exported.out, new RegExp(`^ {2}run +${runId} `, 'm'));
    const image = join(dir, 'data', 'images', readdirSync(join(dir, 'data', 'images'))[0]!);
    const read = await cli(['predict', '--model', out, image, '--json']);
    assert.equal(read.code, EXIT_OK, read.err);
    assert.match((JSON.parse(read.out) as { text: string }[])[0]!.text, /^[-+*=()0-9]*$/);
    const trained = await cli(['train', '--data', join(dir, 'data'), '--recipe', 'reference', '--init-from', `reader:${out}`, '--freeze-epochs', '1', '--epochs', '2',
      '--input-height', '32', '--input-width', '128', '--filters', '8,16,16', '--rnn', 'gru', '--rnn-units', '8', '--rnn-layers', '1', '--dropout', '0',
      '--batch-size', '8', '--workers', '0', '--replicas', '1', '--db', dbPath, '--json']);
    assert.equal(trained.code, EXIT_OK, trained.err);
    assert.match(trained.err, /weights from reader cli \(run .*\): 8 layers loaded/);
    const shown = await cli(['runs', 'show', (JSON.parse(trained.out) as { runId: string }).runId, '--db', dbPath]);
    assert.match(shown.out, new RegExp(`^ {2}from +reader cli \\(run ${runId}\\), 8 layers loaded, convolution blocks frozen for 1 epoch`, 'm'));
  });
});

describe('the shipped reader equations-wide', () => {
  let dir: string;
  before(async () => {
    await initBackend({ backend: 'wasm' });
    dir = mkdtempSync(join(tmpdir(), 'glyphlab-reader-wide-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('says where it came from, and reads fresh images of its style space as its figures say', async () => {
    const folder = join(projectRoot(), 'data', 'readers', 'equations-wide');
    assert.ok(existsSync(join(folder, READER_FILE)), `${folder} is shipped with glyphlab`);
    const reader = await loadReader(folder);
    try {
      assert.equal(reader.info.run.id, '20261206-193159-6a527a');
      assert.deepEqual(reader.info.input, { height: 32, width: 150, channels: 1 });
      assert.ok(reader.info.modelBytes < 3 * 2 ** 20, 'a few MB');
      assert.deepEqual(reader.info.scores.map((s) => s.set), ['test', 'held-out background', 'held-out fonts', 'held-out noise']);
      await synthesizeEquations({ outDir: join(dir, 'wide'), count: 40, seed: 'reader-test', style: stylePreset('wide'), width: 150, height: 32, workers: 0 });
      const { samples } = await loadLabeledImages(join(dir, 'wide'), { check: 'header' });
      const source = createBatchSource(samples, { height: 32, width: 150, channels: 1, batchSize: 40, shuffle: false, workers: 0 });
      try {
        const predictions = await predictSequences(reader.model, source, { loss: false });
        // 94% on its own test split: 40 fresh images read at least 80%.
        assert.ok(sequenceMetrics(predictions.truths, predictions.predictions).accuracy >= 0.8);
      } finally {
        await source.close();
      }
    } finally {
      reader.model.dispose();
    }
  });
});
