/**
 * Starting glyphlab's own worker threads from either the compiled `.js` or the `.ts` source
 * (under tsx, or tslab, which compiles in memory). Node 20 workers do not apply `--import tsx`
 * to their entry file, so a `.ts` worker starts through a tiny CommonJS bootstrap that
 * registers tsx's require hook.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * Starts the worker script `name` (without extension) in folder `dir` (the caller's
 * `__dirname`), from its compiled `.js` when the caller itself runs compiled, else its `.ts`.
 */
export function startScriptWorker(dir: string, name: string, callerFile: string, workerData?: unknown): Worker {
  const compiled = join(dir, `${name}.js`);
  // tslab compiles modules in memory: the caller's file name ends in .js but only .ts is on disk.
  if (!callerFile.endsWith('.ts') && existsSync(compiled)) return new Worker(compiled, { workerData });
  const path = join(dir, `${name}.ts`);
  const code = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(path)});`;
  return new Worker(code, { eval: true, workerData });
}

/** Most worker threads any glyphlab pool starts (image decoding, synthesis, replicas). */
export const MAX_WORKER_THREADS = 64;

