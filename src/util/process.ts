/**
 * Whether a process is there, told right. `kill(pid, 0)` alone says yes for a zombie: a process
 * that has exited but not been reaped, which stays so for good where PID 1 reaps nothing (a
 * container without an init, some sandboxes). On Linux these functions read the process's state
 * from /proc and count only the living; elsewhere they rely on `kill(0)`.
 */
import { readFileSync } from 'node:fs';

/** What `/proc/PID/stat` says of a process. */
export interface ProcStat {
  /** One letter: R running, S sleeping, T stopped, Z zombie, ... */
  state: string;
  /** Its process group. */
  pgid: number;
  /** When it started, in clock ticks since boot: with the pid, it names one process. */
  startTicks: number;
}

/**
 * Fields 3, 5 and 22 of `/proc/PID/stat`, or undefined where there is no such file (no /proc, or
 * no such process). The command name (field 2) is in parentheses and may itself hold spaces and
 * parentheses, so the fields are counted after its last `)`.
 */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', pgid: Number(fields[2]), startTicks: Number(fields[19]) };
}

/** `kill(target, 0)`: whether something is there to signal (EPERM: it is, owned by another user); a negative target is a process group. */
export function signalReaches(target: number): boolean {
  try {
    process.kill(target, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether process `pid` is alive: it exists and is not a zombie.
 *
 * @example
 * processAlive(process.pid); // true
 */
export function processAlive(pid: number): boolean {
  if (!signalReaches(pid)) return false;
  return readProcStat(pid)?.state !== 'Z';
}
