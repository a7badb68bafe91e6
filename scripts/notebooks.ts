/**
 * `npm run notebooks`: opens glyphlab's notebooks in Jupyter with the tslab (TypeScript) kernel.
 *
 * Jupyter itself is Python and is not an npm dependency: when it is missing this prints how to
 * install it and exits 1. When the tslab kernel is not registered with that Jupyter it registers
 * it, with the Python that Jupyter runs on (a machine may have several). `node_modules/.bin` goes
 * first on PATH because the kernel spec starts the `tslab` command by name.
 *
 * Headless runs need none of this: `npx glyphlab notebook run notebooks/NAME.ipynb`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const root = join(__dirname, '..');
const binDir = join(root, 'node_modules', '.bin');
const notebookDir = join(root, 'notebooks');

const INSTALL_HELP = `Jupyter is not installed (no \`jupyter\` command on PATH).
Install it, then run \`npm run notebooks\` again:
  Debian/Ubuntu:  sudo apt-get install -y --no-install-recommends jupyter-notebook python3-nbconvert python3-ipykernel
  elsewhere:      pip install notebook
then register the TypeScript kernel with the Python that runs Jupyter, e.g.
  npx tslab install --python=python3        (Debian's Jupyter: --python=/usr/bin/python3)
Notebooks also run without Jupyter: npx glyphlab notebook run notebooks/00-hello.ipynb`;

/** The first executable called `name` on `pathValue`, like `which`. */
function findOnPath(name: string, pathValue: string): string | undefined {
  for (const dir of pathValue.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here; keep looking.
    }
  }
  return undefined;
}

/** The interpreter in the `jupyter` script's `#!` line, so that tslab registers with the same Python. */
function jupyterPython(jupyterPath: string): string {
  try {
    const firstLine = readFileSync(jupyterPath, 'utf8').split('\n', 1)[0] ?? '';
    const match = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(firstLine);
    if (match?.[1]) return match[1].endsWith('/env') && match[2] ? match[2] : match[1];
  } catch {
    // A binary launcher: fall back to the default below.
  }
  return 'python3';
}

function hasTslabKernel(jupyter: string, env: NodeJS.ProcessEnv): boolean {
  const listed = spawnSync(jupyter, ['kernelspec', 'list', '--json'], { env, encoding: 'utf8' });
  if (listed.status !== 0) return false;
  try {
    const specs = (JSON.parse(listed.stdout) as { kernelspecs?: Record<string, unknown> }).kernelspecs ?? {};
    return 'tslab' in specs;
  } catch {
    return false;
  }
}

function main(): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: [binDir, process.env['PATH'] ?? ''].join(delimiter) };
  const jupyter = findOnPath('jupyter', env['PATH'] ?? '');
  if (!jupyter) {
    process.stderr.write(`${INSTALL_HELP}\n`);
    return Promise.resolve(1);
  }
  if (!hasTslabKernel(jupyter, env)) {
    const python = jupyterPython(jupyter);
    process.stderr.write(`registering the tslab kernel with ${python} (npx tslab install --python=${python})\n`);
    const installed = spawnSync(process.execPath, [join(root, 'node_modules', 'tslab', 'bin', 'tslab'), 'install', `--python=${python}`], {
      env,
      stdio: 'inherit',
    });
    if (installed.status !== 0) {
      process.stderr.write(`could not register the tslab kernel with ${python}; run \`npx tslab install --python=PYTHON\` with the Python that runs Jupyter\n`);
      return Promise.resolve(1);
    }
  }
  return new Promise((resolve) => {
    const child = spawn(jupyter, ['notebook', '--notebook-dir', notebookDir], { env, stdio: 'inherit' });
    // Ctrl-C reaches Jupyter too (same process group); it asks to confirm and shuts down cleanly.
    process.on('SIGINT', () => undefined);
    child.once('error', (error) => {
      process.stderr.write(`could not start ${jupyter}: ${error.message}\n`);
      resolve(1);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

main().then((code) => {
  process.exitCode = code;
});
