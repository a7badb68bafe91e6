/**
 * `npm run notebooks [-- JUPYTER OPTIONS]`: opens glyphlab's notebooks in Jupyter Notebook with
 * the tslab (TypeScript) kernel.
 *
 * Jupyter itself is Python and not an npm dependency: this finds a Python that has it (the one
 * running `jupyter`, else python3, /usr/bin/python3, python; `--python PATH` names one) or says
 * what to install. It registers the kernel (`glyphlab notebook kernel install`) only when that
 * Python's Jupyter has no usable tslab spec, which it checks through `jupyter_client` itself
 * (Debian's minimal Jupyter has no `jupyter kernelspec`). Every other argument goes to Jupyter
 * (`--port 8889`, `--ip 0.0.0.0`, `--no-browser`); as root `--allow-root` is added, with a line
 * saying so, since Jupyter refuses to start as root without it.
 *
 * Headless runs need none of this: `npx glyphlab notebook run notebooks/NAME.ipynb`.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { errorMessage } from '../src/errors';
import { JUPYTER_INSTALL_HINT, findJupyterPython, installKernelSpec, kernelSpecProblem, readKernelSpec, runsThisTslab } from '../src/notebook/jupyter';

const root = join(__dirname, '..');
const notebookDir = join(root, 'notebooks');

/** Splits off `--python PATH` (ours); everything else is Jupyter's. */
function parseArgs(argv: string[]): { python: string | undefined; jupyterArgs: string[] } {
  const jupyterArgs: string[] = [];
  let python: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--python' && argv[i + 1] !== undefined) python = argv[++i];
    else if (arg.startsWith('--python=')) python = arg.slice('--python='.length);
    else jupyterArgs.push(arg);
  }
  return { python, jupyterArgs };
}

function main(): Promise<number> {
  const log = (line: string) => void process.stderr.write(`${line}\n`);
  const { python: pythonArg, jupyterArgs } = parseArgs(process.argv.slice(2));
  let python: string;
  try {
    python = findJupyterPython({ python: pythonArg, require: ['jupyter_client', 'notebook'] }).python;
  } catch (error) {
    log(errorMessage(error));
    log('Notebooks also run without Jupyter: npx glyphlab notebook run notebooks/00-hello.ipynb');
    return Promise.resolve(1);
  }
  try {
    const spec = readKernelSpec(python);
    const problem = kernelSpecProblem(spec);
    if (problem) {
      log(`${problem}: registering it (glyphlab notebook kernel install --python ${python})`);
      const installed = installKernelSpec({ python });
      log(`registered the tslab kernel in ${installed.dir}`);
      if (installed.shadowedBy) log(`warning: Jupyter will start the tslab kernel in ${installed.shadowedBy} instead; remove that folder`);
    } else if (spec) {
      log(`tslab kernel: ${spec.dir} (runs ${spec.argv[0]})`);
      if (!runsThisTslab(spec)) log('note: that is the tslab of another glyphlab checkout; `npx glyphlab notebook kernel install` registers this one');
    }
  } catch (error) {
    log(`could not register the tslab kernel: ${errorMessage(error)}`);
    log(`register it yourself with \`npx glyphlab notebook kernel install --python ${python}\` (add --user to register it for you only)`);
    return Promise.resolve(1);
  }
  const args = ['-m', 'notebook', `--notebook-dir=${notebookDir}`, ...jupyterArgs];
  if (typeof process.getuid === 'function' && process.getuid() === 0 && !jupyterArgs.includes('--allow-root')) {
    log('running as root: passing --allow-root to Jupyter, which refuses root without it (a normal user account is safer)');
    args.push('--allow-root');
  }
  log(`starting Jupyter Notebook: ${python} ${args.join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn(python, args, { stdio: 'inherit' });
    // Ctrl-C reaches Jupyter too (same process group); it asks to confirm and shuts down cleanly.
    process.on('SIGINT', () => undefined);
    // A test or a service manager stops this launcher with SIGTERM: pass it on.
    process.on('SIGTERM', () => child.kill('SIGTERM'));
    child.once('error', (error) => {
      log(`could not start Jupyter with ${python}: ${error.message}\n${JUPYTER_INSTALL_HINT}`);
      resolve(1);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

main().then((code) => {
  process.exitCode = code;
});
