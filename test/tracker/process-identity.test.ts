/**
 * Telling the process that records a run from another that has its pid later: real processes,
 * their /proc entries, stopped and ended.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { checkRecordedProcess, currentProcessIdentity } from '../../src/tracker/process-identity';

const linux = existsSync('/proc/self/stat');

describe('checkRecordedProcess', () => {
  test('this process is alive; the same pid with another start time is a reused pid; another host, boot or namespace cannot be checked here', { skip: !linux && 'needs /proc' }, () => {
    const here = currentProcessIdentity();
    assert.equal(typeof here.startTicks, 'number');
    assert.match(here.bootId ?? '', /^[0-9a-f-]{36}$/);
    assert.match(here.pidNamespace ?? '', /^pid:\[\d+\]$/);
    assert.deepEqual(checkRecordedProcess(here), { state: 'alive', stopped: false });
    assert.deepEqual(checkRecordedProcess({ ...here, startTicks: here.startTicks! - 1 }), {
      state: 'dead',
      reason: `process ${here.pid} on ${here.host} ended without finishing the run (pid ${here.pid} now belongs to a process started later)`,
    });
    assert.deepEqual(checkRecordedProcess({ ...here, startTicks: null }), { state: 'unverified' });
    assert.equal(checkRecordedProcess({ ...here, host: 'elsewhere' }).state, 'elsewhere');
    assert.equal(checkRecordedProcess({ ...here, bootId: 'another-boot' }).state, 'elsewhere');
    assert.equal(checkRecordedProcess({ ...here, pidNamespace: 'pid:[1]' }).state, 'elsewhere');
    assert.equal(checkRecordedProcess({ pid: null, host: here.host }).state, 'elsewhere');
  });

  test('a child process: alive, stopped while SIGSTOPped, dead once it has ended', { skip: !linux && 'needs /proc' }, async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      const pid = child.pid!;
      const here = currentProcessIdentity();
      // What the child would have recorded: its pid, its start time, this machine's boot and namespace.
      const { readFileSync } = await import('node:fs');
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const startTicks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
      const recorded = { pid, host: here.host, startTicks, bootId: here.bootId, pidNamespace: here.pidNamespace };
      assert.deepEqual(checkRecordedProcess(recorded), { state: 'alive', stopped: false });
      child.kill('SIGSTOP');
      for (let i = 0; i < 500 && !/^\S+ \(.*\) T/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); i++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.deepEqual(checkRecordedProcess(recorded), { state: 'alive', stopped: true });
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      assert.deepEqual(checkRecordedProcess(recorded), { state: 'dead', reason: `process ${pid} on ${here.host} ended without finishing the run` });
    } finally {
      child.kill('SIGKILL');
    }
  });
});
