import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { processAlive, processGroupAlive, stopProcessGroup } from '../../src/notebook/process-group';
import { eventually } from './processes';

/** Starts `script` under bash as the leader of a new process group; resolves with its pid and the first line it prints. */
function startGroup(script: string): Promise<{ pgid: number; firstLine: string }> {
  const child = spawn('bash', ['-c', script], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve, reject) => {
    let text = '';
    child.once('error', reject);
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const newline = text.indexOf('\n');
      if (newline >= 0) resolve({ pgid: child.pid as number, firstLine: text.slice(0, newline) });
    });
  });
}

function state(pid: number): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

describe('process groups', () => {
  test('stopProcessGroup ends a whole group with SIGTERM', async () => {
    const { pgid, firstLine } = await startGroup('sleep 300 & echo $!; wait');
    const sleepPid = Number(firstLine);
    assert.ok(processGroupAlive(pgid) && processAlive(sleepPid));
    assert.equal(await stopProcessGroup(pgid), true);
    assert.equal(processGroupAlive(pgid), false);
    assert.equal(processAlive(sleepPid), false);
  });

  test('stopProcessGroup sends SIGKILL to processes that ignore SIGTERM once the grace period is over', async () => {
    // An ignored signal stays ignored across fork and exec, so the sleeps ignore SIGTERM too.
    const { pgid, firstLine } = await startGroup('trap "" TERM; sleep 300 & echo $!; sleep 300 & wait');
    const sleepPid = Number(firstLine);
    assert.equal(await stopProcessGroup(pgid, { graceMs: 300 }), true);
    assert.equal(processGroupAlive(pgid), false);
    assert.equal(processAlive(sleepPid), false);
  });

  test('a zombie counts as gone though kill(pid, 0) still finds it', { skip: !existsSync('/proc/self/stat') && 'no /proc' }, async () => {
    // The background sleep ends soon after; the exec'd sleep 300, its parent, never reaps it.
    const { pgid, firstLine } = await startGroup('sleep 0.2 & echo $!; exec sleep 300');
    const zombie = Number(firstLine);
    try {
      await eventually(() => state(zombie) === 'Z', `process ${zombie} became a zombie`);
      assert.doesNotThrow(() => process.kill(zombie, 0));
      assert.equal(processAlive(zombie), false);
      assert.equal(processGroupAlive(pgid), true, 'the sleep 300 runs');
    } finally {
      await stopProcessGroup(pgid);
    }
    assert.equal(processGroupAlive(pgid), false);
  });

  test('a group that is gone is no error', async () => {
    const { pgid } = await startGroup('echo done');
    await eventually(() => !processGroupAlive(pgid), 'the group ended');
    assert.equal(await stopProcessGroup(pgid), true);
  });
});
