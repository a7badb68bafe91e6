import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { logMetrics, tagRun } from '../../src/tracker/record';
import { closeStore, openStore, type TrackerStore } from '../../src/tracker/store';
import { type StoreChange, watchStore } from '../../src/ui/live';
import { tempDbPath } from '../tracker/helpers';
import { fillUiStore, type UiStoreFixture } from '../support/ui-store';

/** Resolves when `condition()` holds, polling every 20 ms; fails after `timeoutMs` naming `what`. */
async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('ui live watch', () => {
  // Removed when the file's tests end (created here: an after() registered in a before() hook runs when the hook ends).
  const dir = dirname(tempDbPath());
  let fixture: UiStoreFixture;
  let reader: TrackerStore;
  let writer: TrackerStore;

  before(async () => {
    fixture = await fillUiStore(dir);
    reader = openStore(fixture.file, { readonly: true });
    writer = openStore(fixture.file);
  });
  after(() => {
    closeStore(reader);
    closeStore(writer);
  });

  test('idle, each tick reads only the data version: the runs are not listed again', async () => {
    const changes: StoreChange[] = [];
    const watch = watchStore(reader, { pollMs: 10, onChange: (change) => changes.push(change) });
    try {
      const listed = watch.listings;
      // Enough ticks to have listed many times over, were each one a listing.
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(watch.listings, listed);
      assert.deepEqual(changes, []);
    } finally {
      watch.stop();
    }
  });

  test("another connection's points name the run among those whose curves grew; a tag only its row", async () => {
    const changes: StoreChange[] = [];
    const watch = watchStore(reader, { pollMs: 20, onChange: (change) => changes.push(change) });
    const runId = fixture.ids['gru-small']!;
    try {
      logMetrics(writer, runId, { batch_loss: 0.05 }, { step: 1000, epoch: 6, context: 'batch' });
      await until(() => changes.length > 0, 'the change to be seen');
      assert.deepEqual(changes[0], { runs: [runId], points: [runId] });
      tagRun(writer, fixture.ids.vgg19!, 'keep');
      await until(() => changes.length > 1, 'the tag to be seen');
      assert.deepEqual(changes[1], { runs: [fixture.ids.vgg19], points: [] });
    } finally {
      watch.stop();
    }
  });

  test('a store that cannot be read is reported once, not at every tick', async () => {
    const broken = openStore(fixture.file, { readonly: true });
    const failures: unknown[] = [];
    const watch = watchStore(broken, { pollMs: 10, onChange: () => undefined, onError: (error) => failures.push(error) });
    try {
      closeStore(broken);
      await until(() => failures.length > 0, 'the failure');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(failures.length, 1);
      assert.match(String(failures[0]), /not open/);
    } finally {
      watch.stop();
    }
  });
});
