import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exploreDataset, explorationFigures, explorationReport, explorationTables } from '../../../src/data/equations/explore';
import { loadLabeledImages } from '../../../src/data/equations/load';
import { synthesizeEquations } from '../../../src/data/equations/synth';
import { plotlyBundle, writeHtmlReport } from '../../../src/viz/html';

const dir = mkdtempSync(join(tmpdir(), 'glyphlab-explore-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('exploreDataset', () => {
  test('counts lengths and characters, shows the left bias, and writes an offline HTML report', async () => {
    await synthesizeEquations({ outDir: dir, count: 30, seed: 'explore', workers: 0 });
    const set = await loadLabeledImages(dir);
    const exploration = await exploreDataset(set.samples, { gridSize: 6, profileBins: 50 });
    assert.equal(exploration.count, 30);
    assert.equal([...exploration.lengthCounts.values()].reduce((a, b) => a + b, 0), 30);
    assert.equal(exploration.charCounts.get('='), 30);
    const expectedPlus = set.samples.reduce((n, s) => n + [...s.label].filter((c) => c === '+').length, 0);
    assert.equal(exploration.charCounts.get('+'), expectedPlus);
    assert.equal(exploration.inkProfile.length, 50);
    assert.ok(exploration.leftInkShare > 0.6, `left share ${exploration.leftInkShare}`);
    assert.equal(exploration.grid.length, 6);
    assert.match(exploration.grid[0]?.dataUri ?? '', /^data:image\/png;base64,iVBOR/);

    const figures = explorationFigures(exploration);
    assert.deepEqual(figures.labelLengths.data[0]?.['y'], [...exploration.lengthCounts.values()]);

    const tables = explorationTables(exploration);
    assert.deepEqual(tables.lengths.columns, ['length', 'labels', 'share']);
    assert.equal(tables.characters.shape[0], 16);

    const path = writeHtmlReport(join(dir, 'report.html'), explorationReport(exploration));
    const html = readFileSync(path, 'utf8');
    assert.ok(html.includes(plotlyBundle().slice(0, 2000)), 'plotly is inlined');
    assert.ok(!/<script[^>]+src=/.test(html), 'no external scripts');
    assert.equal((html.match(/Plotly\.newPlot\('figure-/g) ?? []).length, 3);
    assert.ok(html.includes(set.samples.find((s) => s.filename === exploration.grid[0]?.filename)?.label ?? '???'));
  });
});
