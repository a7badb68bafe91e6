/** `glyphlab notebook`: run notebooks headless through the tslab kernel, without Python or Jupyter. */
import { ConfigError } from '../errors';
import { type NotebookParameterValue, parseParameterArg, runNotebook } from '../notebook/run';
import { type CommandGroup, flagOption, numberOption, stringListOption, stringOption } from './command';

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

export const notebookGroup: CommandGroup = {
  name: 'notebook',
  summary: 'run notebooks headless through the tslab kernel',
  commands: [
    {
      name: 'run',
      summary: 'execute a notebook top to bottom and write the executed copy (like papermill)',
      args: 'NOTEBOOK',
      options: {
        param: {
          type: 'string',
          short: 'p',
          multiple: true,
          valueName: 'KEY=VALUE',
          description: 'set a parameter of the cell tagged "parameters" (repeatable)',
        },
        out: { type: 'string', short: 'o', valueName: 'OUT.ipynb', description: 'executed copy (default: NAME.executed.ipynb next to it)' },
        timeout: { type: 'string', valueName: 'SECONDS', description: 'fail a cell that runs longer than this (default: no limit)' },
        json: { type: 'boolean', description: 'print a JSON summary on stdout' },
      },
      details: `Values are numbers, true/false/null or JSON when they parse as such, else strings:
  glyphlab notebook run notebooks/00-hello.ipynb --param steps=2 --out /tmp/hello.ipynb
The kernel starts in the notebook's folder, as in Jupyter. A failing cell stops the run with
exit code 1 and names the cell; the executed copy holds the outputs up to that cell.`,
      async run(args, ctx) {
        const [path, ...extra] = args.positionals;
        if (path === undefined) throw new ConfigError('missing NOTEBOOK: give the path of an .ipynb file (see `glyphlab notebook run --help`)');
        if (extra.length > 0) throw new ConfigError(`expected one NOTEBOOK, got also ${extra.map((e) => JSON.stringify(e)).join(', ')}`);
        const parameters: Record<string, NotebookParameterValue> = {};
        for (const arg of stringListOption(args, 'param')) {
          const [key, value] = parseParameterArg(arg);
          parameters[key] = value;
        }
        const timeoutSeconds = numberOption(args, 'timeout', { min: 0 });
        const json = flagOption(args, 'json');
        const log = (line: string) => void ctx.stderr.write(`${line}\n`);

        const result = await runNotebook(path, {
          parameters,
          out: stringOption(args, 'out'),
          cellTimeoutMs: timeoutSeconds !== undefined ? timeoutSeconds * 1000 : 0,
          onCell: (event) => {
            if (event.phase === 'start') {
              if (event.position === 1) log(`${path}: running ${event.total} code cells`);
              return;
            }
            const mark = event.status === 'ok' ? 'ok' : 'FAILED';
            log(`[${event.position}/${event.total}] cell ${event.cellIndex} ${mark} ${formatSeconds(event.durationMs ?? 0)}  ${event.firstLine}`);
          },
          onOutput: ctx.verbose
            ? (output) => {
                if (output.output_type === 'stream') ctx.stderr.write(output.text);
              }
            : undefined,
        });
        if (json) {
          ctx.printJson({
            notebook: result.path,
            out: result.outPath,
            parameters,
            injectedCellIndex: result.injectedCellIndex ?? null,
            durationMs: result.durationMs,
            cells: result.cells,
          });
        } else {
          ctx.print(`wrote ${result.outPath} (${result.cells.filter((c) => c.status === 'ok').length} cells ran in ${formatSeconds(result.durationMs)})`);
        }
      },
    },
  ],
};
