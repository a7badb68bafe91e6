/**
 * `glyphlab notebook`: run notebooks headless through the tslab kernel (no Python needed), and
 * connect glyphlab to the user's Jupyter: register the kernel, sign executed notebooks.
 */
import { ConfigError, errorMessage } from '../errors';
import {
  type KernelSpecTarget,
  findJupyterPython,
  installKernelSpec,
  kernelSpecProblem,
  readKernelSpec,
  runsThisTslab,
  trustNotebooks,
} from '../notebook/jupyter';
import { NotebookInterruptedError, type NotebookParameterValue, type RunNotebookResult, parseParameterArg, runNotebook } from '../notebook/run';
import {
  type CliContext,
  type CommandGroup,
  flagOption,
  jsonOption,
  numberOption,
  stringListOption,
  stringOption,
} from './command';

/** Exit codes of a run ended by a signal, as a shell reports one killed by it (128 + its number). */
const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

type StopSignal = keyof typeof SIGNAL_EXIT_CODES;

/** What {@link abortOnSignals} installed. */
interface SignalAbort {
  /** Aborted at the first SIGINT or SIGTERM, with the reason `interrupted by SIGINT` (or SIGTERM). */
  signal: AbortSignal;
  /** The signal that arrived first, if any. */
  received(): StopSignal | undefined;
  /** Removes the handlers. */
  dispose(): void;
}

/**
 * The edge owns the process's signals: the first SIGINT or SIGTERM aborts the returned signal
 * (the run stops its kernel and writes the partial copy); a second one exits at once, and the
 * kernel module's 'exit' handler kills the kernel's process group and removes its files.
 */
function abortOnSignals(write: (line: string) => void): SignalAbort {
  const controller = new AbortController();
  let first: StopSignal | undefined;
  const onSignal = (signal: StopSignal): void => {
    if (first !== undefined) {
      write(`${signal} again: quitting at once`);
      process.exit(SIGNAL_EXIT_CODES[first]);
    }
    first = signal;
    write(`${signal}: stopping the kernel and writing the partial copy (press Ctrl-C again to quit at once)`);
    controller.abort(`interrupted by ${signal}`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    received: () => first,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

const PYTHON_OPTION = {
  type: 'string',
  valueName: 'PATH',
  description: 'the Python that has Jupyter (default: the one running `jupyter`, else python3, /usr/bin/python3, python)',
} as const;

/** `--user` / `--sys-prefix`, else Jupyter's default for this user. */
function kernelTarget(user: boolean, sysPrefix: boolean): KernelSpecTarget | undefined {
  if (user && sysPrefix) throw new ConfigError('--user and --sys-prefix exclude each other: give one (or neither for the default)');
  return user ? 'user' : sysPrefix ? 'sys-prefix' : undefined;
}

/**
 * Signs the executed copy for this user's Jupyter. A run that worked is not failed by signing:
 * without a Python that has nbformat, the line says how to sign it later.
 */
function signExecuted(path: string, python: string | undefined, ctx: CliContext): boolean {
  try {
    const report = trustNotebooks([path], { python });
    ctx.stderr.write(`signed for Jupyter: trusted for this user (signature in ${report.database})\n`);
    return true;
  } catch (error) {
    ctx.stderr.write(`not signed for Jupyter (${errorMessage(error).split('\n')[0]}); Jupyter will show it "Not Trusted", without its charts, until you run \`glyphlab notebook trust ${path}\`\n`);
    return false;
  }
}

export const notebookGroup: CommandGroup = {
  name: 'notebook',
  summary: 'run notebooks headless; register the TypeScript kernel with Jupyter; sign notebooks',
  commands: [
    {
      name: 'run',
      summary: 'execute a notebook top to bottom and write the executed copy (like papermill)',
      args: 'NOTEBOOK',
      options: {
        param: {
          type: 'string',
          short: 'p',
          multiple: true,
          valueName: 'KEY=VALUE',
          description: 'set a parameter of the cell tagged "parameters" (repeatable)',
        },
        out: { type: 'string', short: 'o', valueName: 'OUT.ipynb', description: 'executed copy (default: NAME.executed.ipynb next to it)' },
        timeout: { type: 'string', valueName: 'SECONDS', description: 'fail a cell that runs longer than this (default: no limit)' },
        'no-trust': { type: 'boolean', description: 'do not sign the executed copy for Jupyter' },
        python: PYTHON_OPTION,
        json: jsonOption('a summary'),
      },
      details: `Values are numbers, true/false/null or JSON when they parse as such, else strings:
  glyphlab notebook run notebooks/00-hello.ipynb --param steps=2 --out /tmp/hello.ipynb
The kernel starts in the notebook's folder, as in Jupyter. A failing cell stops the run with
exit code 1 and names the cell; the executed copy holds the outputs up to that cell.
Ctrl-C or SIGTERM stops the kernel and whatever its cells started, writes the partial copy and
exits with 130 (143 for SIGTERM); a second Ctrl-C quits at once. No kernel process and no
connection file (it holds the kernel's key) outlives the run, however it ends.
The executed copy is signed with your Jupyter key (as \`jupyter trust\` does) when a Python with
Jupyter is found, so that Jupyter shows its charts when you open it; the run needs no Python.`,
      async run(args, ctx) {
        const [path, ...extra] = args.positionals;
        if (path === undefined) throw new ConfigError('missing NOTEBOOK: give the path of an .ipynb file (see `glyphlab notebook run --help`)');
        if (extra.length > 0) throw new ConfigError(`expected one NOTEBOOK, got also ${extra.map((e) => JSON.stringify(e)).join(', ')}`);
        // No prototype: `--param __proto__=...` must be a key like any other (which the notebook
        // then declares or not), not silently change what the object inherits.
        const parameters: Record<string, NotebookParameterValue> = Object.create(null) as Record<string, NotebookParameterValue>;
        for (const arg of stringListOption(args, 'param')) {
          const [key, value] = parseParameterArg(arg);
          if (Object.prototype.hasOwnProperty.call(parameters, key)) throw new ConfigError(`--param ${key} is given twice (${JSON.stringify(parameters[key])} and ${JSON.stringify(value)}); give it once`);
          parameters[key] = value;
        }
        const timeoutSeconds = numberOption(args, 'timeout', { min: 0 });
        const json = flagOption(args, 'json');
        const trust = !flagOption(args, 'no-trust');
        const log = (line: string) => void ctx.stderr.write(`${line}\n`);

        const interrupt = abortOnSignals((line) => log(`\n${line}`));
        let result: RunNotebookResult;
        try {
          result = await runNotebook(path, {
            signal: interrupt.signal,
            parameters,
            out: stringOption(args, 'out'),
            cellTimeoutMs: timeoutSeconds !== undefined ? timeoutSeconds * 1000 : 0,
            onCell: (event) => {
              if (event.phase === 'start') {
                if (event.position === 1) log(`${path}: running ${event.total} code cells`);
                return;
              }
              const mark = event.status === 'ok' ? 'ok' : 'FAILED';
              log(`[${event.position}/${event.total}] cell ${event.cellIndex} ${mark} ${formatSeconds(event.durationMs ?? 0)}  ${event.firstLine}`);
            },
            onOutput: ctx.verbose
              ? (output) => {
                  if (output.output_type === 'stream') ctx.stderr.write(output.text);
                }
              : undefined,
          });
        } catch (error) {
          if (!(error instanceof NotebookInterruptedError)) throw error;
          // The kernel and what its cells started are gone; end as a shell expects of a signal.
          log(error.message);
          return SIGNAL_EXIT_CODES[interrupt.received() ?? 'SIGINT'];
        } finally {
          interrupt.dispose();
        }
        const trusted = trust ? signExecuted(result.outPath, stringOption(args, 'python'), ctx) : false;
        if (json) {
          ctx.printJson({
            notebook: result.path,
            out: result.outPath,
            parameters,
            injectedCellIndex: result.injectedCellIndex ?? null,
            durationMs: result.durationMs,
            trusted,
            cells: result.cells,
          });
        } else {
          ctx.print(`wrote ${result.outPath} (${result.cells.filter((c) => c.status === 'ok').length} cells ran in ${formatSeconds(result.durationMs)})`);
        }
      },
    },
    {
      name: 'kernel',
      summary: 'register the tslab (TypeScript) kernel with Jupyter, or show the registered one',
      args: 'install|show',
      options: {
        python: PYTHON_OPTION,
        user: { type: 'boolean', description: "register for this user only (Jupyter's default unless root)" },
        'sys-prefix': { type: 'boolean', description: "register in that Python's sys.prefix (a virtualenv or conda env)" },
        json: jsonOption('what was found or done'),
      },
      details: `install: finds a Python that has Jupyter and registers the kernel "tslab" with it, running
glyphlab's node_modules/.bin/tslab by its absolute path, so that Jupyter Notebook, JupyterLab,
nbconvert and VS Code start it whatever their PATH. Without --user or --sys-prefix the spec goes
where Jupyter puts it by default: the system folder for root, else the user's.
  glyphlab notebook kernel install
  glyphlab notebook kernel install --python /usr/bin/python3 --user
show: prints the tslab kernel spec that Jupyter would start, and what is wrong with it, if anything.`,
      async run(args, ctx) {
        const [action, ...extra] = args.positionals;
        if (action !== 'install' && action !== 'show') {
          throw new ConfigError(`expected install or show, got ${action === undefined ? 'nothing' : JSON.stringify(action)} (see \`glyphlab notebook kernel --help\`)`);
        }
        if (extra.length > 0) throw new ConfigError(`unexpected ${extra.map((e) => JSON.stringify(e)).join(', ')} after ${action}`);
        const python = stringOption(args, 'python');
        const json = flagOption(args, 'json');
        if (action === 'show') {
          const found = findJupyterPython({ python });
          const spec = readKernelSpec(found.python);
          const problem = kernelSpecProblem(spec);
          if (json) {
            ctx.printJson({ python: found.python, modules: found.modules, spec: spec ?? null, problem: problem ?? null });
          } else {
            ctx.print(`Python with Jupyter: ${found.python} (Python ${found.version}; ${Object.entries(found.modules).map(([m, v]) => `${m} ${v}`).join(', ')})`);
            if (spec) ctx.print(`tslab kernel: ${spec.dir}\n  runs: ${spec.argv.join(' ')}`);
            ctx.print(problem ? `problem: ${problem}; fix it with \`glyphlab notebook kernel install\`` : 'ok: Jupyter can start it from any front end');
            if (spec && !problem && !runsThisTslab(spec)) ctx.print('note: it runs the tslab of another glyphlab checkout; `glyphlab notebook kernel install` registers this one');
          }
          return problem ? 1 : 0;
        }
        const target = kernelTarget(flagOption(args, 'user'), flagOption(args, 'sys-prefix'));
        const installed = installKernelSpec({ python, target });
        if (json) {
          ctx.printJson({ python: installed.python.python, dir: installed.dir, target: installed.target, argv: installed.argv, shadowedBy: installed.shadowedBy ?? null });
        } else {
          ctx.print(`registered the tslab kernel with ${installed.python.python} (Jupyter ${installed.python.modules.notebook ?? installed.python.modules.jupyter_client}):`);
          ctx.print(`  ${installed.dir}/kernel.json`);
          ctx.print(`  runs: ${installed.argv.join(' ')}`);
        }
        if (installed.shadowedBy) {
          ctx.stderr.write(`warning: Jupyter will start the tslab kernel in ${installed.shadowedBy} instead, which comes first on its kernel path; remove that folder or register with --user\n`);
        }
        return 0;
      },
    },
    {
      name: 'trust',
      summary: 'sign notebooks so that Jupyter shows their charts (like `jupyter trust`)',
      args: 'NOTEBOOK...',
      options: { python: PYTHON_OPTION },
      details: `Jupyter runs the scripts of a notebook's outputs (every plotly chart) only when the notebook
is signed with your key; outputs written by nbconvert or by another user are not. Signatures are
kept in your Jupyter data folder (nbsignatures.db), so each user signs for themselves.
  glyphlab notebook trust notebooks/01-explore-equations.executed.ipynb`,
      async run(args, ctx) {
        if (args.positionals.length === 0) throw new ConfigError('missing NOTEBOOK: give the .ipynb files to sign');
        const report = trustNotebooks(args.positionals, { python: stringOption(args, 'python') });
        for (const notebook of report.notebooks) {
          ctx.print(`${notebook.alreadySigned ? 'already signed' : notebook.trusted ? 'signed' : 'NOT signed'}: ${notebook.path}`);
        }
        ctx.print(`signatures of this user: ${report.database}`);
        return report.notebooks.every((n) => n.trusted) ? 0 : 1;
      },
    },
  ],
};
