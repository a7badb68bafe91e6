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
import { createTestDatabase, createTestRole, runSql, startTestCluster } from '../support/postgres';
import { checkSweepEnd, killOneWorkerMidTrial, startWorker, TINY_TRIAL, tinyData } from '../sweeps/scenario';
import { listRuns } from '../../src/tracker/query';
import { writeFileSync } from 'node:fs';

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

  test('a password in the --db URL is never recorded, printed or logged', async () => {
    const database = `glyphlab_sweep_secret_${process.pid}`;
    const superuser = createTestDatabase({ name: database });
    const withPassword = createTestRole(startTestCluster(), { database, password: 'Sw33p:s3cret@pw' });
    const space = join(dir, 'one.json');
    writeFileSync(space, JSON.stringify({ grid: { lr: [0.002] } }));
    const created = await cli(['sweep', 'create', '--name', 'secret', '--space', space, '--data', await tinyData(dir), '--trial-minutes', '0.02', ...TINY_TRIAL, '--db', withPassword]);
    assert.equal(created.code, 0, created.err);
    const worker = startWorker(['--sweep', 'secret', '--db', withPassword]);
    assert.equal(await worker.exited, 0, worker.err());
    const status = await cli(['sweep', 'status', 'secret', '--db', withPassword]);
    assert.match(status.out, /finished 1/);
    const store = openStore(superuser, { readonly: true });
    try {
      const [run] = listRuns(store).filter((r) => r.tags.includes('sweep:secret'));
      assert.equal(run?.status, 'finished');
      assert.match(run!.source!, /glyphlab worker --sweep secret --db postgres:\/\/glyphlab_role_\d+_\d+:\*\*\*@127\.0\.0\.1/);
      const recorded = runSql(startTestCluster(), 'SELECT source, params_json, config_json FROM runs; SELECT * FROM sweeps; SELECT * FROM sweep_attempts', database);
      for (const text of [created.out, created.err, worker.err(), status.out, status.err, JSON.stringify(run), recorded]) assert.doesNotMatch(text, /s3cret/);
    } finally {
      closeStore(store);
    }
  });
});
