/**
 * `glyphlab readers`: trained equation readers kept by name in `data/readers/` (runs/readers.ts):
 * export a run's best weights as one, list them, show one. `glyphlab predict --model NAME` reads
 * with a reader, `glyphlab train --init-from reader:NAME` starts from one.
 */
import { resolve } from 'node:path';
import { ConfigError } from '../errors';
import { describeReaderScores, exportReader, listReaders, readerDir, readersDir, readReaderInfo, type ReaderInfo } from '../runs/readers';
import { closeStore, openStore } from '../tracker/store';
import { databasePath } from '../util/paths';
import { announceBackend } from './backend';
import { type CliContext, type CommandGroup, DB_OPTION, flagOption, jsonOption, stringOption } from './command';
import { printable } from './table';

/** A reader's description, a line each. */
function printReader(ctx: CliContext, dir: string, info: ReaderInfo): void {
  const say = (line: string): void => ctx.print(printable(line));
  say(`reader ${info.name}  ${dir}`);
  say(`  model       ${info.model}, input ${info.input.height}x${info.input.width}x${info.input.channels}, alphabet ${info.alphabet}`);
  say(`  size        ${(info.modelBytes / 2 ** 20).toFixed(2)} MB`);
  say(`  run         ${info.run.id} (${info.run.experiment}${info.run.name ? `/${info.run.name}` : ''}), commit ${info.run.commit ?? '-'}${info.run.dirty ? ' (dirty)' : ''}`);
  say(`  command     ${info.run.command ?? '-'}`);
  say(`  figures     ${describeReaderScores(info)}`);
}

export const readersGroup: CommandGroup = {
  name: 'readers',
  summary: 'trained readers kept by name in data/readers/: export a run as one, list, show',
  commands: [
    {
      name: 'export',
      summary: "write a run's best weights as a reader (data/readers/NAME: model files and reader.json)",
      args: 'RUN NAME',
      options: {
        out: { type: 'string', valueName: 'DIR', description: 'write the reader into DIR instead of data/readers/NAME' },
        'no-held-out': { type: 'boolean', description: "do not score the held-out styles found beside the run's data (DATA/held-out/*)" },
        db: DB_OPTION,
        json: jsonOption('the reader.json written'),
      },
      details: "The folder holds the model (copied byte for byte from the run's final model, else its best checkpoint), a manifest of\nevery file's size and SHA-256, and reader.json: alphabet, input size, the run, its commit and command, its data spec, its\nrecorded test figures and the held-out styles scored now. An existing folder of that name is replaced whole.",
      async run(args, ctx) {
        const [runRef, name] = args.positionals;
        if (runRef === undefined || name === undefined) throw new ConfigError('missing arguments: usage `glyphlab readers export RUN NAME`');
        const out = stringOption(args, 'out');
        const dir = out === undefined ? readerDir(name) : resolve(out);
        await announceBackend(ctx);
        const store = openStore(stringOption(args, 'db') ?? databasePath(), { readonly: true });
        let info: ReaderInfo;
        try {
          info = await exportReader(store, runRef, dir, { scoreHeldOut: !flagOption(args, 'no-held-out'), log: (message) => void ctx.stderr.write(`${message}\n`) });
        } finally {
          closeStore(store);
        }
        if (flagOption(args, 'json')) return ctx.printJson(info);
        printReader(ctx, dir, info);
      },
    },
    {
      name: 'ls',
      summary: 'list the readers of data/readers/',
      options: { json: jsonOption('[reader.json, ...]') },
      async run(args, ctx) {
        const infos = listReaders().map((name) => readReaderInfo(readerDir(name)));
        if (flagOption(args, 'json')) return ctx.printJson(infos);
        if (infos.length === 0) return ctx.print(`no readers in ${readersDir()} (make one with glyphlab readers export RUN NAME)`);
        for (const info of infos) ctx.print(printable(`${info.name}  ${info.model} ${info.input.height}x${info.input.width}  run ${info.run.id}  ${describeReaderScores(info)}`));
      },
    },
    {
      name: 'show',
      summary: 'show one reader: what it reads, the run that made it, its figures',
      args: 'NAME',
      options: { json: jsonOption('its reader.json') },
      async run(args, ctx) {
        const [name] = args.positionals;
        if (name === undefined) throw new ConfigError('missing argument: usage `glyphlab readers show NAME`');
        const dir = readerDir(name);
        const info = readReaderInfo(dir);
        if (flagOption(args, 'json')) return ctx.printJson(info);
        printReader(ctx, dir, info);
      },
    },
  ],
};
