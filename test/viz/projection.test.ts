import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pca, projectionFigure, projectorTsv, writeProjectorFiles } from '../../src/viz/projection';
import { createRng } from '../../src/util/rng';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Points spread mostly along (1, 1, 0), a little along (1, -1, 0), not at all along z. */
function elongated(n: number): number[][] {
  const rng = createRng('pca');
  return Array.from({ length: n }, () => {
    const a = rng.normal() * 10;
    const b = rng.normal();
    return [5 + a + b, -2 + a - b, 3];
  });
}

describe('pca', () => {
  test('finds the axes of the spread, strongest first, and centres the points', () => {
    const vectors = elongated(300);
    const { components, explainedRatio, points, mean } = pca(vectors, 2);
    const first = components[0] as number[];
    assert.ok(Math.abs(Math.abs(first[0] as number) - Math.SQRT1_2) < 0.01 && Math.abs((first[0] as number) - (first[1] as number)) < 0.02, `first axis ${first}`);
    assert.ok(Math.abs(first[2] as number) < 1e-6);
    const second = components[1] as number[];
    assert.ok(Math.abs((second[0] as number) + (second[1] as number)) < 0.02, `second axis ${second}`);
    assert.ok((explainedRatio[0] as number) > 0.95 && (explainedRatio[0] as number) + (explainedRatio[1] as number) > 0.999);
    assert.ok(Math.abs((mean[2] as number) - 3) < 1e-9);
    const meanProjected = points.reduce((s, p) => s + (p[0] as number), 0) / points.length;
    assert.ok(Math.abs(meanProjected) < 1e-6);
    assert.throws(() => pca(vectors, 4), /dims 4 must be an integer from 1 to 3/);
    assert.throws(() => pca([[1, 2], [3]], 1), /vector 1 has 1 values, vector 0 has 2/);
  });
});

describe('projectionFigure', () => {
  test('2-D and 3-D figures with one trace per label', () => {
    const vectors = elongated(30);
    const labels = vectors.map((_, i) => (i % 3 === 0 ? '1' : '7'));
    const flat = projectionFigure(vectors, labels);
    assert.deepEqual(flat.data.map((t) => [t['type'], t['name'], (t['x'] as number[]).length]), [['scatter', '1', 10], ['scatter', '7', 20]]);
    assert.match(JSON.stringify(flat.layout), /PC1 \(\d+\.\d%\)/);
    const deep = projectionFigure(vectors, labels, { dims: 3 });
    assert.equal(deep.data[0]?.['type'], 'scatter3d');
    assert.equal((deep.data[0]?.['z'] as number[]).length, 10);
    assert.throws(() => projectionFigure(vectors, ['1']), /30 vectors but 1 labels/);
  });
});

describe('TensorBoard projector export', () => {
  test('vectors and metadata TSV, header only with several columns', () => {
    const text = projectorTsv([[1, 2.5], [3, 4]], [{ label: '1', truth: '7' }, { label: '8\tx', truth: '8' }]);
    assert.equal(text.vectors, '1\t2.5\n3\t4\n');
    assert.equal(text.metadata, 'label\ttruth\n1\t7\n8 x\t8\n');
    assert.equal(projectorTsv([[1], [2]], [{ label: 'a' }, { label: 'b' }]).metadata, 'a\nb\n');
    assert.throws(() => projectorTsv([[1]], []), /1 vectors but 0 metadata rows/);
    const dir = mkdtempSync(join(tmpdir(), 'glyphlab-projector-'));
    dirs.push(dir);
    const { vectorsPath, metadataPath } = writeProjectorFiles(join(dir, 'run'), [[1, 2]], [{ label: '+' }]);
    assert.equal(readFileSync(vectorsPath, 'utf8'), '1\t2\n');
    assert.equal(readFileSync(metadataPath, 'utf8'), '+\n');
  });
});
