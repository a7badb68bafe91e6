import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describeFailure, KernelAbortedError, startKernel, type Kernel, type KernelOutput } from '../../src/notebook/kernel';
import { NotebookError } from '../../src/errors';
import { eventually, groupIsRunning, isRunning } from './processes';

function stdoutOf(outputs: KernelOutput[]): string {
  return outputs.map((o) => (o.output_type === 'stream' && o.name === 'stdout' ? o.text : '')).join('');
}

/** A limit far beyond any cell's time on a loaded machine: reaching it means the cell would never end. */
const GUARD_MS = 120_000;

/** A cell that starts `sleep 300` in the kernel and prints its pid. */
const SPAWN_SLEEP = 'import { spawn } from "child_process";\nconst sleeper = spawn("sleep", ["300"], { stdio: "ignore" });\nconsole.log(sleeper.pid);';

/** Runs {@link SPAWN_SLEEP} and returns the pid of the sleep it started. */
async function spawnSleep(kernel: Kernel): Promise<number> {
  const result = await kernel.execute(SPAWN_SLEEP);
  assert.equal(result.status, 'ok', JSON.stringify(result.outputs));
  const pid = Number(stdoutOf(result.outputs).trim());
  assert.ok(Number.isInteger(pid) && isRunning(pid), `sleep started (${stdoutOf(result.outputs)})`);
  return pid;
}

/** Asserts that the kernel, everything in its process group and its connection folder are gone. */
function assertNothingLeft(kernel: Kernel, childPids: number[]): void {
  assert.equal(isRunning(kernel.pid), false, `kernel ${kernel.pid} still runs`);
  assert.equal(groupIsRunning(kernel.pid), false, `a process of the kernel's group ${kernel.pid} still runs`);
  for (const pid of childPids) assert.equal(isRunning(pid), false, `the cell's child ${pid} still runs`);
  assert.ok(kernel.connectionDir, 'the kernel names its connection folder');
  assert.equal(existsSync(kernel.connectionDir), false, `${kernel.connectionDir} (with the key) is still there`);
}

describe('describeFailure', () => {
  test('turns tslab diagnostics into a TSError listing them', () => {
    const info = describeFailure("1:7 - Type 'string' is not assignable to type 'number'.\n2:1 - Cannot find name 'x'.\n");
    assert.equal(info.ename, 'TSError');
    assert.equal(info.evalue, "1:7 - Type 'string' is not assignable to type 'number'.; 2:1 - Cannot find name 'x'.");
  });

  test('takes the last error header of a printed stack, after earlier stderr output', () => {
    const text = 'a warning\nevalmachine.<anonymous>:2\nthrow e;\n^\n\nRangeError: bad value 42\n    at evalmachine.<anonymous>:2:7\n';
    const info = describeFailure(text);
    assert.deepEqual([info.ename, info.evalue], ['RangeError', 'bad value 42']);
    assert.equal(info.traceback[0], 'RangeError: bad value 42');
  });

  test('falls back to the last line printed for a thrown non-Error', () => {
    assert.deepEqual([describeFailure('just a string\n').ename, describeFailure('just a string\n').evalue], ['Error', 'just a string']);
    assert.equal(describeFailure('').evalue, 'the cell failed without printing an error');
  });
});

describe('tslab kernel over the Jupyter protocol', () => {
  let kernel: Kernel;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'glyphlab-kernel-test-'));
    mkdirSync(join(dir, 'work'));
    writeFileSync(join(dir, 'work', 'helper.ts'), 'export function twice(n: number): number {\n  return 2 * n;\n}\n');
    writeFileSync(join(dir, 'outside.ts'), 'export const outside = 1;\n');
    kernel = await startKernel({ cwd: join(dir, 'work') });
  });

  after(async () => {
    await kernel?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  test('evaluates an expression: tslab prints the last value on stdout', async () => {
    const result = await kernel.execute('1 + 1');
    assert.equal(result.status, 'ok');
    assert.equal(typeof result.executionCount, 'number');
    assert.equal(stdoutOf(result.outputs), '2\n');
    assert.equal(result.error, undefined);
  });

  test('collects stdout and stderr streams of the cell, in order', async () => {
    const seen: KernelOutput[] = [];
    const result = await kernel.execute('console.log("hello", 3); console.error("careful")', { onOutput: (o) => seen.push(o) });
    assert.deepEqual(result.outputs, [
      { output_type: 'stream', name: 'stdout', text: 'hello 3\n' },
      { output_type: 'stream', name: 'stderr', text: 'careful\n' },
    ]);
    assert.deepEqual(seen, result.outputs);
  });

  test('runs in the given folder and imports a local .ts file relative to it', async () => {
    const result = await kernel.execute('import { twice } from "./helper";\nconsole.log(process.cwd(), twice(21));');
    assert.equal(result.status, 'ok', JSON.stringify(result.outputs));
    assert.equal(stdoutOf(result.outputs), `${join(dir, 'work')} 42\n`);
  });

  test('cannot import a .ts file outside its folder (tslab sets rootDir to the cwd)', async () => {
    const result = await kernel.execute('import { outside } from "../outside";\noutside');
    assert.equal(result.status, 'error');
    assert.equal(result.error?.ename, 'TSError');
    assert.match(result.error?.evalue ?? '', /is not under 'rootDir'/);
  });

  test('a thrown error gives status error with ename/evalue, and the next cell still runs', async () => {
    const failed = await kernel.execute('const limit = 3;\nthrow new RangeError(`bad value ${limit * 14}`);');
    assert.equal(failed.status, 'error');
    assert.deepEqual([failed.error?.ename, failed.error?.evalue], ['RangeError', 'bad value 42']);
    const last = failed.outputs[failed.outputs.length - 1];
    assert.equal(last?.output_type, 'error');
    // tslab cancels requests that arrive within 200 ms of a failure; the client waits that out.
    const next = await kernel.execute('"still alive"');
    assert.equal(next.status, 'ok');
    assert.equal(stdoutOf(next.outputs), 'still alive\n');
  });

  test('a type error is reported as TSError with the diagnostic', async () => {
    const result = await kernel.execute('const n: number = "text";');
    assert.equal(result.status, 'error');
    assert.equal(result.error?.ename, 'TSError');
    assert.match(result.error?.evalue ?? '', /Type 'string' is not assignable to type 'number'/);
  });

  test('top-level await works and variables persist across cells', async () => {
    await kernel.execute('const base = await Promise.resolve(20);');
    const result = await kernel.execute('base + 1');
    assert.equal(stdoutOf(result.outputs), '21\n');
  });

  test('tslab.display.html gives display_data; newDisplay() updates it with update_display_data', async () => {
    const result = await kernel.execute(
      'import * as tslab from "tslab";\ntslab.display.html("<b>once</b>");\nconst live = tslab.newDisplay();\nlive.html("<i>1</i>");\nlive.html("<i>2</i>");',
    );
    assert.equal(result.status, 'ok', JSON.stringify(result.outputs));
    const [plain, first, update] = result.outputs;
    assert.deepEqual(plain, { output_type: 'display_data', data: { 'text/html': '<b>once</b>' }, metadata: {} });
    assert.equal(first?.output_type, 'display_data');
    assert.equal(update?.output_type, 'update_display_data');
    if (first?.output_type !== 'display_data' || update?.output_type !== 'update_display_data') return;
    assert.equal(typeof first.displayId, 'string');
    assert.equal(update.displayId, first.displayId);
    assert.deepEqual(update.data, { 'text/html': '<i>2</i>' });
  });

  // The cells of these two never end: they time out or are abandoned however slow the machine
  // is, and the next cell runs only if the endless one was interrupted. No assertion is about
  // speed: GUARD_MS only turns a hang (the behaviour broken) into a failure.
  test('a cell over its time limit fails with a NotebookError and is interrupted, so the next cell runs', async () => {
    await assert.rejects(kernel.execute('await new Promise(() => {});', { timeoutMs: 2000 }), (error: unknown) => {
      assert.ok(error instanceof NotebookError);
      assert.match(error.message, /did not finish within 2 s/);
      return true;
    });
    const next = await kernel.execute('"after the interrupt"', { timeoutMs: GUARD_MS });
    assert.equal(stdoutOf(next.outputs), 'after the interrupt\n');
  });

  test('an aborted cell rejects with a KernelAbortedError giving the reason and is interrupted, so the next cell runs', async () => {
    const controller = new AbortController();
    const running = kernel.execute('console.log("started");\nawait new Promise(() => {});', {
      signal: controller.signal,
      timeoutMs: GUARD_MS,
      onOutput: (output) => {
        if (output.output_type === 'stream') controller.abort('interrupted by SIGINT');
      },
    });
    await assert.rejects(running, (error: unknown) => {
      assert.ok(error instanceof KernelAbortedError, String(error));
      assert.equal(error.reason, 'interrupted by SIGINT');
      assert.match(error.message, /was abandoned: interrupted by SIGINT/);
      return true;
    });
    const next = await kernel.execute('"after the abort"', { timeoutMs: GUARD_MS });
    assert.equal(stdoutOf(next.outputs), 'after the abort\n');
    await assert.rejects(kernel.execute('1', { signal: controller.signal }), KernelAbortedError);
  });

  test('kernel death is a NotebookError naming the exit code; what its cells started and its connection folder go with it', async () => {
    const sleepPid = await spawnSleep(kernel);
    await assert.rejects(kernel.execute('process.exit(3)'), (error: unknown) => {
      assert.ok(error instanceof NotebookError);
      assert.match(error.message, /died with exit code 3/);
      return true;
    });
    assert.equal(kernel.exited, true);
    await assert.rejects(kernel.execute('1'), /not running/);
    await kernel.shutdown();
    assertNothingLeft(kernel, [sleepPid]);
  });
});

describe('nothing outlives a kernel', () => {
  test('a timed-out kernel is shut down with the sleep 300 its cell started, and its connection folder is removed', async () => {
    const kernel = await startKernel({ cwd: tmpdir() });
    try {
      const sleepPid = await spawnSleep(kernel);
      await assert.rejects(kernel.execute('await new Promise(() => {});', { timeoutMs: 2000 }), /did not finish within 2 s/);
      assert.ok(isRunning(sleepPid), 'the sleep outlives the interrupted cell, as it should while the kernel lives');
      await kernel.shutdown();
      assertNothingLeft(kernel, [sleepPid]);
    } finally {
      await kernel.shutdown();
    }
  });

  test('an immediate shutdown stops a busy kernel and its children without asking it', async () => {
    const kernel = await startKernel({ cwd: tmpdir() });
    const sleepPid = await spawnSleep(kernel);
    // A synchronous endless loop: the kernel can answer nothing, so only signals end it.
    const busy = kernel.execute('while (true) {}').catch((error: unknown) => error);
    await kernel.shutdown({ immediate: true });
    assert.ok((await busy) instanceof NotebookError);
    assertNothingLeft(kernel, [sleepPid]);
  });

  test('an aborted start rejects with a KernelAbortedError and leaves no process and no connection folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glyphlab-aborted-start-'));
    try {
      const started = join(dir, 'started.json');
      const bin = join(dir, 'silent-kernel.js');
      // Records its pid and arguments, then never answers: the start waits until it is aborted.
      writeFileSync(bin, `require('node:fs').writeFileSync(${JSON.stringify(started)}, JSON.stringify({ pid: process.pid, argv: process.argv.slice(2) })); setInterval(() => {}, 1000);\n`);
      const controller = new AbortController();
      const starting = startKernel({ tslabBin: bin, cwd: dir, signal: controller.signal });
      await eventually(() => existsSync(started), 'the kernel process started');
      const { pid, argv } = JSON.parse(readFileSync(started, 'utf8')) as { pid: number; argv: string[] };
      controller.abort('interrupted by SIGTERM');
      await assert.rejects(starting, (error: unknown) => error instanceof KernelAbortedError && /interrupted by SIGTERM/.test(error.message));
      assert.equal(isRunning(pid), false);
      assert.equal(groupIsRunning(pid), false);
      const configPath = argv[argv.indexOf('--config-path') + 1] ?? '';
      assert.match(configPath, /glyphlab-kernel-[^/]+\/connection\.json$/);
      assert.equal(existsSync(dirname(configPath)), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('kernel shutdown', () => {
  test('shutdown_request stops a healthy kernel and leaves no process', async () => {
    const kernel = await startKernel({ cwd: tmpdir() });
    assert.equal(isRunning(kernel.pid), true);
    await kernel.shutdown();
    assert.equal(kernel.exited, true);
    assert.equal(isRunning(kernel.pid), false);
    await kernel.shutdown(); // twice is harmless
  });

  test('a kernel that cannot start is a NotebookError saying why', async () => {
    await assert.rejects(startKernel({ tslabBin: join(tmpdir(), 'no-such-tslab', 'bin', 'tslab') }), (error: unknown) => {
      assert.ok(error instanceof NotebookError);
      assert.match(error.message, /died with exit code 1; it printed: Error: Cannot find module '.*no-such-tslab/);
      return true;
    });
    await assert.rejects(startKernel({ cwd: join(tmpdir(), 'no-such-folder-for-a-kernel') }), /could not start the tslab kernel in .*no-such-folder-for-a-kernel: spawn .* ENOENT/);
  });

  test('a kernel that never answers is started once more on fresh ports, then reported with its limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glyphlab-silent-kernel-'));
    try {
      const starts = join(dir, 'starts.log');
      const bin = join(dir, 'silent-kernel.js');
      // Records its arguments (the connection file differs per start) and then says nothing.
      writeFileSync(bin, `require('node:fs').appendFileSync(${JSON.stringify(starts)}, process.argv.slice(2).join(' ') + '\\n'); setInterval(() => {}, 1000);\n`);
      await assert.rejects(startKernel({ tslabBin: bin, cwd: dir, startTimeoutMs: 3000 }), (error: unknown) => {
        assert.ok(error instanceof NotebookError);
        assert.match(error.message, /the tslab kernel did not answer within 1\.5 s of starting \(pid \d+, cwd /);
        return true;
      });
      const lines = readFileSync(starts, 'utf8').trim().split('\n');
      assert.equal(lines.length, 2, 'two starts');
      assert.notEqual(lines[0], lines[1], 'each with its own connection file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
