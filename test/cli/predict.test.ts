import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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
    // CPU time, not wall time, which a busy machine stretches: decoding 400 million pixels would
    // take seconds of CPU; the refusal took about 10 ms on an idle machine.
    const started = process.cpuUsage();
    const result = await cli(['predict', '--run', runId, bomb, '--db', db]);
    const used = process.cpuUsage(started);
    assert.equal(result.code, EXIT_USAGE);
    assert.match(result.err, /bomb\.png: (PNG|the image) is 20000x20000 = 400000000 pixels, more than the limit of 50000000 .*GLYPHLAB_MAX_IMAGE_PIXELS=N/);
    assert.ok(used.user + used.system < 3_000_000, `took ${(used.user + used.system) / 1000} ms of CPU`);
  });
  test('a FIFO is refused at once, before the model loads, not read forever', { timeout: 120_000 }, async () => {
    // Issue #37 item 14: a FIFO hung predict.
    const fifo = join(root, 'pipe.png');
    execFileSync('mkfifo', [fifo]);
    const result = await cli(['predict', '--run', runId, fifo, '--db', db]);
    assert.equal(result.code, EXIT_USAGE);
    assert.equal(result.err.trim().split('\n').length, 1, result.err);
    assert.match(result.err, /pipe\.png is a FIFO \(named pipe\), not a regular file: expected an image file/);
    assert.equal(result.out, '', 'nothing was predicted');
  });

  test('/dev/zero is refused as a character device, not read into memory', { timeout: 120_000 }, async () => {
    // Issue #37 item 14: `predict --run ID /dev/zero` reached 8.3 GB in 60 s.
    const result = await cli(['predict', '--run', runId, '/dev/zero', '--db', db]);
    assert.equal(result.code, EXIT_USAGE);
    assert.match(result.err, /\/dev\/zero is a character device, not a regular file: expected an image file/);
  });

  test('an image file above GLYPHLAB_MAX_IMAGE_BYTES is refused naming its size, the limit and the variable', async () => {
    const image = readdirSync(join(dataDir, 'images')).map((f) => join(dataDir, 'images', f))[0]!;
    const size = readFileSync(image).length;
    const previous = process.env['GLYPHLAB_MAX_IMAGE_BYTES'];
    process.env['GLYPHLAB_MAX_IMAGE_BYTES'] = String(size - 1);
    try {
      const result = await cli(['predict', '--run', runId, image, '--db', db]);
      assert.equal(result.code, EXIT_USAGE);
      assert.match(result.err, new RegExp(`is ${Number((size / 1024).toFixed(1))} KB \\(${size} bytes\\), more than the limit of .* \\(${size - 1} bytes\\) for an image file; GLYPHLAB_MAX_IMAGE_BYTES=N \\(bytes\\) raises it`));
    } finally {
      if (previous === undefined) delete process.env['GLYPHLAB_MAX_IMAGE_BYTES'];
      else process.env['GLYPHLAB_MAX_IMAGE_BYTES'] = previous;
    }
    assert.equal((await cli(['predict', '--run', runId, image, '--db', db])).code, EXIT_OK, 'the same image under the default limit');
  });
});
