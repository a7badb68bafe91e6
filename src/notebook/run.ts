/**
 * Runs a Jupyter notebook headless through the real tslab kernel, like papermill does for
 * Python: parameters are injected after the cell tagged `parameters`, code cells run in order,
 * and the executed copy (outputs, execution counts) is written next to the notebook.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError, DataError, NotebookError, errorMessage } from '../errors';
import { outputConflict, writeFileAtomic } from '../util/output-file';
import { type Kernel, KernelAbortedError, type KernelOutput, type MimeBundle, abortReason, startKernel } from './kernel';

/** A parameter value a notebook can receive. */
export type NotebookParameterValue = number | string | boolean | null | NotebookParameterValue[] | { [key: string]: NotebookParameterValue };

/** One nbformat 4 output, as stored in a notebook file. */
export type NotebookOutput =
  | { output_type: 'stream'; name: 'stdout' | 'stderr'; text: string }
  | { output_type: 'display_data'; data: MimeBundle; metadata: Record<string, unknown> }
  | { output_type: 'execute_result'; data: MimeBundle; metadata: Record<string, unknown>; execution_count: number | null }
  | { output_type: 'error'; ename: string; evalue: string; traceback: string[] };

/** One nbformat 4 cell. `source` may be a string or a list of lines in files; this module writes strings. */
export interface NotebookCell {
  cell_type: 'code' | 'markdown' | 'raw';
  id?: string;
  source: string | string[];
  metadata: Record<string, unknown> & { tags?: string[] };
  outputs?: NotebookOutput[];
  execution_count?: number | null;
  attachments?: unknown;
}

/** An nbformat 4 notebook. */
export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: NotebookCell[];
}

/** Progress of one code cell, passed to {@link RunNotebookOptions.onCell}. */
export interface CellEvent {
  /** `'start'` before the cell runs, `'end'` after. */
  phase: 'start' | 'end';
  /** Index of the cell in the executed notebook (the injected cell counts). */
  cellIndex: number;
  /** 1-based position among the code cells that run, and their number. */
  position: number;
  total: number;
  /** The first line of the cell's source. */
  firstLine: string;
  /** Set at `'end'`. */
  status?: 'ok' | 'error';
  durationMs?: number;
}

/** What one executed code cell did. */
export interface CellReport {
  cellIndex: number;
  firstLine: string;
  status: 'ok' | 'error' | 'skipped';
  executionCount: number | null;
  durationMs: number;
}

export interface RunNotebookOptions {
  /** Values for the notebook's parameters cell. Defaults to none (the notebook's own values). */
  parameters?: Record<string, NotebookParameterValue>;
  /** Where the executed copy goes. Defaults to `<name>.executed.ipynb` next to the notebook (git-ignored). */
  out?: string;
  /** Limit per cell in ms; 0 means none. Defaults to 0. */
  cellTimeoutMs?: number;
  /** How long the kernel may take to start. Defaults to 180 000 ms (see `startKernel`). */
  startTimeoutMs?: number;
  /** Environment of the kernel. Defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Called before and after each code cell, e.g. to draw progress. Defaults to none. */
  onCell?: (event: CellEvent) => void;
  /** Called with each output as it arrives. Defaults to none. */
  onOutput?: (output: KernelOutput, cellIndex: number) => void;
  /**
   * Stops the run when aborted (the CLI aborts it on Ctrl-C or SIGTERM): the running cell is
   * abandoned, the kernel and everything its cells started are stopped, the partial copy is
   * written with status 'interrupted', and `runNotebook` rejects with a
   * {@link NotebookInterruptedError}. Defaults to none.
   */
  signal?: AbortSignal;
}

export interface RunNotebookResult {
  /** The notebook that ran, absolute. */
  path: string;
  /** The executed copy, absolute. */
  outPath: string;
  /** The executed notebook, as written. */
  notebook: Notebook;
  /** Index of the injected parameters cell; undefined when no parameters were given. */
  injectedCellIndex: number | undefined;
  cells: CellReport[];
  durationMs: number;
}

/** A cell failed: names the cell and the error; the partial executed copy is at `outPath`. */
export class NotebookCellError extends NotebookError {
  constructor(
    message: string,
    readonly cellIndex: number,
    readonly ename: string,
    readonly evalue: string,
    readonly outPath: string,
  ) {
    super(message);
  }
}

/** The run was stopped through its AbortSignal; the partial copy is at `outPath`. */
export class NotebookInterruptedError extends NotebookError {
  constructor(
    message: string,
    /** The cell that was running, undefined when the kernel was still starting or between cells. */
    readonly cellIndex: number | undefined,
    /** The abort signal's reason, e.g. 'interrupted by SIGINT'. */
    readonly reason: string,
    readonly outPath: string,
  ) {
    super(message);
  }
}

const PARAMETERS_TAG = 'parameters';
const INJECTED_TAG = 'injected-parameters';
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function sourceText(cell: NotebookCell): string {
  return Array.isArray(cell.source) ? cell.source.join('') : cell.source;
}

/** The line that names a cell in messages: its first line of code, or its first line when it is all comments. */
function firstLineOf(source: string): string {
  const lines = source.split('\n').filter((l) => l.trim() !== '');
  const line = lines.find((l) => !l.trim().startsWith('//')) ?? lines[0] ?? '';
  return line.length > 80 ? `${line.slice(0, 77)}...` : line.trim();
}

function hasTag(cell: NotebookCell, tag: string): boolean {
  return Array.isArray(cell.metadata?.tags) && cell.metadata.tags.includes(tag);
}

/**
 * Reads and checks an nbformat 4 notebook; a missing file, bad JSON or another format is a
 * DataError naming the file.
 */
export function readNotebook(path: string): Notebook {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new DataError(
      code === 'ENOENT' ? `notebook ${path} does not exist` : `cannot read notebook ${path}: ${errorMessage(error)}`,
      { cause: error },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new DataError(`notebook ${path} is not valid JSON (${errorMessage(error)}); expected an nbformat 4 .ipynb file`, { cause: error });
  }
  const notebook = parsed as Partial<Notebook>;
  if (typeof notebook !== 'object' || notebook === null || notebook.nbformat !== 4 || !Array.isArray(notebook.cells)) {
    const found = typeof notebook === 'object' && notebook !== null ? `nbformat ${String(notebook.nbformat)}` : typeof parsed;
    throw new DataError(`notebook ${path} is not an nbformat 4 notebook (found ${found}); expected {"nbformat": 4, "cells": [...]}`);
  }
  notebook.cells.forEach((cell, index) => {
    if (typeof cell !== 'object' || cell === null || !['code', 'markdown', 'raw'].includes(cell.cell_type)) {
      throw new DataError(`notebook ${path}: cell ${index} has no valid cell_type; expected "code", "markdown" or "raw"`);
    }
    if (typeof cell.source !== 'string' && !Array.isArray(cell.source)) {
      throw new DataError(`notebook ${path}: cell ${index} has no source (expected a string or a list of lines)`);
    }
    cell.metadata ??= {};
  });
  return { nbformat: 4, nbformat_minor: notebook.nbformat_minor ?? 4, metadata: notebook.metadata ?? {}, cells: notebook.cells };
}

/**
 * Parses one `key=value` from the command line: numbers, `true`, `false`, `null` and JSON
 * arrays/objects/quoted strings become those values, anything else stays a string.
 *
 * @example
 * parseParameterArg('steps=2');      // ['steps', 2]
 * parseParameterArg('name=crnn-a');  // ['name', 'crnn-a']
 */
export function parseParameterArg(arg: string): [string, NotebookParameterValue] {
  const at = arg.indexOf('=');
  const key = at < 0 ? arg : arg.slice(0, at);
  if (at < 0 || !IDENTIFIER.test(key)) {
    throw new ConfigError(`--param ${JSON.stringify(arg)} is not valid: expected key=value with key a TypeScript identifier, e.g. steps=2`);
  }
  const raw = arg.slice(at + 1);
  const trimmed = raw.trim();
  if (trimmed !== '' && Number.isFinite(Number(trimmed))) return [key, Number(trimmed)];
  if (/^(true|false|null)$/.test(trimmed) || /^[[{"]/.test(trimmed)) {
    try {
      return [key, JSON.parse(trimmed) as NotebookParameterValue];
    } catch {
      // Not JSON after all (e.g. `[draft`): keep the text as it was given.
    }
  }
  return [key, raw];
}

/** The names a parameters cell declares with `const`, `let` or `var`. */
function declaredNames(source: string): string[] {
  return [...source.matchAll(/\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)/g)].map((match) => match[1] ?? '');
}

/** The TypeScript of the injected cell. tslab lets a later cell redeclare a `const`, which is what makes this work. */
function parametersSource(parameters: Record<string, NotebookParameterValue>): string {
  const lines = ['// Parameters injected by `glyphlab notebook run`.'];
  for (const [name, value] of Object.entries(parameters)) lines.push(`const ${name} = ${typeScriptLiteral(value)};`);
  return lines.join('\n');
}

/**
 * `value` as TypeScript that evaluates to an equal value: its JSON, except that U+2028 and U+2029
 * are escaped (TypeScript ends a string literal at them) and a `__proto__` key is written as a
 * computed key, which makes an own property rather than the object's prototype.
 */
function typeScriptLiteral(value: NotebookParameterValue): string {
  const json = (text: unknown): string => JSON.stringify(text).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  if (Array.isArray(value)) return `[${value.map(typeScriptLiteral).join(',')}]`;
  if (value === null || typeof value !== 'object') return json(value);
  return `{${Object.entries(value).map(([key, item]) => `${key === '__proto__' ? '["__proto__"]' : json(key)}:${typeScriptLiteral(item)}`).join(',')}}`;
}

function newCellId(): string {
  return randomBytes(4).toString('hex');
}

/**
 * Returns a copy of `notebook` with a code cell tagged `injected-parameters` right after the
 * cell tagged `parameters` (replacing an earlier injected cell, as papermill does), and every
 * code cell's outputs cleared. Throws a ConfigError when the notebook has no parameters cell
 * or a name is not declared there, listing the names that are.
 */
export function injectParameters(
  notebook: Notebook,
  parameters: Record<string, NotebookParameterValue>,
  notebookLabel = 'the notebook',
): { notebook: Notebook; injectedCellIndex: number | undefined } {
  const cells = notebook.cells
    .filter((cell) => !hasTag(cell, INJECTED_TAG))
    .map((cell): NotebookCell => (cell.cell_type === 'code' ? { ...cell, outputs: [], execution_count: null } : { ...cell }));
  const copy: Notebook = { ...notebook, metadata: { ...notebook.metadata }, cells };
  const names = Object.keys(parameters);
  if (names.length === 0) return { notebook: copy, injectedCellIndex: undefined };
  const at = cells.findIndex((cell) => cell.cell_type === 'code' && hasTag(cell, PARAMETERS_TAG));
  if (at < 0) {
    throw new ConfigError(`${notebookLabel} has no code cell tagged "${PARAMETERS_TAG}", so ${names.join(', ')} cannot be set; add the tag to the cell that declares them`);
  }
  const declared = declaredNames(sourceText(cells[at] as NotebookCell));
  const unknown = names.filter((name) => !declared.includes(name));
  if (unknown.length > 0) {
    throw new ConfigError(
      `${notebookLabel} declares no parameter ${unknown.map((n) => JSON.stringify(n)).join(', ')}; its parameters cell declares: ${declared.join(', ') || '(nothing)'}`,
    );
  }
  const injected: NotebookCell = {
    cell_type: 'code',
    ...(notebook.nbformat_minor >= 5 ? { id: newCellId() } : {}),
    metadata: { tags: [INJECTED_TAG] },
    source: parametersSource(parameters),
    outputs: [],
    execution_count: null,
  };
  cells.splice(at + 1, 0, injected);
  return { notebook: copy, injectedCellIndex: at + 1 };
}

/**
 * Appends a kernel output to a cell's stored outputs the way Jupyter front ends do: consecutive
 * stream text of the same name is merged, and `update_display_data` replaces the data of every
 * earlier output with the same display id (in any cell), so a live chart ends in its last state.
 */
function storeOutput(
  outputs: NotebookOutput[],
  output: KernelOutput,
  displays: Map<string, { data: MimeBundle; metadata: Record<string, unknown> }[]>,
): void {
  switch (output.output_type) {
    case 'stream': {
      const last = outputs[outputs.length - 1];
      if (last && last.output_type === 'stream' && last.name === output.name) last.text += output.text;
      else outputs.push({ output_type: 'stream', name: output.name, text: output.text });
      return;
    }
    case 'display_data': {
      const stored: NotebookOutput = { output_type: 'display_data', data: output.data, metadata: output.metadata };
      outputs.push(stored);
      if (output.displayId !== undefined) {
        const targets = displays.get(output.displayId) ?? [];
        targets.push(stored);
        displays.set(output.displayId, targets);
      }
      return;
    }
    case 'update_display_data':
      for (const target of displays.get(output.displayId) ?? []) {
        target.data = output.data;
        target.metadata = output.metadata;
      }
      return;
    case 'execute_result':
      outputs.push({ ...output });
      return;
    case 'error':
      outputs.push({ ...output });
      return;
  }
}

/** Whether any output of any cell is an error. */
export function notebookHasErrors(notebook: Notebook): boolean {
  return notebook.cells.some((cell) => (cell.outputs ?? []).some((output) => output.output_type === 'error'));
}

/** The executed copy's default path: `<folder>/<name>.executed.ipynb`. */
export function defaultExecutedPath(notebookPath: string): string {
  return join(dirname(notebookPath), `${basename(notebookPath).replace(/\.ipynb$/i, '')}.executed.ipynb`);
}

function writeNotebook(path: string, notebook: Notebook): void {
  const cells = notebook.cells.map((cell) => ({ ...cell, source: sourceText(cell) }));
  // Whole or not at all: a failed write (a full disk) leaves no truncated copy.
  writeFileAtomic(path, `${JSON.stringify({ ...notebook, cells }, null, 1)}\n`);
}

/**
 * Executes the notebook at `path` through a fresh tslab kernel started in the notebook's folder
 * (as Jupyter does), writes the executed copy and returns it. A failing cell stops the run: the
 * partial copy is written and a {@link NotebookCellError} names the cell and the error. However
 * the run ends (done, a failed or timed-out cell, the kernel's death, an abort through
 * `signal`), the kernel, what its cells started and its connection folder are gone before this
 * returns or rejects. This installs no signal handlers: a caller that wants Ctrl-C to stop the
 * run aborts `signal` from its own (the CLI does).
 *
 * @example
 * const result = await runNotebook('notebooks/00-hello.ipynb', { parameters: { steps: 2 } });
 * console.log(result.outPath);
 */
export async function runNotebook(path: string, options: RunNotebookOptions = {}): Promise<RunNotebookResult> {
  const notebookPath = resolve(path);
  const outPath = resolve(options.out ?? defaultExecutedPath(notebookPath));
  if (outPath === notebookPath) {
    throw new ConfigError(`--out ${options.out} is the notebook itself; write the executed copy elsewhere (the source stays without outputs)`);
  }
  // Checked before the kernel starts: a mistyped --out must not replace the store or another input.
  const conflict = outputConflict(outPath, { inputs: [{ path: notebookPath, what: 'the notebook itself (through a link)' }] });
  if (conflict !== undefined) throw new ConfigError(`--out ${outPath} ${conflict}; write the executed copy elsewhere`);
  const source = readNotebook(notebookPath);
  const { notebook, injectedCellIndex } = injectParameters(source, options.parameters ?? {}, `notebook ${path}`);
  const started = Date.now();
  const codeCells = notebook.cells
    .map((cell, index) => ({ cell, index }))
    .filter(({ cell }) => cell.cell_type === 'code' && sourceText(cell).trim() !== '');
  const reports: CellReport[] = [];
  const displays = new Map<string, { data: MimeBundle; metadata: Record<string, unknown> }[]>();
  notebook.metadata['glyphlab'] = { parameters: options.parameters ?? {}, startedAt: new Date(started).toISOString() };

  const finish = (status: 'ok' | 'error' | 'interrupted'): void => {
    notebook.metadata['glyphlab'] = {
      ...(notebook.metadata['glyphlab'] as object),
      status,
      durationMs: Date.now() - started,
    };
    writeNotebook(outPath, notebook);
  };

  const signal = options.signal;
  let kernel: Kernel | undefined;
  const interrupted = (cell: { index: number; firstLine: string } | undefined): NotebookInterruptedError => {
    finish('interrupted');
    const reason = signal ? abortReason(signal) : 'aborted';
    const where = cell ? `in cell ${cell.index} (\`${cell.firstLine}\`)` : kernel ? 'between cells' : 'while the kernel was starting';
    return new NotebookInterruptedError(`notebook ${path}: ${reason} ${where}; partial copy: ${outPath}`, cell?.index, reason, outPath);
  };

  try {
    kernel = await startKernel({ cwd: dirname(notebookPath), env: options.env, startTimeoutMs: options.startTimeoutMs, signal }).catch((error: unknown) => {
      throw error instanceof KernelAbortedError ? interrupted(undefined) : error;
    });
    for (const [position, { cell, index }] of codeCells.entries()) {
      const code = sourceText(cell);
      const firstLine = firstLineOf(code);
      if (signal?.aborted) throw interrupted(undefined);
      options.onCell?.({ phase: 'start', cellIndex: index, position: position + 1, total: codeCells.length, firstLine });
      const outputs: NotebookOutput[] = [];
      cell.outputs = outputs;
      const result = await kernel.execute(code, {
        timeoutMs: options.cellTimeoutMs ?? 0,
        signal,
        onOutput: (output) => {
          storeOutput(outputs, output, displays);
          options.onOutput?.(output, index);
        },
      }).catch((error: unknown) => {
        if (error instanceof KernelAbortedError) throw interrupted({ index, firstLine });
        finish('error');
        throw new NotebookCellError(
          `notebook ${path}: cell ${index} (\`${firstLine}\`) did not complete: ${errorMessage(error)} (partial copy: ${outPath})`,
          index,
          'KernelError',
          errorMessage(error),
          outPath,
        );
      });
      cell.execution_count = result.executionCount;
      const status = result.status === 'ok' ? 'ok' : 'error';
      reports.push({ cellIndex: index, firstLine, status, executionCount: result.executionCount, durationMs: result.durationMs });
      options.onCell?.({ phase: 'end', cellIndex: index, position: position + 1, total: codeCells.length, firstLine, status, durationMs: result.durationMs });
      if (status === 'error') {
        finish('error');
        const ename = result.error?.ename ?? 'Error';
        const evalue = result.error?.evalue ?? `the kernel answered ${result.status}`;
        throw new NotebookCellError(
          `notebook ${path}: cell ${index} (\`${firstLine}\`) failed: ${ename}: ${evalue} (partial copy: ${outPath})`,
          index,
          ename,
          evalue,
          outPath,
        );
      }
    }
  } catch (error) {
    if (error instanceof NotebookCellError || error instanceof NotebookInterruptedError || error instanceof ConfigError) throw error;
    // The kernel did not start: still leave a copy so that the run can be inspected.
    finish('error');
    throw error instanceof NotebookError ? error : new NotebookError(`notebook ${path}: ${errorMessage(error)}`, { cause: error });
  } finally {
    // Interrupted: the user is waiting, and a busy kernel would not answer a shutdown_request.
    await kernel?.shutdown({ immediate: signal?.aborted === true });
  }
  finish('ok');
  for (const { cell, index } of notebook.cells.map((cell, i) => ({ cell, index: i }))) {
    if (cell.cell_type === 'code' && sourceText(cell).trim() === '') {
      reports.push({ cellIndex: index, firstLine: '', status: 'skipped', executionCount: null, durationMs: 0 });
    }
  }
  reports.sort((a, b) => a.cellIndex - b.cellIndex);
  return { path: notebookPath, outPath, notebook, injectedCellIndex, cells: reports, durationMs: Date.now() - started };
}
