/**
 * Stopping a process group: the tslab kernel runs as the leader of its own group, and what its
 * cells start (`sleep 300`, a training script) joins that group, so signalling the group reaches
 * all of them.
 *
 * A process that has exited but not been reaped (a zombie) still answers `kill(pid, 0)`, and
 * children whose parent died before reaping them stay zombies for good where PID 1 reaps nothing
 * (a container without an init, some sandboxes). On Linux these functions therefore read each
 * process's state from /proc and count only the living; elsewhere they rely on `kill(0)`.
 */
import { readdirSync } from 'node:fs';
import { processAlive, readProcStat, signalReaches } from '../util/process';

export { processAlive };

/** How long processes get to end after SIGTERM before SIGKILL. */
export const TERMINATE_GRACE_MS = 2000;

const POLL_MS = 25;




/** Whether any process of group `pgid` is alive; zombies do not count. */
export function processGroupAlive(pgid: number): boolean {
  if (process.platform === 'win32' || !signalReaches(-pgid)) return false;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return true; // No /proc (macOS): kill(0) is all there is.
  }
  return pids.some((name) => {
    const stat = readProcStat(Number(name));
    return stat !== undefined && stat.pgid === pgid && stat.state !== 'Z';
  });
}

/** Sends `signal` to every process of group `pgid`; a group that is gone already is not an error. */
export function signalProcessGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until no process of group `pgid` is alive, for at most `ms`; true when none is. */
async function waitForGroupEnd(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (!processGroupAlive(pgid)) return true;
    if (Date.now() >= deadline) return false;
    await delay(POLL_MS);
  }
}

/** Options of {@link stopProcessGroup}. */
export interface StopProcessGroupOptions {
  /** How long the processes get to end after SIGTERM before SIGKILL. Defaults to {@link TERMINATE_GRACE_MS}. */
  graceMs?: number;
}

/**
 * Stops every process of group `pgid`: SIGTERM, then SIGKILL to whatever is still alive after
 * the grace period. Resolves true once none is alive, false if some process outlived SIGKILL too
 * (one stuck in the kernel, which no signal ends) after a second grace period.
 *
 * @example
 * await stopProcessGroup(kernel.pid);
 */
export async function stopProcessGroup(pgid: number, options: StopProcessGroupOptions = {}): Promise<boolean> {
  const graceMs = options.graceMs ?? TERMINATE_GRACE_MS;
  if (!processGroupAlive(pgid)) return true;
  signalProcessGroup(pgid, 'SIGTERM');
  if (await waitForGroupEnd(pgid, graceMs)) return true;
  signalProcessGroup(pgid, 'SIGKILL');
  return waitForGroupEnd(pgid, graceMs);
}
