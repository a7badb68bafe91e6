/**
 * Working with the user's Jupyter, which is Python and not an npm dependency: finding a Python
 * that has it, registering the tslab kernel with it, and signing executed notebooks so that
 * Jupyter trusts (and shows) their HTML and script outputs.
 *
 * Everything goes through that Python's own modules (`jupyter_client.kernelspec`,
 * `nbformat.sign`), never through `jupyter <sub-command>` scripts: Debian's minimal Jupyter has
 * no `jupyter kernelspec` nor `jupyter trust`, and a machine may have several Pythons of which
 * only one has Jupyter (Debian's `/usr/bin/python3` next to a pyenv one first on PATH).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, realpathSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError, NotebookError, errorMessage } from '../errors';
import { projectRoot } from '../util/paths';

/** The Python modules of a Jupyter installation that glyphlab looks for, with their versions. */
export interface JupyterModules {
  /** Kernel specs; what registering a kernel needs. */
  jupyter_client?: string;
  /** Reading and signing notebooks. */
  nbformat?: string;
  /** Jupyter Notebook, which `npm run notebooks` starts. */
  notebook?: string;
  nbconvert?: string;
  nbclient?: string;
  ipykernel?: string;
  jupyterlab?: string;
}

/** A Python interpreter and the Jupyter modules it can import. */
export interface JupyterPython {
  /** The command as found or given, e.g. `/usr/bin/python3`. */
  python: string;
  /** `sys.executable` as that Python reports it. */
  executable: string;
  /** e.g. `3.11.2`. */
  version: string;
  modules: JupyterModules;
}

/** Options of {@link findJupyterPython}. */
export interface FindJupyterPythonOptions {
  /** Use this Python and no other; an error when it lacks Jupyter. Defaults to searching (see {@link findJupyterPython}). */
  python?: string;
  /** Modules the Python must have. Defaults to `['jupyter_client']`. */
  require?: (keyof JupyterModules)[];
  /** Environment of the probes, whose PATH is searched. Defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** What the user can install to get a Jupyter that glyphlab can use. */
export const JUPYTER_INSTALL_HINT = [
  'Debian/Ubuntu: sudo apt-get install -y --no-install-recommends jupyter-notebook python3-nbconvert python3-nbclient python3-ipykernel',
  'elsewhere:     python3 -m pip install notebook nbconvert',
].join('\n');

/** Which package brings a module, for the message when one is missing. */
const PACKAGE_OF: Record<keyof JupyterModules, string> = {
  jupyter_client: 'jupyter-notebook (Debian) or notebook (pip)',
  nbformat: 'python3-nbformat (Debian) or nbformat (pip)',
  notebook: 'jupyter-notebook (Debian) or notebook (pip)',
  nbconvert: 'python3-nbconvert (Debian) or nbconvert (pip)',
  nbclient: 'python3-nbclient (Debian) or nbclient (pip)',
  ipykernel: 'python3-ipykernel (Debian) or ipykernel (pip)',
  jupyterlab: 'jupyterlab (pip)',
};

const PROBE = `
import json, sys
from importlib import util, metadata
modules = {}
for name in ["jupyter_client", "nbformat", "notebook", "nbconvert", "nbclient", "ipykernel", "jupyterlab"]:
    try:
        found = util.find_spec(name) is not None
    except Exception:
        found = False
    if found:
        try:
            modules[name] = metadata.version(name)
        except Exception:
            modules[name] = "?"
print(json.dumps({"executable": sys.executable, "version": sys.version.split()[0], "modules": modules}))
`;

/** The first executable called `name` on `pathValue`, like `which`. */
export function findOnPath(name: string, pathValue: string | undefined): string | undefined {
  for (const dir of (pathValue ?? '').split(delimiter)) {
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

/** The interpreter in a launcher script's `#!` line (`#!/usr/bin/python3`, `#!/usr/bin/env python3`). */
function shebangPython(scriptPath: string, env: NodeJS.ProcessEnv): string | undefined {
  try {
    const firstLine = readFileSync(scriptPath, 'utf8').slice(0, 300).split('\n', 1)[0] ?? '';
    const match = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(firstLine);
    if (!match?.[1]) return undefined;
    if (match[1].endsWith('/env') && match[2]) return findOnPath(match[2], env['PATH']);
    return match[1];
  } catch {
    return undefined;
  }
}

function runPython(python: string, code: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): { status: number | null; stdout: string; stderr: string; error?: Error } {
  const result = spawnSync(python, ['-c', code, ...args], { env, encoding: 'utf8', timeout: timeoutMs });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '', error: result.error };
}

/** The last line of a Python traceback (the exception), for one-line messages. */
function lastLine(text: string): string {
  const lines = text.trim().split('\n').map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? '';
}

/** Asks one Python which Jupyter modules it has; undefined when it does not run. */
export function probePython(python: string, env: NodeJS.ProcessEnv = process.env): JupyterPython | undefined {
  const result = runPython(python, PROBE, [], env, 30_000);
  if (result.error || result.status !== 0) return undefined;
  try {
    const parsed = JSON.parse(lastLine(result.stdout)) as Omit<JupyterPython, 'python'>;
    return { python, ...parsed };
  } catch {
    return undefined;
  }
}

/**
 * The Pythons worth asking, in order: the one that runs the `jupyter` command on PATH, then
 * `python3` on PATH, Debian's `/usr/bin/python3`, and `python` on PATH; each real file once.
 */
function candidatePythons(env: NodeJS.ProcessEnv): string[] {
  const jupyter = findOnPath('jupyter', env['PATH']);
  const candidates = [
    jupyter ? shebangPython(jupyter, env) : undefined,
    findOnPath('python3', env['PATH']),
    '/usr/bin/python3',
    findOnPath('python', env['PATH']),
  ].filter((c): c is string => c !== undefined && existsSync(c));
  const seen = new Set<string>();
  return candidates.filter((candidate) => {
    let real = candidate;
    try {
      real = realpathSync(candidate);
    } catch {
      // Keep the path as given.
    }
    if (seen.has(real)) return false;
    seen.add(real);
    return true;
  });
}

/**
 * Finds a Python that has Jupyter: `options.python` when given, else the first of the Python
 * that runs the `jupyter` command, `python3` on PATH, `/usr/bin/python3` and `python` on PATH
 * that can import every module of `options.require`. Throws a ConfigError that names each
 * Python tried, what it lacked, and which package to install.
 *
 * @example
 * const { python } = findJupyterPython();            // e.g. '/usr/bin/python3'
 * findJupyterPython({ python: '/opt/venv/bin/python', require: ['jupyter_client', 'nbformat'] });
 */
export function findJupyterPython(options: FindJupyterPythonOptions = {}): JupyterPython {
  const env = options.env ?? process.env;
  const required = options.require ?? ['jupyter_client'];
  const candidates = options.python !== undefined ? [options.python] : candidatePythons(env);
  const tried: string[] = [];
  for (const candidate of candidates) {
    const found = probePython(candidate, env);
    if (!found) {
      tried.push(`${candidate}: does not run`);
      continue;
    }
    const missing = required.filter((name) => found.modules[name] === undefined);
    if (missing.length === 0) return found;
    tried.push(`${candidate} (Python ${found.version}): no ${missing.join(', ')}`);
  }
  const packages = [...new Set(required.map((name) => PACKAGE_OF[name]))].join('; ');
  const what = options.python !== undefined ? `${options.python} cannot be used` : 'no Python with Jupyter was found';
  throw new ConfigError(
    `${what} (needs the Python module${required.length > 1 ? 's' : ''} ${required.join(', ')}: ${packages}).\n` +
      `Tried: ${tried.length ? tried.join('; ') : 'no python3 or python on PATH'}.\n` +
      `Install Jupyter, then run this again (or name its Python with --python PATH):\n${JUPYTER_INSTALL_HINT}`,
  );
}

/** Where a kernel spec goes: the user's Jupyter folder, the Python's `sys.prefix`, or the system one. */
export type KernelSpecTarget = 'user' | 'sys-prefix' | 'system';

/** A registered tslab kernel spec as that Python's Jupyter sees it. */
export interface KernelSpecInfo {
  /** The folder holding `kernel.json`. */
  dir: string;
  /** The command line Jupyter starts. */
  argv: string[];
  displayName: string;
}

/** What is wrong with a registered tslab spec, or undefined when Jupyter can start it from anywhere. */
export function kernelSpecProblem(spec: KernelSpecInfo | undefined): string | undefined {
  if (!spec) return 'no tslab kernel is registered';
  const command = spec.argv[0] ?? '';
  if (!isAbsolute(command)) {
    return `the registered tslab kernel (${spec.dir}) runs the bare command ${JSON.stringify(command)}, which only starts where node_modules/.bin is on PATH`;
  }
  try {
    accessSync(command, constants.X_OK);
  } catch {
    return `the registered tslab kernel (${spec.dir}) runs ${command}, which does not exist (a moved or deleted checkout?)`;
  }
  return undefined;
}

/** Whether a spec runs this checkout's tslab (another checkout's works, but compiles against that checkout's packages). */
export function runsThisTslab(spec: KernelSpecInfo): boolean {
  try {
    return realpathSync(spec.argv[0] ?? '') === realpathSync(tslabCommand());
  } catch {
    return false;
  }
}

const KERNEL_SPEC = `
import json, sys
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
manager = KernelSpecManager()
try:
    spec = manager.get_kernel_spec(sys.argv[1])
    print(json.dumps({"dir": spec.resource_dir, "argv": spec.argv, "displayName": spec.display_name}))
except NoSuchKernel:
    print("null")
`;

/**
 * The tslab kernel spec that `python`'s Jupyter would start (the first `tslab` folder on its
 * kernel path), or undefined when none is registered. Reads it through
 * `jupyter_client.kernelspec`, so it works where `jupyter kernelspec` is missing.
 */
export function readKernelSpec(python: string, env: NodeJS.ProcessEnv = process.env, name = 'tslab'): KernelSpecInfo | undefined {
  const result = runPython(python, KERNEL_SPEC, [name], env);
  if (result.error || result.status !== 0) {
    throw new NotebookError(`could not read Jupyter's kernel specs with ${python}: ${result.error?.message ?? lastLine(result.stderr)}`);
  }
  const parsed = JSON.parse(lastLine(result.stdout)) as KernelSpecInfo | null;
  return parsed ?? undefined;
}

const INSTALL_SPEC = `
import json, os, sys, tempfile
from jupyter_client.kernelspec import KernelSpecManager
spec, target, name = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
manager = KernelSpecManager()
with tempfile.TemporaryDirectory() as folder:
    os.chmod(folder, 0o755)
    with open(os.path.join(folder, "kernel.json"), "w") as f:
        json.dump(spec, f, indent=1, sort_keys=True)
    if target == "user":
        dest = manager.install_kernel_spec(folder, name, user=True)
    elif target == "sys-prefix":
        dest = manager.install_kernel_spec(folder, name, prefix=sys.prefix)
    else:
        dest = manager.install_kernel_spec(folder, name, user=False)
active = KernelSpecManager().get_kernel_spec(name).resource_dir
print(json.dumps({"dir": dest, "active": active}))
`;

/** Options of {@link installKernelSpec}. */
export interface InstallKernelSpecOptions {
  /** The Python whose Jupyter gets the kernel. Defaults to the one {@link findJupyterPython} finds. */
  python?: string;
  /** Where the spec goes. Defaults to `'system'` for root and `'user'` otherwise, as Jupyter and tslab do. */
  target?: KernelSpecTarget;
  /** The tslab command the spec runs. Defaults to glyphlab's `node_modules/.bin/tslab`, as an absolute path. */
  tslabBin?: string;
  /** Environment of the Python. Defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** What {@link installKernelSpec} did. */
export interface InstalledKernelSpec {
  python: JupyterPython;
  /** The folder that now holds `kernel.json`. */
  dir: string;
  target: KernelSpecTarget;
  argv: string[];
  /** Set when another `tslab` spec earlier on Jupyter's kernel path is the one Jupyter will start. */
  shadowedBy?: string;
}

/** glyphlab's own tslab command, absolute: `node_modules/.bin/tslab`, else tslab's `bin/tslab`. */
export function tslabCommand(): string {
  const bin = join(projectRoot(), 'node_modules', '.bin', 'tslab');
  if (existsSync(bin)) return bin;
  try {
    return join(dirname(require.resolve('tslab/package.json', { paths: [projectRoot()] })), 'bin', 'tslab');
  } catch (error) {
    throw new NotebookError('the tslab package is not installed: run `npm install` in the glyphlab folder', { cause: error });
  }
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * Registers the tslab kernel with a Python's Jupyter, as `tslab install` does but with an
 * absolute path to the tslab command, so that every front end (Jupyter Notebook, JupyterLab,
 * nbconvert, VS Code) starts it whatever its PATH. Returns where the spec went.
 *
 * @example
 * const spec = installKernelSpec({ target: 'user' });
 * console.log(`registered in ${spec.dir}`);
 */
export function installKernelSpec(options: InstallKernelSpecOptions = {}): InstalledKernelSpec {
  const env = options.env ?? process.env;
  const python = findJupyterPython({ python: options.python, env });
  const target = options.target ?? (isRoot() ? 'system' : 'user');
  const command = resolve(options.tslabBin ?? tslabCommand());
  const argv = [command, 'kernel', '--config-path', '{connection_file}'];
  const spec = { argv, display_name: 'TypeScript', language: 'typescript', metadata: { glyphlab: { root: projectRoot() } } };
  const result = runPython(python.python, INSTALL_SPEC, [JSON.stringify(spec), target, 'tslab'], env);
  if (result.error || result.status !== 0) {
    const reason = result.error?.message ?? lastLine(result.stderr);
    const hint = /Permission denied/i.test(reason) && target !== 'user' ? ' (use --user to register it for yourself only)' : '';
    throw new NotebookError(`could not register the tslab kernel with ${python.python}: ${reason}${hint}`);
  }
  const { dir, active } = JSON.parse(lastLine(result.stdout)) as { dir: string; active: string };
  const same = (a: string, b: string): boolean => {
    try {
      return realpathSync(a) === realpathSync(b);
    } catch {
      return a === b;
    }
  };
  return { python, dir, target, argv, ...(same(dir, active) ? {} : { shadowedBy: active }) };
}

/** Whether a notebook file is signed for the current user, and where Jupyter keeps the signatures. */
export interface TrustResult {
  path: string;
  /** After the call: whether Jupyter trusts the notebook. */
  trusted: boolean;
  /** Whether it was signed already (signing did nothing). */
  alreadySigned: boolean;
}

/** What {@link trustNotebooks} and {@link checkNotebookTrust} return. */
export interface TrustReport {
  python: string;
  /** The signature database of this user (`nbsignatures.db` in the Jupyter data folder). */
  database: string;
  notebooks: TrustResult[];
}

const TRUST = `
import json, sys
import nbformat
from nbformat.sign import NotebookNotary
mode, paths = sys.argv[1], sys.argv[2:]
notary = NotebookNotary()
results = []
for path in paths:
    # As Jupyter Notebook reads a notebook before it checks the signature.
    nb = nbformat.read(path, as_version=4)
    signed = notary.check_signature(nb)
    if mode == "sign" and not signed:
        notary.sign(nb)
    results.append({"path": path, "alreadySigned": signed, "trusted": notary.check_signature(nb)})
print(json.dumps({"database": notary.db_file, "notebooks": results}))
`;

function runNotary(mode: 'sign' | 'check', paths: readonly string[], options: { python?: string; env?: NodeJS.ProcessEnv }): TrustReport {
  const env = options.env ?? process.env;
  const python = findJupyterPython({ python: options.python, env, require: ['nbformat'] });
  const absolute = paths.map((p) => resolve(p));
  for (const path of absolute) {
    if (!existsSync(path)) throw new ConfigError(`notebook ${path} does not exist`);
  }
  const result = runPython(python.python, TRUST, [mode, ...absolute], env);
  if (result.error || result.status !== 0) {
    throw new NotebookError(`could not ${mode === 'sign' ? 'sign' : 'check'} ${absolute.join(', ')} with ${python.python}'s nbformat: ${result.error?.message ?? lastLine(result.stderr)}`);
  }
  try {
    return { python: python.python, ...(JSON.parse(lastLine(result.stdout)) as Omit<TrustReport, 'python'>) };
  } catch (error) {
    throw new NotebookError(`unexpected answer from ${python.python}'s nbformat: ${errorMessage(error)}`, { cause: error });
  }
}

/**
 * Signs notebooks with the current user's Jupyter key, as `jupyter trust` does: Jupyter then
 * shows their HTML and runs their scripts (plotly charts) when it opens them. The signature is
 * kept in that user's Jupyter data folder, not in the file, so it holds for that user only.
 *
 * @example
 * trustNotebooks(['notebooks/01-explore-equations.executed.ipynb']);
 */
export function trustNotebooks(paths: readonly string[], options: { python?: string; env?: NodeJS.ProcessEnv } = {}): TrustReport {
  return runNotary('sign', paths, options);
}

/** Jupyter's own check, as it runs when a notebook is opened: whether each notebook is trusted for the current user. */
export function checkNotebookTrust(paths: readonly string[], options: { python?: string; env?: NodeJS.ProcessEnv } = {}): TrustReport {
  return runNotary('check', paths, options);
}
