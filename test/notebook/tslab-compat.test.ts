// Notebooks load src/ through tslab, which compiles and loads local .ts files itself, so src/
// must suit tslab as well as our own tsc run. These checks name the file and line of each
// problem, which the notebook smoke test cannot: tslab drops the file name from chained
// diagnostics ("343:7 - Type 'X' is not assignable ...").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from '@tslab/typescript-for-tslab';

const root = join(__dirname, '..', '..');
const src = join(root, 'src');

/**
 * What a notebook may import: the entry points (src/index.ts) and every layer's index
 * (`./glyphlab/tracker/index`), found on disk so that a new layer index is checked too.
 */
const publicIndexes = [
  join(src, 'index.ts'),
  ...readdirSync(src, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(src, entry.name, 'index.ts')))
    .map((entry) => join(src, entry.name, 'index.ts'))
    .sort(),
];

function resolveTs(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

// tslab's loader appends `.js` to a relative import and does not look for `index` in a folder,
// so `from './backend'` (a folder) compiles but fails at run time: "Cannot find module './backend'".
test('no module reachable from src/index.ts or a layer index imports a folder (tslab cannot load those)', () => {
  const problems: string[] = [];
  const seen = new Set<string>();
  const queue = [...publicIndexes];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/\b(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]*|\.{1,2})['"]/g)) {
      const specifier = match[1] as string;
      const target = resolve(dirname(file), specifier);
      if (existsSync(target) && statSync(target).isDirectory()) {
        problems.push(`${relative(root, file)} imports '${specifier}', a folder: write '${specifier}/index'`);
      }
      const resolved = resolveTs(file, specifier);
      if (resolved) queue.push(resolved);
    }
  }
  assert.ok(publicIndexes.length > 10, `found only ${publicIndexes.length} public indexes: ${publicIndexes.map((f) => relative(root, f)).join(', ')}`);
  assert.ok(seen.size > 100, `walked only ${seen.size} files`);
  assert.deepEqual(problems, []);
});

// tslab 1.0.22 compiles with TypeScript 5.0.4 and its own options (converter.js), not tsconfig:
// notably without `strict`, which changes narrowing (`x !== null` narrows nothing), so code that
// passes `tsc -p .` can still fail in a notebook.
test('src/index.ts and every layer index type-check with the compiler and options tslab uses', () => {
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    declaration: true,
    experimentalDecorators: true,
    resolveJsonModule: true,
    jsx: ts.JsxEmit.React,
    allowJs: true,
    checkJs: true,
    skipLibCheck: true,
    noEmit: true,
  };
  // One program for all of them: they share most files, so this costs little more than one.
  const program = ts.createProgram(publicIndexes, options);
  assert.deepEqual(
    publicIndexes.filter((file) => !program.getSourceFile(file)),
    [],
    'every public index is in the program',
  );
  const problems = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.category === ts.DiagnosticCategory.Error)
    .map((d) => {
      const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
      const file = d.file ? relative(root, d.file.fileName) : '(global)';
      return `${file}${where ? `:${where.line + 1}:${where.character + 1}` : ''} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    });
  assert.equal(ts.version, '5.0.4');
  assert.deepEqual(problems, []);
});
