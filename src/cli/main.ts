/**
 * The `glyphlab` command: finds the command group and sub-command, parses options, runs it, and
 * turns errors into a one-line reason and a non-zero exit (a stack trace only with --verbose).
 */
import { GlyphlabError, errorMessage } from '../errors';
import { DEFAULT_MAX_IMAGE_PIXELS } from '../image/limits';
import { version } from '../version';
import { type CliContext, type Command, type CommandGroup, formatCommandHelp, parseCommandArgs } from './command';
import { COMMAND_GROUPS } from './groups';
import { printable, printableJson, printableLines } from './table';
import { jsonSafe } from '../util/json';

/** Exit codes: 0 success, 1 failure at run time, 2 bad usage or input. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

// What commands print quotes run names, notes, file names from labels files and errors about
// them: anyone's text. print, warn and printJson escape what would act on a terminal, so no
// command has to remember to (see table.ts).
function createContext(verbose: boolean, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): CliContext {
  return {
    stdout,
    stderr,
    verbose,
    print: (line = '') => void stdout.write(`${printableLines(line)}\n`),
    warn: (line) => void stderr.write(`${printableLines(line)}\n`),
    printJson: (value) => void stdout.write(`${printableJson(JSON.stringify(value, jsonSafe, 2))}\n`),
  };
}

function formatMainHelp(groups: readonly CommandGroup[]): string {
  const width = Math.max(...groups.map((g) => g.name.length));
  return [
    `glyphlab ${version} - image-based character recognition research in TypeScript`,
    '',
    'Usage: glyphlab <command> [sub-command] [options]',
    '',
    'Commands:',
    ...groups.map((g) => `  ${g.name.padEnd(width)}  ${g.summary}`),
    '',
    'Every command takes --help and --verbose. Environment: GLYPHLAB_BACKEND=tensorflow|wasm|cpu',
    'forces a compute backend; GLYPHLAB_DB moves the experiment database; GLYPHLAB_MAX_IMAGE_PIXELS',
    `raises the largest image read (default ${DEFAULT_MAX_IMAGE_PIXELS}, checked in each file's header before decoding).`,
  ].join('\n');
}

function formatGroupHelp(group: CommandGroup): string {
  const named = group.commands.filter((c) => c.name !== '');
  const width = Math.max(0, ...named.map((c) => c.name.length));
  return [
    `Usage: glyphlab ${group.name} <sub-command> [options]`,
    '',
    group.summary,
    '',
    'Sub-commands:',
    ...named.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    `Run \`glyphlab ${group.name} <sub-command> --help\` for its options.`,
  ].join('\n');
}

/** Resolves `argv` to a command, its label and its remaining arguments. */
function resolveCommand(
  groups: readonly CommandGroup[],
  argv: string[],
): { group: CommandGroup; command: Command | undefined; label: string; rest: string[] } | undefined {
  const group = groups.find((g) => g.name === argv[0]);
  if (!group) return undefined;
  const sub = argv[1];
  const named = sub !== undefined ? group.commands.find((c) => c.name !== '' && c.name === sub) : undefined;
  if (named) return { group, command: named, label: `glyphlab ${group.name} ${named.name}`, rest: argv.slice(2) };
  const fallback = group.commands.find((c) => c.name === '');
  return { group, command: fallback, label: `glyphlab ${group.name}`, rest: argv.slice(1) };
}

export interface RunCliOptions {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  groups?: readonly CommandGroup[];
}

/**
 * Runs the CLI on `argv` (without `node` and the script) and resolves to the exit code.
 *
 * @example
 * process.exitCode = await runCli(['backend', '--json']);
 */
export async function runCli(argv: string[], options: RunCliOptions = {}): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const groups = options.groups ?? COMMAND_GROUPS;
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  const ctx = createContext(verbose, stdout, stderr);

  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    ctx.print(formatMainHelp(groups));
    return argv.length === 0 ? EXIT_USAGE : EXIT_OK;
  }
  if (argv[0] === '--version') {
    ctx.print(version);
    return EXIT_OK;
  }
  const resolved = resolveCommand(groups, argv);
  if (!resolved) {
    stderr.write(`glyphlab: unknown command ${printable(JSON.stringify(argv[0]))}; commands: ${groups.map((g) => g.name).join(', ')} (see \`glyphlab --help\`)\n`);
    return EXIT_USAGE;
  }
  const { group, command, label, rest } = resolved;
  if (!command) {
    const wantsHelp = rest.includes('--help') || rest.includes('-h');
    if (wantsHelp || rest.length === 0) {
      (wantsHelp ? ctx.print : (line: string) => void stderr.write(`${line}\n`))(formatGroupHelp(group));
      return wantsHelp ? EXIT_OK : EXIT_USAGE;
    }
    const names = group.commands.map((c) => c.name).filter(Boolean);
    stderr.write(`glyphlab ${group.name}: unknown sub-command ${printable(JSON.stringify(rest[0]))}; use one of: ${names.join(', ')}\n`);
    return EXIT_USAGE;
  }
  try {
    const args = parseCommandArgs(command, rest, label);
    if (args.values['help'] === true) {
      ctx.print(formatCommandHelp(command, label));
      return EXIT_OK;
    }
    const code = await command.run(args, ctx);
    return code ?? EXIT_OK;
  } catch (error) {
    const isExpected = error instanceof GlyphlabError;
    // glyphlab's own errors are written to be read whole (a filter error carries a caret line);
    // anything else is reduced to its first line. Messages quote file names from labels files
    // and run names from the store: escaped, never obeyed by the terminal.
    const message = isExpected ? errorMessage(error) : errorMessage(error).split('\n')[0] ?? '';
    stderr.write(`${label}: ${printableLines(message)}\n`);
    if (verbose && error instanceof Error && error.stack) stderr.write(`${printableLines(error.stack)}\n`);
    else if (!isExpected) stderr.write('(run again with --verbose for the stack trace)\n');
    const code = isExpected && (error.code === 'E_CONFIG' || error.code === 'E_DATA') ? EXIT_USAGE : EXIT_FAILURE;
    return code;
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`glyphlab: ${printableLines(errorMessage(error))}\n`);
      process.exitCode = EXIT_FAILURE;
    },
  );
}
