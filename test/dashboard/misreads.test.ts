/**
 * A recorded run's misreads, read back from a real store: its eval-report artifact, the image
 * paths resolved, the CER of each reading; and the gallery built from them, with real images.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readRunMisreads } from '../../src/dashboard/misreads';
import { misreadGalleryHtml } from '../../src/viz/misread-charts';
import { closeStore, openStore } from '../../src/tracker/store';
import { addArtifact, finishRun, startRun } from '../../src/tracker/record';
import { tempDbPath } from '../tracker/helpers';
import { type DashboardFixture, fillDashboardDb } from './fixtures';

describe('readRunMisreads', () => {
  const file = tempDbPath();
  let fixture: DashboardFixture;
  before(async () => {
    fixture = await fillDashboardDb(file, dirname(file));
  });

  test('lists the report\'s misreads with their images, truth, reading and CER', () => {
    const store = openStore(file, { readonly: true });
    try {
      const found = readRunMisreads(store, fixture.vggId);
      assert.ok(found);
      assert.equal(found.split, 'test');
      assert.equal(found.samples, 8);
      assert.equal(found.listed, 3);
      assert.match(found.label, /^vgg19 · /);
      const { truths, predictions } = fixture.evaluations.vgg;
      const expected = truths.flatMap((t, i) => (predictions[i] === t ? [] : [{ truth: t, read: predictions[i] }]));
      assert.deepEqual(found.misreads.map((m) => ({ truth: m.truth, read: m.read })), expected);
      assert.ok(found.misreads.every((m) => existsSync(m.path)), 'the image paths point at the files');
      // '7+8*2=23' read '7+8*2=28': one substitution over 8 characters.
      assert.equal(found.misreads.find((m) => m.truth === '7+8*2=23')?.cer, 1 / 8);
      assert.equal(readRunMisreads(store, fixture.vggId, { limit: 1 })?.misreads.length, 1);
      assert.equal(readRunMisreads(store, fixture.vggId, { limit: 1 })?.listed, 3);
      assert.equal(readRunMisreads(store, fixture.otherId), null, 'a run without an eval report has none');
    } finally {
      closeStore(store);
    }
  });

  test('a relative image path is resolved against the store\'s folder; a malformed report is named', async () => {
    const store = openStore(file);
    try {
      const runId = startRun(store, { experiment: 'misreads', git: false, heartbeat: false });
      const report = join(dirname(file), 'relative-report.json');
      writeFileSync(report, JSON.stringify({ version: 1, split: 'test', samples: 2, errors: [{ path: 'images/a.png', truth: '1+1=2', predicted: '1+1=3' }] }));
      await addArtifact(store, runId, { path: report, kind: 'eval-report' });
      assert.equal(readRunMisreads(store, runId)?.misreads[0]?.path, join(dirname(file), 'images', 'a.png'));

      const broken = startRun(store, { experiment: 'misreads', git: false, heartbeat: false });
      const bad = join(dirname(file), 'bad-report.json');
      writeFileSync(bad, JSON.stringify({ version: 1, samples: 2, errors: [{ path: 3, truth: 'x' }] }));
      await addArtifact(store, broken, { path: bad, kind: 'eval-report' });
      finishRun(store, broken);
      assert.throws(() => readRunMisreads(store, broken), /bad-report\.json of run .*: errors\[0\] \(\{"path":3,"truth":"x"\}\) is not valid; expected an object \{path: string, truth: string, predicted: string\}/);
      assert.throws(() => readRunMisreads(store, runId, { limit: -1 }), /limit -1 is not valid: expected a whole number >= 0/);
    } finally {
      closeStore(store);
    }
  });

  test('the gallery inlines each image as a data URI and marks what differs', () => {
    const store = openStore(file, { readonly: true });
    try {
      const found = readRunMisreads(store, fixture.vggId)!;
      const html = misreadGalleryHtml(found.misreads, { total: found.listed });
      assert.equal(html.match(/<img src="data:image\/png;base64,/g)?.length, 3);
      assert.match(html, /7\+8\*2=2<mark[^>]*>3<\/mark>/, 'the truth\'s misread character is marked');
      assert.match(html, /7\+8\*2=2<mark[^>]*>8<\/mark>/, 'and the reading\'s');
      assert.match(html, /<th>CER<\/th>/);
      assert.match(html, /<td>0\.125<\/td>/);
      const two = misreadGalleryHtml(found.misreads, { maxImages: 2, total: found.listed });
      assert.equal(two.match(/<img /g)?.length, 2);
      assert.match(two, /2 of 3 misreads shown/);
    } finally {
      closeStore(store);
    }
  });
});
