/**
 * Notebooks run headless through the tslab kernel (parameters, outputs, errors), the kernel
 * itself, and the user's Jupyter: the kernel spec and notebook trust.
 *
 * The public names of notebook/, by module; a notebook imports them from
 * `./glyphlab/notebook/index`. The entry points most work starts from are also in src/index.ts.
 */

// run: running a notebook headless: parameters, outputs, errors
export {
  runNotebook,
  readNotebook,
  injectParameters,
  parseParameterArg,
  notebookHasErrors,
  defaultExecutedPath,
  NotebookCellError,
  NotebookInterruptedError,
  type Notebook,
  type NotebookCell,
  type NotebookOutput,
  type NotebookParameterValue,
  type RunNotebookOptions,
  type RunNotebookResult,
  type CellEvent,
  type CellReport,
} from './run';

// kernel: the tslab kernel: start, execute, shut down
export {
  startKernel,
  executeCode,
  shutdownKernel,
  KernelAbortedError,
  type Kernel,
  type KernelOutput,
  type ExecuteResult,
  type ExecuteOptions,
  type StartKernelOptions,
  type ShutdownOptions,
} from './kernel';

// jupyter: the user's Jupyter: kernel spec and trust
export {
  findJupyterPython,
  installKernelSpec,
  readKernelSpec,
  kernelSpecProblem,
  trustNotebooks,
  checkNotebookTrust,
  type JupyterPython,
  type InstallKernelSpecOptions,
  type InstalledKernelSpec,
  type KernelSpecInfo,
  type TrustReport,
} from './jupyter';
