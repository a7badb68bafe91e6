/**
 * Who records a run, told apart from whoever gets its pid later. A pid alone names a process
 * only until that process ends: after a reboot, in a restarted container (whose first processes
 * are pid 1, 2, ... again) or simply once pids wrap, another process has it, and a run judged by
 * its pid alone stays "running" for ever. So a run records its process's pid with the process's
 * start time (field 22 of `/proc/PID/stat`, clock ticks after boot), the boot
 * (`/proc/sys/kernel/random/boot_id`), the pid namespace and the host; a reader on the same
 * host, boot and namespace then knows whether the process with that pid is the one that
 * recorded the run. Where `/proc` is missing (macOS, Windows) only the pid can be compared.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { processAlive, readProcStat } from '../util/process';

/** The identity of a process as a run records it. */
export interface ProcessIdentity {
  pid: number;
  host: string;
  /** Start of the process in clock ticks after boot; null where `/proc` cannot tell. */
  startTicks: number | null;
  /** Changes at every boot; null where `/proc` cannot tell. */
  bootId: string | null;
  /** A pid names one process only inside its namespace, e.g. `pid:[4026531836]`; null where unknown. */
  pidNamespace: string | null;
}

/** What a run recorded about its process (older rows lack the start time, boot and namespace). */
export interface RecordedProcess {
  pid: number | null;
  host: string | null;
  startTicks?: number | null;
  bootId?: string | null;
  pidNamespace?: string | null;
}

/**
 * What a reader can tell about a run's process:
 * - `alive`: the very process that recorded the run exists (same pid and start time); `stopped`
 *   when it is stopped (SIGSTOP, Ctrl-Z), which makes its heartbeat stale while it lives;
 * - `unverified`: a process with that pid exists, but its start time cannot be compared (a run
 *   recorded before start times were, or no `/proc`): it may be the recorder or a reused pid;
 * - `dead`: on this machine, that process no longer exists (`reason` says how this is known);
 * - `elsewhere`: recorded on another host, boot or pid namespace, where this process cannot look:
 *   only the run's heartbeat can tell (`where` says which).
 */
export type ProcessCheck =
  | { state: 'alive'; stopped: boolean }
  | { state: 'unverified' }
  | { state: 'dead'; reason: string }
  | { state: 'elsewhere'; where: string };

let current: ProcessIdentity | undefined;

/** This process's identity (read once: none of it changes while the process lives). */
export function currentProcessIdentity(): ProcessIdentity {
  if (current) return current;
  const ticks = readProcStat(process.pid)?.startTicks;
  current = {
    pid: process.pid,
    host: hostname(),
    startTicks: ticks !== undefined && Number.isSafeInteger(ticks) ? ticks : null,
    bootId: readText('/proc/sys/kernel/random/boot_id'),
    pidNamespace: readLink('/proc/self/ns/pid'),
  };
  return current;
}

/**
 * Whether the process that recorded a run still exists, as far as this process can tell (see
 * {@link ProcessCheck}).
 */
export function checkRecordedProcess(recorded: RecordedProcess, here: ProcessIdentity = currentProcessIdentity()): ProcessCheck {
  const { pid, host } = recorded;
  if (pid === null || host === null) return { state: 'elsewhere', where: 'an unknown process' };
  if (host !== here.host) return { state: 'elsewhere', where: `host ${host}` };
  // The same host name after another boot is this machine restarted, or another machine of the
  // same name sharing the file: either way its pids mean nothing here.
  if (recorded.bootId && here.bootId && recorded.bootId !== here.bootId) return { state: 'elsewhere', where: `an earlier boot of ${host} (or another machine named so)` };
  if (recorded.pidNamespace && here.pidNamespace && recorded.pidNamespace !== here.pidNamespace) {
    return { state: 'elsewhere', where: `another pid namespace on ${host} (a container)` };
  }
  if (!processAlive(pid)) return { state: 'dead', reason: `process ${pid} on ${host} ended without finishing the run` };
  const recordedStart = recorded.startTicks ?? null;
  const stat = readProcStat(pid);
  if (recordedStart === null || stat === undefined || !Number.isSafeInteger(stat.startTicks)) return { state: 'unverified' };
  if (stat.startTicks !== recordedStart) {
    return { state: 'dead', reason: `process ${pid} on ${host} ended without finishing the run (pid ${pid} now belongs to a process started later)` };
  }
  return { state: 'alive', stopped: stat.state === 'T' || stat.state === 't' };
}



function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

function readLink(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}
