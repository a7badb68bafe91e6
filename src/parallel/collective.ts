/**
 * Shared memory between the replicas of one data-parallel training run: a barrier, the
 * cross-replica sums of batch-norm statistics (inside a kernel, so synchronous), one gradient
 * slot per replica, and the weights the main thread publishes before every step.
 *
 * Waiting is bounded: a replica that does not reach a barrier within `timeoutMs` (it crashed,
 * or hangs) makes the others fail with a message naming the barrier, instead of hanging the run;
 * `abort()` releases every waiter at once.
 */
import { GlyphlabError } from '../errors';

/** Raised when replicas stop meeting at a barrier (one died, or the run was aborted). */
export class ReplicaError extends GlyphlabError {
  override name = 'ReplicaError';
}

/** The shared buffers of one replica group (sent to every worker). */
export interface CollectiveBuffers {
  /** Int32 control words: barrier count, generation, abort flag. */
  control: SharedArrayBuffer;
  /** Float64 slots for statistics: two banks (alternate reductions) of `replicas * STATS_SLOT` values. */
  stats: SharedArrayBuffer;
  /** Float32 slots for gradients: `replicas * parameters` values. */
  gradients: SharedArrayBuffer;
  /** Float32 weights published by the main replica (`weightCount` values). */
  weights: SharedArrayBuffer;
}

/** Sizes of a replica group's buffers. */
export interface CollectiveSizes {
  replicas: number;
  /** Trainable values whose gradients are summed. */
  parameters: number;
  /** All weight values (trainable and not) published to replicas. */
  weightCount: number;
}

/** Largest per-call statistics vector (2 sums per channel + a count): 4096 channels. */
export const STATS_SLOT = 2 * 4096 + 1;

const COUNT = 0;
const GENERATION = 1;
const ABORTED = 2;

/** Allocates the shared buffers of a group. */
export function allocateCollective(sizes: CollectiveSizes): CollectiveBuffers {
  return {
    control: new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT),
    stats: new SharedArrayBuffer(2 * sizes.replicas * STATS_SLOT * Float64Array.BYTES_PER_ELEMENT),
    gradients: new SharedArrayBuffer(Math.max(1, sizes.replicas * sizes.parameters) * Float32Array.BYTES_PER_ELEMENT),
    weights: new SharedArrayBuffer(Math.max(1, sizes.weightCount) * Float32Array.BYTES_PER_ELEMENT),
  };
}

/** One replica's view of the shared buffers. */
export class Collective {
  private readonly control: Int32Array;
  private readonly stats: Float64Array;
  /** Which bank of statistics slots the next reduction writes (every replica alternates alike). */
  private bank = 0;
  readonly gradients: Float32Array;
  readonly weights: Float32Array;

  constructor(
    readonly rank: number,
    readonly replicas: number,
    readonly parameters: number,
    buffers: CollectiveBuffers,
    readonly timeoutMs = 120_000,
  ) {
    this.control = new Int32Array(buffers.control);
    this.stats = new Float64Array(buffers.stats);
    this.gradients = new Float32Array(buffers.gradients);
    this.weights = new Float32Array(buffers.weights);
  }

  /** This replica's gradient slot. */
  gradientSlot(rank = this.rank): Float32Array {
    return this.gradients.subarray(rank * this.parameters, (rank + 1) * this.parameters);
  }

  /** Waits until every replica has called `barrier` as often as this one. */
  barrier(what: string): void {
    const control = this.control;
    const generation = Atomics.load(control, GENERATION);
    if (Atomics.add(control, COUNT, 1) === this.replicas - 1) {
      Atomics.store(control, COUNT, 0);
      Atomics.add(control, GENERATION, 1);
      Atomics.notify(control, GENERATION);
      return;
    }
    const deadline = Date.now() + this.timeoutMs;
    while (Atomics.load(control, GENERATION) === generation) {
      if (Atomics.load(control, ABORTED) !== 0) throw new ReplicaError(`replica ${this.rank}: the run was aborted while waiting at ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        this.abort();
        throw new ReplicaError(`replica ${this.rank}: the other replicas did not reach ${what} within ${Math.round(this.timeoutMs / 1000)} s (one may have crashed)`);
      }
      Atomics.wait(control, GENERATION, generation, Math.min(left, 200));
    }
  }

  /**
   * Replaces `sums` by the element-wise sum of every replica's `sums` (same call on every
   * replica, added in rank order so that all get identical values).
   *
   * One barrier per call: successive calls write alternate banks, so a replica that runs ahead
   * into the next reduction cannot overwrite slots another is still reading; it could only reach
   * this bank again after the next call's barrier, which every replica passes after reading.
   */
  allReduceSum(sums: Float64Array, what = 'a statistics reduction'): void {
    if (sums.length > STATS_SLOT) throw new ReplicaError(`a statistics vector of ${sums.length} values exceeds the ${STATS_SLOT} that replicas share`);
    const bankBase = this.bank * this.replicas * STATS_SLOT;
    this.bank = 1 - this.bank;
    this.stats.set(sums, bankBase + this.rank * STATS_SLOT);
    this.barrier(what);
    sums.fill(0);
    for (let r = 0; r < this.replicas; r++) {
      const base = bankBase + r * STATS_SLOT;
      for (let i = 0; i < sums.length; i++) sums[i] = (sums[i] as number) + (this.stats[base + i] as number);
    }
  }

  /** Releases every replica waiting at a barrier with an error. */
  abort(): void {
    Atomics.store(this.control, ABORTED, 1);
    Atomics.notify(this.control, GENERATION);
  }

  /** Whether the group was aborted. */
  get aborted(): boolean {
    return Atomics.load(this.control, ABORTED) !== 0;
  }
}
