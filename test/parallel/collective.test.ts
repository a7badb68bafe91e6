import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { allocateCollective, Collective, ReplicaError, STATS_SLOT } from '../../src/parallel/collective';
import { startScriptWorker } from '../../src/util/script-worker';

describe('collective', () => {
  test('thousands of back-to-back statistics reductions on 3 threads all give the exact sums', async () => {
    const replicas = 3;
    const calls = 3000;
    const buffers = allocateCollective({ replicas, parameters: 1, weightCount: 1 });
    const workers = Array.from({ length: replicas }, (_, rank) => startScriptWorker(__dirname, 'collective-worker', __filename, { rank, replicas, calls, buffers }));
    const reports = await Promise.all(workers.map(async (worker) => ((await once(worker, 'message')) as [string[]])[0]));
    await Promise.all(workers.map((worker) => worker.terminate()));
    assert.deepEqual(reports, [[], [], []]);
  });

  test('a statistics vector longer than the shared slot is refused with its size', () => {
    const collective = new Collective(0, 1, 1, allocateCollective({ replicas: 1, parameters: 1, weightCount: 1 }));
    assert.throws(() => collective.allReduceSum(new Float64Array(STATS_SLOT + 1)), (e: unknown) => e instanceof ReplicaError && e.message.includes(String(STATS_SLOT + 1)));
  });

  test('a replica left alone at a barrier fails naming it instead of hanging', () => {
    const collective = new Collective(0, 2, 1, allocateCollective({ replicas: 2, parameters: 1, weightCount: 1 }), 50);
    assert.throws(() => collective.allReduceSum(new Float64Array(3), 'the batch-norm statistics'), /did not reach the batch-norm statistics within/);
  });
});
