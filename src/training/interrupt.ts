/**
 * Ctrl-C during training: the first SIGINT or SIGTERM asks the run to stop (the loop finishes
 * the batch, saves `last/` and ends as interrupted), a second one quits at once. The CLI
 * installs this around its training commands and hands the loop the signal; `train()` installs
 * it itself when called with `handleSignals` (the default, for notebooks and scripts).
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
 *   await train(model, data, { loss, signal: interrupt.signal, handleSignals: false });
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

/** Why a run stopped, from the signal that stopped it: its string reason, else 'stopped by the caller'. */
export function stopReason(signal: AbortSignal): string {
  return typeof signal.reason === 'string' ? signal.reason : 'stopped by the caller';
}
