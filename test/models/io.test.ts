import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index';
import { DataError } from '../../src/errors';
import { loadModel, loadOptimizerState, readModelMeta, saveModel } from '../../src/models/io';
import { createRng } from '../../src/util/rng';

/**
 * A small dense model whose weights say which save they come from: every value is
 * `version + (i % 7) / 100`. 32x64 + 64 + 64x10 + 10 floats: 11,048 bytes of weights.
 */
function buildVersion(version: number): tf.LayersModel {
  const model = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [32], units: 64, activation: 'relu' }), tf.layers.dense({ units: 10 })],
  });
  model.setWeights(model.getWeights().map((w) => tf.tensor(Array.from({ length: w.size }, (_, i) => version + (i % 7) / 100), w.shape)));
  return model;
}

const WEIGHT_BYTES = (32 * 64 + 64 + 64 * 10 + 10) * 4;

/** Saves version `version` of the model into `dir` with an Adam state of `version` steps and `meta.epoch = version`. */
async function saveVersion(dir: string, version: number): Promise<void> {
  const model = buildVersion(version);
  const optimizer = tf.train.adam(0.01);
  try {
    const x = tf.ones([2, 32]);
    for (let step = 0; step < version; step++) optimizer.minimize(() => tf.mean(tf.square(model.apply(x) as tf.Tensor)) as tf.Scalar);
    x.dispose();
    // The steps moved the weights: put back the values that name the version.
    model.setWeights(buildVersion(version).getWeights());
    await saveModel(model, dir, { optimizer, meta: { epoch: version } });
  } finally {
    model.dispose();
    optimizer.dispose();
  }
}

/** Which version the model in `dir` is: from its first weight, its metadata and its optimizer's step count, which must agree. */
async function loadedVersion(dir: string, warnings: string[] = []): Promise<number> {
  const warn = (message: string): void => void warnings.push(message);
  const meta = readModelMeta(dir, { warn });
  const model = await loadModel(dir, { warn });
  const optimizer = tf.train.adam(0.01);
  try {
    assert.equal(await loadOptimizerState(dir, optimizer, { warn }), true);
    const weight = Math.round(model.getWeights()[0]!.dataSync()[0]!);
    const steps = (await optimizer.getWeights())[0]!.tensor.dataSync()[0];
    assert.equal(meta?.['epoch'], weight, 'meta.json and weights.bin come from one save');
    assert.equal(steps, weight, 'optimizer.bin and weights.bin come from one save');
    return weight;
  } finally {
    model.dispose();
    optimizer.dispose();
  }
}

/** The names in `folder` that start with `prefix`, sorted. */
function entries(folder: string, prefix: string): string[] {
  return readdirSync(folder).filter((name) => name.startsWith(prefix)).sort();
}

/** The id of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  assert.ok(child.pid > 0);
  return child.pid;
}

function garbage(bytes: number, seed: string): Buffer {
  const rng = createRng(seed);
  return Buffer.from(Array.from({ length: bytes }, () => rng.int(256)));
}

describe('saveModel and loadModel', () => {
  let work: string;
  /** Complete saves of version 1 and version 2, to copy into crash states. */
  let v1: string;
  let v2: string;

  before(async () => {
    await initBackend({ backend: 'cpu' });
    work = mkdtempSync(join(tmpdir(), 'glyphlab-io-'));
    v1 = join(work, 'v1', 'last');
    v2 = join(work, 'v2', 'last');
    await saveVersion(v1, 1);
    await saveVersion(v2, 2);
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  /** A fresh run folder holding the named copies: `{ last: v1, 'last.tmp-12': v2 }`. */
  function runFolder(name: string, copies: Record<string, string>): string {
    const folder = join(work, name);
    for (const [target, source] of Object.entries(copies)) cpSync(source, join(folder, target), { recursive: true });
    return folder;
  }

  describe('manifest (issue 37, item 13)', () => {
    test('a save writes manifest.json with the size and SHA-256 of every file it saved', () => {
      const manifest = JSON.parse(readFileSync(join(v2, 'manifest.json'), 'utf8')) as { files: Record<string, { bytes: number; sha256: string }> };
      assert.deepEqual(Object.keys(manifest.files).sort(), ['meta.json', 'model.json', 'optimizer.bin', 'optimizer.json', 'weights.bin']);
      for (const [name, entry] of Object.entries(manifest.files)) {
        const bytes = readFileSync(join(v2, name));
        assert.equal(entry.bytes, bytes.byteLength, name);
        assert.equal(entry.sha256, createHash('sha256').update(bytes).digest('hex'), name);
      }
      assert.equal(manifest.files['weights.bin']?.bytes, WEIGHT_BYTES);
    });

    test('8,000 garbage bytes over weights.bin are a DataError naming the file, the size and hash expected and found', async () => {
      const dir = join(runFolder('garbage-weights', { last: v2 }), 'last');
      const weights = readFileSync(join(dir, 'weights.bin'));
      garbage(8000, 'weights').copy(weights, 1000);
      writeFileSync(join(dir, 'weights.bin'), weights);
      const expectedHash = createHash('sha256').update(readFileSync(join(v2, 'weights.bin'))).digest('hex');
      await assert.rejects(loadModel(dir), (error: unknown) => {
        assert.ok(error instanceof DataError, String(error));
        assert.ok(error.message.startsWith(`${join(dir, 'weights.bin')}: expected ${WEIGHT_BYTES} bytes (sha256 ${expectedHash}), found ${WEIGHT_BYTES} bytes with sha256 `), error.message);
        assert.match(error.message, /the saved model is damaged/);
        return true;
      });
    });

    test('an empty optimizer.bin is a DataError naming the file, not a shape error', async () => {
      const dir = join(runFolder('empty-optimizer', { last: v2 }), 'last');
      const expected = readFileSync(join(dir, 'optimizer.bin')).byteLength;
      writeFileSync(join(dir, 'optimizer.bin'), '');
      const optimizer = tf.train.adam(0.01);
      try {
        await assert.rejects(loadOptimizerState(dir, optimizer), (error: unknown) =>
          error instanceof DataError && error.message.startsWith(`${join(dir, 'optimizer.bin')}: expected ${expected} bytes (sha256 `) && / found 0; the saved model is damaged/.test(error.message));
      } finally {
        optimizer.dispose();
      }
    });

    test('model.json, meta.json and optimizer.json are checked too, and a listed file that is gone is named', async () => {
      const dir = join(runFolder('edited', { last: v2 }), 'last');
      writeFileSync(join(dir, 'meta.json'), JSON.stringify({ epoch: 99 }));
      assert.throws(() => readModelMeta(dir), (error: unknown) => error instanceof DataError && error.message.startsWith(`${join(dir, 'meta.json')}: expected `));
      const model = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { generatedBy?: string };
      writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...model, generatedBy: 'an edit' }));
      await assert.rejects(loadModel(dir), (error: unknown) => error instanceof DataError && error.message.startsWith(`${join(dir, 'model.json')}: expected `));
      rmSync(join(dir, 'optimizer.json'));
      const optimizer = tf.train.adam(0.01);
      try {
        await assert.rejects(loadOptimizerState(dir, optimizer), (error: unknown) =>
          error instanceof DataError && error.message.startsWith(`${join(dir, 'optimizer.json')}: does not exist; expected `));
      } finally {
        optimizer.dispose();
      }
    });

    test('a manifest.json that is not JSON is named, alone or beside a copy left by a crash', async () => {
      const run = runFolder('bad-manifest', { last: v2 });
      writeFileSync(join(run, 'last', 'manifest.json'), '{"format": "glyphlab-saved-folder", "files": {');
      const named = (error: unknown): boolean => error instanceof DataError && error.message.startsWith(`${join(run, 'last', 'manifest.json')} is not valid JSON`);
      await assert.rejects(loadModel(join(run, 'last')), named);
      const partial = join(run, `last.tmp-${deadPid()}`);
      cpSync(v2, partial, { recursive: true });
      rmSync(join(partial, 'manifest.json'), { force: true });
      assert.throws(() => readModelMeta(join(run, 'last')), named);
    });

    test('a folder saved before manifests loads unchecked, and a damaged file in it is still named', async () => {
      const dir = join(runFolder('legacy', { last: v2 }), 'last');
      rmSync(join(dir, 'manifest.json'), { force: true });
      assert.equal(await loadedVersion(dir), 2);

      writeFileSync(join(dir, 'optimizer.bin'), '');
      const optimizer = tf.train.adam(0.01);
      try {
        await assert.rejects(loadOptimizerState(dir, optimizer), (error: unknown) =>
          error instanceof DataError && error.message.startsWith(`${join(dir, 'optimizer.bin')}: ${join(dir, 'optimizer.json')} describes `) && /found 0; the saved model is damaged/.test(error.message));
      } finally {
        optimizer.dispose();
      }
      writeFileSync(join(dir, 'weights.bin'), readFileSync(join(v2, 'weights.bin')).subarray(0, 5000));
      await assert.rejects(loadModel(dir), (error: unknown) =>
        error instanceof DataError && error.message.startsWith(`${join(dir, 'weights.bin')}: ${join(dir, 'model.json')} describes ${WEIGHT_BYTES} bytes of weights, found 5000`));
    });
  });

  describe('crash states of a save (issue 37, item 4)', () => {
    // Each state is what a crash at one point of a save of version 2 over version 1 leaves; a save
    // writes last.tmp-PID/ (its manifest last), renames last/ to last.old-PID/, last.tmp-PID/ to
    // last/, then removes last.old-PID/.

    test('killed between the two renames (no last/, both copies complete): the new copy is renamed back, with a warning', async () => {
      const pid = deadPid();
      const run = runFolder('between-renames', { [`last.old-${pid}`]: v1, [`last.tmp-${pid}`]: v2 });
      const warnings: string[] = [];
      assert.equal(await loadedVersion(join(run, 'last'), warnings), 2);
      assert.deepEqual(entries(run, 'last'), ['last']);
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0]!, new RegExp(`last was missing .*restored it from .*last\\.tmp-${pid} \\(complete, saved `));
    });

    test('killed between the renames after a power loss cut the new copy short: the old copy is renamed back', async () => {
      const pid = deadPid();
      const run = runFolder('between-renames-torn', { [`last.old-${pid}`]: v1, [`last.tmp-${pid}`]: v2 });
      writeFileSync(join(run, `last.tmp-${pid}`, 'weights.bin'), '');
      assert.equal(await loadedVersion(join(run, 'last')), 1);
      assert.deepEqual(entries(run, 'last'), ['last'], 'the torn copy is removed once last/ is complete');
    });

    test('killed while writing the new copy (no manifest yet): last/ is used and the partial copy removed; without last/ the load fails naming it', async () => {
      const pid = deadPid();
      const run = runFolder('writing', { last: v1, [`last.tmp-${pid}`]: v2 });
      rmSync(join(run, `last.tmp-${pid}`, 'manifest.json'), { force: true });
      rmSync(join(run, `last.tmp-${pid}`, 'optimizer.bin'));
      const warnings: string[] = [];
      assert.equal(await loadedVersion(join(run, 'last'), warnings), 1);
      assert.deepEqual(entries(run, 'last'), ['last']);
      assert.deepEqual(warnings, []);

      // A first save killed so: there is nothing complete to stand in, and the load says last/ is missing.
      const first = runFolder('writing-first', { [`last.tmp-${pid}`]: v2 });
      rmSync(join(first, `last.tmp-${pid}`, 'manifest.json'), { force: true });
      await assert.rejects(loadModel(join(first, 'last')), (error: unknown) =>
        error instanceof DataError && error.message.includes(`${join(first, 'last', 'model.json')} does not exist`));
      assert.equal(readModelMeta(join(first, 'last')), undefined);
    });

    test('killed after writing the new copy, before the first rename: last/ (the committed save) is used', async () => {
      const pid = deadPid();
      const run = runFolder('before-renames', { last: v1, [`last.tmp-${pid}`]: v2 });
      assert.equal(await loadedVersion(join(run, 'last')), 1);
      assert.deepEqual(entries(run, 'last'), ['last']);
    });

    test('killed after the second rename, before the old copy was removed: last/ is used and the old copy removed', async () => {
      const pid = deadPid();
      const run = runFolder('after-renames', { last: v2, [`last.old-${pid}`]: v1 });
      assert.equal(await loadedVersion(join(run, 'last')), 2);
      assert.deepEqual(entries(run, 'last'), ['last']);
    });

    test('copies left by glyphlab before manifests (the crash of the issue): the old copy, once last/, is renamed back', async () => {
      const pid = deadPid();
      const run = runFolder('legacy-crash', { [`last.old-${pid}`]: v1, [`last.tmp-${pid}`]: v2 });
      for (const copy of ['old', 'tmp']) rmSync(join(run, `last.${copy}-${pid}`, 'manifest.json'), { force: true });
      const warnings: string[] = [];
      assert.equal(await loadedVersion(join(run, 'last'), warnings), 1);
      assert.match(warnings[0] ?? '', /restored it from .*last\.old-\d+ \(saved before glyphlab wrote manifests, so unchecked\)/);
    });

    test('a damaged last/ beside a complete copy: the copy is read, with a warning, and both are kept for the next save', async () => {
      const pid = deadPid();
      const run = runFolder('damaged-final', { last: v2, [`last.old-${pid}`]: v1 });
      writeFileSync(join(run, 'last', 'weights.bin'), garbage(WEIGHT_BYTES, 'damaged'));
      const warnings: string[] = [];
      assert.equal(await loadedVersion(join(run, 'last'), warnings), 1);
      assert.match(warnings[0] ?? '', /last is damaged \(.*weights\.bin: expected 11048 bytes .*\); reading .*last\.old-\d+ \(complete, saved .*\) instead/);
      assert.deepEqual(entries(run, 'last'), ['last', `last.old-${pid}`]);
    });

    test("a running process's copy newer than last/ is a save in progress: kept; one older than last/ is a leftover: removed", async () => {
      const live = process.ppid;
      const run = runFolder('live', { last: v1, [`last.tmp-${live}`]: v2, [`best.old-${live}`]: v1, best: v2 });
      const past = new Date(Date.now() - 3_600_000);
      utimesSync(join(run, `best.old-${live}`), past, past);
      assert.equal(await loadedVersion(join(run, 'last')), 1);
      assert.equal(await loadedVersion(join(run, 'best')), 2);
      assert.deepEqual(entries(run, ''), ['best', 'last', `last.tmp-${live}`]);
    });

    test('a missing last/ beside the complete copy of a running process (a save in progress) is read in place', async () => {
      const live = process.ppid;
      const run = runFolder('in-progress', { [`last.old-${live}`]: v1, [`last.tmp-${live}`]: v2 });
      const warnings: string[] = [];
      assert.equal(await loadedVersion(join(run, 'last'), warnings), 2);
      assert.deepEqual(entries(run, 'last'), [`last.old-${live}`, `last.tmp-${live}`], 'nothing renamed under a running save');
      assert.match(warnings[0] ?? '', new RegExp(`reading .*last\\.tmp-${live} .*a copy of process ${live}, which still runs`));
    });

    test("the next save removes a failed save's leftover (best.tmp-PID of a full disk) and replaces last/", async () => {
      const pid = deadPid();
      const run = runFolder('next-save', { best: v1, [`best.tmp-${pid}`]: v2 });
      rmSync(join(run, `best.tmp-${pid}`, 'manifest.json'), { force: true });
      await saveVersion(join(run, 'best'), 3);
      assert.deepEqual(entries(run, 'best'), ['best']);
      assert.equal(await loadedVersion(join(run, 'best')), 3);
    });
  });

  /**
   * Writes a script that saves `versions` of the model into `dir` in turn, as {@link saveVersion}
   * does, printing `save failed: MESSAGE` when a save throws. Run it with `node --import tsx`.
   */
  function saveScript(dir: string, versions: readonly number[]): string {
    const script = join(work, `save-${versions.join('-')}.ts`);
    writeFileSync(
      script,
      [
        `import * as tf from ${JSON.stringify(require.resolve('@tensorflow/tfjs'))};`,
        `import { saveModel } from ${JSON.stringify(join(__dirname, '..', '..', 'src', 'models', 'io'))};`,
        `const values = (w: tf.Tensor, version: number) => tf.tensor(Array.from({ length: w.size }, (_, i) => version + (i % 7) / 100), w.shape);`,
        `async function main(): Promise<void> {`,
        `  for (const version of ${JSON.stringify(versions)}) {`,
        `    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [32], units: 64, activation: 'relu' }), tf.layers.dense({ units: 10 })] });`,
        `    const optimizer = tf.train.adam(0.01);`,
        `    const x = tf.ones([2, 32]);`,
        `    for (let step = 0; step < version; step++) optimizer.minimize(() => tf.mean(tf.square(model.apply(x) as tf.Tensor)) as tf.Scalar);`,
        `    model.setWeights(model.getWeights().map((w) => values(w, version)));`,
        `    try {`,
        `      await saveModel(model, ${JSON.stringify(dir)}, { optimizer, meta: { epoch: version } });`,
        `    } catch (error) {`,
        `      console.log('save failed: ' + (error as Error).message);`,
        `    }`,
        `  }`,
        `}`,
        `void main();`,
      ].join('\n'),
    );
    return script;
  }

  test("a save that fails writing (a file over the size limit, as on a full disk) leaves the previous folder and no temporary one (item 4)", { skip: process.platform === 'win32' ? 'needs ulimit' : false }, async () => {
    const run = runFolder('write-fails', { best: v1 });
    // 8 KiB per file: weights.bin (11,048 bytes) fails with EFBIG, as a full disk fails with ENOSPC.
    const child = spawnSync('bash', ['-c', `ulimit -f 8 && exec "${process.execPath}" --import tsx "${saveScript(join(run, 'best'), [2])}"`], {
      encoding: 'utf8',
      cwd: join(__dirname, '..', '..'),
    });
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(entries(run, 'best'), ['best'], 'no best.tmp-PID left behind');
    assert.match(child.stdout, new RegExp(`save failed: saving ${join(run, 'best')} failed \\(EFBIG[^)]*\\); the folder is as it was before this save`));
    assert.equal(await loadedVersion(join(run, 'best')), 1);
  });

  describe('a real crash at each rename and fsync of a save (strace fault injection)', () => {
    const strace = spawnSync('strace', ['-qq', '-e', 'trace=none', 'true']);
    const skip = strace.status === 0 ? false : 'strace is not installed or cannot trace here';

    /**
     * Saves version 1 then version 2 into `dir` in a child that strace kills at the `when`-th
     * call of `syscall` (node and tsx make none of their own). Returns how the child ended.
     */
    function crashChild(dir: string, syscall: 'rename' | 'fsync', when: number): NodeJS.Signals | null {
      const syscalls = syscall === 'rename' ? '?rename,?renameat,?renameat2' : 'fsync';
      const child = spawnSync(
        'strace',
        ['-f', '-qq', '-e', `trace=${syscalls}`, '-e', `inject=${syscalls}:error=EIO:signal=KILL:when=${when}`, '-o', '/dev/null', process.execPath, '--import', 'tsx', saveScript(dir, [1, 2])],
        { encoding: 'utf8', cwd: join(__dirname, '..', '..') },
      );
      return child.signal ?? (child.status === 137 ? 'SIGKILL' : null);
    }

    test('renames: killed at the first save, before the second save, between its renames; each time one complete save loads', { skip }, async () => {
      // Rename 1 is the first save's only one; 2 and 3 are the second save's.
      for (const [when, expected] of [[1, 1], [2, 1], [3, 2]] as const) {
        const run = join(work, `strace-rename-${when}`);
        assert.equal(crashChild(join(run, 'last'), 'rename', when), 'SIGKILL', `killed at rename ${when}`);
        assert.equal(await loadedVersion(join(run, 'last')), expected, `killed at rename ${when}`);
        assert.deepEqual(entries(run, 'last'), ['last'], `killed at rename ${when}`);
      }
    });

    test('fsyncs: killed at the second save\'s first file, manifest, folder and parent, one whole save loads and nothing is left beside it', { skip }, async () => {
      // A save fsyncs 5 files, the manifest, its folder and (after the renames) the parent: 8 calls.
      for (const [when, expected] of [[9, 1], [14, 1], [15, 1], [16, 2]] as const) {
        const run = join(work, `strace-fsync-${when}`);
        assert.equal(crashChild(join(run, 'last'), 'fsync', when), 'SIGKILL', `killed at fsync ${when}`);
        assert.equal(await loadedVersion(join(run, 'last')), expected, `killed at fsync ${when}`);
        assert.deepEqual(entries(run, 'last'), ['last'], `killed at fsync ${when}`);
      }
    });
  });
});
