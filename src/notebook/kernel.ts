/**
 * A Jupyter-protocol client for the tslab kernel, so that notebooks run headless without Python.
 *
 * The kernel is the real `tslab kernel` process, started with a connection file this module
 * writes (tcp on 127.0.0.1, free ports, a random HMAC-SHA256 key). Messages follow the Jupyter
 * wire protocol: `<IDS|MSG>`, signature, header, parent header, metadata, content.
 *
 * What tslab 1.0.22 does differently from ipykernel, and how this client deals with it:
 * - It never publishes `execute_result` nor `error` on iopub. The value of a cell's last
 *   expression is `console.log`ged (a `stream` on stdout), and a failing cell prints its error
 *   or its compiler diagnostics to stderr and answers `execute_reply` with `status: 'error'` but
 *   no `ename`/`evalue`. This client then synthesises an `error` output from that stderr text
 *   (see {@link describeFailure}).
 * - `tslab.newDisplay()` sends `display_data` with a `transient.display_id` first and
 *   `update_display_data` for the same id afterwards; both arrive here as outputs.
 * - Its iopub socket is a plain publisher, so the first messages after connecting are lost
 *   (ZeroMQ's "slow joiner"): start-up repeats `kernel_info_request` until one of its iopub
 *   status messages arrives.
 *
 * Nothing is left behind: the kernel leads its own process group, so that a Ctrl-C at the
 * terminal reaches only glyphlab (which decides what to do) and stopping the group also ends
 * what the cells started. Every way out stops the whole group (SIGTERM, then SIGKILL) and removes
 * the folder holding the connection file and its key: a shutdown, a failed start, the kernel's
 * death, an abort, this process's 'exit' (synchronously, with SIGKILL), and this process's
 * sudden death (SIGKILL, a crash), which a watchdog loaded into the kernel notices.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type * as Zmq from 'zeromq';
import { NotebookError, errorMessage } from '../errors';
import { projectRoot } from '../util/paths';
import { TERMINATE_GRACE_MS, signalProcessGroup, stopProcessGroup } from './process-group';

/** One output of a cell, in nbformat 4 shape plus the transient display id Jupyter sends. */
export type KernelOutput =
  | { output_type: 'stream'; name: 'stdout' | 'stderr'; text: string }
  | { output_type: 'display_data'; data: MimeBundle; metadata: Record<string, unknown>; displayId?: string }
  | { output_type: 'update_display_data'; data: MimeBundle; metadata: Record<string, unknown>; displayId: string }
  | { output_type: 'execute_result'; data: MimeBundle; metadata: Record<string, unknown>; execution_count: number | null }
  | { output_type: 'error'; ename: string; evalue: string; traceback: string[] };

/** Output data by MIME type, e.g. `{ 'text/html': '<b>hi</b>' }`. */
export type MimeBundle = Record<string, unknown>;

/** The error of a failed cell. */
export interface KernelErrorInfo {
  ename: string;
  evalue: string;
  traceback: string[];
}

/** What {@link executeCode} returns. */
export interface ExecuteResult {
  /** `'ok'`, `'error'`, or `'abort'` (tslab cancels requests queued behind a failed one). */
  status: 'ok' | 'error' | 'abort';
  /** The kernel's execution counter for this request; `null` when it gave none. */
  executionCount: number | null;
  /** Outputs in the order they arrived, `error` last when the cell failed. */
  outputs: KernelOutput[];
  /** Set when `status` is `'error'`. */
  error: KernelErrorInfo | undefined;
  /** Wall time from sending the request to the kernel going idle, in ms. */
  durationMs: number;
}

export interface StartKernelOptions {
  /** Working directory of the kernel; relative imports in cells resolve from it. Defaults to `process.cwd()`. */
  cwd?: string;
  /** Environment of the kernel process. Defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /**
   * How long start-up may take (process start, TypeScript warm-up, first reply), a start that
   * gets no answer in half of it tried once more on fresh ports. Defaults to 180 000 ms.
   */
  startTimeoutMs?: number;
  /** Path of tslab's `bin/tslab` script. Defaults to the one installed next to glyphlab. */
  tslabBin?: string;
  /**
   * Abandons the start when aborted: the kernel's processes are stopped, its connection folder
   * removed, and `startKernel` rejects with a {@link KernelAbortedError}. Defaults to none.
   */
  signal?: AbortSignal;
}

export interface ExecuteOptions {
  /**
   * Fails with a NotebookError when the kernel is not idle this long after the cell was sent
   * (tslab's compiling of the cell counts, the kernel's start-up does not), and interrupts the
   * cell; 0 means no limit. Defaults to 0.
   */
  timeoutMs?: number;
  /**
   * Abandons the cell when aborted: it is interrupted, as after a timeout, and the call rejects
   * with a {@link KernelAbortedError}. Defaults to none.
   */
  signal?: AbortSignal;
  /** Called with each output as it arrives, e.g. to stream a long cell's log. Defaults to none. */
  onOutput?: (output: KernelOutput) => void;
}

/** Options of {@link shutdownKernel}. */
export interface ShutdownOptions {
  /**
   * Skip the polite `shutdown_request` (up to 2 s for a kernel that is busy) and stop the
   * kernel's process group at once, e.g. after a Ctrl-C. Defaults to false.
   */
  immediate?: boolean;
}

/** A running tslab kernel. Create one with {@link startKernel}; always {@link shutdownKernel} it. */
export interface Kernel {
  /** The kernel's process id, also the id of its process group (what its cells start joins it). */
  readonly pid: number;
  /** The kernel's working directory. */
  readonly cwd: string;
  /** The private temporary folder of the connection file (which holds the key); removed when the kernel stops. */
  readonly connectionDir: string;
  /** Whether the process has exited. */
  readonly exited: boolean;
  /** Runs `code` in the kernel; one wrapper around {@link executeCode}. */
  execute(code: string, options?: ExecuteOptions): Promise<ExecuteResult>;
  /** Stops the kernel; one wrapper around {@link shutdownKernel}. */
  shutdown(options?: ShutdownOptions): Promise<void>;
}

/** A start or a cell abandoned because its AbortSignal was aborted; `reason` is the signal's. */
export class KernelAbortedError extends NotebookError {
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

/** The reason of an aborted signal as text: a string reason itself, an Error's message, else 'aborted'. */
export function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (typeof reason === 'string') return reason;
  return reason instanceof Error && reason.message !== '' ? reason.message : 'aborted';
}

const DELIMITER = Buffer.from('<IDS|MSG>');
const PROTOCOL_VERSION = '5.3';

interface JupyterHeader {
  msg_id: string;
  msg_type: string;
  session: string;
  username: string;
  date: string;
  version: string;
}

interface JupyterMessage {
  header: JupyterHeader;
  parent_header: Partial<JupyterHeader>;
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
}

/** What is collected for one request until its reply and its `idle` status have both arrived. */
interface PendingRequest {
  outputs: KernelOutput[];
  reply: JupyterMessage | undefined;
  idle: boolean;
  busySeen: boolean;
  onOutput: ((output: KernelOutput) => void) | undefined;
  settle: () => void;
  fail: (error: Error) => void;
}

/** Ports the OS says are free right now. The kernel binds them a moment later; a clash is unlikely and fails start-up clearly. */
async function findFreePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(server));
      }),
    ),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new NotebookError('could not find a free tcp port for the kernel');
    return address.port;
  });
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  return ports;
}

/** The `bin/tslab` script of the installed tslab package. */
function defaultTslabBin(): string {
  try {
    return join(dirname(require.resolve('tslab/package.json', { paths: [projectRoot()] })), 'bin', 'tslab');
  } catch (error) {
    throw new NotebookError('the tslab package is not installed: run `npm install` in the glyphlab folder', { cause: error });
  }
}

function sign(key: string, parts: readonly (string | Buffer)[]): string {
  const hmac = createHmac('sha256', key);
  for (const part of parts) hmac.update(part);
  return hmac.digest('hex');
}

/** Splits raw frames into a message, checking the signature; undefined for frames that are not a valid Jupyter message. */
function decodeMessage(key: string, frames: Buffer[]): JupyterMessage | undefined {
  const at = frames.findIndex((frame) => frame.equals(DELIMITER));
  if (at < 0 || frames.length < at + 6) return undefined;
  const signature = frames[at + 1]?.toString() ?? '';
  const parts = frames.slice(at + 2, at + 6);
  if (sign(key, parts) !== signature) return undefined;
  const [header, parent, metadata, content] = parts.map((part) => JSON.parse(part.toString()) as unknown);
  return {
    header: header as JupyterHeader,
    parent_header: (parent ?? {}) as Partial<JupyterHeader>,
    metadata: (metadata ?? {}) as Record<string, unknown>,
    content: (content ?? {}) as Record<string, unknown>,
  };
}

const DIAGNOSTIC_LINE = /^(?:\S+ )?\d+:\d+ - /;
const ERROR_HEADER = /^(?:Uncaught )?([A-Za-z_$][\w$]*(?:Error|Exception)|Error)(?: \[[\w-]+\])?: ?(.*)$/;

/**
 * Turns the stderr text of a cell that tslab reported as failed into `ename`/`evalue`:
 * TypeScript diagnostics (`2:7 - Cannot find name 'x'.`) become `TSError` with the diagnostics
 * as value; a thrown error printed by `console.error` gives its name and first message line;
 * anything else is an `Error` whose value is the last line printed.
 */
export function describeFailure(stderrText: string): KernelErrorInfo {
  const lines = stderrText.split('\n').map((line) => line.replace(/\s+$/, ''));
  const nonEmpty = lines.filter((line) => line.trim() !== '');
  const diagnostics = nonEmpty.filter((line) => DIAGNOSTIC_LINE.test(line));
  if (diagnostics.length > 0) {
    return { ename: 'TSError', evalue: diagnostics.join('; '), traceback: diagnostics };
  }
  for (let i = nonEmpty.length - 1; i >= 0; i--) {
    const match = ERROR_HEADER.exec(nonEmpty[i] ?? '');
    if (match) {
      return { ename: match[1] ?? 'Error', evalue: match[2] ?? '', traceback: nonEmpty.slice(i) };
    }
  }
  const last = nonEmpty[nonEmpty.length - 1];
  return {
    ename: 'Error',
    evalue: last ?? 'the cell failed without printing an error',
    traceback: nonEmpty,
  };
}

class TslabKernel implements Kernel {
  readonly pid: number;
  exited = false;
  exitReason = '';
  /** tslab cancels every request that arrives within 200 ms of a failed cell; the next one waits until then. */
  abortWindowEndsAt = 0;
  private readonly session = randomUUID();
  private readonly pending = new Map<string, PendingRequest>();
  private readonly sendChains = new Map<Zmq.Dealer, Promise<void>>();
  private stderrTail = '';
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly exitedPromise: Promise<void>;
  private readonly onParentExit: () => void;

  constructor(
    readonly cwd: string,
    private readonly child: ChildProcess,
    private readonly key: string,
    private readonly sockets: { shell: Zmq.Dealer; control: Zmq.Dealer; iopub: Zmq.Subscriber },
    readonly connectionDir: string,
  ) {
    this.pid = child.pid ?? -1;
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-2000);
    });
    // The kernel's own stdout only carries start-up noise; cell output travels over iopub.
    child.stdout?.resume();
    this.exitedPromise = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('exit', (code, signal) => {
      this.exited = true;
      this.exitReason = signal ? `signal ${signal}` : `exit code ${code}`;
      if (this.closed) return;
      const hint = lastErrorLine(this.stderrTail);
      const error = new NotebookError(`the tslab kernel (pid ${this.pid}) died with ${this.exitReason}${hint ? `; it printed: ${hint}` : ''}`);
      for (const request of [...this.pending.values()]) request.fail(error);
      // What its cells started may live on in its group, and its key is on disk: clean up now,
      // not only when the caller gets to shutdown() (which then waits for this).
      void this.close(0);
    });
    // A process that exits without shutting the kernel down (process.exit(), an uncaught
    // error) must not leave it behind. Only synchronous work runs in 'exit': SIGKILL at once.
    this.onParentExit = () => {
      killAtExit(this.pid, this.child);
      rmSync(this.connectionDir, { recursive: true, force: true });
    };
    process.on('exit', this.onParentExit);
    void this.receiveLoop(sockets.shell);
    void this.receiveLoop(sockets.control);
    void this.receiveLoop(sockets.iopub);
  }

  execute(code: string, options: ExecuteOptions = {}): Promise<ExecuteResult> {
    return executeCode(this, code, options);
  }

  shutdown(options?: ShutdownOptions): Promise<void> {
    return shutdownKernel(this, options);
  }

  /** Sends a request and resolves once its reply and its iopub `idle` have arrived. */
  request(
    channel: 'shell' | 'control',
    msgType: string,
    content: Record<string, unknown>,
    options: { timeoutMs?: number; onOutput?: (output: KernelOutput) => void; what?: string; signal?: AbortSignal } = {},
  ): Promise<{ reply: JupyterMessage; outputs: KernelOutput[]; busySeen: boolean }> {
    const what = options.what ?? msgType;
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(new KernelAbortedError(`${what} was abandoned: ${abortReason(signal)}`, abortReason(signal)));
    if (this.exited) return Promise.reject(new NotebookError(`the tslab kernel (pid ${this.pid}) is not running (${this.exitReason})`));
    const header: JupyterHeader = {
      msg_id: randomUUID(),
      msg_type: msgType,
      session: this.session,
      username: 'glyphlab',
      date: new Date().toISOString(),
      version: PROTOCOL_VERSION,
    };
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = (): void => {
        const reason = signal ? abortReason(signal) : 'aborted';
        request.fail(new KernelAbortedError(`${what} was abandoned: ${reason}`, reason));
      };
      const done = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(header.msg_id);
      };
      const request: PendingRequest = {
        outputs: [],
        reply: undefined,
        idle: false,
        busySeen: false,
        onOutput: options.onOutput,
        settle: () => {
          if (!request.reply || !request.idle) return;
          done();
          resolve({ reply: request.reply, outputs: request.outputs, busySeen: request.busySeen });
        },
        fail: (error) => {
          done();
          reject(error);
        },
      };
      this.pending.set(header.msg_id, request);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (options.timeoutMs && options.timeoutMs > 0) {
        const seconds = options.timeoutMs / 1000;
        timer = setTimeout(
          () => request.fail(new NotebookError(`${what} did not finish within ${seconds} s (the kernel is still busy or hung)`)),
          options.timeoutMs,
        );
      }
      const parts = [header, {}, {}, content].map((part) => JSON.stringify(part));
      const frames = [DELIMITER, sign(this.key, parts), ...parts];
      this.send(this.sockets[channel], frames).catch((error: unknown) =>
        request.fail(new NotebookError(`could not send ${msgType} to the tslab kernel: ${errorMessage(error)}`, { cause: error })),
      );
    });
  }

  /** Interrupts the running cell the way Jupyter's interrupt button does: tslab handles SIGINT. */
  interrupt(): void {
    if (!this.exited) this.child.kill('SIGINT');
  }

  /** ZeroMQ allows one send in flight per socket, so sends are chained. */
  private send(socket: Zmq.Dealer, frames: (string | Buffer)[]): Promise<void> {
    const previous = this.sendChains.get(socket) ?? Promise.resolve();
    const next = previous.then(() => socket.send(frames));
    this.sendChains.set(
      socket,
      next.catch(() => undefined),
    );
    return next;
  }

  private async receiveLoop(socket: Zmq.Dealer | Zmq.Subscriber): Promise<void> {
    try {
      for await (const frames of socket) {
        const message = decodeMessage(this.key, frames);
        if (message) this.dispatch(socket === this.sockets.iopub, message);
      }
    } catch (error) {
      // Closing the socket ends the loop with an error; anything else is reported to requests waiting on it.
      if (this.closed) return;
      const failure = new NotebookError(`lost the connection to the tslab kernel: ${errorMessage(error)}`, { cause: error });
      for (const request of [...this.pending.values()]) request.fail(failure);
    }
  }

  private dispatch(fromIopub: boolean, message: JupyterMessage): void {
    const parentId = message.parent_header.msg_id;
    const request = parentId ? this.pending.get(parentId) : undefined;
    if (!request) return;
    const content = message.content;
    if (!fromIopub) {
      request.reply = message;
      request.settle();
      return;
    }
    const output = toOutput(message);
    if (output) {
      request.outputs.push(output);
      request.onOutput?.(output);
    } else if (message.header.msg_type === 'status') {
      if (content['execution_state'] === 'busy') request.busySeen = true;
      if (content['execution_state'] === 'idle') {
        request.idle = true;
        request.settle();
      }
    }
  }

  /**
   * Closes the sockets, gives the kernel `exitWaitMs` to exit by itself (it was asked to shut
   * down), then stops its whole process group and removes the connection folder. Every call
   * returns the same promise, so a second caller waits for the first one's work.
   */
  close(exitWaitMs: number): Promise<void> {
    this.closing ??= this.stop(exitWaitMs);
    return this.closing;
  }

  private async stop(exitWaitMs: number): Promise<void> {
    this.closed = true;
    for (const request of [...this.pending.values()]) request.fail(new NotebookError('the tslab kernel was shut down'));
    for (const socket of Object.values(this.sockets)) socket.close();
    try {
      if (!this.exited && exitWaitMs > 0) await Promise.race([this.exitedPromise, delay(exitWaitMs)]);
      // Even after a clean exit of the kernel, what its cells started may still run.
      if (process.platform === 'win32') {
        if (!this.exited) this.child.kill('SIGKILL');
      } else {
        await stopProcessGroup(this.pid);
      }
      // SIGKILL went to the group; a kernel that still has not exited is not waited for forever.
      if (!this.exited) this.child.kill('SIGKILL');
      await Promise.race([this.exitedPromise, delay(TERMINATE_GRACE_MS)]);
    } finally {
      process.off('exit', this.onParentExit);
      rmSync(this.connectionDir, { recursive: true, force: true });
    }
  }
}

/** SIGKILL to the kernel's process group (the kernel and what its cells started), synchronously, for 'exit' handlers. */
function killAtExit(pgid: number, child: ChildProcess): void {
  try {
    if (process.platform === 'win32') child.kill('SIGKILL');
    else signalProcessGroup(pgid, 'SIGKILL');
  } catch {
    // Exiting anyway: nothing more can be done here.
  }
}

/** The most telling line of a kernel's stderr: the last one naming an error, else the last non-empty one. */
function lastErrorLine(stderrText: string): string {
  const lines = stderrText.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !/^Node\.js v\d/.test(line));
  const errorLine = [...lines].reverse().find((line) => /\b[A-Za-z]*Error\b/.test(line));
  return (errorLine ?? lines[lines.length - 1] ?? '').slice(0, 300);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function toOutput(message: JupyterMessage): KernelOutput | undefined {
  const content = message.content;
  const data = (content['data'] ?? {}) as MimeBundle;
  const metadata = (content['metadata'] ?? {}) as Record<string, unknown>;
  const transient = (content['transient'] ?? {}) as { display_id?: unknown };
  const displayId = typeof transient.display_id === 'string' ? transient.display_id : undefined;
  switch (message.header.msg_type) {
    case 'stream':
      return { output_type: 'stream', name: content['name'] === 'stderr' ? 'stderr' : 'stdout', text: String(content['text'] ?? '') };
    case 'display_data':
      return { output_type: 'display_data', data, metadata, ...(displayId !== undefined ? { displayId } : {}) };
    case 'update_display_data':
      // An update without an id cannot target anything; keep it visible as a plain display.
      return displayId !== undefined
        ? { output_type: 'update_display_data', data, metadata, displayId }
        : { output_type: 'display_data', data, metadata };
    case 'execute_result':
      return {
        output_type: 'execute_result',
        data,
        metadata,
        execution_count: typeof content['execution_count'] === 'number' ? content['execution_count'] : null,
      };
    case 'error':
      return {
        output_type: 'error',
        ename: String(content['ename'] ?? 'Error'),
        evalue: String(content['evalue'] ?? ''),
        traceback: Array.isArray(content['traceback']) ? content['traceback'].map(String) : [],
      };
    default:
      return undefined;
  }
}

/**
 * Starts the tslab kernel as a child process and connects to it; resolves once it answers on
 * both shell and iopub. Shut it down with {@link shutdownKernel} (a `finally` is the place).
 *
 * @example
 * const kernel = await startKernel({ cwd: 'notebooks' });
 * try {
 *   const result = await kernel.execute('1 + 1');
 * } finally {
 *   await kernel.shutdown();
 * }
 */
export async function startKernel(options: StartKernelOptions = {}): Promise<Kernel> {
  // A start that gets no answer is tried once more, on fresh ports, within the same limit: a
  // rare start on this 2-core machine never answered while the next ones took seconds.
  const attempts = 2;
  const perAttemptMs = Math.ceil((options.startTimeoutMs ?? 180_000) / attempts);
  for (let attempt = 1; ; attempt++) {
    if (options.signal?.aborted) {
      const reason = abortReason(options.signal);
      throw new KernelAbortedError(`the start of the tslab kernel was abandoned: ${reason}`, reason);
    }
    try {
      return await startKernelOnce(options, perAttemptMs);
    } catch (error) {
      if (!(error instanceof KernelStartTimeout) || attempt === attempts) throw error;
    }
  }
}

/** A kernel that did not answer at start-up within its time. */
class KernelStartTimeout extends NotebookError {}

/**
 * The script the kernel loads before tslab (`node --require`): when the process that started
 * it is gone without stopping it (SIGKILL, a crash, a signal with no handler, where no 'exit'
 * handler runs), the kernel is reparented, so its parent pid changes. It then removes its
 * connection folder (the key) and kills its own process group, itself and what its cells
 * started, rather than live on as an orphan (one spun at 98% of a core on its broken pipes).
 */
function watchdogSource(parentPid: number, connectionDir: string): string {
  return `'use strict';
// Written by glyphlab (src/notebook/kernel.ts): ends this kernel when glyphlab's process is gone.
const parentPid = ${parentPid};
const connectionDir = ${JSON.stringify(connectionDir)};
setInterval(() => {
  if (process.ppid === parentPid) return;
  try { require('node:fs').rmSync(connectionDir, { recursive: true, force: true }); } catch {}
  try { process.kill(-process.pid, 'SIGKILL'); } catch {}
  process.kill(process.pid, 'SIGKILL');
}, 500).unref();
`;
}

async function startKernelOnce(options: StartKernelOptions, startTimeoutMs: number): Promise<Kernel> {
  const cwd = options.cwd ?? process.cwd();
  const tslabBin = options.tslabBin ?? defaultTslabBin();
  // Loaded here, not at the top: importing the public API must not load a native addon.
  const zmq = require('zeromq') as typeof Zmq;

  const [shellPort, iopubPort, stdinPort, controlPort, hbPort] = await findFreePorts(5);
  const key = randomBytes(32).toString('hex');
  const connectionDir = mkdtempSync(join(tmpdir(), 'glyphlab-kernel-'));
  const connectionFile = join(connectionDir, 'connection.json');
  writeFileSync(
    connectionFile,
    JSON.stringify({
      transport: 'tcp',
      ip: '127.0.0.1',
      shell_port: shellPort,
      iopub_port: iopubPort,
      stdin_port: stdinPort,
      control_port: controlPort,
      hb_port: hbPort,
      key,
      signature_scheme: 'hmac-sha256',
      kernel_name: 'tslab',
    }),
  );

  const watchdogFile = join(connectionDir, 'watchdog.js');
  writeFileSync(watchdogFile, watchdogSource(process.pid, connectionDir));

  let child: ChildProcess;
  try {
    child = spawn(process.execPath, ['--require', watchdogFile, tslabBin, 'kernel', '--config-path', connectionFile], {
      cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: a Ctrl-C at the terminal reaches glyphlab only, and stopping the
      // group also ends what the cells started.
      detached: true,
    });
  } catch (error) {
    rmSync(connectionDir, { recursive: true, force: true });
    throw new NotebookError(`could not start the tslab kernel (${tslabBin}) in ${cwd}: ${errorMessage(error)}`, { cause: error });
  }
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  if (child.pid === undefined) {
    // Spawning failed (missing cwd, node binary gone): the reason arrives as an 'error' event.
    const error = await spawnError;
    rmSync(connectionDir, { recursive: true, force: true });
    throw new NotebookError(`could not start the tslab kernel in ${cwd}: ${error.message}`, { cause: error });
  }

  const url = (port: number | undefined) => `tcp://127.0.0.1:${port}`;
  const sockets = {
    shell: new zmq.Dealer({ linger: 0 }),
    control: new zmq.Dealer({ linger: 0 }),
    iopub: new zmq.Subscriber({ linger: 0 }),
  };
  sockets.iopub.subscribe();
  sockets.shell.connect(url(shellPort));
  sockets.control.connect(url(controlPort));
  sockets.iopub.connect(url(iopubPort));

  const kernel = new TslabKernel(cwd, child, key, sockets, connectionDir);
  try {
    await Promise.race([
      waitUntilReady(kernel, startTimeoutMs, options.signal),
      spawnError.then((error) => {
        throw new NotebookError(`could not start the tslab kernel (${tslabBin}): ${error.message}`, { cause: error });
      }),
    ]);
  } catch (error) {
    await kernel.close(0);
    throw error;
  }
  return kernel;
}

/**
 * Repeats `kernel_info_request` until one is answered on shell and its `busy`/`idle` status
 * reached us on iopub: only then is the subscription live and no cell output can be lost.
 */
async function waitUntilReady(kernel: TslabKernel, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  // Short waits at first (the early requests are the ones the slow joiner loses); longer ones
  // after, so that a kernel slowed by a busy machine is not asked faster than it answers.
  let waitMs = 500;
  while (Date.now() < deadline) {
    if (kernel.exited) break;
    try {
      const { busySeen } = await kernel.request('shell', 'kernel_info_request', {}, {
        timeoutMs: Math.min(waitMs, Math.max(1, deadline - Date.now())),
        what: 'the start of the tslab kernel',
        signal,
      });
      if (busySeen) return;
    } catch (error) {
      if (error instanceof KernelAbortedError) throw error;
      lastError = error;
      waitMs = Math.min(5000, waitMs * 2);
    }
  }
  if (kernel.exited) {
    throw lastError instanceof NotebookError ? lastError : new NotebookError(`the tslab kernel exited during start-up (${kernel.exitReason})`);
  }
  throw new KernelStartTimeout(`the tslab kernel did not answer within ${timeoutMs / 1000} s of starting (pid ${kernel.pid}, cwd ${kernel.cwd})`, {
    cause: lastError,
  });
}

function asTslabKernel(kernel: Kernel): TslabKernel {
  if (!(kernel instanceof TslabKernel)) throw new NotebookError('expected a kernel made by startKernel()');
  return kernel;
}

/**
 * Runs `code` in the kernel and collects its outputs until the kernel is idle again. A failing
 * cell is not a rejection: the result has `status: 'error'` and an `error` output. Rejects with
 * a NotebookError when the kernel dies, the connection is lost, or `timeoutMs` passes.
 */
export async function executeCode(kernel: Kernel, code: string, options: ExecuteOptions = {}): Promise<ExecuteResult> {
  const client = asTslabKernel(kernel);
  const started = Date.now();
  const firstLine = code.trim().split('\n')[0] ?? '';
  if (options.signal?.aborted) {
    const reason = abortReason(options.signal);
    throw new KernelAbortedError(`executing \`${firstLine.slice(0, 60)}\` was abandoned before it began: ${reason}`, reason);
  }
  const send = async () => {
    const wait = client.abortWindowEndsAt - Date.now();
    if (wait > 0) await delay(wait);
    return client.request(
      'shell',
      'execute_request',
      { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true },
      { timeoutMs: options.timeoutMs, onOutput: options.onOutput, what: `executing \`${firstLine.slice(0, 60)}\``, signal: options.signal },
    );
  };
  const statusOf = (reply: JupyterMessage) =>
    reply.content['status'] === 'ok' ? 'ok' : reply.content['status'] === 'abort' || reply.content['status'] === 'aborted' ? 'abort' : 'error';
  let answer: Awaited<ReturnType<typeof send>>;
  try {
    answer = await send();
    if (statusOf(answer.reply) === 'abort') {
      // tslab aborts, without running it, a request that came within 200 ms of a failure we did
      // not see (one interrupted after a timeout): running it again is safe.
      client.abortWindowEndsAt = Date.now() + 300;
      answer = await send();
    }
  } catch (error) {
    // A timed-out or abandoned cell keeps the kernel busy; interrupt it so that the kernel stays usable.
    if (error instanceof KernelAbortedError || (error instanceof NotebookError && /did not finish within/.test(error.message))) client.interrupt();
    throw error;
  }
  const { reply, outputs } = answer;
  const content = reply.content;
  const status = statusOf(reply);
  const executionCount = typeof content['execution_count'] === 'number' ? content['execution_count'] : null;
  let error: KernelErrorInfo | undefined;
  if (status === 'error') {
    // tslab's TaskQueue.reset(200) after a failure: a margin on top of its 200 ms.
    client.abortWindowEndsAt = Date.now() + 300;
    const published = outputs.find((output): output is Extract<KernelOutput, { output_type: 'error' }> => output.output_type === 'error');
    if (published) {
      error = { ename: published.ename, evalue: published.evalue, traceback: published.traceback };
    } else if (typeof content['ename'] === 'string') {
      error = {
        ename: content['ename'],
        evalue: String(content['evalue'] ?? ''),
        traceback: Array.isArray(content['traceback']) ? content['traceback'].map(String) : [],
      };
    } else {
      const stderrText = outputs
        .filter((output): output is Extract<KernelOutput, { output_type: 'stream' }> => output.output_type === 'stream' && output.name === 'stderr')
        .map((output) => output.text)
        .join('');
      error = describeFailure(stderrText);
    }
    if (!published) {
      const synthesised: KernelOutput = { output_type: 'error', ...error };
      outputs.push(synthesised);
      options.onOutput?.(synthesised);
    }
  }
  return { status, executionCount, outputs, error, durationMs: Date.now() - started };
}

/**
 * Asks the kernel to shut down (`shutdown_request` on control; skipped with `immediate`), gives
 * it a second to exit, then stops its whole process group (SIGTERM, then SIGKILL after
 * {@link TERMINATE_GRACE_MS}), so that nothing its cells started outlives it, and removes its
 * connection folder. Safe to call twice.
 */
export async function shutdownKernel(kernel: Kernel, options: ShutdownOptions = {}): Promise<void> {
  const client = asTslabKernel(kernel);
  if (options.immediate) {
    await client.close(0);
    return;
  }
  if (!client.exited) {
    try {
      await client.request('control', 'shutdown_request', { restart: false }, { timeoutMs: 2000 });
    } catch {
      // A busy or dead kernel cannot answer; the process is killed below.
    }
  }
  await client.close(1000);
}
