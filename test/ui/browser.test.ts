/**
 * `glyphlab ui` in a real browser: headless Chromium (Debian's `chromium`) driven over the
 * DevTools protocol, with every network route but the loopback closed, against a real store in a
 * temp folder. The page must load silently, narrow its table as a filter is typed, overlay the
 * curves of ticked runs, grow the curve of a run that is still being recorded without a reload,
 * and show a run's misread images, a tiny real training's included.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { startUiServer, type UiServer } from '../../src/ui/server';
import { tempDbPath } from '../tracker/helpers';
import { trainTinyBaseRun } from '../support/equation-run';
import { type HeadlessPage, openPage } from '../support/headless-page';
import { type LiveRun, fillUiStore, startLiveRun, type UiStoreFixture } from '../support/ui-store';
import { TABLE_RUN_IDS, chartPoints, loadedMisreadWidths } from '../support/ui-page';

describe('glyphlab ui in headless Chromium', () => {
  const dir = dirname(tempDbPath());
  let fixture: UiStoreFixture;
  let ui: UiServer;
  let page: HeadlessPage;
  let live: LiveRun | undefined;

  before(async () => {
    fixture = await fillUiStore(dir);
    ui = await startUiServer({ db: fixture.file, port: 0, pollMs: 200, onWarning: () => undefined });
    page = await openPage({ width: 1300, height: 1000 });
  });
  after(async () => {
    await page?.close();
    await ui?.close();
    if (live) live.finish();
  });

  test('the page loads with no console errors and lists the runs of the store', async () => {
    await page.goto(ui.url);
    const ids = await page.waitFor<string[]>(`(() => { const ids = ${TABLE_RUN_IDS}; return ids.length ? ids : null; })()`, 'the table');
    assert.deepEqual(ids, ['other', 'lr-too-high', 'vgg19', 'lstm-wide', 'gru-small'].map((name) => fixture.ids[name]));
    assert.equal(await page.evaluate(`document.getElementById('store').textContent`), fixture.file);
    await page.waitFor(`document.getElementById('live').dataset.state === 'live'`, 'the live stream to connect');
    assert.equal(await page.evaluate(`typeof Plotly`), 'object', 'plotly came from the server');
    assert.deepEqual(page.errors(), []);
  });

  test('typing a --where filter narrows the table; a bad one is shown inline', async () => {
    await page.type('#where', 'params.model = "crnn" and metrics.test_accuracy > 0.5', { enter: true });
    const narrowed = await page.waitFor<string[]>(`(() => { const ids = ${TABLE_RUN_IDS}; return ids.length === 2 ? ids : null; })()`, 'two rows');
    assert.deepEqual(narrowed, [fixture.ids['lstm-wide'], fixture.ids['gru-small']]);
    assert.match(await page.evaluate<string>('location.hash'), /where=params\.model/);

    await page.type('#where', 'metrics.test_accuracy >', { enter: true });
    const message = await page.waitFor<string>(`!document.getElementById('query-error').hidden && document.getElementById('query-error').textContent`, 'the error');
    assert.match(message, /bad filter expression at column 24[\s\S]*\^/);
    assert.equal(await page.evaluate(`${TABLE_RUN_IDS}.length`), 2, 'the last good table stays');
    // The browser logs the refused request, and nothing else.
    assert.deepEqual(page.errors().map((m) => m.text.replace(/http:\/\/[^/]+/, '')), ['Failed to load resource: the server responded with a status of 400 (Bad Request) (/api/runs?where=metrics.test_accuracy+%3E)']);
    page.messages.length = 0;

    await page.type('#where', '', { enter: true });
    await page.waitFor(`${TABLE_RUN_IDS}.length === 5 && document.getElementById('query-error').hidden`, 'every run again');
  });

  test('a header click sorts the table', async () => {
    await page.click('#runs th[data-column="metrics.test_accuracy"]');
    await page.waitFor(`document.getElementById('sort').value === '-metrics.test_accuracy'`, 'the sort');
    const ids = await page.waitFor<string[]>(`(() => { const ids = ${TABLE_RUN_IDS}; return ids[0] === ${JSON.stringify(fixture.ids['lstm-wide'])} ? ids : null; })()`, 'the best run first');
    assert.deepEqual(ids.slice(0, 3), [fixture.ids['lstm-wide'], fixture.ids['gru-small'], fixture.ids.vgg19]);
  });

  test('ticking three runs overlays their per-step curves (x in minutes, linear y) and plots a param against a metric', async () => {
    for (const name of ['gru-small', 'lstm-wide', 'vgg19']) await page.click(`#runs tr[data-id="${fixture.ids[name]}"] input[type=checkbox]`);
    await page.waitFor(`${chartPoints('curves-chart', fixture.ids.vgg19!)} > 0`, 'the third curve');
    for (const [name, epochs] of [['gru-small', 6], ['lstm-wide', 6], ['vgg19', 4]] as const) {
      assert.equal(await page.evaluate(chartPoints('curves-chart', fixture.ids[name]!)), epochs * 40, `${name}: one point per step`);
    }
    assert.equal(await page.evaluate(`document.querySelectorAll('#curves-chart .legendtext').length`), 3);
    await page.evaluate(`(() => { const s = document.getElementById('curve-x'); s.value = 'minutes'; s.dispatchEvent(new Event('change')); })()`);
    await page.waitFor(`document.getElementById('curves-chart').layout.xaxis.title.text === 'minutes since the run started'`, 'the minutes axis');
    await page.evaluate(`(() => { const s = document.getElementById('curve-x'); s.value = 'step'; s.dispatchEvent(new Event('change')); })()`);
    await page.evaluate(`(() => { const s = document.getElementById('curve-y'); s.value = 'linear'; s.dispatchEvent(new Event('change')); })()`);
    await page.waitFor(`document.getElementById('curves-chart').layout.yaxis.type === 'linear' && document.getElementById('curves-chart').layout.xaxis.title.text === 'step'`, 'a linear y axis');
    // The param against the metric: one point per ticked run.
    await page.evaluate(`(() => { const s = document.getElementById('pp-param'); s.value = 'lr'; s.dispatchEvent(new Event('change')); })()`);
    const points = await page.waitFor<{ x: number[]; y: number[] }>(
      `(() => { const trace = (document.getElementById('params-chart').data || [])[0]; return trace && trace.x.length === 3 && document.getElementById('params-chart').layout.xaxis.title.text === 'lr' ? { x: [...trace.x], y: [...trace.y] } : null; })()`,
      'lr against test_accuracy',
    );
    const byParam = (pairs: number[][]): number[][] => pairs.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
    assert.deepEqual(byParam(points.x.map((x, i) => [x, points.y[i]!])), byParam([[5e-4, 0.95], [1e-3, 0.9], [1e-3, 0.8]]));
    assert.deepEqual(page.errors(), []);
  });

  test('a run that is still being recorded appears and its curve grows without a reload', async () => {
    await page.evaluate('window.notReloaded = true');
    live = startLiveRun(fixture.file, 'live', 12);
    const liveId = live.id;
    await page.waitFor(`${TABLE_RUN_IDS}.includes(${JSON.stringify(liveId)})`, 'the new run in the table');
    assert.equal(await page.evaluate(`document.querySelector('#runs tr[data-id="${liveId}"]').dataset.status`), 'running');
    await page.click(`#runs tr[data-id="${liveId}"] input[type=checkbox]`);
    const before = await page.waitFor<number>(`${chartPoints('curves-chart', liveId)}`, 'the live curve');
    assert.equal(before, 12);
    live.addSteps(30);
    const grown = await page.waitFor<number>(`(() => { const n = ${chartPoints('curves-chart', liveId)}; return n > 12 ? n : 0; })()`, 'the curve to grow');
    assert.equal(grown, 42);
    assert.equal(await page.evaluate('window.notReloaded'), true, 'the page was not reloaded');
    live.finish();
    live = undefined;
    await page.waitFor(`document.querySelector('#runs tr[data-id="${liveId}"]').dataset.status === 'finished'`, 'the finished status');
    assert.deepEqual(page.errors(), []);
  });

  test("a run's page shows its misread images with the truth and the reading, and why a run stopped", async () => {
    await page.click(`#runs tr[data-id="${fixture.ids['gru-small']}"] a`);
    await page.waitFor(`!document.getElementById('run-view').hidden && document.querySelectorAll('#misreads figure').length === 2`, 'the misreads');
    await page.evaluate(`document.getElementById('misreads').scrollIntoView()`);
    const shown = await page.waitFor<{ width: number; truth: string; read: string }[]>(
      `(() => { const figures = [...document.querySelectorAll('#misreads figure')]; if (!figures.every((f) => f.querySelector('img')?.complete && f.querySelector('img').naturalWidth > 0)) return null;
        return figures.map((f) => ({ width: f.querySelector('img').naturalWidth, truth: f.querySelector('.truth').textContent.replace(/^truth/, ''), read: f.querySelector('.read').textContent.replace(/^read/, '') })); })()`,
      'the images to load',
    );
    assert.deepEqual(shown, fixture.misreads['gru-small']!.map((m) => ({ width: 200, truth: m.truth, read: m.predicted })));
    assert.match(await page.evaluate<string>(`document.getElementById('misreads-note').textContent`), /2 misread of 20 test images/);
    assert.equal(await page.evaluate(`document.getElementById('stop-reason').hidden`), true, 'it ran its course');

    await page.goto(`${ui.url}#run=${fixture.ids.vgg19}`);
    const stop = await page.waitFor<string>(`!document.getElementById('stop-reason').hidden && document.getElementById('stop-reason').textContent`, 'the stop reason');
    assert.match(stop, /^Stopped: early stopping: val_accuracy did not improve for 2 epochs/);
    assert.deepEqual(page.errors(), []);
  });
});

describe('glyphlab ui with a token, in headless Chromium', () => {
  const dir = dirname(tempDbPath());

  test('without the token the page is refused; the printed URL lets the browser in, live updates included', async () => {
    const fixture = await fillUiStore(dir);
    const token = 'browser-test-token-42';
    const ui = await startUiServer({ db: fixture.file, port: 0, token, onWarning: () => undefined });
    const page = await openPage();
    try {
      await page.goto(ui.url);
      assert.match(await page.evaluate<string>('document.body.textContent'), /needs its token/);
      await page.goto(`${ui.url}?token=${token}`);
      await page.waitFor(`${TABLE_RUN_IDS}.length === 5`, 'the table');
      assert.equal(await page.evaluate('location.search'), '', 'the token left the address bar');
      await page.waitFor(`document.getElementById('live').dataset.state === 'live'`, 'the live stream');
      assert.equal(await page.evaluate<string>('document.cookie'), '', 'the cookie is out of scripts\' reach');
    } finally {
      await page.close();
      await ui.close();
    }
  });
});

describe('glyphlab ui over a real training, in headless Chromium', () => {
  const dir = dirname(tempDbPath());

  test("a tiny trained run's page shows its params, curves and the misread images of its own eval report", async () => {
    const file = join(dir, 'glyphlab.db');
    const run = await trainTinyBaseRun(dir, file);
    const ui = await startUiServer({ db: file, port: 0, onWarning: () => undefined });
    const page = await openPage();
    try {
      await page.goto(`${ui.url}#run=${run.runId}`);
      await page.waitFor(`document.getElementById('run-view').dataset.loads`, 'the run page');
      const params = await page.evaluate<string>(`document.getElementById('run-params').textContent`);
      assert.match(params, /model\.rnngru/, 'the recorded spec, flattened');
      const expected = run.testReport!.errors.length;
      assert.ok(expected > 0, 'one epoch on 30 images misreads some');
      // The images load lazily, as they come into view.
      await page.evaluate(`document.getElementById('misreads').scrollIntoView()`);
      const widths = await page.waitFor<number[]>(loadedMisreadWidths(expected), 'the misread images');
      assert.ok(widths.every((width) => width === 128), `the 128-pixel synthesised images: ${widths.join(', ')}`);
      assert.equal(await page.evaluate(`document.getElementById('run-curves').data.length > 0`), true, 'its loss curves drew');
      assert.deepEqual(page.errors(), []);
    } finally {
      await page.close();
      await ui.close();
    }
  });
});
