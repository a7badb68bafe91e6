/**
 * Starting glyphlab's own worker threads from either the compiled `.js` or the `.ts` source
 * (under tsx or tslab). Node 20 workers do not apply `--import tsx` to their entry file, so a
 * `.ts` worker starts through a tiny CommonJS bootstrap that registers tsx's require hook.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/** Starts the worker script `name` (without extension) that lives in this folder. */
export function startScriptWorker(name: string, workerData?: unknown): Worker {
  if (!__filename.endsWith('.ts')) return new Worker(join(__dirname, `${name}.js`), { workerData });
  const path = join(__dirname, `${name}.ts`);
  const code = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(path)});`;
  return new Worker(code, { eval: true, workerData });
}
