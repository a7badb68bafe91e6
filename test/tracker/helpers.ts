/** Shared helpers for tracker tests: fresh database paths in temp folders, and fixture processes. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/** A path for a new database in a temp folder that is removed when the test file ends. */
export function tempDbPath(name = 'glyphlab.db'): string {
  const dir = mkdtempSync(join(tmpdir(), 'glyphlab-tracker-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, name);
}

/** How a fixture process ended, with everything it printed. */
export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `test/tracker/fixtures/<script>` as a separate node process (under tsx). `onLine` sees each
 * stdout line as it comes, with a function that kills the process with SIGKILL.
 */
export function runFixture(script: string, args: string[], onLine?: (line: string, kill: () => void) => void): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine?.(line, () => child.kill('SIGKILL'));
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
