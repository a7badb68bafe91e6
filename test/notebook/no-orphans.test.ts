/**
 * Nothing outlives a notebook run, however its process ends: Ctrl-C or SIGTERM to a real
 * `glyphlab notebook run` in the middle of a cell, a process that exits without shutting its
 * kernel down, and one killed outright. Each leaves no kernel process, nothing its cells started
 * (a `sleep 300`), and no `glyphlab-kernel-*` folder (it holds the connection key).
 *
 * The child processes get their own TMPDIR, so that the kernel folders counted are theirs. The
 * limits below only keep a broken build from hanging the suite; the work is driven by what the
 * processes print, never by how fast they are.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Notebook } from '../../src/notebook/run';
import { eventually, groupIsRunning, isRunning, kernelFolders } from './processes';

const root = join(__dirname, '..', '..');
const bin = join(root, 'scripts', 'glyphlab.js');

/** A cell that prints the kernel's pid and that of a `sleep 300` it starts, then never ends. */
const ENDLESS_CELL = [
  'import { spawn } from "child_process";',
  'const sleeper = spawn("sleep", ["300"], { stdio: "ignore" });',
  'console.log(`pids ${process.pid} ${sleeper.pid}`);',
  'await new Promise(() => {});',
].join('\n');

interface Watched {
  child: ChildProcess;
  output: () => string;
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function watch(child: ChildProcess): Watched {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, output: () => output, closed };
}

const PIDS_LINE = /pids (\d+) (\d+)/;

/** The pids of the `pids KERNEL SLEEP` line in `output`. */
function parsePids(output: string): { kernelPid: number; sleepPid: number } {
  const match = PIDS_LINE.exec(output);
  assert.ok(match, `the cell printed no pids:\n${output}`);
  return { kernelPid: Number(match[1]), sleepPid: Number(match[2]) };
}

/** Waits for the `pids KERNEL SLEEP` line and returns the two pids, both running. */
async function pidsOf(watched: Watched): Promise<{ kernelPid: number; sleepPid: number }> {
  await eventually(() => PIDS_LINE.test(watched.output()) || watched.child.exitCode !== null, 'the cell printed its pids', 180_000);
  const pids = parsePids(watched.output());
  assert.ok(isRunning(pids.kernelPid) && isRunning(pids.sleepPid), 'the kernel and its sleep run before the stop');
  return pids;
}

/** Asserts that the kernel's whole group and the sleep are gone and `tmp` holds no kernel folder. */
function assertNothingLeft(kernelPid: number, sleepPid: number, tmp: string, context: string): void {
  assert.equal(isRunning(kernelPid), false, `the kernel ${kernelPid} still runs\n${context}`);
  assert.equal(groupIsRunning(kernelPid), false, `a process of the kernel's group still runs\n${context}`);
  assert.equal(isRunning(sleepPid), false, `the cell's sleep ${sleepPid} still runs\n${context}`);
  assert.deepEqual(kernelFolders(tmp), [], `kernel folders left in ${tmp}\n${context}`);
}

describe('nothing outlives a notebook run', () => {
  let dir: string;
  let notebookPath: string;
  const cleanups: (() => void)[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'glyphlab-no-orphans-'));
    notebookPath = join(dir, 'endless.ipynb');
    const notebook: Notebook = {
      nbformat: 4,
      nbformat_minor: 4,
      metadata: {},
      cells: [
        { cell_type: 'code', metadata: {}, source: 'console.log("first cell")', outputs: [], execution_count: null },
        { cell_type: 'code', metadata: {}, source: ENDLESS_CELL, outputs: [], execution_count: null },
        { cell_type: 'code', metadata: {}, source: 'console.log("never")', outputs: [], execution_count: null },
      ],
    };
    writeFileSync(notebookPath, JSON.stringify(notebook));
  });
  after(() => {
    // A failed test must not leave its processes behind either.
    for (const cleanup of cleanups) cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A private TMPDIR for one child. */
  function freshTmp(name: string): string {
    const tmp = join(dir, name);
    mkdirSync(tmp);
    return tmp;
  }

  /** Kills what a test started if it fails midway (a no-op once all is gone). */
  function onFailure(pids: { kernelPid: number; sleepPid: number }): void {
    cleanups.push(() => {
      for (const target of [-pids.kernelPid, pids.sleepPid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
    });
  }

  for (const [signal, exitCode] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    test(`${signal} to glyphlab notebook run mid-cell stops the kernel and its sleep, removes the kernel folder, writes the partial copy and exits ${exitCode}`, async () => {
      const tmp = freshTmp(`tmp-${signal}`);
      const out = join(dir, `${signal}.executed.ipynb`);
      const cli = watch(
        spawn(process.execPath, [bin, 'notebook', 'run', notebookPath, '--out', out, '--verbose', '--no-trust'], {
          cwd: root,
          env: { ...process.env, TMPDIR: tmp },
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      );
      cleanups.push(() => cli.child.kill('SIGKILL'));
      const pids = await pidsOf(cli);
      onFailure(pids);
      assert.equal(kernelFolders(tmp).length, 1, 'one kernel folder while the kernel runs');

      cli.child.kill(signal);
      const { code } = await cli.closed;
      assert.equal(code, exitCode, cli.output());
      assert.match(cli.output(), new RegExp(`interrupted by ${signal} in cell 1 \\(\`import \\{ spawn \\} from "child_process";\`\\); partial copy: `));
      assertNothingLeft(pids.kernelPid, pids.sleepPid, tmp, cli.output());

      const partial = JSON.parse(readFileSync(out, 'utf8')) as Notebook;
      assert.equal((partial.metadata['glyphlab'] as { status?: string }).status, 'interrupted');
      assert.equal(partial.cells[0]?.outputs?.[0]?.output_type, 'stream');
      assert.match(JSON.stringify(partial.cells[1]?.outputs), /pids \d+ \d+/);
      assert.deepEqual(partial.cells[2]?.outputs, []);
    });
  }

  /** Runs `script` (TypeScript, through tsx) with its own TMPDIR; it starts a kernel and runs {@link ENDLESS_CELL}. */
  function kernelScript(name: string, script: string): { watched: Watched; tmp: string } {
    const tmp = freshTmp(`tmp-${name}`);
    const file = join(dir, `${name}.ts`);
    writeFileSync(file, script);
    const watched = watch(spawn(process.execPath, ['--import', 'tsx', file], { cwd: root, env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] }));
    cleanups.push(() => watched.child.kill('SIGKILL'));
    return { watched, tmp };
  }

  const startAndRun = `
import { startKernel } from ${JSON.stringify(join(root, 'src', 'notebook', 'kernel'))};
async function main(): Promise<void> {
  const kernel = await startKernel({ cwd: ${JSON.stringify(root)} });
  void kernel.execute(${JSON.stringify(ENDLESS_CELL)}, { onOutput: (output) => {
    if (output.output_type === 'stream') process.stdout.write(output.text);
    AFTER_PIDS
  } });
}
void main();
`;

  test('a process that exits without shutting its kernel down leaves no kernel, no sleep and no kernel folder (the exit handler)', async () => {
    // It exits as soon as the cell has printed the pids of the kernel and of the sleep it started.
    const { watched, tmp } = kernelScript('exit', startAndRun.replace('AFTER_PIDS', 'if (/pids/.test(output.output_type === "stream" ? output.text : "")) process.exit(0);'));
    const { code } = await watched.closed;
    const pids = parsePids(watched.output());
    onFailure(pids);
    assert.equal(code, 0, watched.output());
    // SIGKILL was sent before the process ended; the kernel's group then takes a moment to die.
    await eventually(() => !groupIsRunning(pids.kernelPid) && !isRunning(pids.sleepPid), 'the kernel group ended after exit');
    assertNothingLeft(pids.kernelPid, pids.sleepPid, tmp, watched.output());
  });

  test('a process killed with SIGKILL leaves no kernel, no sleep and no kernel folder (the watchdog in the kernel)', async () => {
    const { watched, tmp } = kernelScript('sigkill', startAndRun.replace('AFTER_PIDS', ''));
    const pids = await pidsOf(watched);
    onFailure(pids);
    watched.child.kill('SIGKILL');
    await watched.closed;
    // Nothing in the killed process could act: the kernel notices that its parent is gone.
    await eventually(() => !groupIsRunning(pids.kernelPid) && kernelFolders(tmp).length === 0, 'the orphaned kernel ended itself');
    assertNothingLeft(pids.kernelPid, pids.sleepPid, tmp, watched.output());
  });
});
