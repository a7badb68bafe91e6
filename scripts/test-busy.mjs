#!/usr/bin/env node
// `npm run test:busy [-- FILTER... --TEST-FLAG...]`: `npm test` (with the same arguments) on a
// machine made busy, one CPU hog per core, to catch tests that pass only on an idle machine: a
// wall-clock limit, a race that the idle machine always wins. GLYPHLAB_TEST_HOGS=N sets the
// number of hogs. The hogs stop however this ends (tests done, Ctrl-C, SIGTERM, an error), and
// each one also stops by itself if this process is killed outright (its parent pid changes).
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const hogCount = process.env.GLYPHLAB_TEST_HOGS === undefined ? availableParallelism() : Number(process.env.GLYPHLAB_TEST_HOGS);
if (!Number.isInteger(hogCount) || hogCount < 0) {
  console.error(`GLYPHLAB_TEST_HOGS=${process.env.GLYPHLAB_TEST_HOGS} is not a whole number of CPU hogs (0 or more)`);
  process.exit(2);
}

// Spins without yielding; every ~10^7 turns it checks that its parent is still there.
const HOG = `const parent = ${process.pid}; for (let i = 0; ; i++) if (i % 1e7 === 0 && process.ppid !== parent) process.exit(0);`;
const hogs = Array.from({ length: hogCount }, () => spawn(process.execPath, ['-e', HOG], { stdio: 'ignore' }));

function stopHogs() {
  for (const hog of hogs) if (hog.exitCode === null && hog.signalCode === null) hog.kill('SIGKILL');
}
process.on('exit', stopHogs);

console.error(`test:busy: ${hogCount} CPU hog${hogCount === 1 ? '' : 's'} (pids ${hogs.map((h) => h.pid).join(', ') || 'none'}) on ${availableParallelism()} cores; npm test ${process.argv.slice(2).join(' ')}`);
// In a process group of its own, so that a signal reaches the runner and every test process
// under it (run-tests.mjs does not pass signals on to the test runner it starts).
const tests = spawn(process.execPath, [join(root, 'scripts', 'run-tests.mjs'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', detached: true });

// Ctrl-C or SIGTERM: passed on to the tests' group; their end then ends this script, and the
// 'exit' handler stops the hogs.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    try {
      process.kill(-tests.pid, signal);
    } catch {
      // The group is gone already.
    }
  });
}
tests.once('error', (error) => {
  console.error(`test:busy: could not run the tests: ${error.message}`);
  process.exit(1);
});
tests.once('exit', (code, signal) => {
  console.error(`test:busy: tests ended with ${signal ? `signal ${signal}` : `exit code ${code}`} under ${hogCount} CPU hog${hogCount === 1 ? '' : 's'}`);
  process.exit(code ?? 1);
});
