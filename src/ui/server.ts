/**
 * The server of `glyphlab ui`: Node's own `node:http` (a handful of GET routes and one event
 * stream need no framework, and no dependency means nothing more to keep up to date or to check
 * against TypeScript 5.0). It opens the store read-only, the way `runs ls` does, and answers:
 *
 * ```
 * GET /                         the page (src/ui/assets/index.html)
 * GET /assets/app.js|app.css    its script and style
 * GET /assets/plotly.min.js     plotly, from node_modules (no CDN: the page works offline)
 * GET /api/config               the store's path and the page's initial filter, sort and columns
 * GET /api/runs                 the table: ?where=&sort=&columns=a,b
 * GET /api/runs/ID              one run: params, metrics, stop reason, misreads
 * GET /api/runs/ID/misreads/N   misread image N of the run's eval report
 * GET /api/curves               figure: ?ids=a,b&keys=k1,k2&x=step|epoch|minutes&smoothing=0.6&y=auto|linear|log
 * GET /api/params               figure: ?where=|ids=&param=&metric=
 * GET /api/events               server-sent events: `change` with the runs that changed
 * ```
 * Off the loopback interface every request needs the token (see `access.ts`).
 */
import { readFileSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ConfigError, GlyphlabError, errorMessage } from '../errors';
import { parseColumns } from '../tracker/columns';
import { closeStore, openStore, type TrackerStore } from '../tracker/store';
import { databasePath } from '../util/paths';
import { checkToken, hostHeaderName, isLoopbackHost, requestToken, tokenCookieName, tokenMatches } from './access';
import { EventHub, type StoreWatch, watchStore } from './live';
import { misreadImage, runMisreads } from './misreads';
import { runPage, runsTable } from './views';
import { curvesFigure, paramsFigure } from './charts';
import { jsonSafe } from '../util/json';
import { RUN_PALETTE } from '../viz/axes';

/** Options of {@link startUiServer}. */
export interface UiServerOptions {
  /** The experiment database, opened read-only. Defaults to GLYPHLAB_DB, else experiments/glyphlab.db. */
  db?: string;
  /** The address to listen on. Anything but the loopback needs `token`. Defaults to `'127.0.0.1'`. */
  host?: string;
  /** The port; 0 takes any free one. Defaults to {@link DEFAULT_UI_PORT}. */
  port?: number;
  /** The token every request must carry (16+ letters, digits, `.` `_` `~` `-`). Defaults to none, which only the loopback allows. */
  token?: string;
  /** How often the store is checked for changes while a page is open. Defaults to 1000 ms. */
  pollMs?: number;
  /** The page's filter when it opens. Defaults to none. */
  where?: string;
  /** The page's sort when it opens. Defaults to newest first. */
  sort?: string;
  /** The page's columns when it opens, in the language of `runs ls --columns` (aliases such as `test_acc` included). Defaults to status, start, duration, the model and the usual metrics. */
  columns?: readonly string[];
  /** Most runs in the table. Defaults to 1000. */
  limit?: number;
  /** Where warnings go (a damaged store, a failed live read). Defaults to standard error. */
  onWarning?: (message: string) => void;
}

/** The port `glyphlab ui` listens on unless told otherwise. */
export const DEFAULT_UI_PORT = 5151;

/** A running UI server. */
export interface UiServer {
  /** The address of the page, e.g. `http://127.0.0.1:5151/` (without the token). */
  url: string;
  host: string;
  port: number;
  /** The store being read. */
  db: string;
  /** Stops listening, ends the event streams and closes the store. */
  close(): Promise<void>;
}

/** A reply to one request. */
interface Reply {
  status: number;
  type: string;
  body: string | Buffer;
  headers?: Record<string, string>;
}

const json = (value: unknown, status = 200): Reply => ({ status, type: 'application/json; charset=utf-8', body: JSON.stringify(value, jsonSafe) });
const text = (status: number, body: string): Reply => ({ status, type: 'text/plain; charset=utf-8', body });

/**
 * Sent with every reply: scripts only from this server (the page has no inline script), no
 * framing by other sites, no referrer (a URL may hold the token). Plotly adds inline styles.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** A file the page loads: where it is read from, its type, and how long a browser may keep it. */
interface StaticFile {
  path: string;
  type: string;
  cacheControl: string;
}

/** The page's files, by URL. Only these are served: no path from a request reaches the file system. */
function staticFiles(): Map<string, StaticFile> {
  const assets = join(__dirname, 'assets');
  const own = (name: string, type: string): StaticFile => ({ path: join(assets, name), type, cacheControl: 'no-store' });
  return new Map([
    ['/', own('index.html', 'text/html; charset=utf-8')],
    ['/assets/app.js', own('app.js', 'text/javascript; charset=utf-8')],
    ['/assets/app.css', own('app.css', 'text/css; charset=utf-8')],
    // 4.7 MB that change only with an npm update: kept a day, not fetched at every page load.
    ['/assets/plotly.min.js', { path: require.resolve('plotly.js-dist-min/plotly.min.js'), type: 'text/javascript; charset=utf-8', cacheControl: 'private, max-age=86400' }],
  ]);
}

/** A static file's bytes, gzipped once when first asked for so (plotly is 4.7 MB, 1.4 MB gzipped). */
function staticReply(file: StaticFile, gzipCache: Map<string, Buffer>, acceptsGzip: boolean): Reply {
  const headers: Record<string, string> = { 'cache-control': file.cacheControl, vary: 'accept-encoding' };
  if (!acceptsGzip) return { status: 200, type: file.type, body: readFileSync(file.path), headers };
  let body = gzipCache.get(file.path);
  if (!body) gzipCache.set(file.path, (body = gzipSync(readFileSync(file.path))));
  return { status: 200, type: file.type, body, headers: { ...headers, 'content-encoding': 'gzip' } };
}

/** A comma-separated query parameter as a list, empty items dropped. */
function listParam(url: URL, name: string): string[] {
  return (url.searchParams.get(name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** A numeric query parameter, or a ConfigError naming it. */
function numberParam(url: URL, name: string): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a number`);
  return value;
}

/** The page's first columns in their one spelling (`test_acc` as `metrics.test_accuracy`, a bare param as `params.KEY`), as its table names them; none for the default ones. */
function initialColumns(store: TrackerStore, columns: readonly string[] | undefined): string[] {
  return columns && columns.length > 0 ? parseColumns(store, columns, { unrecorded: 'accept' }).map((column) => column.name) : [];
}

/** The server's routes: a path pattern and what it answers. */
function routes(store: TrackerStore, options: UiServerOptions): [RegExp, (url: URL, match: RegExpExecArray) => Reply][] {
  return [
    [/^\/api\/config$/, () => json({ db: store.file, where: options.where ?? '', sort: options.sort ?? '', columns: initialColumns(store, options.columns), palette: RUN_PALETTE })],
    [
      /^\/api\/runs$/,
      (url) => json(runsTable(store, { where: url.searchParams.get('where') ?? undefined, sort: url.searchParams.get('sort') ?? undefined, columns: listParam(url, 'columns'), limit: options.limit })),
    ],
    [/^\/api\/runs\/([^/]+)$/, (_url, m) => json({ ...runPage(store, decodeURIComponent(m[1] as string)), ...runMisreads(store, decodeURIComponent(m[1] as string)) })],
    [
      /^\/api\/runs\/([^/]+)\/misreads\/(\d{1,6})$/,
      (_url, m) => {
        const image = misreadImage(store, decodeURIComponent(m[1] as string), Number(m[2]));
        return { status: 200, type: image.contentType, body: image.bytes, headers: { 'cache-control': 'private, max-age=60' } };
      },
    ],
    [
      /^\/api\/curves$/,
      (url) =>
        json(
          curvesFigure(store, {
            runIds: listParam(url, 'ids'),
            keys: listParam(url, 'keys'),
            x: url.searchParams.get('x') ?? undefined,
            smoothing: numberParam(url, 'smoothing'),
            y: url.searchParams.get('y') ?? undefined,
          }),
        ),
    ],
    [
      /^\/api\/params$/,
      (url) =>
        json(
          paramsFigure(store, {
            runIds: listParam(url, 'ids'),
            where: url.searchParams.get('where') ?? undefined,
            limit: options.limit,
            param: url.searchParams.get('param') ?? '',
            metric: url.searchParams.get('metric') ?? '',
          }),
        ),
    ],
  ];
}

/** The status of an error a route threw: bad input is the client's (400), an unknown run 404, the rest the server's. */
function errorReply(error: unknown): Reply {
  if (error instanceof URIError) return json({ error: `the address is not valid: ${error.message}` }, 400);
  if (error instanceof GlyphlabError) {
    const status = error.code === 'E_CONFIG' ? (/^(no run|run \S+ does not exist)/i.test(error.message) ? 404 : 400) : error.code === 'E_DATA' ? 422 : 500;
    return json({ error: error.message }, status);
  }
  return json({ error: errorMessage(error) }, 500);
}

/**
 * Whether `request` may be answered; otherwise replies and returns false. With a token: the
 * request carries it (cookie or `Authorization: Bearer`), or gives it once as `?token=`, which
 * sets the cookie and redirects to the same address without it. Without one (loopback only): the
 * Host header must name the loopback.
 */
function admit(request: IncomingMessage, response: ServerResponse, url: URL, token: string | undefined, port: number): boolean {
  const refuse = (status: number, message: string): false => {
    send(response, text(status, message), request.method === 'HEAD');
    return false;
  };
  if (token === undefined) {
    const host = hostHeaderName(request);
    if (host !== undefined && isLoopbackHost(host)) return true;
    return refuse(403, 'glyphlab ui answers only requests addressed to the loopback (127.0.0.1 or localhost); start it with --host and a token to reach it from elsewhere\n');
  }
  const cookie = tokenCookieName(port);
  const given = url.searchParams.get('token');
  if (given !== null) {
    if (!tokenMatches(given, token)) return refuse(403, 'wrong token: open the URL glyphlab ui printed when it started\n');
    url.searchParams.delete('token');
    response.writeHead(303, {
      ...SECURITY_HEADERS,
      location: `${url.pathname}${url.search}`,
      'set-cookie': `${cookie}=${token}; HttpOnly; SameSite=Strict; Path=/`,
      'cache-control': 'no-store',
    });
    response.end();
    return false;
  }
  if (tokenMatches(requestToken(request, cookie), token)) return true;
  return refuse(401, 'this glyphlab ui needs its token: open the URL it printed when it started (it ends in ?token=...)\n');
}

function send(response: ServerResponse, reply: Reply, headOnly: boolean): void {
  const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
  response.writeHead(reply.status, {
    ...SECURITY_HEADERS,
    'content-type': reply.type,
    'content-length': String(body.length),
    'cache-control': 'no-store',
    ...reply.headers,
  });
  response.end(headOnly ? undefined : body);
}

/** Listens on `host`:`port`; a busy port or an address not of this machine is a ConfigError saying what to do. */
function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      if (error.code === 'EADDRINUSE') reject(new ConfigError(`port ${port} on ${host} is in use (another glyphlab ui?): choose another with --port, or --port 0 for any free port`, { cause: error }));
      else if (error.code === 'EACCES') reject(new ConfigError(`port ${port} needs privileges to listen on: choose one above 1023 with --port`, { cause: error }));
      else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN' || error.code === 'EAI_NONAME') {
        reject(new ConfigError(`--host ${JSON.stringify(host)} is not an address of this machine (${error.code}): use 127.0.0.1 (the default), 0.0.0.0 for every interface, or one of this machine's addresses`, { cause: error }));
      } else reject(error);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Checks the options that need no store or socket: the port's range, the token and whether the host needs one. */
function checkServerOptions(host: string, port: number, token: string | undefined): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`port ${port} is not valid: expected a whole number from 0 (any free port) to 65535`);
  if (host.trim() === '') throw new ConfigError('host "" is not valid: expected an address such as 127.0.0.1 (the default) or 0.0.0.0');
  if (token !== undefined) checkToken(token, 'the token');
  else if (!isLoopbackHost(host)) {
    throw new ConfigError(`host ${host} is not the loopback, so the UI needs a token: anyone who reaches ${host} could read the store otherwise (glyphlab ui makes one when none is given)`);
  }
}

/**
 * Starts the UI server over the store `options.db`, read-only, and resolves once it listens.
 * Off the loopback it refuses to start without a token.
 *
 * @example
 * const ui = await startUiServer({ db: 'experiments/glyphlab.db', port: 0 });
 * console.log(ui.url); ... await ui.close();
 */
export async function startUiServer(options: UiServerOptions = {}): Promise<UiServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? DEFAULT_UI_PORT;
  const token = options.token;
  checkServerOptions(host, port, token);
  const store = openStore(options.db ?? databasePath(), { readonly: true, onWarning: options.onWarning });
  const warn = options.onWarning ?? ((message: string) => void process.stderr.write(`glyphlab ui: warning: ${message}\n`));
  let watch: StoreWatch | undefined;
  const hub = new EventHub({
    onFirst: () => {
      watch = watchStore(store, {
        pollMs: options.pollMs,
        onChange: (change) => hub.broadcast('change', change),
        onError: (error) => warn(`could not read the store for live updates: ${errorMessage(error)}`),
      });
    },
    onLast: () => watch?.stop(),
  });
  const files = staticFiles();
  const gzipCache = new Map<string, Buffer>();
  const table = routes(store, options);
  let boundPort = port;
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://ui.invalid');
    if (!admit(request, response, url, token, boundPort)) return;
    const headOnly = request.method === 'HEAD';
    if (request.method !== 'GET' && !headOnly) {
      send(response, { ...text(405, 'glyphlab ui only reads: GET and HEAD\n'), headers: { allow: 'GET, HEAD' } }, false);
      return;
    }
    if (url.pathname === '/api/events') {
      hub.add(response);
      return;
    }
    const file = files.get(url.pathname);
    if (file) {
      send(response, staticReply(file, gzipCache, /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))), headOnly);
      return;
    }
    for (const [pattern, answer] of table) {
      const match = pattern.exec(url.pathname);
      if (!match) continue;
      let reply: Reply;
      try {
        reply = answer(url, match);
      } catch (error) {
        reply = errorReply(error);
      }
      send(response, reply, headOnly);
      return;
    }
    send(response, text(404, `no page ${url.pathname} here\n`), headOnly);
  });
  let address: AddressInfo;
  try {
    address = await listen(server, host, port);
  } catch (error) {
    closeStore(store);
    throw error;
  }
  boundPort = address.port;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${urlHost}:${address.port}/`,
    host: address.address,
    port: address.port,
    db: store.file,
    close: async () => {
      watch?.stop();
      hub.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      closeStore(store);
    },
  };
}
