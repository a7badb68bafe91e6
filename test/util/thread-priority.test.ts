import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { currentThreadId, lowerThreadPriority } from '../../src/util/thread-priority';

/** Runs `body` (CommonJS, with `m` the module under test and `post` to answer) in a worker thread. */
function inWorker(body: string): Promise<Record<string, unknown>> {
  const modulePath = join(__dirname, '..', '..', 'src', 'util', 'thread-priority.ts');
  const code = `require(${JSON.stringify(require.resolve('tsx/cjs'))});
const m = require(${JSON.stringify(modulePath)});
const { parentPort } = require('node:worker_threads');
const os = require('node:os');
const post = (value) => parentPort.postMessage(value);
${body}`;
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true });
    worker.once('message', (value: Record<string, unknown>) => {
      resolve(value);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

describe('thread priority (Linux nice values per thread)', { skip: process.platform !== 'linux' && 'Linux only' }, () => {
  test('a worker thread has its own thread id, and lowering its priority leaves the main thread alone', async () => {
    const main = currentThreadId();
    assert.equal(main, process.pid, 'the main thread id is the process id');
    const before = getPriority(process.pid);
    const result = await inWorker('const tid = m.currentThreadId(); const done = m.lowerThreadPriority(15); post({ tid, done, nice: os.getPriority(tid) });');
    assert.ok(Number.isInteger(result['tid']) && result['tid'] !== main, `worker thread id ${String(result['tid'])}`);
    assert.equal(result['done'], true);
    assert.equal(result['nice'], Math.max(15, before));
    assert.equal(getPriority(process.pid), before, 'the main thread keeps its priority');
  });

  test('a nice value outside 0-19 is refused, naming it', () => {
    assert.throws(() => lowerThreadPriority(20), /nice 20 is not valid: expected an integer from 0 to 19/);
    assert.throws(() => lowerThreadPriority(-1), /nice -1 is not valid/);
  });
});
