/**
 * Ctrl-C and SIGTERM: one owner per process, at its edge. The protocol, in full:
 *
 * 1. The edge turns the signals into an `AbortSignal`. The edge is the CLI's training command
 *    (`cli/interrupt.ts`) or, for notebooks and scripts, the run function itself (`runEquation
 *    Training` and the other run functions with `handleSignals`, the default), through
 *    {@link withInterrupt}. Nothing below the edge installs a `process` signal handler.
 * 2. The training loop takes that `signal`: when it aborts, the loop finishes the batch in
 *    flight, saves `last/` and ends the run as interrupted (`train()` in training/train.ts).
 * 3. The experiment store's `TrackerCallback` records on the loop's events and, should the
 *    process exit before the run ends, in a synchronous 'exit' hook (buffered points written,
 *    the run marked crashed). It handles no signal.
 * 4. A second signal quits at once (exit code 130): the 'exit' hooks still run. The CLI also
 *    quits at the first signal while a run is still starting up (loading data, starting worker
 *    threads), when nothing is recorded yet.
 */

/** What {@link interruptOnSignals} installed. */
export interface Interrupt {
  /** Aborts at the first SIGINT or SIGTERM, with the reason `interrupted by SIGINT` (or SIGTERM). */
  signal: AbortSignal;
  /** Removes the signal handlers. */
  dispose(): void;
}

/** Options of {@link interruptOnSignals}. */
export interface InterruptOptions {
  /** Where the notice goes. Defaults to `process.stderr`. */
  write?: (text: string) => void;
}

/**
 * Installs SIGINT and SIGTERM handlers until `dispose()`: the first signal aborts `signal` and
 * prints what happens next; a second one exits the process with code 130, for a user who does
 * not want to wait for the batch.
 *
 * @example
 * const interrupt = interruptOnSignals();
 * try {
 *   await train(model, data, { loss, signal: interrupt.signal });
 * } finally {
 *   interrupt.dispose();
 * }
 */
export function interruptOnSignals(options: InterruptOptions = {}): Interrupt {
  const write = options.write ?? ((text: string) => void process.stderr.write(text));
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(130);
    write(`\n${signal}: finishing the current batch, then saving a checkpoint (press again to quit at once)\n`);
    controller.abort(`interrupted by ${signal}`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/**
 * Runs `fn` with a stop signal: with `handleSignals` (the run functions' default) the signals
 * of this process abort it, and so does the caller's `signal`; without, only the caller's.
 *
 * @example
 * return withInterrupt(options, (signal) => trainTheRun({ ..., signal }));
 */
export async function withInterrupt<T>(options: { signal?: AbortSignal; handleSignals?: boolean }, fn: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
  if (options.handleSignals === false) return fn(options.signal);
  const interrupt = interruptOnSignals();
  const caller = options.signal;
  // Either aborts the run: the process's signals or the caller's.
  const both = new AbortController();
  const forward = (source: AbortSignal) => () => both.abort(source.reason);
  const fromCaller = caller ? forward(caller) : undefined;
  const fromProcess = forward(interrupt.signal);
  caller?.addEventListener('abort', fromCaller!);
  interrupt.signal.addEventListener('abort', fromProcess);
  if (caller?.aborted) both.abort(caller.reason);
  try {
    return await fn(both.signal);
  } finally {
    caller?.removeEventListener('abort', fromCaller!);
    interrupt.signal.removeEventListener('abort', fromProcess);
    interrupt.dispose();
  }
}
