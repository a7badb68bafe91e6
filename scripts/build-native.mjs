#!/usr/bin/env node
// Builds glyphlab's optional native kernels (native/, AVX2 and FMA on x86-64) with node-gyp, as
// `npm install` runs it (and `npm run build:native` on demand). A failed build is not an error:
// the wasm backend's own kernels run instead, and `glyphlab backend` says why.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const dir = join(root, 'native');
if (process.env.GLYPHLAB_NATIVE === '0') {
  console.log('glyphlab: native kernels not built (GLYPHLAB_NATIVE=0)');
  process.exit(0);
}
if (process.arch !== 'x64') {
  console.log(`glyphlab: native kernels are for x86-64 (this is ${process.arch}); the wasm kernels will run`);
  process.exit(0);
}
// npm puts its own node-gyp on PATH for install scripts; npm_config_node_gyp names it too.
const gyp = process.env.npm_config_node_gyp;
const [command, args] = gyp ? [process.execPath, [gyp, 'rebuild', '--release']] : ['node-gyp', ['rebuild', '--release']];
const result = spawnSync(command, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (result.status === 0 && existsSync(join(dir, 'build', 'Release', 'glyphlab_kernels.node'))) {
  console.log('glyphlab: native kernels built (native/build/Release/glyphlab_kernels.node)');
} else {
  const why = result.error ? result.error.message : (result.stderr || result.stdout || '').trim().split('\n').slice(-3).join(' | ');
  console.warn(`glyphlab: native kernels not built (${why}); training runs on the wasm kernels, which is slower`);
  rmSync(join(dir, 'build'), { recursive: true, force: true });
}
