/**
 * Lowering the scheduling priority of the calling thread, for helper threads (image decoding)
 * that share the cores with data-parallel training replicas: a replica the scheduler pauses for
 * a helper stalls every other replica at the next batch-norm barrier, so helpers should run
 * where the replicas leave the cores idle. Linux keeps a nice value per thread; the thread's id
 * is read from `/proc/thread-self`. Elsewhere this does nothing.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The calling thread's Linux thread id, or undefined where `/proc/thread-self` is missing. */
export function currentThreadId(): number | undefined {
  try {
    // "<pid>/task/<tid>"
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Sets the calling thread's nice value to `nice` (0 normal, 19 lowest), unless it is already
 * that low or lower (raising priority would need privileges). Returns whether the thread now
 * runs at `nice` or lower.
 */
export function lowerThreadPriority(nice: number): boolean {
  if (!Number.isInteger(nice) || nice < 0 || nice > 19) throw new RangeError(`nice ${nice} is not valid: expected an integer from 0 to 19`);
  const tid = currentThreadId();
  if (tid === undefined) return false;
  try {
    if (getPriority(tid) < nice) setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}
