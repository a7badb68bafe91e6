/** Shared helpers for tracker tests: a fresh database path in a temp folder, removed after the test. */
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
