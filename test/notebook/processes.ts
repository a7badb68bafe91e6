/**
 * Checking from outside that processes are gone, for the notebook tests: written here rather
 * than taken from src/notebook/process-group.ts, so that the tests do not trust the code they
 * test. A zombie (exited, not yet reaped) still answers `kill(pid, 0)`, and where PID 1 reaps
 * nothing (some containers and sandboxes, this one included) an orphan stays one for good; it
 * runs nothing, so it counts as gone.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** The state letter and process group of `pid` from /proc, or undefined without one. */
function stat(pid: number): { state: string; pgid: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', pgid: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

function answers(target: number): boolean {
  try {
    process.kill(target, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/** Whether process `pid` runs: `kill(pid, 0)` does not throw ESRCH and it is no zombie. */
export function isRunning(pid: number): boolean {
  return answers(pid) && stat(pid)?.state !== 'Z';
}

/** Whether any process of group `pgid` runs: `kill(-pgid, 0)` does not throw ESRCH and a member is no zombie. */
export function groupIsRunning(pgid: number): boolean {
  if (!answers(-pgid)) return false;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return true;
  }
  return pids.some((name) => {
    const info = stat(Number(name));
    return info !== undefined && info.pgid === pgid && info.state !== 'Z';
  });
}

/** The `glyphlab-kernel-*` folders in `dir`. */
export function kernelFolders(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.startsWith('glyphlab-kernel-'));
}

/**
 * Polls `condition` until it holds. The limit only keeps a broken build from hanging the suite:
 * it is far above what the work takes on a loaded machine, so reaching it means "never".
 */
export async function eventually(condition: () => boolean, what: string, limitMs = 60_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: still not so after ${limitMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
