/**
 * `glyphlab start` (`npm start`): the main job. Picks the backend and proves it trains, makes a
 * small synthetic equation set when `data/` has none, trains the custom CRNN for a few minutes,
 * records the run, and says how to look at it.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BackendError } from '../errors';
import { describeBackend, initBackend } from '../backend/index';
import { runSelfCheck, selfCheckFailure } from '../backend/self-check';
import { synthesizeEquations } from '../data/equations/synth';
import { parseSynthDataArg } from '../data/equations/synth-sets';
import { describeHeldOut, runEquationSpec } from '../runs/equation-run';
import { describeEquationSpec, EQUATION_RECIPES, resolveEquationRunSpec } from '../runs/spec/index';
import { defaultReplicas, MAX_REPLICAS } from '../parallel/replicas';
import { databasePath } from '../util/paths';
import { redactUrl } from '../util/store-target';
import { type CommandGroup, numberOption, stringOption } from './command';
import { interruptible } from './interrupt';
import { createProgressBar, ProgressCallback } from './progress';
import { percent } from '../util/format';

/**
 * The main job around the quick recipe (`runs/spec/recipes.ts`, which sets the model and how it
 * trains): the data it makes when there is none, the wall-clock budget of the whole job, and how
 * much of the validation and test splits it scores.
 */
export const START_JOB = {
  /** Images synthesised when the data folder is absent: about what the budget shows the model, so it sees each once or twice. */
  count: 64_000,
  /**
   * The whole job's minutes, start to finish: training gets what set-up and synthesis leave,
   * less {@link START_JOB.reserveMinutes} for the test evaluation and the files.
   */
  jobMinutes: 14.5,
  /** Kept back from the training budget for what follows it (a last validation, the test split, saving). */
  reserveMinutes: 0.8,
  /** The least training time, however long set-up took. */
  minMinutes: 1,
  /** Validation and test images evaluated (the rest of those splits is not needed for a verdict). */
  limit: { val: 1000, test: 2000 },
  /** Images of each held-out style (synth-style.ts), scored after the test split. */
  heldOut: 500,
};

/**
 * The training budget that ends the whole job within {@link START_JOB.jobMinutes}, given the
 * minutes already spent (process start-up, the self-check, synthesis): never under
 * {@link START_JOB.minMinutes}.
 */
export function trainingMinutesLeft(elapsedMinutes: number, job: Pick<typeof START_JOB, 'jobMinutes' | 'reserveMinutes' | 'minMinutes'> = START_JOB): number {
  const left = job.jobMinutes - job.reserveMinutes - elapsedMinutes;
  return Math.max(job.minMinutes, Math.round(left * 100) / 100);
}

export const startGroup: CommandGroup = {
  name: 'start',
  summary: 'the main job (npm start): set up, train briefly, record the run and say where to look',
  commands: [
    {
      name: '',
      summary: 'run the main job',
      options: {
        data: {
          type: 'string',
          valueName: 'synth|DIR',
          description: 'what to train on: synth (default: the endless synthesis stream of the wide style space), synth:PRESET, synth:SPEC.json, or a data folder (synthesised when absent)',
        },
        count: { type: 'string', valueName: 'N', description: `images to synthesise into --data DIR when that folder is absent (default ${START_JOB.count})` },
        minutes: {
          type: 'string',
          valueName: 'M',
          description: `training time budget in minutes (default: what is left of ${START_JOB.jobMinutes} minutes for the whole job after set-up and synthesis)`,
        },
        replicas: { type: 'string', valueName: 'N', description: `data-parallel training replicas (default one per core, ${defaultReplicas()} here)` },
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

        const data = stringOption(args, 'data') ?? 'synth';
        const synth = parseSynthDataArg(data);
        // Images synthesised a moment ago need no decoding check; a folder found here gets one.
        let imageCheck: 'decode' | 'header' = 'decode';
        if (synth) {
          imageCheck = 'header';
          ctx.print('data: an endless synthesis stream (every training image new), fixed validation, test and held-out-style sets');
        } else if (!existsSync(join(data, 'labels.csv')) && !existsSync(join(data, 'labels.txt'))) {
          imageCheck = 'header';
          const count = numberOption(args, 'count', { min: 10, integer: true }) ?? START_JOB.count;
          const bar = createProgressBar('synthesising equations', count);
          await synthesizeEquations({ outDir: data, count, seed: 0, fonts: ['all'], onProgress: (done, total) => bar.update(done, total) });
          bar.finish();
          ctx.print(`data: synthesised ${count} equation images in ${data}`);
        } else {
          ctx.print(`data: using ${data}`);
        }

        const minutes = numberOption(args, 'minutes', { min: 0.01 }) ?? trainingMinutesLeft(performance.now() / 60_000);
        const spec = resolveEquationRunSpec({
          ...(synth ? { synth: { val: START_JOB.limit.val, test: START_JOB.limit.test, heldOut: START_JOB.heldOut, ...synth } } : { dataDir: data }),
          recipe: 'quick',
          minutes,
          limit: START_JOB.limit,
          imageCheck,
          replicas: numberOption(args, 'replicas', { min: 1, max: MAX_REPLICAS, integer: true }),
          name: 'crnn-start',
          tags: ['npm-start'],
        });
        ctx.print(`training with the quick recipe (${describeEquationSpec(spec)}); Ctrl-C stops cleanly`);
        // Ctrl-C quits at once while data load and replicas start, and stops the run cleanly once it trains.
        const result = await interruptible(ctx, (signal, begun) =>
          runEquationSpec(spec, {
            source: 'npm start',
            callbacks: [new ProgressCallback((line) => ctx.stderr.write(`${line}\n`)), begun],
            log: (message) => ctx.stderr.write(`${message}\n`),
            signal,
            handleSignals: false,
          }),
        );
        ctx.print('');
        ctx.print(`run ${result.runId}: ${result.status} after ${result.history.length} epoch${result.history.length === 1 ? '' : 's'}`);
        if (result.testMetrics) {
          ctx.print(`test exact-match accuracy ${percent(result.testMetrics['test_accuracy'])}, character error rate ${percent(result.testMetrics['test_cer'])} on ${result.splitSizes.test} test images`);
          const heldOut = describeHeldOut(result.testMetrics);
          if (heldOut) ctx.print(`held-out styles (never trained on): ${heldOut}`);
        }
        const examples = result.testReport?.examples ?? [];
        if (examples.length > 0) {
          ctx.print('');
          ctx.print('Some test images and what the model read:');
          const width = Math.max(...examples.map((e) => e.truth.length));
          for (const e of examples) {
            ctx.print(`  ${e.predicted === e.truth ? 'ok   ' : 'WRONG'} ${e.truth.padEnd(width)}  read ${e.predicted.padEnd(width)}  ${relative(process.cwd(), e.path)}`);
          }
        }
        ctx.print(`recorded in ${redactUrl(databasePath())}; files in ${result.runDir}`);
        ctx.print('');
        ctx.print('Look at it:');
        ctx.print(`  npx glyphlab runs show ${result.runId}`);
        ctx.print(`  npx glyphlab eval --run ${result.runId} --data ${synth ? join(result.dataDir, 'test') : data}${synth ? '' : ' --split test'} --compare-decoders`);
        ctx.print('  npx glyphlab ui                            (the store in your browser, live while runs train)');
        ctx.print('  npx glyphlab dashboard --out report.html   (open report.html in a browser)');
        ctx.print('  npm run notebooks                          (notebooks/02-train-custom-crnn.ipynb, 04-dashboard.ipynb)');
        ctx.print(`Longer runs: npx glyphlab train --data ${data} --recipe long   (${EQUATION_RECIPES.long.summary}; see docs/recipes.md)`);
        return result.status === 'interrupted' ? 130 : 0;
      },
    },
  ],
};
