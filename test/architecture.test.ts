// The shape of src/: which folder may import which. Reads every import of src/ (type-only ones
// included) and fails on an import cycle, on an import up the layers, or on one of the named
// directions below, saying which rule broke and where. docs/architecture.md draws the layers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = join(__dirname, '..');
const src = join(root, 'src');

/**
 * The layers of src/, from the ground up: a folder (or a file directly under src/) imports only
 * from layers below its own. Folders on one layer do not import each other.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['util', 'errors', 'types'],
  ['version', 'image', 'labels', 'metrics', 'backend'],
  ['viz', 'decode', 'models', 'notebook'],
  ['data', 'losses'],
  ['training'],
  ['tracker', 'writers', 'parallel'],
  ['runs'],
  ['sweeps'],
  ['dashboard'],
  ['ui'],
  ['cli', 'index'],
];

/** Directions that must never appear, whatever the layers say, with the reason. */
const FORBIDDEN: readonly { from: string; to: readonly string[]; rule: string }[] = [
  { from: 'util', to: ['*'], rule: 'util/ is pure helpers: it imports nothing else from src' },
  { from: 'training', to: ['tracker', 'dashboard', 'runs', 'cli'], rule: 'training knows nothing of the store: recorded runs live in runs/' },
  { from: 'decode', to: ['data'], rule: 'decoders read the label language (labels/), not data sets' },
  { from: 'viz', to: ['data', 'training', 'runs', 'tracker', 'writers'], rule: 'viz draws plain values: it imports no data, training, run or store code' },
  { from: 'tracker', to: ['runs', 'dashboard', 'cli'], rule: 'the store records what it is given; it knows no run functions' },
  { from: 'data', to: ['training', 'models', 'runs', 'tracker'], rule: 'data sets know no models or training' },
];

/** The folder (or root file, without `.ts`) of a path under src/. */
function unitOf(file: string): string {
  const path = relative(src, file);
  return path.includes('/') ? path.slice(0, path.indexOf('/')) : path.replace(/\.ts$/, '');
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function resolveImport(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  return [base, `${base}.ts`, join(base, 'index.ts')].find((candidate) => existsSync(candidate) && statSync(candidate).isFile());
}

/** The files of src/ that `file` imports (relative imports, `import type` included; comments ignored). */
function importsOf(file: string): string[] {
  const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const targets = [...code.matchAll(/\b(?:from|import|require)\s*\(?\s*['"](\.{1,2}(?:\/[^'"]*)?)['"]/g)].map((m) => resolveImport(file, m[1] as string));
  return targets.filter((t): t is string => t !== undefined && t.startsWith(src + '/'));
}

const files = sourceFiles(src);
const graph = new Map(files.map((file) => [file, importsOf(file)]));
const name = (file: string): string => relative(root, file);

test('the import graph was read', () => {
  assert.ok(files.length > 100, `read ${files.length} files`);
  assert.ok([...graph.values()].reduce((n, targets) => n + targets.length, 0) > 300, 'found the imports');
});

test('no import cycle in src/', () => {
  // Tarjan's strongly connected components: every component of two or more files is a cycle.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let counter = 0;
  const visit = (file: string): void => {
    index.set(file, counter);
    low.set(file, counter++);
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file)!, index.get(target)!));
      }
    }
    if (low.get(file) === index.get(file)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== file);
      if (component.length > 1 || (graph.get(file) ?? []).includes(file)) cycles.push(component.map(name).sort());
    }
  };
  for (const file of files) if (!index.has(file)) visit(file);
  assert.deepEqual(cycles, [], `rule "no import cycles" broken by these files importing each other:\n${cycles.map((c) => `  ${c.join(' <-> ')}`).join('\n')}`);
});

test('every folder of src/ has a layer, and imports point down the layers', () => {
  const layerOf = new Map(LAYERS.flatMap((units, layer) => units.map((unit) => [unit, layer] as const)));
  const unplaced = [...new Set(files.map(unitOf))].filter((unit) => !layerOf.has(unit));
  assert.deepEqual(unplaced, [], `src/ has folders without a layer; add them to LAYERS in ${name(__filename)}`);
  const broken: string[] = [];
  for (const [file, targets] of graph) {
    const from = unitOf(file);
    for (const target of targets) {
      const to = unitOf(target);
      if (from !== to && layerOf.get(to)! >= layerOf.get(from)!) {
        broken.push(`${name(file)} -> ${name(target)} (${from}, layer ${layerOf.get(from)}, imports ${to}, layer ${layerOf.get(to)})`);
      }
    }
  }
  assert.deepEqual(broken, [], `rule "imports point down the layers" broken:\n${broken.join('\n')}`);
});

test('no forbidden import direction', () => {
  const broken: string[] = [];
  for (const [file, targets] of graph) {
    const from = unitOf(file);
    for (const target of targets) {
      const to = unitOf(target);
      if (from === to) continue;
      for (const rule of FORBIDDEN) {
        if (rule.from === from && (rule.to.includes('*') || rule.to.includes(to))) broken.push(`rule "${rule.rule}" broken: ${name(file)} imports ${name(target)}`);
      }
    }
  }
  assert.deepEqual(broken, [], broken.join('\n'));
});
