import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/index';
import { EXIT_OK, EXIT_USAGE } from '../../src/cli/main';
import { cli } from '../support/cli';
import { trainTinyBaseRun } from '../support/equation-run';
import { writePngBomb } from '../support/png-bomb';

describe('glyphlab predict', () => {
  const root = mkdtempSync(join(tmpdir(), 'glyphlab-cli-predict-'));
  const dataDir = join(root, 'data');
  const db = join(root, 'runs.db');
  let runId = '';
  before(async () => {
    await initBackend({ backend: 'wasm' });
    runId = (await trainTinyBaseRun(root, db)).runId;
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('predict reads each image', async () => {
    const images = readdirSync(join(dataDir, 'images')).slice(0, 2).map((f) => join(dataDir, 'images', f));
    const result = await cli(['predict', '--run', runId, ...images, '--decoder', 'grammar', '--db', db, '--json']);
    assert.equal(result.code, EXIT_OK, result.err);
    const read = JSON.parse(result.out) as { image: string; text: string }[];
    assert.deepEqual(read.map((r) => r.image), images);
    for (const r of read) assert.match(r.text, /^[-+*=()0-9]*$/);
  });

  test('a missing image gets one clear line and a failure exit code', async () => {
    const missingImage = await cli(['predict', '--run', runId, join(root, 'missing.png'), '--db', db]);
    assert.notEqual(missingImage.code, EXIT_OK);
    assert.match(missingImage.err, /missing\.png/);
  });

  test('a decompression bomb is refused from its header, naming its size and the limit, before it is decoded', async () => {
    const bomb = join(root, 'bomb.png');
    await writePngBomb(bomb, 20000, 20000);
    const started = Date.now();
    const result = await cli(['predict', '--run', runId, bomb, '--db', db]);
    assert.equal(result.code, EXIT_USAGE);
    assert.match(result.err, /bomb\.png: (PNG|the image) is 20000x20000 = 400000000 pixels, more than the limit of 50000000 .*GLYPHLAB_MAX_IMAGE_PIXELS=N/);
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
  });
});
