/**
 * Shared helpers for tracker tests: fresh stores on either driver (a SQLite file in a temp folder,
 * a new database on the test process's PostgreSQL cluster), the one loop that runs a suite on
 * both, and fixture processes.
 */
import type Database from 'better-sqlite3';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import type { DriverKind } from '../../src/tracker/driver';
import { SqliteDriver } from '../../src/tracker/sqlite-driver';
import type { TrackerStore } from '../../src/tracker/store';
import { createTestDatabase, createTestRole, startTestCluster } from '../support/postgres';

/** The drivers every store test runs on. */
export const DRIVERS: readonly DriverKind[] = ['sqlite', 'postgres'];

/**
 * Defines the suite `fn` once per driver, as `title (sqlite)` and `title (postgres)`: one test
 * suite for both stores. PostgreSQL's tests run on the test process's own cluster
 * (test/support/postgres.ts), which fails, never skips, when PostgreSQL is not installed.
 */
export function forEachDriver(title: string, fn: (driver: DriverKind) => void): void {
  for (const driver of DRIVERS) describe(`${title} (${driver})`, () => fn(driver));
}

/** Where a new, empty store lives on `driver`: a file path in a temp folder, or a new database's URL. */
export function tempStore(driver: DriverKind, name = 'glyphlab.db'): string {
  return driver === 'sqlite' ? tempDbPath(name) : createTestDatabase();
}

/**
 * The URL of the test database `url` names for a new role that may only SELECT its tables (no
 * INSERT, UPDATE, DELETE, CREATE): what a colleague who only reads the team's store is given.
 */
export function readOnlyRole(url: string): string {
  return createTestRole(startTestCluster(), { database: decodeURIComponent(new URL(url).pathname.slice(1)), readonly: true });
}

/** The better-sqlite3 connection of a SQLite store, for the tests of what only a SQLite file has (pragmas, pages). */
export function sqliteDb(store: TrackerStore): Database.Database {
  if (!(store.db instanceof SqliteDriver)) throw new Error(`${store.file} is not a SQLite store`);
  return store.db.db;
}

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

/** A fixture process that is still running: its output line by line, and a way to talk to it. */
export interface RunningFixture {
  readonly child: ChildProcess;
  /** The first stdout line starting with `prefix` (already printed or still to come). */
  line(prefix: string): Promise<string>;
  /** Writes `text` and a newline to its stdin. */
  send(text: string): void;
  /** How it ended. */
  readonly finished: Promise<Finished>;
}

/**
 * Starts `test/tracker/fixtures/<script>` as a separate node process (under tsx) with a stdin
 * of its own, and returns at once. The process is killed with SIGKILL when the test file ends,
 * should a failing test leave it running.
 */
export function startFixture(script: string, args: string[]): RunningFixture {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', script), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin!.on('error', () => undefined);
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  const waiting: { prefix: string; resolve: (line: string) => void }[] = [];
  const lines: string[] = [];
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    pending += chunk;
    const complete = pending.split('\n');
    pending = complete.pop() ?? '';
    for (const line of complete) {
      lines.push(line);
      for (const waiter of waiting.filter((w) => line.startsWith(w.prefix))) {
        waiting.splice(waiting.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const finished = new Promise<Finished>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    child,
    finished,
    line: (prefix) => {
      const seen = lines.find((line) => line.startsWith(prefix));
      if (seen !== undefined) return Promise.resolve(seen);
      // A fixture that dies first fails the wait with what it printed, instead of hanging the test.
      return Promise.race([
        new Promise<string>((resolve) => waiting.push({ prefix, resolve })),
        finished.then((end) => {
          throw new Error(`fixture ${script} ended (${end.code ?? end.signal}) before printing "${prefix}": ${end.stderr || end.stdout}`);
        }),
      ]);
    },
    send: (text) => {
      // A fixture that has already ended (told twice to release) reads nothing more: no EPIPE.
      if (child.exitCode === null && child.signalCode === null && child.stdin!.writable) child.stdin!.write(`${text}\n`);
    },
  };
}
