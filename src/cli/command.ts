/**
 * The shape every CLI command group follows. A group file (`src/cli/<group>.ts`) exports one
 * {@link CommandGroup}; `main.ts` lists the groups, parses arguments and handles errors, so a
 * command only turns parsed arguments into calls of the library and prints the result.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, GlyphlabError, errorMessage } from '../errors';
import { type OutputConflictOptions, outputConflict, writeFileAtomic } from '../util/output-file';

/** Option declarations as `util.parseArgs` takes them, plus a description for `--help`. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** One line for `--help`, e.g. `'number of images (default 1000)'`. */
  description: string;
  /** Placeholder shown in `--help` for string options, e.g. `'DIR'`. */
  valueName?: string;
}

/** What a command receives besides its arguments. */
export interface CliContext {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** `--verbose` was given: print stack traces and extra detail. */
  verbose: boolean;
  /** Writes a line to stdout, control characters and bidirectional controls shown as visible escapes (`printable` in table.ts). */
  print(line?: string): void;
  /** Writes a line to stderr, escaped as {@link CliContext.print} escapes. */
  warn(line: string): void;
  /** Writes a value as pretty JSON to stdout; bidirectional and C1 controls inside strings are written as `\uXXXX` escapes (the same value). */
  printJson(value: unknown): void;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

export interface Command {
  /** Sub-command name inside its group, or `''` for the group's default command. */
  name: string;
  /** One line for the group's help. */
  summary: string;
  /** Positional arguments as shown in usage, e.g. `'NOTEBOOK'` or `'[ID...]'`. */
  args?: string;
  options?: Record<string, OptionSpec>;
  /** Longer help printed after the options. */
  details?: string;
  run(args: ParsedArgs, ctx: CliContext): Promise<number | void>;
}

export interface CommandGroup {
  name: string;
  summary: string;
  commands: Command[];
}

/** Options every command accepts. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  help: { type: 'boolean', short: 'h', description: 'show this help' },
  verbose: { type: 'boolean', short: 'v', description: 'print stack traces and extra detail' },
};

/**
 * A string option always takes the next argument as its value, even one starting with `-`
 * (`--sort -val_accuracy`, `--offset -3`), which `util.parseArgs` would otherwise refuse.
 */
function attachStringValues(argv: string[], options: Record<string, OptionSpec>): string[] {
  const stringOptions = new Set<string>();
  for (const [name, spec] of Object.entries(options)) {
    if (spec.type !== 'string') continue;
    stringOptions.add(`--${name}`);
    if (spec.short) stringOptions.add(`-${spec.short}`);
  }
  const result: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      result.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    if (stringOptions.has(arg) && next !== undefined && next.startsWith('-') && next !== '--') {
      result.push(arg.startsWith('--') ? `${arg}=${next}` : `${arg}${next}`);
      i++;
    } else {
      result.push(arg);
    }
  }
  return result;
}

/** Parses `argv` for `command`; unknown or malformed options become a one-line ConfigError. */
export function parseCommandArgs(command: Command, argv: string[], commandLabel: string): ParsedArgs {
  const options = { ...GLOBAL_OPTIONS, ...command.options };
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, spec] of Object.entries(options)) {
    config[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}) };
  }
  try {
    const parsed = parseArgs({ args: attachStringValues(argv, options), options: config, allowPositionals: true, strict: true });
    return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error);
    throw new ConfigError(`${message.replace(/\. To specify a positional.*$/, '')} (see \`${commandLabel} --help\`)`);
  }
}

/** Help text of one command. */
export function formatCommandHelp(command: Command, commandLabel: string): string {
  const options = { ...command.options, ...GLOBAL_OPTIONS };
  const lines = [`Usage: ${commandLabel}${command.args ? ` ${command.args}` : ''} [options]`, '', command.summary, '', 'Options:'];
  const rendered = Object.entries(options).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : ''}`;
    return [flag, spec.description] as const;
  });
  const width = Math.max(...rendered.map(([flag]) => flag.length));
  for (const [flag, description] of rendered) lines.push(`  ${flag.padEnd(width)}  ${description}`);
  if (command.details) lines.push('', command.details.trim());
  return lines.join('\n');
}

/** Reads a string option; `undefined` when absent. */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  if (Array.isArray(value)) return value.length ? String(value[value.length - 1]) : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** Reads a repeatable string option as a list. */
export function stringListOption(args: ParsedArgs, name: string): string[] {
  const value = args.values[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** Reads a boolean flag. */
export function flagOption(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

/**
 * Reads a numeric option, checking it is a finite number within bounds; the error names the
 * option, the value and what is accepted.
 */
export function numberOption(
  args: ParsedArgs,
  name: string,
  bounds: { min?: number; max?: number; integer?: boolean } = {},
): number | undefined {
  const raw = stringOption(args, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  const kind = bounds.integer ? 'an integer' : 'a number';
  const range =
    bounds.min !== undefined && bounds.max !== undefined
      ? ` from ${bounds.min} to ${bounds.max}`
      : bounds.min !== undefined
        ? ` >= ${bounds.min}`
        : bounds.max !== undefined
          ? ` <= ${bounds.max}`
          : '';
  const ok =
    raw.trim() !== '' &&
    Number.isFinite(value) &&
    (!bounds.integer || Number.isInteger(value)) &&
    (bounds.min === undefined || value >= bounds.min) &&
    (bounds.max === undefined || value <= bounds.max);
  if (!ok) throw new ConfigError(`--${name} ${JSON.stringify(raw)} is not valid: expected ${kind}${range}`);
  return value;
}

/** Reads an option that must be given; its absence is a ConfigError with an example. */
export function requireOption(args: ParsedArgs, name: string, example: string): string {
  const value = stringOption(args, name);
  if (value === undefined) throw new ConfigError(`missing --${name}: e.g. ${example}`);
  return value;
}

/** Reads an option whose value is one of `allowed`; any other value is a ConfigError listing them. */
export function choiceOption<T extends string>(args: ParsedArgs, name: string, allowed: readonly T[]): T | undefined {
  const value = stringOption(args, name);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new ConfigError(`--${name} ${JSON.stringify(value)} is not one of: ${allowed.join(', ')}`);
  return value as T;
}

/** A comma-separated list of positive integers, e.g. `--filters 16,32,64`. */
export function integerListOption(args: ParsedArgs, name: string): number[] | undefined {
  return stringOption(args, name)?.split(',').map((f) => {
    const n = Number(f);
    if (!Number.isInteger(n) || n < 1) throw new ConfigError(`--${name} ${JSON.stringify(f)} is not valid: expected positive integers separated by commas, e.g. 16,32,64`);
    return n;
  });
}

/** `--json`: print what the command produced (`what`, e.g. 'the report') as JSON. */
export function jsonOption(what = 'the result'): OptionSpec {
  return { type: 'boolean', description: `print ${what} as JSON` };
}

/** `--experiment NAME`, described for the command. */
export function experimentOption(description = 'only runs of this experiment'): OptionSpec {
  return { type: 'string', valueName: 'NAME', description };
}

/** `--where EXPR`: the store's filter language (see `glyphlab runs ls --help`). */
export const WHERE_OPTION: OptionSpec = { type: 'string', valueName: 'EXPR', description: 'filter, e.g. \'params.model = "crnn" and metrics.val_accuracy > 0.99\' (see `glyphlab runs ls --help`)' };

/** `--sort KEYS`, with the command's default order. */
export function sortOption(defaultOrder: string): OptionSpec {
  return { type: 'string', valueName: 'KEYS', description: `sort keys, e.g. --sort=-val_accuracy or val_accuracy:desc (default: ${defaultOrder})` };
}

/** `--seed S`, described for the command. */
export function seedOption(description = 'seed (default 0)'): OptionSpec {
  return { type: 'string', valueName: 'S', description };
}

/** `--limit N`, described for the command. */
export function limitOption(description: string): OptionSpec {
  return { type: 'string', valueName: 'N', description };
}

/**
 * `--run RUN` (or `--resume RUN`): a run named by its id or a short form, as every command that
 * takes a run accepts it (`resolveRunRef` in tracker/run-ref.ts).
 */
export function runOption(description: string): OptionSpec {
  return { type: 'string', valueName: 'RUN', description: `${description}; its id, a unique prefix of it, its last part (c262b8 of 20261206-083449-c262b8) or a unique prefix of its name` };
}

/** `--db FILE|URL`, which every command that reads or records runs takes. */
export const DB_OPTION: OptionSpec = {
  type: 'string',
  valueName: 'FILE|URL',
  description: 'experiment store: a SQLite file, or postgres://USER@HOST:PORT/DB (password from PGPASSWORD or ~/.pgpass) (default: GLYPHLAB_DB, else experiments/glyphlab.db)',
};

/** `--decoder`, for the commands that read equation images. */
export const DECODER_OPTION: OptionSpec = {
  type: 'string',
  valueName: 'greedy|grammar',
  description: 'decoder: best path (the reference implementation\'s) or grammar-constrained beam search (default greedy)',
};

/**
 * Refuses `path` as the file of option `--option` when writing it would destroy something: one
 * of the command's inputs, a SQLite database (the experiment store above all), a folder. Call it
 * before the work, so that a mistyped `--out` costs nothing; {@link writeOutputFile} calls it again.
 *
 * @example
 * checkOutputPath('out', out, { inputs: [{ path: db, what: 'the experiment store being read' }] });
 */
export function checkOutputPath(option: string, path: string, options: OutputConflictOptions = {}): void {
  const conflict = outputConflict(path, options);
  if (conflict) throw new ConfigError(`--${option} ${path} ${conflict}: refusing to write over it; choose another file`);
  let isFolder = false;
  try {
    isFolder = statSync(path).isDirectory();
  } catch {
    // Absent: it will be created.
  }
  if (isFolder) throw new ConfigError(`--${option} ${path} is a folder: give the name of a file to write`);
}

/**
 * Writes a command's output file given by `--option`: checked by {@link checkOutputPath}, its
 * folder created, then written whole or not at all (`writeFileAtomic`), so a full disk leaves
 * the earlier file, or none, never an empty or truncated one. Returns `path`.
 */
export function writeOutputFile(option: string, path: string, data: string | Uint8Array, options: OutputConflictOptions = {}): string {
  checkOutputPath(option, path, options);
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileAtomic(path, data);
  } catch (error) {
    throw new GlyphlabError(`could not write --${option} ${path}: ${errorMessage(error)} (nothing was written there; an earlier file is unchanged)`, { cause: error });
  }
  return path;
}
