/**
 * Progress bars for long CLI work. On a terminal the bar redraws in place; in a log (CI, a
 * pipe) it prints a line at most every `logEveryMs` so that logs stay short but show life.
 * Library code never draws: it takes an `onProgress(done, total)` callback, and the CLI
 * passes {@link ProgressBar.update}; training reports through {@link ProgressCallback}.
 */
import { Callback, type Logs, type TrainBeginEvent } from '../training/callbacks';
import { formatSeconds } from '../util/format';

export { formatSeconds };

export interface ProgressBarOptions {
  /** Stream to draw on. Defaults to `process.stderr`. */
  stream?: NodeJS.WriteStream;
  /** Bar width in characters. Defaults to 28. */
  width?: number;
  /** Minimum time between log lines when the stream is not a terminal. Defaults to 5000 ms. */
  logEveryMs?: number;
}

export interface ProgressBar {
  /** Sets progress to `done` of `total` (total may change, e.g. once it is known). */
  update(done: number, total?: number, detail?: string): void;
  /** Draws the final state and ends the line. */
  finish(detail?: string): void;
}

/**
 * Creates a progress bar labelled `label`.
 *
 * @example
 * const bar = createProgressBar('synth', 1000);
 * await synthesize({ onProgress: (done, total) => bar.update(done, total) });
 * bar.finish();
 */
export function createProgressBar(label: string, total: number, options: ProgressBarOptions = {}): ProgressBar {
  const stream = options.stream ?? process.stderr;
  const width = options.width ?? 28;
  const logEveryMs = options.logEveryMs ?? 5000;
  const interactive = Boolean(stream.isTTY);
  const started = Date.now();
  let lastDraw = 0;
  let current = 0;
  let currentTotal = total;
  let finished = false;

  const render = (detail?: string): string => {
    const fraction = currentTotal > 0 ? Math.min(1, current / currentTotal) : 0;
    const filled = Math.round(fraction * width);
    const elapsed = (Date.now() - started) / 1000;
    const rate = elapsed > 0 ? current / elapsed : 0;
    const eta = rate > 0 ? (currentTotal - current) / rate : Number.NaN;
    const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
    const percent = `${Math.floor(fraction * 100)}`.padStart(3);
    return `${label} [${bar}] ${percent}% ${current}/${currentTotal} ${formatSeconds(elapsed)} eta ${formatSeconds(eta)}${detail ? ` ${detail}` : ''}`;
  };

  return {
    update(done, newTotal, detail) {
      if (finished) return;
      current = done;
      if (newTotal !== undefined) currentTotal = newTotal;
      const now = Date.now();
      if (interactive) {
        if (now - lastDraw < 100 && done < currentTotal) return;
        stream.write(`\r${render(detail)}\x1b[K`);
      } else {
        if (now - lastDraw < logEveryMs) return;
        stream.write(`${render(detail)}\n`);
      }
      lastDraw = now;
    },
    finish(detail) {
      if (finished) return;
      finished = true;
      stream.write(`${interactive ? '\r' : ''}${render(detail)}${interactive ? '\x1b[K' : ''}\n`);
    },
  };
}

/** A training callback that draws a progress bar per epoch and prints one summary line per epoch. */
export class ProgressCallback extends Callback {
  private bar: ProgressBar | undefined;
  private epochs = 0;
  private steps = 0;
  private done = 0;

  constructor(private readonly print: (line: string) => void) {
    super();
  }

  override async onTrainBegin(event: TrainBeginEvent): Promise<void> {
    this.epochs = event.epochs;
    this.steps = event.stepsPerEpoch ?? 0;
  }
  override async onEpochBegin(epoch: number): Promise<void> {
    this.done = 0;
    this.bar = createProgressBar(`epoch ${epoch + 1}/${this.epochs}`, this.steps);
  }
  override async onBatchEnd(_step: number, logs: Logs): Promise<void> {
    this.done++;
    this.bar?.update(this.done, this.steps, `loss ${(logs['loss'] ?? Number.NaN).toFixed(3)}`);
  }
  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    this.bar?.finish();
    this.bar = undefined;
    const parts = Object.entries(logs).map(([k, v]) => `${k} ${formatLog(k, v)}`);
    this.print(`epoch ${epoch + 1}/${this.epochs}: ${parts.join(', ')}`);
  }
}

function formatLog(key: string, value: number): string {
  if (key === 'lr') return value.toExponential(1);
  if (key.endsWith('_time_s')) return `${value.toFixed(1)}s`;
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(1) : value.toFixed(4);
}
