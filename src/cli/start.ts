/**
 * `glyphlab start` (`npm start`): the main job. Until the data, model and tracker pieces land it
 * picks the backend, proves that it trains (a few steps of a small conv net, gradients checked
 * against the cpu backend) and says what to do next.
 */
import { BackendError } from '../errors';
import { describeBackend, initBackend } from '../backend';
import { runSelfCheck, selfCheckFailure } from '../backend/self-check';
import type { CommandGroup } from './command';

export const startGroup: CommandGroup = {
  name: 'start',
  summary: 'the main job (npm start): set up, train briefly, record the run and say where to look',
  commands: [
    {
      name: '',
      summary: 'run the main job',
      async run(_args, ctx) {
        const info = await initBackend();
        ctx.print(`glyphlab: compute backend ${describeBackend(info)}`);
        for (const s of info.skipped) ctx.print(`  (skipped ${s.name}: ${s.reason})`);
        const check = await runSelfCheck();
        const first = check.losses[0] ?? Number.NaN;
        const last = check.losses[check.losses.length - 1] ?? Number.NaN;
        ctx.print(`self-check: a small conv net trained ${check.losses.length} steps, loss ${first.toFixed(4)} -> ${last.toFixed(4)} in ${check.stepMs} ms`);
        if (check.maxRelativeGradientDiff !== undefined) {
          ctx.print(`self-check: gradients match the cpu backend within ${check.maxRelativeGradientDiff.toExponential(1)} (relative)`);
        }
        const failure = selfCheckFailure(check);
        if (failure !== undefined) {
          throw new BackendError(`the ${info.name} backend failed its training self-check: ${failure}; run \`glyphlab backend check --verbose\``);
        }
        ctx.print('');
        ctx.print('Next: `npm test` runs the test suite; `npx glyphlab --help` lists the commands;');
        ctx.print('`npm run notebooks` opens the notebooks in Jupyter (see README.md).');
      },
    },
  ],
};
