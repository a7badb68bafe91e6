/** `glyphlab backend`: which compute backend glyphlab uses here, and whether it can train. */
import { BackendError } from '../errors';
import { describeBackend, initBackend, parseBackendName } from '../backend/index';
import { runSelfCheck, selfCheckFailure } from '../backend/self-check';
import {
  type CliContext,
  type CommandGroup,
  flagOption,
  jsonOption,
  stringOption,
} from './command';

/** Picks the compute backend and says which on stderr: the first line of every training or evaluating command. */
export async function announceBackend(ctx: CliContext): Promise<void> {
  const info = await initBackend();
  ctx.stderr.write(`compute backend: ${describeBackend(info)}\n`);
}

const backendOption = {
  type: 'string' as const,
  valueName: 'NAME',
  description: 'auto, tensorflow, wasm or cpu (default: GLYPHLAB_BACKEND, else auto)',
};

export const backendGroup: CommandGroup = {
  name: 'backend',
  summary: 'show the compute backend, or check that it trains',
  commands: [
    {
      name: '',
      summary: 'show the compute backend glyphlab picks here, its package and thread count',
      options: { json: jsonOption('the backend'), backend: backendOption },
      async run(args, ctx) {
        const requested = stringOption(args, 'backend');
        const info = await initBackend(requested !== undefined ? { backend: parseBackendName(requested, '--backend') } : {});
        if (flagOption(args, 'json')) return ctx.printJson(info);
        ctx.print(`backend: ${describeBackend(info)}`);
        if (info.native?.loaded === false && info.native.remedy) ctx.print(`native products: to use them, ${info.native.remedy}`);
        ctx.print(`tfjs: ${info.tfjsVersion}`);
        if (info.addedKernels.length) ctx.print(`kernels added by glyphlab: ${info.addedKernels.join(', ')}`);
        for (const s of info.skipped) ctx.print(`skipped ${s.name}: ${s.reason}`);
      },
    },
    {
      name: 'check',
      summary: 'train a small conv net a few steps and compare its gradients with the cpu backend',
      options: { json: jsonOption('the backend'), backend: backendOption },
      async run(args, ctx) {
        const requested = stringOption(args, 'backend');
        const info = await initBackend(requested !== undefined ? { backend: parseBackendName(requested, '--backend') } : {});
        const check = await runSelfCheck();
        const failure = selfCheckFailure(check);
        if (flagOption(args, 'json')) ctx.printJson({ backend: info, check, passed: failure === undefined, failure });
        else {
          ctx.print(`backend: ${describeBackend(info)}`);
          ctx.print(`loss over ${check.losses.length} Adam steps: ${check.losses.map((l) => l.toFixed(4)).join(' -> ')} (${check.stepMs} ms)`);
          if (check.maxRelativeGradientDiff !== undefined) {
            ctx.print(`gradients vs cpu backend: max relative difference ${check.maxRelativeGradientDiff.toExponential(2)}`);
          }
        }
        if (failure !== undefined) {
          throw new BackendError(`backend ${info.name} failed its training check: ${failure}`);
        }
      },
    },
  ],
};
