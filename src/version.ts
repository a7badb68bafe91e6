/** glyphlab's version, read from package.json so there is one source of truth. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './util/paths';

function readVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version?: string };
    return manifest.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export const version: string = readVersion();
