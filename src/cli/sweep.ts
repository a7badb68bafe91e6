/**
 * `glyphlab sweep create|status|ls|best` and `glyphlab worker`: a search space over train
 * options, recorded with its trials in the store, and workers that train them as ordinary runs
 * (src/sweeps/). On a SQLite store the workers run on this machine; on a PostgreSQL store
 * (`--db postgres://...`) on any machine that reaches it.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors';
import { EQUATION_MODELS, type EquationModelName } from '../runs/models';
import { EQUATION_FIELDS, EQUATION_RECIPE_NAMES } from '../runs/spec/index';
import { createSweep, type FieldValue, listSweeps, readSweep, runWorker, type SweepTrial, type SweepView, SWEEP_DEFAULTS } from '../sweeps/index';
import { closeStore, openStore } from '../tracker/store';
import { databasePath } from '../util/paths';
import { redactSecret } from '../util/store-target';
import { announceBackend } from './backend';
import { choiceOption, type CliContext, type CommandGroup, DB_OPTION, jsonOption, numberOption, type OptionSpec, type ParsedArgs, requireOption, stringOption } from './command';
import { interruptible } from './interrupt';
import { ProgressCallback } from './progress';
import { textTable } from './table';

/** The train fields a sweep may fix (its trials' budget is `--trial-minutes`). */
const FIXED_FIELDS = EQUATION_FIELDS.filter((field) => field.flag !== 'minutes');

/** A flag per fixed field, as `glyphlab train` has them. */
const FIXED_FIELD_OPTIONS: Record<string, OptionSpec> = Object.fromEntries(
  FIXED_FIELDS.map((field) => [
    field.flag,
    field.kind === 'boolean'
      ? { type: 'boolean', description: `every trial: ${field.help}` }
      : { type: 'string', valueName: field.kind === 'choice' ? field.choices?.join('|') : field.valueName, description: `every trial: ${field.help}` },
  ]),
);

/** The fixed field values given on the command line, as JSON values (checked by the sweep against the field table). */
function fixedFields(args: ParsedArgs): Record<string, FieldValue> {
  const values: Record<string, FieldValue> = {};
  for (const field of FIXED_FIELDS) {
    const raw = args.values[field.flag];
    if (raw === undefined || raw === false) continue;
    if (field.kind === 'boolean') values[field.flag] = true;
    else {
      const text = stringOption(args, field.flag)!;
      values[field.flag] = field.kind === 'number' || field.kind === 'integer' ? Number(text) : field.kind === 'integer-list' ? text.split(',').map(Number) : text;
    }
  }
  return values;
}

/** The space file's JSON; a missing or malformed file is a ConfigError naming it. */
function readSpaceFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the search space ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`search space ${path} is not JSON: ${(error as Error).message}`, { cause: error });
  }
}

/** A param value in a table cell: numbers to four significant digits. */
function valueText(value: FieldValue): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
  return Array.isArray(value) ? value.join(',') : String(value);
}

function paramsText(params: Record<string, FieldValue>): string {
  return Object.entries(params)
    .map(([name, value]) => `${name}=${valueText(value)}`)
    .join(' ');
}

function accuracyText(value: number | null): string {
  return value === null ? '-' : `${(value * 100).toFixed(2)}%`;
}

/** Opens the store `--db` names to read, runs `read`, closes it. */
function readingStore<T>(args: ParsedArgs, read: (store: ReturnType<typeof openStore>) => T): T {
  const store = openStore(stringOption(args, 'db') ?? databasePath(), { readonly: true });
  try {
    return read(store);
  } finally {
    closeStore(store);
  }
}

/** The sweep the first positional names, read from `--db`. */
function readNamedSweep(args: ParsedArgs, command: string): SweepView {
  const name = args.positionals[0];
  if (name === undefined) throw new ConfigError(`give the sweep: glyphlab sweep ${command} NAME (see \`glyphlab sweep ls\`)`);
  return readingStore(args, (store) => readSweep(store, name));
}

/** A trial as `--json` prints it. */
function trialJson(trial: SweepTrial): Record<string, unknown> {
  return { trial: trial.trial, state: trial.state, attempts: trial.attempts, failures: trial.failures, params: trial.params, runId: trial.runId, valAccuracy: trial.valAccuracy, error: trial.error, attemptRuns: trial.attemptRuns };
}

/** The lines of `sweep status`. */
function printStatus(ctx: CliContext, view: SweepView): void {
  const { counts } = view;
  ctx.print(`sweep ${view.name}: ${view.trials} trials of ${view.trialMinutes} min, retries ${view.retries}, queue ${view.queue}`);
  ctx.print(`pending ${counts.pending}, running ${counts.running}, finished ${counts.finished}, failed ${counts.failed}${view.done ? ' (done)' : ''}`);
  ctx.print(view.best ? `best so far: trial ${view.best.trial}, val_accuracy ${accuracyText(view.best.valAccuracy)}, run ${view.best.runId} (${paramsText(view.best.params)})` : 'best so far: none finished yet');
  ctx.print('');
  const rows = view.trialList.map((trial) => [
    String(trial.trial),
    trial.state,
    String(trial.attempts),
    accuracyText(trial.valAccuracy),
    trial.attemptRuns.map((a) => `${a.runId ?? '?'}${a.outcome && a.outcome !== 'finished' ? ` (${a.outcome})` : ''}`).join(', ') || '-',
    paramsText(trial.params),
  ]);
  ctx.print(textTable(['trial', 'state', 'attempts', 'val_acc', 'runs', 'params'], rows));
  const failed = view.trialList.filter((t) => t.state === 'failed' && t.error);
  for (const trial of failed) ctx.print(`trial ${trial.trial} failed: ${trial.error}`);
}

export const sweepGroup: CommandGroup = {
  name: 'sweep',
  summary: 'search spaces over train options: create a sweep, see its trials and the best',
  commands: [
    {
      name: 'create',
      summary: 'record a sweep and its trials (grid points or seeded random draws); `glyphlab worker` trains them',
      options: {
        name: { type: 'string', valueName: 'NAME', description: 'sweep name: letters, digits, _ . - (required)' },
        space: { type: 'string', valueName: 'SPACE.json', description: 'search space: {"grid": {"lr": [0.001, 0.003]}} or {"lr": {"loguniform": [1e-4, 1e-2]}, "rnn": {"choice": ["gru", "lstm"]}, "rnn-units": {"int": [8, 64]}, "dropout": {"uniform": [0, 0.3]}} (required)' },
        trials: { type: 'string', valueName: 'K', description: "trials of a random space (required there); a grid runs each point once" },
        'trial-minutes': { type: 'string', valueName: 'M', description: `each trial's time budget in minutes (default ${SWEEP_DEFAULTS.trialMinutes})` },
        retries: { type: 'string', valueName: 'R', description: `tries again a trial whose run failed or whose worker died, at most R times (default ${SWEEP_DEFAULTS.retries})` },
        'sweep-seed': { type: 'string', valueName: 'N', description: `seed of the random draws (default ${SWEEP_DEFAULTS.seed})` },
        data: { type: 'string', valueName: 'DIR|SPEC', description: 'every trial: a data folder (labels.csv + images), or synth[:PRESET|SPEC.json] (required; every worker must see the folder at this path)' },
        recipe: { type: 'string', valueName: EQUATION_RECIPE_NAMES.join('|'), description: 'every trial: the recipe the options start from (default as glyphlab train)' },
        model: { type: 'string', valueName: EQUATION_MODELS.join('|'), description: "every trial: the model (default the recipe's)" },
        limit: { type: 'string', valueName: 'N', description: 'every trial: at most N training images (and N/8 for val and test)' },
        experiment: { type: 'string', valueName: 'NAME', description: 'experiment of the trials\' runs (default equations)' },
        ...FIXED_FIELD_OPTIONS,
        db: DB_OPTION,
        json: jsonOption('the sweep'),
      },
      details:
        'Every option of a search space, and every fixed one, is a train option (`glyphlab train --help`), named by its flag.\n' +
        'A random space draws each trial from the sweep seed: the same seed draws the same trials. Each trial trains an ordinary\n' +
        'run tagged sweep:NAME, named NAME/TRIAL, with the param sweep.trial. On a PostgreSQL store (--db postgres://...) the\n' +
        'trials are pg-boss jobs that workers on any machine take.',
      async run(args, ctx) {
        const name = requireOption(args, 'name', '--name lr-search');
        const space = readSpaceFile(requireOption(args, 'space', '--space space.json'));
        const sweep = await createSweep({
          db: stringOption(args, 'db') ?? databasePath(),
          name,
          space,
          trials: numberOption(args, 'trials', { min: 1, integer: true }),
          trialMinutes: numberOption(args, 'trial-minutes', { min: 0.001 }),
          retries: numberOption(args, 'retries', { min: 0, max: 100, integer: true }),
          seed: numberOption(args, 'sweep-seed', { min: 0, integer: true }),
          train: {
            data: requireOption(args, 'data', '--data data/equations'),
            recipe: choiceOption(args, 'recipe', EQUATION_RECIPE_NAMES),
            model: choiceOption<EquationModelName>(args, 'model', EQUATION_MODELS),
            limit: numberOption(args, 'limit', { min: 1, integer: true }),
            experiment: stringOption(args, 'experiment'),
            fields: fixedFields(args),
          },
        });
        if (args.values['json']) return void ctx.printJson(sweep);
        ctx.print(`sweep ${sweep.name}: ${sweep.trials} trials of ${sweep.trialMinutes} min, retries ${sweep.retries} (queue ${sweep.queue})`);
        ctx.print(`train them: glyphlab worker --sweep ${sweep.name}${args.values['db'] ? ' --db ...' : ''} (as many as you like, on this machine${sweep.queue === 'pg-boss' ? ' or any that reaches the database' : ''})`);
      },
    },
    {
      name: 'status',
      summary: "a sweep's trials by state, their attempts, runs and validation accuracy, and the best so far",
      args: 'NAME',
      options: { db: DB_OPTION, json: jsonOption('the sweep and its trials') },
      async run(args, ctx) {
        const view = readNamedSweep(args, 'status');
        if (args.values['json']) return void ctx.printJson({ ...view, trialList: view.trialList.map(trialJson), best: view.best ? trialJson(view.best) : null });
        printStatus(ctx, view);
      },
    },
    {
      name: 'ls',
      summary: 'every sweep of the store with its trials by state and its best validation accuracy',
      options: { db: DB_OPTION, json: jsonOption('the sweeps') },
      async run(args, ctx) {
        const views = readingStore(args, (store) => listSweeps(store).map((sweep) => readSweep(store, sweep.name)));
        if (args.values['json']) return void ctx.printJson(views.map((v) => ({ name: v.name, trials: v.trials, counts: v.counts, done: v.done, best: v.best ? trialJson(v.best) : null, queue: v.queue, createdAt: v.createdAt })));
        if (views.length === 0) return void ctx.print('no sweeps yet; create one with `glyphlab sweep create`');
        const rows = views.map((v) => [v.name, String(v.trials), String(v.counts.pending), String(v.counts.running), String(v.counts.finished), String(v.counts.failed), accuracyText(v.best?.valAccuracy ?? null), v.queue, new Date(v.createdAt).toISOString().slice(0, 16).replace('T', ' ')]);
        ctx.print(textTable(['sweep', 'trials', 'pending', 'running', 'finished', 'failed', 'best val_acc', 'queue', 'created'], rows));
      },
    },
    {
      name: 'best',
      summary: "the best finished trial of a sweep: its params, run and validation accuracy",
      args: 'NAME',
      options: { db: DB_OPTION, json: jsonOption('the best trial') },
      async run(args, ctx) {
        const view = readNamedSweep(args, 'best');
        const name = view.name;
        if (args.values['json']) return void ctx.printJson(view.best ? trialJson(view.best) : null);
        const best = view.best;
        if (!best) {
          ctx.print(`sweep ${name}: no trial finished yet (${view.counts.pending} pending, ${view.counts.running} running, ${view.counts.failed} failed)`);
          return 1;
        }
        ctx.print(`sweep ${name}: best trial ${best.trial}, val_accuracy ${accuracyText(best.valAccuracy)}, run ${best.runId}`);
        ctx.print(textTable(['param', 'value'], Object.entries(best.params).map(([param, value]) => [param, valueText(value)])));
      },
    },
  ],
};

export const workerGroup: CommandGroup = {
  name: 'worker',
  summary: "train a sweep's trials, one after another, until every trial is done",
  commands: [
    {
      name: '',
      summary: "take a sweep's trials one after another, train each as a recorded run, and exit when every trial is finished or failed",
      options: {
        sweep: { type: 'string', valueName: 'NAME', description: 'the sweep (default every sweep not done yet, oldest first)' },
        db: DB_OPTION,
        json: jsonOption('what this worker did'),
      },
      details:
        'Start as many workers as the machine has room for; on a PostgreSQL store, on any machine that reaches it. A worker\n' +
        'that dies (killed, power lost) loses its trial, which another worker tries again (at most --retries times); its run\n' +
        'reads as crashed. Ctrl-C stops the trial under way (recorded as interrupted) and gives it back to the sweep.',
      async run(args, ctx) {
        await announceBackend(ctx);
        const db = stringOption(args, 'db') ?? databasePath();
        const summary = await interruptible(ctx, (signal, begun) =>
          runWorker({
            db,
            sweep: stringOption(args, 'sweep'),
            signal,
            callbacks: [new ProgressCallback((line) => ctx.stderr.write(`${line}\n`)), begun],
            log: (line) => ctx.warn(line),
            // The runs record the command that trained them, never a password in its --db URL.
            source: redactSecret(`glyphlab ${process.argv.slice(2).join(' ')}`, db),
          }),
        );
        if (args.values['json']) ctx.printJson(summary);
        else ctx.print(`worker: ${summary.finished.length} trials finished here, ${summary.failed.length} attempts failed, ${summary.duplicates.length} duplicate runs${summary.ended === 'stopped' ? '; stopped' : '; the sweep is done'}`);
        return summary.ended === 'stopped' ? 130 : 0;
      },
    },
  ],
};
