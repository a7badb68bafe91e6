import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname } from 'node:path';
import { ConfigError } from '../../src/errors';
import { logMetrics } from '../../src/tracker/record';
import { closeStore, openStore } from '../../src/tracker/store';
import { startUiServer, type UiServer } from '../../src/ui/server';
import { tempDbPath } from '../tracker/helpers';
import { fillUiStore, type UiStoreFixture } from '../support/ui-store';

/** A GET with headers fetch() will not set (Host), answered as status, headers and text. */
function rawGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('ui server', () => {
  const dir = dirname(tempDbPath());
  let fixture: UiStoreFixture;
  let ui: UiServer;

  before(async () => {
    fixture = await fillUiStore(dir);
    ui = await startUiServer({ db: fixture.file, port: 0, pollMs: 50, onWarning: () => undefined });
  });
  after(() => ui.close());

  test('the page, its script and plotly from node_modules, with a strict content policy', async () => {
    const page = await fetch(ui.url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self';/);
    const html = await page.text();
    assert.match(html, /<script src="\/assets\/app\.js" defer>/);
    assert.doesNotMatch(html, /https?:\/\//, 'nothing from the network');
    const plotly = await fetch(new URL('/assets/plotly.min.js', ui.url));
    assert.equal(await plotly.text(), readFileSync(require.resolve('plotly.js-dist-min/plotly.min.js'), 'utf8'));
    assert.equal(plotly.headers.get('cache-control'), 'private, max-age=86400', 'kept by the browser');
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.equal((await fetch(new URL('/assets/../../package.json', ui.url))).status, 404);
    assert.equal((await fetch(new URL('/etc/passwd', ui.url))).status, 404);
  });

  test('the table filters with --where; a bad expression is a 400 with the caret message', async () => {
    const good = await fetch(new URL(`/api/runs?where=${encodeURIComponent('params.model = "vgg19-crnn"')}&columns=name,test_accuracy`, ui.url));
    const table = (await good.json()) as { rows: { cells: unknown[] }[]; columns: string[] };
    assert.deepEqual(table.columns, ['name', 'metrics.test_accuracy']);
    assert.deepEqual(table.rows.map((r) => r.cells), [['vgg19', 0.8]]);
    const bad = await fetch(new URL(`/api/runs?where=${encodeURIComponent('metrics.val_accuracy >> 1')}`, ui.url));
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /bad filter expression at column \d+[\s\S]*\^/);
  });

  test("a run's page, its misread images by index only, and a 404 for an unknown run", async () => {
    const id = fixture.ids['lstm-wide']!;
    const page = (await (await fetch(new URL(`/api/runs/${id}`, ui.url))).json()) as { run: { id: string }; misreads: unknown[] };
    assert.equal(page.run.id, id);
    assert.equal(page.misreads.length, fixture.misreads['lstm-wide']!.length);
    const image = await fetch(new URL(`/api/runs/${id}/misreads/0`, ui.url));
    assert.equal(image.headers.get('content-type'), 'image/png');
    assert.deepEqual(Buffer.from(await image.arrayBuffer()), readFileSync(`${dir}/images/lstm-wide-0.png`));
    assert.equal((await fetch(new URL(`/api/runs/${id}/misreads/5`, ui.url))).status, 400);
    assert.equal((await fetch(new URL(`/api/runs/${id}/misreads/x?path=/etc/passwd`, ui.url))).status, 404);
    assert.equal((await fetch(new URL('/api/runs/no-such-run', ui.url))).status, 404);
    assert.equal((await fetch(new URL('/api/runs/%E0%A4%A', ui.url))).status, 400, 'a malformed escape');
  });

  test('curves are plotly figures built on the server; a bad axis is a 400 naming it', async () => {
    const ids = [fixture.ids['gru-small'], fixture.ids['lstm-wide'], fixture.ids.vgg19].join(',');
    const figure = (await (await fetch(new URL(`/api/curves?ids=${ids}&keys=batch_loss&x=minutes&smoothing=0.8&y=log`, ui.url))).json()) as { data: { name: string; x: number[] }[]; layout: { yaxis: { type: string } } };
    const lines = figure.data.filter((trace) => !trace.name.endsWith('(raw)'));
    assert.deepEqual(lines.map((trace) => trace.name.split(' · ')[0]), ['gru-small', 'lstm-wide', 'vgg19']);
    assert.equal(figure.layout.yaxis.type, 'log');
    assert.ok(lines[0]!.x.at(-1)! > 5, 'minutes since the start: 240 steps of 1.5 s');
    const bad = await fetch(new URL(`/api/curves?ids=${ids}&x=hours`, ui.url));
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /x "hours" is not valid: expected one of step, epoch, minutes/);
  });

  test('only GET and HEAD: the server never writes', async () => {
    const response = await fetch(new URL('/api/runs', ui.url), { method: 'POST', body: '{}' });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'GET, HEAD');
  });

  test('without a token, a request addressed to another host name is refused (DNS rebinding)', async () => {
    assert.equal((await rawGet(new URL('/api/config', ui.url).href, { host: `attacker.example:${ui.port}` })).status, 403);
    assert.equal((await rawGet(new URL('/api/config', ui.url).href, { host: `localhost:${ui.port}` })).status, 200);
  });

  test('server-sent events name the run another process wrote to', async () => {
    const runId = fixture.ids['gru-small']!;
    let received = '';
    const seen = new Promise<void>((resolve, reject) => {
      const req = request(new URL('/api/events', ui.url), (response) => {
        assert.equal(response.headers['content-type'], 'text/event-stream; charset=utf-8');
        response.setEncoding('utf8').on('data', (chunk: string) => {
          received += chunk;
          if (received.includes('retry:') && !received.includes('event: change')) {
            // Connected: now another connection records a point.
            const writer = openStore(fixture.file);
            logMetrics(writer, runId, { batch_loss: 0.01 }, { step: 5000, epoch: 7, context: 'batch' });
            closeStore(writer);
          }
          if (received.includes('event: change')) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', reject);
      req.end();
    });
    await seen;
    const data = /event: change\ndata: (.*)\n/.exec(received)?.[1];
    assert.deepEqual(JSON.parse(data ?? '{}'), { runs: [runId], points: [runId] });
  });
});

describe('ui server: binding and the token', () => {
  const dir = dirname(tempDbPath());
  let fixture: UiStoreFixture;

  before(async () => {
    fixture = await fillUiStore(dir);
  });

  test('a bind off the loopback without a token is refused, naming the host', async () => {
    await assert.rejects(startUiServer({ db: fixture.file, host: '0.0.0.0', port: 0 }), (e: unknown) => e instanceof ConfigError && /host 0\.0\.0\.0 is not the loopback, so the UI needs a token/.test(e.message));
    await assert.rejects(startUiServer({ db: fixture.file, port: 0, token: 'short' }), /not a usable token \(5 characters\)/);
  });

  test('with a token: no token 401, a wrong one 403, the right one sets a cookie and the cookie or a Bearer header is let in', async () => {
    const token = 'a-test-token-0123456789';
    const ui = await startUiServer({ db: fixture.file, host: '0.0.0.0', port: 0, token, onWarning: () => undefined });
    try {
      const base = `http://127.0.0.1:${ui.port}`;
      assert.equal((await rawGet(`${base}/api/runs`)).status, 401);
      assert.equal((await rawGet(`${base}/`)).status, 401);
      assert.equal((await rawGet(`${base}/?token=wrong-token-0123456789`)).status, 403);
      const first = await rawGet(`${base}/?token=${token}&x=1`);
      assert.equal(first.status, 303);
      assert.equal(first.headers.location, '/?x=1', 'the token leaves the address');
      const cookie = String(first.headers['set-cookie']);
      assert.match(cookie, new RegExp(`^glyphlab-ui-${ui.port}=${token}; HttpOnly; SameSite=Strict; Path=/`));
      assert.equal((await rawGet(`${base}/api/runs`, { cookie: cookie.split(';')[0]! })).status, 200);
      assert.equal((await rawGet(`${base}/api/runs`, { cookie: `glyphlab-ui-${ui.port}=${token}x` })).status, 401);
      assert.equal((await rawGet(`${base}/api/runs`, { authorization: `Bearer ${token}` })).status, 200);
      // Any Host header is fine once the token is there: the server is meant to be reached by name.
      assert.equal((await rawGet(`${base}/api/config`, { authorization: `Bearer ${token}`, host: 'gpu-box.lan' })).status, 200);
    } finally {
      await ui.close();
    }
  });

  test('a busy port and an address not of this machine are ConfigErrors saying what to do', async () => {
    const ui = await startUiServer({ db: fixture.file, port: 0, onWarning: () => undefined });
    try {
      await assert.rejects(startUiServer({ db: fixture.file, port: ui.port }), (e: unknown) => e instanceof ConfigError && new RegExp(`port ${ui.port} on 127\\.0\\.0\\.1 is in use.*--port 0 for any free port`).test(e.message));
    } finally {
      await ui.close();
    }
    await assert.rejects(startUiServer({ db: fixture.file, host: 'no-such-host.invalid', port: 0, token: 'a-test-token-0123456789' }), /--host "no-such-host\.invalid" is not an address of this machine/);
    await assert.rejects(startUiServer({ db: fixture.file, port: 70000 }), /port 70000 is not valid/);
  });
});
