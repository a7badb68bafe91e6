/**
 * `glyphlab store copy FROM TO`: moves a whole experiment store between a SQLite file and a
 * PostgreSQL database (either way) with its run folders, verified by row counts and checksums and
 * by the SHA-256 of every recorded file. Thin: parses, calls
 * `copyStore` (tracker/copy.ts), prints what was copied.
 */
import { ConfigError } from '../errors';
import { type CopiedFiles, copyStore } from '../tracker/copy';
import { redactUrl } from '../util/store-target';
import { type CommandGroup, flagOption, jsonOption, stringOption } from './command';

export const storeGroup: CommandGroup = {
  name: 'store',
  summary: 'the experiment store itself: copy it between a SQLite file and a PostgreSQL database',
  commands: [
    {
      name: 'copy',
      summary: 'copy every experiment, run, param, metric point, tag and artifact record of FROM into the new, empty store TO, and verify the copy',
      args: 'FROM TO',
      options: {
        json: jsonOption('what was copied, table by table, and the run files'),
        'from-files': { type: 'string', valueName: 'DIR', description: "the folder holding FROM's runs/ (default: beside a SQLite FROM; GLYPHLAB_EXPERIMENTS_DIR for PostgreSQL)" },
        'to-files': { type: 'string', valueName: 'DIR', description: "the folder TO's runs/ go in (default: beside a SQLite TO; GLYPHLAB_EXPERIMENTS_DIR for PostgreSQL)" },
        'no-files': { type: 'boolean', description: 'copy only the records, not the run folders' },
      },
      details:
        'FROM and TO are each a SQLite file or a postgres://USER@HOST:PORT/DB URL (password from PGPASSWORD or ~/.pgpass). FROM is only read; ' +
        'TO is created (or migrated) and must hold no runs. Everything is written in one transaction, then every table is compared on both sides ' +
        'by row count and checksum. Then each run\'s folder runs/ID/ (checkpoints, model, reports) is copied from FROM\'s folder to TO\'s, ' +
        'and every file the store recorded a SHA-256 for is checked on both sides: a missing or changed file is named and fails the copy (before anything is written, ' +
        'when it is FROM\'s). A store\'s folder is the SQLite file\'s, or for PostgreSQL the experiments folder (GLYPHLAB_EXPERIMENTS_DIR), which a team shares; ' +
        'when FROM\'s and TO\'s are one folder, the files are only checked.',
      async run(args, ctx) {
        const [from, to, ...rest] = args.positionals;
        if (from === undefined || to === undefined || rest.length > 0) {
          throw new ConfigError(`store copy takes two stores, FROM and TO (a SQLite file or a postgres:// URL each); got ${args.positionals.length}: ${JSON.stringify(args.positionals.map(redactUrl))}`);
        }
        const withFiles = !flagOption(args, 'no-files');
        if (!withFiles && (stringOption(args, 'from-files') !== undefined || stringOption(args, 'to-files') !== undefined)) {
          throw new ConfigError('--no-files copies no run files, so --from-files and --to-files have nothing to name: give one or the other');
        }
        const copy = copyStore(from, to, withFiles ? { files: { from: stringOption(args, 'from-files'), to: stringOption(args, 'to-files') } } : {});
        if (flagOption(args, 'json')) return ctx.printJson(copy);
        const counts = copy.tables.map((t) => `${t.rows} ${t.table}`).join(', ');
        ctx.print(`copied ${copy.from} to ${copy.to}: ${counts}; every table's row count and checksum match`);
        if (copy.files) ctx.print(describeFiles(copy.files));
      },
    },
  ],
};

/** One line on the run files a copy moved and checked. */
function describeFiles(files: CopiedFiles): string {
  const moved =
    files.runFolders === 0
      ? `run files already in ${files.to} (FROM's and TO's folder)`
      : `${files.runFolders} run folder${files.runFolders === 1 ? '' : 's'} (${files.files} files, ${(files.bytes / 1e6).toFixed(1)} MB) from ${files.from} to ${files.to}`;
  const unchecked = [files.unhashed > 0 ? `${files.unhashed} recorded without a hash` : '', files.outside > 0 ? `${files.outside} outside the store's folder, left where they are` : ''].filter(Boolean);
  return `${moved}; ${files.verified} artifact${files.verified === 1 ? '' : 's'} match the SHA-256 recorded${unchecked.length ? ` (${unchecked.join(', ')})` : ''}`;
}
