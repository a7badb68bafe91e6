/**
 * Issue 35's test of sweeps across machines, on a real PostgreSQL server (the throwaway test
 * cluster of test/support/postgres.ts): a sweep of 4 short trials queued in pg-boss, 2 `glyphlab
 * worker` processes, one SIGKILLed mid-trial; every trial finished exactly once, the killed one
 * retried, no metric point lost, the store sound.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeStore, openStore, quickCheck } from '../../src/tracker/store';
import { cli } from '../support/cli';
import { createTestDatabase, runSql, startTestCluster } from '../support/postgres';
import { checkSweepEnd, killOneWorkerMidTrial } from '../sweeps/scenario';

describe('glyphlab sweep on a PostgreSQL store', () => {
  let dir: string;
  let url: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'glyphlab-sweep-pg-'));
    url = createTestDatabase();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('4 trials as pg-boss jobs, 2 worker processes, one SIGKILLed mid-trial: every trial finished once, the killed one retried, no metric point lost', async () => {
    const result = await killOneWorkerMidTrial(dir, url, 'tiny');
    assert.equal(result.view.queue, 'pg-boss');
    const store = openStore(url);
    try {
      checkSweepEnd(store, 'tiny', result);
      assert.deepEqual(quickCheck(store), []);
    } finally {
      closeStore(store);
    }
    // pg-boss agrees: the four jobs completed, none left to hand out, and the killed trial's job was retried once.
    const database = new URL(url).pathname.slice(1);
    const jobs = runSql(startTestCluster(), "SELECT state, retry_count, count(*) FROM pgboss.job WHERE name = 'glyphlab-sweep-tiny' GROUP BY state, retry_count ORDER BY retry_count", database).trim();
    assert.equal(jobs, 'completed|0|3\ncompleted|1|1');
    const status = await cli(['sweep', 'status', 'tiny', '--db', url]);
    assert.equal(status.code, 0, status.err);
    assert.match(status.out, /pending 0, running 0, finished 4, failed 0 \(done\)/);
  });
});
