import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { projectRoot } from '../../src/util/paths';
import { cli } from '../support/cli';
import { tempDbPath } from '../tracker/helpers';
import { fillUiStore, type UiStoreFixture } from '../support/ui-store';

/** `glyphlab ui ARGS` as a child process, with the URL line it prints once it listens. */
interface UiChild {
  child: ChildProcess;
  /** The `open ...` line's URL. */
  url: Promise<string>;
  /** How it ended, with everything it printed. */
  ended: Promise<{ code: number | null; out: string; err: string }>;
}

function startUi(args: string[], env: Record<string, string> = {}): UiChild {
  const child = spawn(process.execPath, [join(projectRoot(), 'scripts', 'glyphlab.js'), 'ui', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const ended = new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on('close', (code) => resolve({ code, out, err })));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const found = /^open (\S+)/m.exec(out);
      if (found) resolve(found[1] as string);
    });
    void ended.then((end) => reject(new Error(`glyphlab ui ended (${end.code}) before printing its URL: ${end.err}${end.out}`)));
  });
  return { child, url, ended };
}

describe('glyphlab ui', () => {
  const dir = dirname(tempDbPath());
  let fixture: UiStoreFixture;

  before(async () => {
    fixture = await fillUiStore(dir);
  });

  test('--columns takes the names runs ls takes: aliases (test_acc, started, git) and a bare param key', async () => {
    const names = 'name,test_acc,started,git,rnn';
    const listed = await cli(['runs', 'ls', '--db', fixture.file, '--columns', names, '--where', 'name = "vgg19"']);
    assert.equal(listed.code, 0, listed.err);
    assert.match(listed.out, /^name\s+test_acc\s+started\s+git\s+rnn\nvgg19\s+80\.00%\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+lstm\n$/);
    const ui = startUi(['--db', fixture.file, '--port', '0', '--columns', names]);
    const url = await ui.url;
    const config = (await (await fetch(new URL('/api/config', url))).json()) as { columns: string[] };
    assert.deepEqual(config.columns, ['name', 'metrics.test_accuracy', 'started_at', 'git_commit', 'params.rnn']);
    // The page sends what its columns box holds: the names as typed work too.
    const table = (await (await fetch(new URL(`/api/runs?columns=${names}&where=${encodeURIComponent('name = "vgg19"')}`, url))).json()) as { columns: string[]; rows: { cells: unknown[] }[]; warnings: string[] };
    assert.deepEqual(table.columns, config.columns);
    assert.deepEqual(table.rows[0]!.cells.slice(0, 2), ['vgg19', 0.8]);
    assert.equal(table.rows[0]!.cells[4], 'lstm');
    assert.deepEqual(table.warnings, []);
    ui.child.kill('SIGINT');
    assert.equal((await ui.ended).code, 0);
  });

  test('serves the store on the loopback, prints the URL, stops on Ctrl-C', async () => {
    const ui = startUi(['--db', fixture.file, '--port', '0', '--where', 'params.model = "crnn"', '--columns', 'name,test_accuracy']);
    const url = await ui.url;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const config = (await (await fetch(new URL('/api/config', url))).json()) as { where: string; columns: string[]; db: string };
    assert.deepEqual({ where: config.where, columns: config.columns, db: config.db }, { where: 'params.model = "crnn"', columns: ['name', 'metrics.test_accuracy'], db: fixture.file });
    ui.child.kill('SIGINT');
    const end = await ui.ended;
    assert.equal(end.code, 0, end.err);
    assert.match(end.out, /glyphlab ui: reading .*glyphlab\.db \(read-only\)\nopen http:\/\/127\.0\.0\.1:\d+\/\nCtrl-C stops it\.\n$/);
    assert.match(end.err, /glyphlab ui: stopped \(SIGINT\)/);
  });

  test('off the loopback it makes a token and prints it once in the URL; requests without it are refused', async () => {
    const ui = startUi(['--db', fixture.file, '--port', '0', '--host', '0.0.0.0']);
    const url = await ui.url;
    const token = /\?token=([0-9a-f]{32})$/.exec(url)?.[1];
    assert.ok(token, `a token in ${url}`);
    const port = new URL(url).port;
    assert.equal((await fetch(`http://127.0.0.1:${port}/api/runs`)).status, 401);
    assert.equal((await fetch(`http://127.0.0.1:${port}/api/runs`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    ui.child.kill('SIGTERM');
    const end = await ui.ended;
    assert.equal(end.code, 0);
    assert.equal(end.out.split(token).length - 1, 1, 'the token is printed once');
    assert.ok(!end.err.includes(token), 'and nowhere else');
  });

  test('a token from GLYPHLAB_UI_TOKEN is used and not printed', async () => {
    const token = 'token-from-the-environment';
    const ui = startUi(['--db', fixture.file, '--port', '0'], { GLYPHLAB_UI_TOKEN: token });
    const url = await ui.url;
    assert.ok(!url.includes(token));
    assert.equal((await fetch(new URL('/api/runs', url))).status, 401);
    assert.equal((await fetch(new URL('/api/runs', url), { headers: { authorization: `Bearer ${token}` } })).status, 200);
    ui.child.kill('SIGINT');
    const end = await ui.ended;
    assert.ok(!`${end.out}${end.err}`.includes(token));
  });

  describe('refusals', () => {
    let busy: Server;
    before(async () => {
      busy = createServer();
      await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    });
    after(() => busy.close());

    test('a busy port, a bad host, port, token, filter or column: exit 2 with what to do', async () => {
      const port = String((busy.address() as { port: number }).port);
      const cases: [string[], RegExp][] = [
        [['--port', port], new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use .*--port 0 for any free port`)],
        [['--port', '0', '--host', 'no-such-host.invalid'], /--host "no-such-host\.invalid" is not an address of this machine/],
        [['--port', '65536'], /--port "65536" is not valid: expected an integer from 0 to 65535/],
        [['--port', '0', '--token', 'short'], /is not a usable token \(5 characters\)/],
        [['--port', '0', '--where', 'metrics.val_accuracy >'], /bad filter expression at column 23[\s\S]*\^/],
        [['--port', '0', '--columns', 'name,-val_accuracy'], /column "-val_accuracy" is not valid/],
      ];
      for (const [args, message] of cases) {
        const result = await cli(['ui', '--db', fixture.file, ...args]);
        assert.equal(result.code, 2, `${args.join(' ')}: ${result.err}`);
        assert.match(result.err, message);
      }
    });

    test('a store that does not exist: exit 1 naming it', async () => {
      const result = await cli(['ui', '--db', join(dir, 'none.db'), '--port', '0']);
      assert.equal(result.code, 1);
      assert.match(result.err, /none\.db does not exist/);
    });
  });
});
