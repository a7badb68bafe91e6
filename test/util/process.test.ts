import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { processAlive, readProcStat, signalReaches } from '../../src/util/process';

describe('processAlive', () => {
  test('this process is alive; a process that has ended is not', async () => {
    assert.equal(processAlive(process.pid), true);
    const child = spawnSync(process.execPath, ['-e', 'process.pid'], { stdio: 'ignore' });
    assert.equal(child.status, 0);
    const ended = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    const pid = ended.pid!;
    await new Promise((resolve) => ended.on('exit', resolve));
    // Reaped by node once its exit is seen: gone.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(processAlive(pid), false);
  });

  test('a zombie (exited, not yet reaped) answers kill(0) but is not alive', { skip: !existsSync('/proc/self/stat') && 'no /proc here' }, () => {
    // A shell whose child exits while the shell sleeps without reaping it: the child is a zombie until the shell ends.
    const shell = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
    return new Promise<void>((resolve, reject) => {
      shell.stdout.once('data', (chunk: Buffer) => {
        const zombie = Number(String(chunk).trim());
        const waitForZombie = (tries: number): void => {
          if (readProcStat(zombie)?.state === 'Z' || tries === 0) {
            try {
              assert.equal(readProcStat(zombie)?.state, 'Z', 'the child became a zombie');
              assert.equal(signalReaches(zombie), true, 'kill(0) still reaches it');
              assert.equal(processAlive(zombie), false);
              resolve();
            } catch (error) {
              reject(error);
            } finally {
              shell.kill('SIGKILL');
            }
            return;
          }
          setTimeout(() => waitForZombie(tries - 1), 50);
        };
        waitForZombie(200);
      });
    });
  });

  test('readProcStat reads the state, group and start of a process, with a command name holding spaces and parentheses', { skip: !existsSync('/proc/self/stat') && 'no /proc here' }, () => {
    const stat = readProcStat(process.pid)!;
    assert.ok(['R', 'S'].includes(stat.state), stat.state);
    const ps = spawnSync('ps', ['-o', 'pgid=', '-p', String(process.pid)]);
    if (ps.status === 0) assert.equal(stat.pgid, Number(ps.stdout.toString().trim()), 'the group ps reports');
    assert.ok(Number.isSafeInteger(stat.startTicks) && stat.startTicks > 0);
    assert.equal(readProcStat(2 ** 22 + 12345), undefined);
  });
});
