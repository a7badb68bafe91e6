/**
 * `glyphlab ui`: serves the experiment store as a web page (src/ui) until Ctrl-C. Thin: parses
 * options, makes the token where one is needed, starts the server, prints where it is, waits.
 */
import { hostname } from 'node:os';
import { ConfigError } from '../errors';
import { DEFAULT_UI_PORT, startUiServer } from '../ui/server';
import { generateToken, isLoopbackHost } from '../ui/access';
import { normalizeColumn } from '../tracker/columns';
import { parseOrderBy, parseWhere } from '../tracker/where';
import { databasePath } from '../util/paths';
import { redactUrl } from '../util/store-target';
import { type CommandGroup, DB_OPTION, limitOption, numberOption, sortOption, stringOption, WHERE_OPTION } from './command';

/** The environment variable that gives the token, kept out of the process list that `--token` shows in. */
const TOKEN_VARIABLE = 'GLYPHLAB_UI_TOKEN';

/** Addresses that listen on every interface: the URL printed names this machine instead. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

/** Resolves when this process gets SIGINT or SIGTERM (the CLI is the process's edge: it owns the signals). */
function untilStopped(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export const uiGroup: CommandGroup = {
  name: 'ui',
  summary: 'browse the experiment store in a local web page that updates while runs train',
  commands: [
    {
      name: '',
      summary: `serve the runs, their curves and misread images at http://127.0.0.1:${DEFAULT_UI_PORT}/ (read-only) until Ctrl-C`,
      options: {
        db: DB_OPTION,
        host: { type: 'string', valueName: 'ADDR', description: 'address to listen on (default 127.0.0.1: this machine only); any other needs a token, made and printed when not given' },
        port: { type: 'string', valueName: 'N', description: `port (default ${DEFAULT_UI_PORT}; 0 takes any free port)` },
        token: { type: 'string', valueName: 'TOKEN', description: `the token every request must carry, 16+ letters and digits (default: ${TOKEN_VARIABLE}; off the loopback one is made)` },
        where: WHERE_OPTION,
        sort: sortOption('newest first'),
        columns: { type: 'string', valueName: 'A,B', description: 'table columns, e.g. status,val_accuracy,metrics.loss.best,params.model (default: status, start, duration, model, the usual metrics)' },
        limit: limitOption('at most N runs in the table (default 1000)'),
        poll: { type: 'string', valueName: 'MS', description: 'how often the store is checked for changes while a page is open (default 1000)' },
      },
      details: [
        'The page lists the runs (choose columns, filter with the --where language, sort by a header or --sort), overlays the',
        'curves of the runs you tick (per step or per epoch, against steps, epochs or minutes, smoothed, log or linear y),',
        'plots a param against a metric, and shows a run\'s params, metrics, stop reason and misread test images. It updates',
        'by itself while runs train. The store is opened read-only; nothing needs the network.',
        `Off the loopback (--host 0.0.0.0) every request needs the token: open the printed URL once (it ends in ?token=...;`,
        `the browser keeps the token in a cookie), or send "Authorization: Bearer TOKEN". Prefer ${TOKEN_VARIABLE} to --token,`,
        'which other users of the machine can read in the process list.',
      ].join('\n'),
      async run(args, ctx) {
        const host = stringOption(args, 'host') ?? '127.0.0.1';
        const port = numberOption(args, 'port', { min: 0, max: 65535, integer: true }) ?? DEFAULT_UI_PORT;
        const where = stringOption(args, 'where');
        const sort = stringOption(args, 'sort');
        // Checked now, so that a typo fails here with its caret rather than in the page.
        if (where !== undefined && where.trim() !== '') parseWhere(where);
        if (sort !== undefined) parseOrderBy(sort);
        const columns = stringOption(args, 'columns')
          ?.split(',')
          .filter((column) => column.trim() !== '')
          .map(normalizeColumn);
        const given = stringOption(args, 'token') ?? process.env[TOKEN_VARIABLE];
        if (given !== undefined && given === '') throw new ConfigError(`--token (or ${TOKEN_VARIABLE}) is empty: give a token, or leave it out`);
        const token = given ?? (isLoopbackHost(host) ? undefined : generateToken());
        const ui = await startUiServer({
          db: stringOption(args, 'db') ?? databasePath(),
          host,
          port,
          token,
          where,
          sort,
          columns,
          limit: numberOption(args, 'limit', { min: 1, integer: true }),
          pollMs: numberOption(args, 'poll', { min: 50, max: 600_000, integer: true }),
          onWarning: (message) => ctx.warn(`glyphlab ui: warning: ${message}`),
        });
        const stopped = untilStopped();
        const base = WILDCARD_HOSTS.has(host) ? `http://${hostname()}:${ui.port}/` : ui.url;
        ctx.print(`glyphlab ui: reading ${redactUrl(ui.db)} (read-only)`);
        if (token === undefined) ctx.print(`open ${base}`);
        else if (given === undefined) ctx.print(`open ${base}?token=${token}`);
        else ctx.print(`open ${base}?token=... (the token of --token or ${TOKEN_VARIABLE})`);
        if (WILDCARD_HOSTS.has(host)) ctx.print(`listening on every interface of this machine (${host}); from here: http://127.0.0.1:${ui.port}/`);
        ctx.print('Ctrl-C stops it.');
        const signal = await stopped;
        await ui.close();
        ctx.warn(`glyphlab ui: stopped (${signal})`);
      },
    },
  ],
};
