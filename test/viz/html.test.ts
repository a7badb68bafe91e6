import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageGridHtml, writeHtmlReport } from '../../src/viz/html';

describe('imageGridHtml', () => {
  test('captioned pictures in wrapping rows, styled inline, text escaped', () => {
    const html = imageGridHtml([
      { src: 'data:image/png;base64,AAAA', caption: '(1+2)*3=9', note: 'images/000001.png' },
      { src: 'data:image/png;base64,BBBB', caption: 'a<b' },
    ], { imageHeight: '32px' });
    assert.match(html, /^<div class="glyphlab-grid" style="display: flex; flex-wrap: wrap;/);
    assert.equal((html.match(/<figure style="margin: 0;/g) ?? []).length, 2);
    assert.equal((html.match(/<img src="data:image\/png;base64,[AB]{4}"[^>]* style="[^"]*height: 32px;"/g) ?? []).length, 2);
    assert.match(html, /\(1\+2\)\*3=9 <small style="color: #777;">images\/000001\.png<\/small>/);
    assert.match(html, /a&lt;b<\/figcaption>/);
    assert.ok(!html.includes('class="grid"'), 'no class that needs a stylesheet');
  });

  test('no images: a line that says so', () => {
    assert.equal(imageGridHtml([]), '<p>No images.</p>');
  });
});

describe('writeHtmlReport', () => {
  test('writes the report whole; a write that fails (the path is a folder) leaves no temporary file beside it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'glyphlab-html-report-'));
    try {
      const file = writeHtmlReport(join(dir, 'report.html'), { title: 'Runs', sections: [] });
      assert.match(readFileSync(file, 'utf8'), /<h1>Runs<\/h1>/);
      mkdirSync(join(dir, 'taken'));
      assert.throws(() => writeHtmlReport(join(dir, 'taken'), { title: 'Runs', sections: [] }));
      assert.deepEqual(readdirSync(dir).sort(), ['report.html', 'taken']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
