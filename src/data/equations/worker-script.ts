/**
 * Starting glyphlab's own worker threads from either the compiled `.js` or the `.ts` source
 * (under tsx, or tslab, which compiles in memory). Node 20 workers do not apply `--import tsx` to their entry file, so a
 * `.ts` worker starts through a tiny CommonJS bootstrap that registers tsx's require hook.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/** Starts the worker script `name` (without extension) that lives in this folder. */
export function startScriptWorker(name: string, workerData?: unknown): Worker {
  const compiled = join(__dirname, `${name}.js`);
  // tslab compiles modules in memory: __filename ends in .js but only the .ts source is on disk.
  if (!__filename.endsWith('.ts') && existsSync(compiled)) return new Worker(compiled, { workerData });
  const path = join(__dirname, `${name}.ts`);
  const code = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(path)});`;
  return new Worker(code, { eval: true, workerData });
}
