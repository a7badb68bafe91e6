/**
 * `glyphlab start` (`npm start`): the main job. Picks the backend and proves it trains, makes a
 * small synthetic equation set when `data/` has none, trains the custom CRNN for a few minutes,
 * records the run, and says how to look at it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BackendError } from '../errors';
import { describeBackend, initBackend } from '../backend/index';
import { runSelfCheck, selfCheckFailure } from '../backend/self-check';
import { synthesizeEquations } from '../data/equations/synth';
import { TimeBudget } from '../training/callbacks';
import { interruptOnSignals } from '../training/interrupt';
import { runEquationTraining } from '../runs/equation-run';
import { databasePath, dataDir } from '../util/paths';
import { type CommandGroup, numberOption, stringOption } from './command';
import { createProgressBar, ProgressCallback } from './progress';

/** The quick model of the main job: the reference implementation's architecture at half height, narrower. */
const START_CRNN = {
  inputHeight: 32,
  inputWidth: 150,
  convFilters: [16, 32, 64, 64],
  rnnUnits: 64,
  // A few hundred steps: moving statistics must keep up for inference.
  batchNormMomentum: 0.9,
};

export const startGroup: CommandGroup = {
  name: 'start',
  summary: 'the main job (npm start): set up, train briefly, record the run and say where to look',
  commands: [
    {
      name: '',
      summary: 'run the main job',
      options: {
        data: { type: 'string', valueName: 'DIR', description: 'data folder (default data/equations; synthesised when absent)' },
        count: { type: 'string', valueName: 'N', description: 'images to synthesise when the folder is absent (default 6000)' },
        minutes: { type: 'string', valueName: 'M', description: 'training time budget in minutes (default 10)' },
      },
      async run(args, ctx) {
        const info = await initBackend();
        ctx.print(`glyphlab: compute backend ${describeBackend(info)}`);
        for (const s of info.skipped) ctx.print(`  (skipped ${s.name}: ${s.reason})`);
        const check = await runSelfCheck();
        const failure = selfCheckFailure(check);
        if (failure !== undefined) {
          throw new BackendError(`the ${info.name} backend failed its training self-check: ${failure}; run \`glyphlab backend check --verbose\``);
        }
        ctx.print(`self-check: passed (${check.losses.length} training steps, gradients match the cpu backend)`);

        const dir = stringOption(args, 'data') ?? join(dataDir(), 'equations');
        if (!existsSync(join(dir, 'labels.csv')) && !existsSync(join(dir, 'labels.txt'))) {
          const count = numberOption(args, 'count', { min: 10, integer: true }) ?? 6000;
          const bar = createProgressBar('synthesising equations', count);
          await synthesizeEquations({ outDir: dir, count, seed: 0, fonts: ['all'], onProgress: (done, total) => bar.update(done, total) });
          bar.finish();
          ctx.print(`data: synthesised ${count} equation images in ${dir}`);
        } else {
          ctx.print(`data: using ${dir}`);
        }

        const minutes = numberOption(args, 'minutes', { min: 0.01 }) ?? 10;
        ctx.print(`training the custom CRNN (32x150 input) for about ${minutes} minutes; Ctrl-C stops cleanly`);
        const interrupt = interruptOnSignals({ write: (text) => void ctx.stderr.write(text) });
        const result = await runEquationTraining({
          dataDir: dir,
          crnn: START_CRNN,
          epochs: 40,
          batchSize: 32,
          learningRate: 2e-3,
          experiment: 'equations',
          name: 'crnn-start',
          tags: ['npm-start'],
          source: 'npm start',
          callbacks: [new TimeBudget(minutes), new ProgressCallback((line) => ctx.stderr.write(`${line}\n`))],
          log: (message) => ctx.stderr.write(`${message}\n`),
          signal: interrupt.signal,
          handleSignals: false,
        }).finally(() => interrupt.dispose());
        ctx.print('');
        ctx.print(`run ${result.runId}: ${result.status} after ${result.history.length} epoch${result.history.length === 1 ? '' : 's'}`);
        if (result.testMetrics) {
          const accuracy = ((result.testMetrics['test_accuracy'] ?? 0) * 100).toFixed(2);
          const cer = ((result.testMetrics['test_cer'] ?? 0) * 100).toFixed(2);
          ctx.print(`test exact-match accuracy ${accuracy}%, character error rate ${cer}% on ${result.splitSizes.test} held-out images`);
        }
        ctx.print(`recorded in ${databasePath()}; files in ${result.runDir}`);
        ctx.print('');
        ctx.print('Look at it:');
        ctx.print(`  npx glyphlab runs show ${result.runId}`);
        ctx.print(`  npx glyphlab eval --run ${result.runId} --data ${dir} --split test --compare-decoders`);
        ctx.print('  npx glyphlab dashboard --out report.html   (open report.html in a browser)');
        ctx.print('  npm run notebooks                          (notebooks/02-train-custom-crnn.ipynb, 04-dashboard.ipynb)');
        ctx.print('Longer runs: npx glyphlab train --data DIR --epochs 30 --input-height 32 (see README.md)');
        return result.status === 'interrupted' ? 130 : 0;
      },
    },
  ],
};
