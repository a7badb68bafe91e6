#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's test runner under tsx. Node 20's `--test` does not
// expand globs, so the files are found here. Arguments narrow the run to files whose path
// contains one of them: `npm test -- tracker ctc`.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const filters = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const passThrough = process.argv.slice(2).filter((arg) => arg.startsWith('--'));

function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return findTests(path);
    return entry.name.endsWith('.test.ts') ? [relative(root, path)] : [];
  });
}

const files = findTests(join(root, 'test'))
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(', ') || 'test/**/*.test.ts'}`);
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', ...passThrough, ...files],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
