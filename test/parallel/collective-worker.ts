/** Test worker: runs `calls` reductions in a row and reports any wrong sum (collective.test.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { Collective, type CollectiveBuffers } from '../../src/parallel/collective';
import { expectedReduction, reductionInput } from './collective-values';

const { rank, replicas, calls, buffers } = workerData as { rank: number; replicas: number; calls: number; buffers: CollectiveBuffers };
const collective = new Collective(rank, replicas, 1, buffers, 20_000);
const wrong: string[] = [];
for (let call = 0; call < calls; call++) {
  const sums = reductionInput(rank, call);
  collective.allReduceSum(sums, `reduction ${call}`);
  const expected = expectedReduction(replicas, call);
  for (let i = 0; i < expected.length; i++) {
    if (sums[i] !== expected[i] && wrong.length < 5) wrong.push(`call ${call} value ${i}: ${sums[i]} instead of ${expected[i]}`);
  }
  // Uneven work between reductions, so replicas run ahead of one another.
  if ((call + rank) % 7 === 0) for (let spin = Date.now(); Date.now() - spin < 1; );
}
parentPort!.postMessage(wrong);
