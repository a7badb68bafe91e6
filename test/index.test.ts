// The shape of the public API: src/index.ts holds the entry points and takes them from the layer
// indexes; each layer's index.ts re-exports its public names by name, from its own folder only.
// Whether they compile under tslab is test/notebook/tslab-compat.test.ts's job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const src = join(__dirname, '..', 'src');

/** Folders of src/ that have no public names: the commands, and the replicas (run only through runs/). */
const WITHOUT_INDEX = ['cli', 'parallel'];

/** The files directly under src/ besides index.ts, which the root may export from. */
const ROOT_FILES = ['./errors', './version', './types'];

const folders = readdirSync(src, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

/** The code of a file without its comments. */
function code(file: string): string {
  return readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '');
}

/** The statements of a pure re-export file, each `export { ... } from '...';`. */
function statements(file: string): string[] {
  return code(file)
    .split(';')
    .map((statement) => statement.replace(/\s+/g, ' ').trim())
    .filter((statement) => statement !== '');
}

const REEXPORT = /^export (?:type )?\{ ?([^}]*) ?\} from '([^']+)'$/;

test('every folder of src/ with public names has an index.ts', () => {
  const missing = folders.filter((folder) => !WITHOUT_INDEX.includes(folder) && !existsSync(join(src, folder, 'index.ts')));
  assert.deepEqual(missing, [], `these folders have no index.ts listing their public names (or belong in WITHOUT_INDEX in ${__filename})`);
  const unexpected = WITHOUT_INDEX.filter((folder) => existsSync(join(src, folder, 'index.ts')));
  assert.deepEqual(unexpected, [], 'a folder in WITHOUT_INDEX has an index.ts: take it out of the list');
});

test('a layer index only re-exports, by name, from its own folder', () => {
  const problems: string[] = [];
  for (const folder of folders.filter((f) => existsSync(join(src, f, 'index.ts')))) {
    for (const statement of statements(join(src, folder, 'index.ts'))) {
      const match = REEXPORT.exec(statement);
      if (!match) {
        problems.push(`src/${folder}/index.ts: "${statement}" is not an export { ... } from '...' by name`);
      } else if (!(match[2] as string).startsWith('./')) {
        problems.push(`src/${folder}/index.ts re-exports from '${match[2]}', outside its folder`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('src/index.ts takes its entry points from the layer indexes and the root files only', () => {
  const problems: string[] = [];
  const names: string[] = [];
  for (const statement of statements(join(src, 'index.ts'))) {
    const match = REEXPORT.exec(statement);
    if (!match) {
      problems.push(`"${statement}" is not an export { ... } from '...' by name`);
      continue;
    }
    const from = match[2] as string;
    const layer = /^\.\/([a-z-]+)\/index$/.exec(from)?.[1];
    if (!ROOT_FILES.includes(from) && !(layer !== undefined && existsSync(join(src, layer, 'index.ts')))) {
      problems.push(`src/index.ts exports from '${from}': take entry points from a layer's index (./<layer>/index) or ${ROOT_FILES.join(', ')}`);
    }
    names.push(...(match[1] as string).split(',').map((name) => name.trim()).filter((name) => name !== ''));
  }
  assert.deepEqual(problems, []);
  // The entry points stay a short list a newcomer reads; the parts live in the layer indexes.
  assert.ok(names.length > 20 && names.length < 150, `src/index.ts exports ${names.length} names`);
});
