import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError, DataError } from '../../src/errors';
import { EVAL_REPORT_KIND } from '../../src/runs/eval-report';
import { addArtifact, finishRun, startRun } from '../../src/tracker/record';
import { closeStore, openStore } from '../../src/tracker/store';
import { MAX_MISREAD_IMAGE_BYTES, misreadImage, runMisreads } from '../../src/ui/misreads';
import { tempDbPath } from '../tracker/helpers';
import { fillUiStore, type UiStoreFixture } from '../support/ui-store';

describe('ui misreads', () => {
  // Removed when the file's tests end (created here: an after() registered in a before() hook runs when the hook ends).
  const dir = dirname(tempDbPath());
  let fixture: UiStoreFixture;
  /** A run whose report lists a text file, a FIFO, a file over the size limit and a missing one. */
  let oddId: string;

  before(async () => {
    fixture = await fillUiStore(dir);
    writeFileSync(join(dir, 'notes.txt'), 'not a picture\n');
    writeFileSync(join(dir, 'huge.png'), Buffer.alloc(MAX_MISREAD_IMAGE_BYTES + 1));
    execFileSync('mkfifo', [join(dir, 'pipe.png')]);
    const report = { version: 1, split: 'test', samples: 4, accuracy: 0, characterErrorRate: 1, byLength: [], confusions: [], errors: ['notes.txt', 'pipe.png', 'huge.png', 'gone.png'].map((path) => ({ path, truth: '1+1=2', predicted: '1+1=3' })) };
    writeFileSync(join(dir, 'odd-report.json'), JSON.stringify(report));
    const store = openStore(fixture.file);
    try {
      oddId = startRun(store, { experiment: 'equations', name: 'odd', git: false, heartbeat: false });
      await addArtifact(store, oddId, { path: join(dir, 'odd-report.json'), kind: EVAL_REPORT_KIND });
      finishRun(store, oddId);
    } finally {
      closeStore(store);
    }
  });

  test('a run lists the misreads of its eval report, by index, with the truth and the reading', () => {
    const store = openStore(fixture.file, { readonly: true });
    try {
      const listed = runMisreads(store, fixture.ids['gru-small']!);
      assert.equal(listed.problem, null);
      assert.equal(listed.samples, 20);
      assert.deepEqual(listed.misreads.map(({ index, truth, read }) => ({ index, truth, read })), fixture.misreads['gru-small']!.map((m, index) => ({ index, truth: m.truth, read: m.predicted })));
      assert.equal(listed.misreads.length, 2);
      // '1+2*3=7' read as '7+2*3=7': one substitution, then matches.
      const first = listed.misreads[0]!;
      assert.deepEqual(first.alignment.filter((step) => step.op !== 'match'), [{ op: 'substitute', truth: first.truth[0], predicted: first.read[0] }]);
      assert.equal(first.cer, 1 / 7);
      assert.ok(listed.misreads.every((m) => !('path' in m)), 'no path goes to the page');
      const none = runMisreads(store, fixture.ids.other!);
      assert.deepEqual(none.misreads, []);
      assert.match(none.problem ?? '', /recorded no eval-report artifact/);
    } finally {
      closeStore(store);
    }
  });

  test('an image is served by index as the PNG file the report names', () => {
    const store = openStore(fixture.file, { readonly: true });
    try {
      const image = misreadImage(store, fixture.ids['gru-small']!, 1);
      assert.equal(image.contentType, 'image/png');
      assert.deepEqual(image.bytes, readFileSync(join(dir, 'images', 'gru-small-1.png')));
      assert.throws(() => misreadImage(store, fixture.ids['gru-small']!, 2), (e: unknown) => e instanceof ConfigError && /lists 2 \(0 to 1\)/.test(e.message));
      assert.throws(() => misreadImage(store, fixture.ids.other!, 0), ConfigError);
    } finally {
      closeStore(store);
    }
  });

  test('only pictures, only regular files, only within the size limit', () => {
    const store = openStore(fixture.file, { readonly: true });
    try {
      assert.throws(() => misreadImage(store, oddId, 0), (e: unknown) => e instanceof DataError && /notes\.txt is not a PNG, JPEG, GIF or WebP picture/.test(e.message));
      assert.throws(() => misreadImage(store, oddId, 1), (e: unknown) => e instanceof DataError && /FIFO/.test(e.message));
      assert.throws(() => misreadImage(store, oddId, 2), (e: unknown) => e instanceof DataError && /huge\.png is 1 MB \(1048577 bytes\), more than the 1 MB \(1048576 bytes\) limit for a misread image$/.test(e.message));
      assert.throws(() => misreadImage(store, oddId, 3), (e: unknown) => e instanceof DataError && /gone\.png/.test(e.message));
    } finally {
      closeStore(store);
    }
  });
});
