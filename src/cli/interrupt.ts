/**
 * Ctrl-C and SIGTERM for the CLI's training commands. Until training has begun (loading data,
 * building the model, starting worker threads) nothing is recorded, so the first signal ends the
 * process at once, by that signal: a start-up can take minutes (64 replica threads on two cores) and must not hold the user.
 * Once training has begun, the first signal stops the run cleanly (the loop finishes its batch,
 * saves `last/` and records the run as interrupted) and a second one ends the process at once
 * (the run is recorded as crashed; `last/` holds the epoch before).
 */
import { Callback } from '../training/callbacks';
import { interruptOnSignals } from '../runs/signals';
import type { CliContext } from './command';

/** Marks when the training loop has begun (its train-begin event). */
class BegunCallback extends Callback {
  begun = false;

  override async onTrainBegin(): Promise<void> {
    this.begun = true;
  }
}

/**
 * Runs `fn` with the signals handled as above. `fn` must hand `begun` to the training loop with
 * its callbacks (it tells a start-up from a run under way) and `signal` as the loop's stop signal.
 *
 * @example
 * return interruptible(ctx, (signal, begun) => runEquationTraining({ ..., callbacks: [begun], signal, handleSignals: false }));
 */
export async function interruptible<T>(ctx: CliContext, fn: (signal: AbortSignal, begun: Callback) => Promise<T>): Promise<T> {
  const write = (text: string): void => void ctx.stderr.write(text);
  const interrupt = interruptOnSignals({ write });
  const begun = new BegunCallback();
  // Runs before interruptOnSignals' handler, which takes the first signal once training has
  // begun. Before that, and at a second signal, quit: not with process.exit(), which waits for
  // worker threads that are busy or still starting (compiling wasm, loading modules), for
  // minutes with 64 of them on two cores, but by raising the signal again with no listener left,
  // which ends the process at once. The 'exit' listeners still run first (a run being recorded
  // is marked crashed, its buffered points written), as they would on process.exit().
  const quit = (signal: NodeJS.Signals): void => {
    if (begun.begun && !interrupt.signal.aborted) return;
    write(begun.begun ? `\n${signal} again: quitting at once\n` : `\n${signal}: quitting; training had not begun, so nothing was recorded\n`);
    process.emit('exit', 128 + (signal === 'SIGINT' ? 2 : 15));
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  };
  process.prependListener('SIGINT', quit);
  process.prependListener('SIGTERM', quit);
  try {
    return await fn(interrupt.signal, begun);
  } finally {
    process.off('SIGINT', quit);
    process.off('SIGTERM', quit);
    interrupt.dispose();
  }
}
