import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_OK, EXIT_USAGE, runCli } from '../../src/cli/main';
import { synthesizeEquations } from '../../src/data/equations/synth';
import { getMetricHistory, getRun } from '../../src/tracker/query';
import { closeStore, openStore } from '../../src/tracker/store';
import { projectRoot } from '../../src/util/paths';
import { cli, trainAndInterrupt } from '../support/cli';

const root = mkdtempSync(join(tmpdir(), 'glyphlab-cli-train-'));
const dataDir = join(root, 'eq');
const db = join(root, 'runs.db');
after(() => rmSync(root, { recursive: true, force: true }));


/** A tiny CRNN: enough to prove the wiring, fast on two cores. */
const TINY = ['--input-height', '32', '--input-width', '150', '--filters', '8,16', '--rnn-units', '16', '--batch-size', '16', '--workers', '0'];

function withStore<T>(fn: (store: ReturnType<typeof openStore>) => T): T {
  const store = openStore(db);
  try {
    return fn(store);
  } finally {
    closeStore(store);
  }
}

/**
 * Starts `glyphlab ARGS`, sends SIGTERM once stderr shows `split 8:1:1` (logged just before the
 * run's recording and the replica threads start), and checks the process ended at once, by that
 * signal, saying nothing was recorded, with no database at `dbPath`.
 */
async function expectQuitDuringStartUp(args: string[], dbPath: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const child = spawn(process.execPath, [join(projectRoot(), 'scripts', 'glyphlab.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let err = '';
  let signalledAt = 0;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
    if (/split 8:1:1/.test(err) && signalledAt === 0) {
      signalledAt = Date.now();
      child.kill('SIGTERM');
    }
  });
  const ended = await exited;
  const seconds = (Date.now() - signalledAt) / 1000;
  assert.deepEqual(ended, { code: null, signal: 'SIGTERM' }, err);
  assert.ok(seconds < 3, `ended ${seconds} s after SIGTERM`);
  assert.match(err, /SIGTERM: quitting; training had not begun, so nothing was recorded/);
  assert.ok(!existsSync(dbPath), 'no run and no database');
  return err;
}

describe('glyphlab train', () => {
  let runId = '';
  before(async () => {
    await synthesizeEquations({ outDir: dataDir, count: 48, seed: 9, workers: 0 });
  });

  test('train records a finished run: per-epoch validation, checkpoints, the model and an evaluation report', async () => {
    const result = await cli(['train', '--data', dataDir, '--recipe', 'reference', '--epochs', '2', ...TINY, '--rnn-layers', '1', '--bn-momentum', '0.9', '--strided-stem', '--dropout', '0', '--augment-shear', '0.2', '--augment-stroke', '0.3', '--db', db, '--tag', 'ci', '--json']);
    assert.equal(result.code, EXIT_OK, result.err);
    const summary = JSON.parse(result.out) as { runId: string; status: string; testMetrics: Record<string, number>; runDir: string };
    runId = summary.runId;
    assert.equal(summary.status, 'finished');
    assert.ok(summary.testMetrics['test_accuracy']! >= 0 && summary.testMetrics['test_cer']! >= 0);
    assert.match(result.err, /epoch 2\/2: loss [\d.]+, lr 1\.0e-3, val_accuracy [\d.]+, val_cer [\d.]+, val_loss/);
    withStore((store) => {
      const run = getRun(store, runId);
      assert.equal(run.status, 'finished');
      assert.deepEqual(run.tags, ['ci']);
      assert.equal((run.config?.['crnn'] as { inputHeight: number }).inputHeight, 32);
      assert.equal(run.config?.['recipe'], 'reference');
      assert.deepEqual([run.params['model.rnnLayers'], run.params['model.bnMomentum'], run.params['model.stridedStem'], run.params['model.dropout']], [1, 0.9, true, 0], 'the architecture options reach the model and its record');
      assert.equal(run.params['data.imageCheck'], 'decode', 'the record says every image was decoded before training');
      assert.deepEqual([run.params['data.augment.maxShear'], run.params['data.augment.maxStroke'], run.params['data.augment.maxStretch']], [0.2, 0.3, 0], 'the shape augmentation given, and only it');
      const kinds = run.artifacts.map((a) => a.kind).sort();
      // One entry per file, however many epochs rewrote the checkpoints.
      assert.deepEqual(kinds, ['checkpoint-best', 'checkpoint-last', 'eval-report', 'model']);
      assert.equal(getMetricHistory(store, runId, ['val_accuracy']).length, 2);
      assert.ok(getMetricHistory(store, runId, ['batch_loss']).length >= 4, 'batch losses are recorded');
    });
    assert.equal(summary.runDir, join(root, 'runs', runId), 'run files live beside the database');
    const report = JSON.parse(readFileSync(join(summary.runDir, 'eval-report.json'), 'utf8')) as { split: string; samples: number; byLength: unknown[] };
    assert.equal(report.split, 'test');
    assert.ok(report.samples > 0 && report.byLength.length > 0);
  });

  test('train --model vgg19-crnn records both fine-tuning phases in one run, from random init when no weights file exists', async () => {
    const previous = process.env['GLYPHLAB_EXPERIMENTS_DIR'];
    process.env['GLYPHLAB_EXPERIMENTS_DIR'] = join(root, 'no-weights-here');
    try {
      const result = await cli(['train', '--model', 'vgg19-crnn', '--data', dataDir, '--epochs', '2', '--phase1-epochs', '1', '--filter-divisor', '16',
        '--input-height', '32', '--input-width', '200', '--rnn-units', '16', '--batch-size', '16', '--workers', '0', '--limit', '16', '--db', db, '--json']);
      assert.equal(result.code, EXIT_OK, result.err);
      assert.match(result.err, /vgg19_weights_tf_dim_ordering_tf_kernels_notop\.h5/);
      assert.match(result.err, /VGG19-CRNN: random initialisation/);
      const { runId: id } = JSON.parse(result.out) as { runId: string };
      withStore((store) => {
        const run = getRun(store, id);
        assert.equal(run.status, 'finished');
        assert.equal(run.params['model.weights'], 'random', 'the weights it started from: random, for want of the file');
        const phases = getMetricHistory(store, id, ['phase']).map((p) => p.value);
        assert.deepEqual(phases, [1, 2]);
      });
    } finally {
      if (previous === undefined) delete process.env['GLYPHLAB_EXPERIMENTS_DIR'];
      else process.env['GLYPHLAB_EXPERIMENTS_DIR'] = previous;
    }
  });

  test('train --model mlp|cnn trains a character classifier on a data specifier and records it', async () => {
    const result = await cli(['train', '--model', 'mlp', '--data', 'mnist', '--limit', '300', '--epochs', '2', '--db', db, '--json']);
    assert.equal(result.code, EXIT_OK, result.err);
    const summary = JSON.parse(result.out) as { runId: string; status: string; testMetrics: Record<string, number> };
    assert.equal(summary.status, 'finished');
    assert.ok(summary.testMetrics['test_accuracy']! > 0.3, `an MLP on 240 real digits beats chance (0.1) clearly: ${summary.testMetrics['test_accuracy']}`);
    withStore((store) => {
      const run = getRun(store, summary.runId);
      assert.equal(run.params['model'], 'mlp');
      assert.equal(run.experiment, 'characters');
      assert.equal(run.params['augment'], true, 'without --augment the family default (on for mlp/cnn) holds');
      assert.equal(run.params['learningRate'], 0.002);
      assert.equal(run.params['batchSize'], 64);
      assert.ok(run.artifacts.some((a) => a.kind === 'model'));
    });
    // The CNN's architecture from the command line, recorded with the run.
    const cnn = await cli(['train', '--model', 'cnn', '--data', 'mnist', '--limit', '100', '--epochs', '1', '--filters', '4,8', '--kernel', '3', '--convs-per-block', '2', '--batch-norm', '--dense', '16', '--db', db, '--json']);
    assert.equal(cnn.code, EXIT_OK, cnn.err);
    withStore((store) => {
      const run = getRun(store, (JSON.parse(cnn.out) as { runId: string }).runId);
      assert.deepEqual(run.params['model.filters'], [4, 8]);
      assert.deepEqual(run.params['model.dense'], [16]);
      assert.equal(run.params['model.kernel'], 3);
      assert.equal(run.params['model.convsPerBlock'], 2);
      assert.equal(run.params['model.batchNorm'], true);
      assert.equal(run.params['model.dropout'], 0.5, 'unset options keep glyphlab defaults');
      assert.deepEqual([run.params['input.height'], run.params['input.width'], run.params['input.channels'], run.params['model.classes']], [28, 28, 1, 10]);
      assert.equal(run.params['model'], 'cnn');
      assert.equal(run.params['parameter_count'], 
        // convs without bias (the batch norms have 4 values a channel), dense 16, logits 10
        4 * 9 + 4 * 4 * 9 + 2 * 4 * 4 + 4 * 8 * 9 + 8 * 8 * 9 + 2 * 4 * 8 + (7 * 7 * 8 + 1) * 16 + (16 + 1) * 10,
      );
    });
    // A final model: train + validation, the schedule's epochs and rates, the last epoch kept.
    const final = await cli(['train', '--model', 'mlp', '--data', 'mnist', '--limit', '200', '--dense', '16', '--lr-schedule', '0.004x2,0.001x1', '--final', '--db', db, '--json']);
    assert.equal(final.code, EXIT_OK, final.err);
    withStore((store) => {
      const run = getRun(store, (JSON.parse(final.out) as { runId: string }).runId);
      assert.equal(run.params['final'], true);
      assert.equal(run.params['schedule'], '0.004x2,0.001x1');
      assert.equal(run.params['data.sizes.val'], 0);
      // --limit 200 keeps 200 digits, split 160 / 20 / 20; the 20 validation digits join training.
      assert.equal(run.params['data.sizes.train'], 160 + 20);
      assert.equal(run.params['data.sizes.test'], 20);
      assert.deepEqual(getMetricHistory(store, run.id, ['lr']).map((p) => p.value), [0.004, 0.004, 0.001], 'each epoch at its scheduled rate');
      assert.ok(run.metrics['test_accuracy'] !== undefined, 'the test split is still scored');
      assert.equal(run.metrics['val_accuracy'], undefined, 'no validation score');
    });
    const finalNoEpochs = await cli(['train', '--model', 'cnn', '--data', 'mnist', '--final', '--db', db]);
    assert.equal(finalNoEpochs.code, EXIT_USAGE);
    assert.match(finalNoEpochs.err, /--final trains without validation, so it needs the epochs fixed in advance/);
    const badSchedule = await cli(['train', '--model', 'cnn', '--data', 'mnist', '--lr-schedule', '0.002x6,soon', '--db', db]);
    assert.equal(badSchedule.code, EXIT_USAGE);
    assert.match(badSchedule.err, /"soon" is not RATExEPOCHS/);
    const crnnSchedule = await cli(['train', '--data', dataDir, '--lr-schedule', '0.001x2', '--db', db]);
    assert.equal(crnnSchedule.code, EXIT_USAGE);
    assert.match(crnnSchedule.err, /--lr-schedule applies to --model mlp\|cnn/);
    const shapesOff = await cli(['train', '--data', dataDir, '--no-augment', '--augment-stretch', '0.1', '--db', db]);
    assert.equal(shapesOff.code, EXIT_USAGE);
    assert.match(shapesOff.err, /--augment-stretch turn augmentation on; give it or --no-augment, not both/);
    const shapesTooFar = await cli(['train', '--data', dataDir, '--augment-shear', '3', '--db', db]);
    assert.equal(shapesTooFar.code, EXIT_USAGE);
    assert.match(shapesTooFar.err, /--augment-shear/);
    const shapesMnist = await cli(['train', '--model', 'cnn', '--data', 'mnist', '--augment-stroke', '0.2', '--db', db]);
    assert.equal(shapesMnist.code, EXIT_USAGE);
    assert.match(shapesMnist.err, /--augment-stroke applies to the equation models; --model cnn has its own augmentation/);
    const vggMomentum = await cli(['train', '--model', 'vgg19-crnn', '--data', dataDir, '--bn-momentum', '0.9', '--db', db]);
    assert.equal(vggMomentum.code, EXIT_USAGE);
    assert.match(vggMomentum.err, /--bn-momentum applies to --model crnn; vgg19-crnn has no such option/);
    const vggStem = await cli(['train', '--model', 'vgg19-crnn', '--data', dataDir, '--strided-stem', '--db', db]);
    assert.equal(vggStem.code, EXIT_USAGE);
    assert.match(vggStem.err, /--strided-stem applies to --model crnn; vgg19-crnn has no such option/);
    const crnnPhase = await cli(['train', '--data', dataDir, '--phase1-epochs', '1', '--db', db]);
    assert.equal(crnnPhase.code, EXIT_USAGE);
    assert.match(crnnPhase.err, /--phase1-epochs applies to --model vgg19-crnn; crnn has no such option/);
    const cnnStem = await cli(['train', '--model', 'cnn', '--data', 'mnist', '--strided-stem', '--db', db]);
    assert.equal(cnnStem.code, EXIT_USAGE);
    assert.match(cnnStem.err, /--strided-stem applies to the equation models; --model cnn is built from its own defaults/);
    const badDropout = await cli(['train', '--data', dataDir, '--dropout', '1.5', '--db', db]);
    assert.equal(badDropout.code, EXIT_USAGE);
    assert.match(badDropout.err, /--dropout/);
    const bad = await cli(['train', '--model', 'cnn', '--data', 'idx:/nonexistent-folder', '--db', db]);
    assert.equal(bad.code, EXIT_USAGE);
    assert.match(bad.err, /nonexistent-folder/);
  });

  test('train --help states the defaults of each recipe and model family, as the runs use them', async () => {
    const help = await cli(['train', '--help']);
    assert.equal(help.code, EXIT_OK);
    assert.match(help.out, /--lr RATE +learning rate \(the peak, with warmup-cosine\) \(quick 0\.003, long 0\.003, reference 0\.001; mlp, cnn 0\.002\)/);
    assert.match(help.out, /--batch-size N +training batch size \(default 32; mlp, cnn 64\)/);
    assert.match(help.out, /--input-width PX +model input width \(quick 150, long 150, reference 300\)/);
    assert.match(help.out, /--bn-momentum X +crnn: momentum of the batch-norm moving statistics \(quick 0\.9, long 0\.9, reference 0\.99\)/);
    assert.match(help.out, /--experiment NAME +experiment name \(equations default equations; mlp, cnn characters\)/);
    assert.match(help.out, /--augment +augment training images \(equations off; mlp, cnn on\)/);
    assert.match(help.out, /Recipes \(docs\/recipes\.md\):\n +quick +npm start's: /);
    assert.match(help.out, /--no-augment +train without augmentation/);
    const both = await cli(['train', '--model', 'cnn', '--data', 'mnist', '--augment', '--no-augment', '--db', db]);
    assert.equal(both.code, EXIT_USAGE);
    assert.match(both.err, /--augment and --no-augment contradict each other/);
  });

  test('an unreadable test image stops train before the first epoch, naming it, with nothing recorded', async () => {
    const torn = join(root, 'torn');
    cpSync(dataDir, torn, { recursive: true });
    assert.equal((await cli(['data', 'split', torn, '--seed', '1', '--json'])).code, EXIT_OK);
    const victim = (JSON.parse(readFileSync(join(torn, 'split.json'), 'utf8')) as { files: { test: { filename: string }[] } }).files.test[0]!.filename;
    const bytes = readFileSync(join(torn, victim));
    writeFileSync(join(torn, victim), bytes.subarray(0, bytes.length >> 1));
    const tornDb = join(root, 'torn.db');
    const result = await cli(['train', '--data', torn, '--epochs', '50', ...TINY, '--db', tornDb]);
    assert.equal(result.code, EXIT_USAGE);
    assert.match(result.err, new RegExp(`${victim.replace(/[./]/g, '\\$&')}\\): corrupt-image`));
    assert.doesNotMatch(result.err, /epoch 1\/50/);
    assert.ok(!existsSync(tornDb), 'no run was started');
  });

  test('bad input gets one clear line and exit code 2', async () => {
    const noData = await cli(['train', '--epochs', '1']);
    assert.equal(noData.code, EXIT_USAGE);
    assert.match(noData.err, /missing --data/);
    const badOptimizer = await cli(['train', '--data', dataDir, '--optimizer', 'adagrad']);
    assert.equal(badOptimizer.code, EXIT_USAGE);
    assert.match(badOptimizer.err, /--optimizer "adagrad" is not one of: adam, sgd, rmsprop/);
    const badFilters = await cli(['train', '--data', dataDir, '--filters', '8,x']);
    assert.match(badFilters.err, /--filters "x" is not valid/);
    // Thousands of threads would take gigabytes and minutes to start: refused before any starts.
    const tooManyWorkers = await cli(['train', '--data', dataDir, '--workers', '999', '--db', join(root, 'never.db')]);
    assert.equal(tooManyWorkers.code, EXIT_USAGE);
    assert.match(tooManyWorkers.err, /--workers "999" is not valid: expected an integer from 0 to 64/);
    const tooManyReplicas = await cli(['train', '--data', dataDir, '--replicas', '999', '--db', join(root, 'never.db')]);
    assert.match(tooManyReplicas.err, /--replicas "999" is not valid: expected an integer from 1 to 64/);
    assert.ok(!existsSync(join(root, 'never.db')));
  });

  test('runs delete refuses the run of a live glyphlab train (also with --force); once it has ended it goes', async () => {
    const live = join(root, 'live.db');
    const child = spawn(process.execPath, [join(projectRoot(), 'scripts', 'glyphlab.js'), 'train', '--data', dataDir, '--epochs', '50', ...TINY, '--db', live], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (c: Buffer) => {
        err += c.toString();
        if (/epoch 1\/50: loss/.test(err)) resolve();
      });
      void exited.then((c) => reject(new Error(`train exited with ${c} before its first epoch: ${err}`)));
    });
    try {
      const listed = JSON.parse((await cli(['runs', 'ls', '--db', live, '--json'])).out) as { id: string; status: string }[];
      const id = listed[0]!.id;
      assert.equal(listed[0]!.status, 'running');
      const refused = await cli(['runs', 'delete', id, '--db', live]);
      assert.equal(refused.code, EXIT_USAGE, refused.out);
      assert.match(refused.err, new RegExp(`run ${id} is running \\(process ${child.pid} on .*stop its training first`));
      const forced = await cli(['runs', 'delete', id, '--force', '--db', live]);
      assert.equal(forced.code, EXIT_USAGE);
      assert.match(forced.err, /is alive: process \d+ .* refreshed its heartbeat/);
      child.kill('SIGINT');
      assert.equal(await exited, 130, err);
      assert.doesNotMatch(err, /no run|no longer in/);
      const show = await cli(['runs', 'show', id, '--db', live, '--json']);
      assert.equal((JSON.parse(show.out) as { status: string }).status, 'interrupted');
      assert.equal((await cli(['runs', 'delete', id, '--db', live])).code, EXIT_OK);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('SIGTERM while worker threads start up ends the process at once, by the signal, recording nothing', async () => {
    const startUp = join(root, 'start-up.db');
    // Seconds of start-up on two cores: 7 replica threads.
    const err = await expectQuitDuringStartUp(['train', '--data', dataDir, '--epochs', '3', ...TINY, '--replicas', '8', '--db', startUp], startUp);
    assert.doesNotMatch(err, /training on 8 replicas/);
  });

  test('Ctrl-C finishes the batch, saves last/ and records the run as interrupted', async () => {
    // Interrupted once training is under way (after the first epoch's summary line).
    const { code, out, err } = await trainAndInterrupt(['--data', dataDir, '--epochs', '50', ...TINY, '--db', db]);
    assert.equal(code, 130, err);
    assert.match(err, /SIGINT: finishing the current batch/);
    const id = /run (\S+): interrupted/.exec(out)?.[1];
    assert.ok(id, out);
    withStore((store) => {
      const run = getRun(store, id);
      assert.equal(run.status, 'interrupted');
      assert.ok(run.artifacts.some((a) => a.kind === 'checkpoint-last'));
    });
    assert.ok(existsSync(join(root, 'runs', id, 'last', 'model.json')));
    assert.match(out, new RegExp(`continue it: glyphlab train --resume ${id}`));

    // Resume: the same run continues from last/ to the new total and finishes.
    const resumed = await cli(['train', '--resume', id, '--epochs', '2', '--workers', '0', '--db', db, '--json']);
    assert.equal(resumed.code, EXIT_OK, resumed.err);
    const summary = JSON.parse(resumed.out) as { runId: string; status: string };
    assert.deepEqual([summary.runId, summary.status], [id, 'finished']);
    withStore((store) => {
      assert.equal(getRun(store, id).status, 'finished');
      assert.deepEqual(getMetricHistory(store, id, ['val_accuracy']).map((p) => p.epoch), [0, 1]);
    });
    const again = await cli(['train', '--resume', id, '--db', db]);
    assert.equal(again.code, EXIT_USAGE);
    assert.match(again.err, /run \S+ is finished; only interrupted, failed, crashed runs can be resumed/);
  });
});

describe('glyphlab start (npm start)', () => {
  test('SIGTERM while its replicas start ends the process at once, recording nothing', async () => {
    const startUp = join(root, 'start-up-start.db');
    const args = ['start', '--data', join(root, 'start-sigterm'), '--count', '40', '--minutes', '5', '--replicas', '8'];
    await expectQuitDuringStartUp(args, startUp, { ...process.env, GLYPHLAB_DB: startUp });
  });

  test('synthesises data when there is none, trains within the budget, records the run and says where to look', async () => {
    const previous = process.env['GLYPHLAB_DB'];
    process.env['GLYPHLAB_DB'] = join(root, 'start.db');
    try {
      const result = await cli(['start', '--data', join(root, 'start-data'), '--count', '40', '--minutes', '0.05']);
      assert.equal(result.code, EXIT_OK, result.err);
      assert.match(result.out, /self-check: passed/);
      assert.match(result.out, /data: synthesised 40 equation images/);
      const id = /run (\S+): finished after \d+ epochs?\b/.exec(result.out)?.[1];
      assert.ok(id, result.out);
      assert.match(result.out, /test exact-match accuracy [\d.]+%, character error rate [\d.]+% on \d+ test images/);
      // A handful of test images with the model's reading of each.
      assert.match(result.out, /Some test images and what the model read:\n(  (ok   |WRONG) [-+*=()0-9]+ +read [-+*=()0-9]* +\S+\.png\n)+/);
      assert.match(result.out, new RegExp(`glyphlab runs show ${id}`));
      const store = openStore(join(root, 'start.db'));
      try {
        const run = getRun(store, id);
        assert.deepEqual(run.tags, ['npm-start']);
        // Images it synthesised a moment ago are checked by header only (a found folder is decoded).
        assert.equal(run.params['data.imageCheck'], 'header');
        assert.equal(run.params['training.schedule'], 'warmup-cosine');
        assert.equal(run.config?.['recipe'], 'quick');
      } finally {
        closeStore(store);
      }
    } finally {
      if (previous === undefined) delete process.env['GLYPHLAB_DB'];
      else process.env['GLYPHLAB_DB'] = previous;
    }
  });
});

describe('glyphlab start on the synthesis stream (its default data)', () => {
  test('trains on the stream, renders the fixed sets under the data folder, prints the test and held-out figures and how to evaluate', async () => {
    const saved = { db: process.env['GLYPHLAB_DB'], data: process.env['GLYPHLAB_DATA_DIR'] };
    process.env['GLYPHLAB_DB'] = join(root, 'start-stream.db');
    process.env['GLYPHLAB_DATA_DIR'] = join(root, 'start-stream-data');
    const spec = join(root, 'tiny-stream.json');
    writeFileSync(spec, JSON.stringify({ style: 'wide', epochImages: 64, val: 8, test: 6, heldOut: 3 }));
    try {
      const result = await cli(['start', '--data', `synth:${spec}`, '--minutes', '0.05']);
      assert.equal(result.code, EXIT_OK, result.err);
      assert.match(result.out, /data: an endless synthesis stream/);
      assert.match(result.out, /test exact-match accuracy [\d.]+%, character error rate [\d.]+% on 6 test images/);
      assert.match(result.out, /held-out styles \(never trained on\): fonts [\d.]+%, noise [\d.]+%, background [\d.]+%; all [\d.]+%/);
      const sets = /--data (\S+start-stream-data\/synth\/wide-[0-9a-f]{10}\/test) --compare-decoders/.exec(result.out)?.[1];
      assert.ok(sets && existsSync(join(sets, 'labels.csv')), result.out);
      const id = /run (\S+): (finished|interrupted)/.exec(result.out)?.[1];
      const store = openStore(join(root, 'start-stream.db'));
      try {
        const run = getRun(store, id!);
        assert.equal(run.params['data.split'], 'synthesis stream');
        assert.equal(typeof run.metrics['heldout_accuracy']?.last, 'number');
      } finally {
        closeStore(store);
      }
    } finally {
      for (const [name, value] of [['GLYPHLAB_DB', saved.db], ['GLYPHLAB_DATA_DIR', saved.data]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
