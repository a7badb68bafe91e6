import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeFailure, startKernel, type Kernel, type KernelOutput } from '../../src/notebook/kernel';
import { NotebookError } from '../../src/errors';

function stdoutOf(outputs: KernelOutput[]): string {
  return outputs.map((o) => (o.output_type === 'stream' && o.name === 'stdout' ? o.text : '')).join('');
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
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

  test('a cell over its time limit fails with a NotebookError and is interrupted', async () => {
    const started = Date.now();
    await assert.rejects(kernel.execute('await new Promise((r) => setTimeout(r, 20000));', { timeoutMs: 200 }), (error: unknown) => {
      assert.ok(error instanceof NotebookError);
      assert.match(error.message, /did not finish within 0.2 s/);
      return true;
    });
    // Without the interrupt this cell would wait for the 20 s sleep.
    const next = await kernel.execute('"after the interrupt"', { timeoutMs: 5000 });
    assert.equal(stdoutOf(next.outputs), 'after the interrupt\n');
    assert.ok(Date.now() - started < 5000);
  });

  test('kernel death is a NotebookError naming the exit code, and shutdown leaves no process', async () => {
    await assert.rejects(kernel.execute('process.exit(3)'), (error: unknown) => {
      assert.ok(error instanceof NotebookError);
      assert.match(error.message, /died with exit code 3/);
      return true;
    });
    assert.equal(kernel.exited, true);
    await assert.rejects(kernel.execute('1'), /not running/);
    await kernel.shutdown();
    assert.equal(isRunning(kernel.pid), false);
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
