import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/index';
import { EXIT_OK, EXIT_USAGE } from '../../src/cli/main';
import { cli } from '../support/cli';
import { trainTinyBaseRun } from '../support/equation-run';

describe('glyphlab eval', () => {
  const root = mkdtempSync(join(tmpdir(), 'glyphlab-cli-eval-'));
  const dataDir = join(root, 'data');
  const db = join(root, 'runs.db');
  let runId = '';
  before(async () => {
    await initBackend({ backend: 'wasm' });
    runId = (await trainTinyBaseRun(root, db, 48)).runId;
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('eval reports a split of any data folder, and compares the decoders', async () => {
    const result = await cli(['eval', '--run', runId, '--data', dataDir, '--split', 'val', '--compare-decoders', '--db', db, '--json']);
    assert.equal(result.code, EXIT_OK, result.err);
    const report = JSON.parse(result.out) as { samples: number; accuracy: number; characterErrorRate: number; decoderComparison: { samples: number } };
    assert.ok(report.samples >= 3 && report.samples <= 8, `val split of 48 images: ${report.samples}`);
    assert.ok(report.characterErrorRate >= 0);
    assert.equal(report.decoderComparison.samples, report.samples);
    const whole = await cli(['eval', '--run', runId, '--data', dataDir, '--db', db]);
    assert.equal(whole.code, EXIT_OK, whole.err);
    assert.match(whole.out, /: 48 images, decoder greedy/);
    assert.match(whole.out, /accuracy by label length:/);
  });

  test('an unknown run gets one clear line and exit code 2', async () => {
    const noRun = await cli(['eval', '--run', 'nope', '--data', dataDir, '--db', db]);
    assert.equal(noRun.code, EXIT_USAGE);
    assert.match(noRun.err, /no run "nope"/);
  });
});
