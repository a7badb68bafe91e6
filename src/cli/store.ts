/**
 * `glyphlab store copy FROM TO`: moves a whole experiment store between a SQLite file and a
 * PostgreSQL database (either way), verified by row counts and checksums. Thin: parses, calls
 * `copyStore` (tracker/copy.ts), prints what was copied.
 */
import { ConfigError } from '../errors';
import { copyStore } from '../tracker/copy';
import { redactUrl } from '../util/store-target';
import { type CommandGroup, flagOption, jsonOption } from './command';

export const storeGroup: CommandGroup = {
  name: 'store',
  summary: 'the experiment store itself: copy it between a SQLite file and a PostgreSQL database',
  commands: [
    {
      name: 'copy',
      summary: 'copy every experiment, run, param, metric point, tag and artifact record of FROM into the new, empty store TO, and verify the copy',
      args: 'FROM TO',
      options: {
        json: jsonOption('what was copied, table by table'),
      },
      details:
        'FROM and TO are each a SQLite file or a postgres://USER@HOST:PORT/DB URL (password from PGPASSWORD or ~/.pgpass). FROM is only read; ' +
        'TO is created (or migrated) and must hold no runs. Everything is written in one transaction, then every table is compared on both sides ' +
        'by row count and checksum. Run folders (checkpoints, reports) are not moved: copy them yourself where TO\'s runs are looked for.',
      async run(args, ctx) {
        const [from, to, ...rest] = args.positionals;
        if (from === undefined || to === undefined || rest.length > 0) {
          throw new ConfigError(`store copy takes two stores, FROM and TO (a SQLite file or a postgres:// URL each); got ${args.positionals.length}: ${JSON.stringify(args.positionals.map(redactUrl))}`);
        }
        const copy = copyStore(from, to);
        if (flagOption(args, 'json')) return ctx.printJson(copy);
        const counts = copy.tables.map((t) => `${t.rows} ${t.table}`).join(', ');
        ctx.print(`copied ${copy.from} to ${copy.to}: ${counts}; every table's row count and checksum match`);
      },
    },
  ],
};
