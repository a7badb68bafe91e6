/**
 * `glyphlab runs`: list, show, compare, tag, note, delete and export the runs recorded in the
 * experiment store. Thin: parses options, calls `src/tracker`, prints.
 */
import { ConfigError } from '../errors';
import { databasePath } from '../util/paths';
import { bestRun, compareRuns, exportRuns, getMetricHistory, getRun, listRuns, rowsToCsv, runsToRows } from '../tracker/query';
import { formatStepSchedule, scheduleFromHistory } from '../training/schedule';
import type { MetricSummary } from '../tracker/query';
import { type TrackerStore, closeStore, openStore } from '../tracker/store';
import { STOP_REASON_PARAM, deleteRun, noteRun, tagRun } from '../tracker/record';
import { WhereSyntaxError, parseOrderBy } from '../tracker/where';
import {
  checkOutputPath,
  type CliContext,
  type CommandGroup,
  DB_OPTION,
  experimentOption,
  flagOption,
  jsonOption,
  limitOption,
  numberOption,
  type OptionSpec,
  type ParsedArgs,
  sortOption,
  stringOption,
  WHERE_OPTION,
  writeOutputFile,
} from './command';
import { renderComparison } from './compare-table';
import { describeInit } from '../runs/init-from';
import { isEquationRunSpec } from '../runs/spec/index';
import { formatSeconds } from './progress';
import { columnText, formatMetric, formatParam, isElidable } from './run-columns';
import { COLUMN_ALIASES, RUN_FIELD_COLUMNS, defaultColumns, parseColumns } from '../tracker/columns';
import { outputWidth, printable, printableJson, textForStream, textTable } from './table';

/** main.ts's exit code for bad usage; not imported from there, since main imports the groups. */
const EXIT_USAGE = 2;

const rawOption: OptionSpec = {
  type: 'boolean',
  description: "CSV: keep text cells starting with = + - @ (or full-width ＝ ＋ － ＠, |, tab, CR) as recorded (default: a leading ' so that spreadsheets show them, not run them as formulas)",
};

/** How many of the usual metrics (test_acc, val_acc, val_cer, val_loss, loss) the default table shows, of those some run has. */
const DEFAULT_METRIC_COUNT = 3;

const COLUMNS_HELP = `Columns (--columns, the same names as glyphlab ui --columns): run fields ${RUN_FIELD_COLUMNS.join(', ')};
  params.KEY; metrics.KEY (last value) or metrics.KEY.best; a bare recorded key (a metric first, else a param);
  aliases ${Object.entries(COLUMN_ALIASES).map(([alias, target]) => `${alias} (${target})`).join(', ')}.
  Accuracies and error rates print as percentages, durations as 42s, 2m05s, 1h03m, other numbers to 4 significant
  digits. The table fits the terminal (120 columns when the output is no terminal), eliding long text in the
  middle; --wide shows it whole. --json and --csv print every field.`;

const WHERE_HELP = `Filter expressions (--where):
  comparisons  params.KEY, metrics.KEY (last value), metrics.KEY.best, status, name, id, experiment,
               started_at, ended_at, host, backend, source, note, git_commit, threads
               with = != < <= > >= , FIELD in (v1, v2), FIELD not in (...), tags contains "TAG"
  values       "string" 'string' 1.5 -3e-4 true false null; dates as "2026-11-01"
  combine      and, or, not, parentheses (and binds tighter than or)
  keys         a params.KEY or metrics.KEY that no run in the store has recorded is an error naming it and
               what it may have meant (exit 2), not an empty listing; one that some runs have is fine
  example      --where 'params.model = "vgg19-crnn" and metrics.val_accuracy > 0.99 or not tags contains "bad"'
Sort (--sort): --sort=-val_accuracy or --sort val_accuracy:desc (descending), metrics.loss.best, params.lr, started_at; comma-separated.`;

/**
 * Runs `fn` on the store of `--db`: opened read-only for the commands that only read (nothing is
 * created, migrated or written, so a read-only copy, or a SQLite file that is no store, is safe).
 */
function withStore<T>(args: ParsedArgs, access: 'read' | 'write', fn: (store: TrackerStore) => T): T {
  const store = openStore(stringOption(args, 'db') ?? databasePath(), { readonly: access === 'read' });
  try {
    return fn(store);
  } finally {
    closeStore(store);
  }
}

function needArgs(args: ParsedArgs, count: number, usage: string): string[] {
  if (args.positionals.length < count) throw new ConfigError(`missing arguments: usage \`glyphlab runs ${usage}\``);
  return args.positionals;
}

/** Prints a --where syntax error in full (expression and caret) and exits with the usage code. */
async function reportingWhere(ctx: CliContext, fn: () => Promise<number | void> | number | void): Promise<number | void> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof WhereSyntaxError) {
      ctx.warn(`glyphlab runs: ${error.message}`);
      return EXIT_USAGE;
    }
    throw error;
  }
}

/** `--wide`: the whole of every value, whatever the width. */
const wideOption: OptionSpec = { type: 'boolean', description: 'show every value whole, however wide the table gets (default: fit the terminal, or 120 columns when the output is no terminal, eliding long values)' };

/** The columns a table should fit in: none with --wide, else the terminal's width (120 off a terminal). */
function tableWidth(args: ParsedArgs, ctx: CliContext): number | undefined {
  return flagOption(args, 'wide') ? undefined : outputWidth(ctx.stdout);
}

const REF_HELP =
  'A run is named by its id, a unique prefix of it, its last part (the c262b8 of 20261206-083449-c262b8, as the dashboard shows it) or a unique prefix of its name.';

export const runsGroup: CommandGroup = {
  name: 'runs',
  summary: 'list, compare, tag and export the runs recorded in the experiment store',
  commands: [
    {
      name: 'ls',
      summary: 'list runs, filtered and sorted',
      options: {
        db: DB_OPTION,
        experiment: experimentOption(),
        where: WHERE_OPTION,
        sort: sortOption('newest first'),
        limit: limitOption('show at most N runs'),
        columns: { type: 'string', valueName: 'A,B,...', description: 'the columns of the table, e.g. id,name,test_acc,duration,params.training.learningRate (default: id, name, status, started, duration, the sort key, test_acc, val_acc, val_cer, tags)' },
        wide: wideOption,
        json: jsonOption(),
        csv: { type: 'boolean', description: 'print CSV' },
        raw: rawOption,
      },
      details: `${COLUMNS_HELP}\n${WHERE_HELP}`,
      run: (args, ctx) =>
        reportingWhere(ctx, () =>
          withStore(args, 'read', (store) => {
            const sort = stringOption(args, 'sort');
            const columnsSpec = stringOption(args, 'columns');
            // Checked before the listing, so that a misspelt column is an error even when no run matches.
            const chosen = columnsSpec === undefined ? undefined : parseColumns(store, columnsSpec);
            const runs = listRuns(store, {
              experiment: stringOption(args, 'experiment'),
              where: stringOption(args, 'where'),
              orderBy: sort,
              limit: numberOption(args, 'limit', { min: 0, integer: true }),
            });
            if (flagOption(args, 'json')) return ctx.printJson(runs);
            if (flagOption(args, 'csv')) return void ctx.stdout.write(textForStream(ctx.stdout, rowsToCsv(runsToRows(runs), { raw: flagOption(args, 'raw') })));
            if (runs.length === 0) return ctx.print(printable(`no runs in ${store.file}${stringOption(args, 'where') ? ' match the filter' : ''}`));
            const columns = chosen ?? defaultColumns(store, runs, { orderBy: sort === undefined ? [] : parseOrderBy(sort), metricCount: DEFAULT_METRIC_COUNT });
            const width = tableWidth(args, ctx);
            const elidable = columns.flatMap((column, i) => (isElidable(column) ? [i] : []));
            ctx.print(textTable(columns.map((c) => c.header), runs.map((run) => columns.map((c) => columnText(c, run))), width === undefined ? {} : { width, elidable }));
          }),
        ),
    },
    {
      name: 'show',
      summary: 'show one run: params, metric summaries, tags, artifacts, why it stopped',
      args: 'RUN',
      options: { db: DB_OPTION, json: jsonOption() },
      details: REF_HELP,
      async run(args, ctx) {
        const [ref] = needArgs(args, 1, 'show RUN');
        withStore(args, 'read', (store) => {
          const run = getRun(store, ref!);
          if (flagOption(args, 'json')) return ctx.printJson(run);
          // Names, notes, tags, errors and params come from whoever recorded the run: shown, never obeyed.
          const say = (line: string): void => ctx.print(printable(line));
          const stopReason = run.params[STOP_REASON_PARAM];
          const stopped = typeof stopReason === 'string' ? stopReason : undefined;
          // An interrupt's or a divergence's error is the stop reason's own words: said once.
          const error = run.error && !stopped?.includes(run.error) ? ` (${run.error})` : '';
          say(`run ${run.id}  ${run.name ?? ''}`.trimEnd());
          say(`  experiment  ${run.experiment}`);
          say(`  status      ${run.status}${error}`);
          if (stopped) say(`  stopped     ${stopped}`);
          say(`  started     ${run.startedAt}   ended ${run.endedAt ?? '-'}   ${formatSeconds(run.durationS)}`);
          say(`  process     pid ${run.pid ?? '?'} on ${run.host ?? '?'}; backend ${run.backend ?? '?'}${run.threads ? ` x${run.threads}` : ''}`);
          say(`  git         ${run.gitCommit ?? '-'}${run.gitDirty ? ' (dirty)' : ''}`);
          say(`  source      ${run.source ?? '-'}`);
          if (run.dataFingerprint) say(`  data        ${run.dataFingerprint}`);
          if (run.tags.length) say(`  tags        ${run.tags.join(', ')}`);
          if (run.note) say(`  note        ${run.note}`);
          const from = describeInit(isEquationRunSpec(run.config) ? run.config.init : undefined);
          if (from) say(`  from        ${from}`);
          say('params:');
          for (const [key, value] of Object.entries(run.params).sort(([a], [b]) => a.localeCompare(b))) say(`  ${key} = ${formatParam(value)}`);
          say('metrics:');
          const rows = Object.entries(run.metrics).map(([key, m]: [string, MetricSummary]) => [`  ${key}`, formatMetric(key, m.last), formatMetric(key, m.best), String(m.bestStep ?? '-'), m.mode, String(m.count)]);
          ctx.print(textTable(['  key', 'last', 'best', 'best step', 'mode', 'points'], rows));
          if (run.artifacts.length) {
            say('artifacts:');
            for (const a of run.artifacts) say(`  ${a.kind}  ${a.path}${a.bytes !== null ? `  ${a.bytes} bytes` : ''}${a.sha256 ? `  sha256 ${a.sha256.slice(0, 12)}` : ''}`);
          }
        });
      },
    },
    {
      name: 'compare',
      summary: 'compare runs: params that differ and a metric table, fitted to the terminal',
      args: 'RUN RUN...',
      options: { db: DB_OPTION, wide: wideOption, json: jsonOption('the whole comparison') },
      details: `${REF_HELP}\nRuns are headed by the last part of their id. A value too long for its column is elided in the middle (two values that differ, such as two data folders or two filter lists, usually share a beginning and differ towards the end); JSON params are shown key by key; too many runs for the width are shown a block at a time. --wide shows every value whole; --json prints everything.`,
      async run(args, ctx) {
        const refs = needArgs(args, 2, 'compare RUN RUN...');
        withStore(args, 'read', (store) => {
          const comparison = compareRuns(store, refs);
          if (flagOption(args, 'json')) return ctx.printJson(comparison);
          for (const line of renderComparison(comparison, { width: tableWidth(args, ctx) })) ctx.print(line);
        });
      },
    },
    {
      name: 'best',
      summary: 'the run with the best value of a metric',
      options: {
        db: DB_OPTION,
        metric: { type: 'string', valueName: 'KEY', description: 'metric key, e.g. val_accuracy (required)' },
        mode: { type: 'string', valueName: 'max|min', description: 'which way is better (default: as recorded with the metric)' },
        experiment: experimentOption(),
        where: WHERE_OPTION,
        json: jsonOption(),
      },
      run: (args, ctx) =>
        reportingWhere(ctx, () =>
          withStore(args, 'read', (store) => {
            const metric = stringOption(args, 'metric');
            if (!metric) throw new ConfigError('--metric is required, e.g. --metric val_accuracy');
            const mode = stringOption(args, 'mode');
            if (mode !== undefined && mode !== 'max' && mode !== 'min') throw new ConfigError(`--mode ${JSON.stringify(mode)} is not valid: use max or min`);
            const run = bestRun(store, { metric, mode, experiment: stringOption(args, 'experiment'), where: stringOption(args, 'where') });
            if (!run) throw new ConfigError(`no run has metric ${JSON.stringify(metric)}${stringOption(args, 'where') ? ' and matches the filter' : ''}`);
            if (flagOption(args, 'json')) return ctx.printJson(run);
            const m = run.metrics[metric];
            ctx.print(printable(`${run.id}  ${run.name ?? ''}  ${metric} best ${formatMetric(metric, m?.best)} at step ${m?.bestStep ?? '-'} (last ${formatMetric(metric, m?.last)})`));
          }),
        ),
    },
    {
      name: 'schedule',
      summary: "the --lr-schedule that replays a run's learning rates up to its best epoch (for train --final)",
      args: 'RUN',
      options: {
        db: DB_OPTION,
        epochs: { type: 'string', valueName: 'N', description: 'replay the first N epochs (default: up to the best epoch of --metric)' },
        metric: { type: 'string', valueName: 'KEY', description: 'the metric whose best epoch ends the replay (default val_accuracy)' },
        json: jsonOption(),
      },
      async run(args, ctx) {
        const [ref] = needArgs(args, 1, 'schedule RUN');
        withStore(args, 'read', (store) => {
          const run = getRun(store, ref!);
          const rates = getMetricHistory(store, run.id, ['lr']).filter((p) => p.epoch !== null).sort((a, b) => a.epoch! - b.epoch!);
          if (rates.length === 0) throw new ConfigError(`run ${run.id} recorded no per-epoch learning rate (metric "lr"); it was not trained by glyphlab's training loop`);
          const metric = stringOption(args, 'metric') ?? 'val_accuracy';
          let epochs = numberOption(args, 'epochs', { min: 1, integer: true });
          let why = `the first ${epochs} epochs`;
          if (epochs === undefined) {
            const best = run.metrics[metric];
            if (best?.bestStep === null || best?.bestStep === undefined) {
              throw new ConfigError(`run ${run.id} has no metric ${JSON.stringify(metric)} to choose the epochs by; give --epochs N or --metric KEY (it has ${Object.keys(run.metrics).join(', ')})`);
            }
            epochs = best.bestStep + 1;
            why = `epochs 1-${epochs}, up to the best ${metric} (${formatMetric(metric, best.best)})`;
          }
          const schedule = scheduleFromHistory(rates.map((p) => p.value), epochs);
          const text = formatStepSchedule(schedule);
          if (flagOption(args, 'json')) return ctx.printJson({ runId: run.id, epochs: schedule.epochs, schedule: text, steps: schedule.steps });
          ctx.warn(`run ${run.id}: ${why} of ${rates.length} recorded`);
          ctx.print(text);
        });
      },
    },
    {
      name: 'tag',
      summary: 'add a tag to a run',
      args: 'RUN TAG',
      options: { db: DB_OPTION },
      details: REF_HELP,
      async run(args, ctx) {
        const [ref, tag] = needArgs(args, 2, 'tag RUN TAG');
        const runId = withStore(args, 'write', (store) => tagRun(store, ref!, tag!));
        ctx.print(`tagged ${runId} ${tag}`);
      },
    },
    {
      name: 'note',
      summary: "set a run's note",
      args: 'RUN TEXT',
      options: { db: DB_OPTION },
      details: REF_HELP,
      async run(args, ctx) {
        const [ref, ...words] = needArgs(args, 2, 'note RUN TEXT');
        const runId = withStore(args, 'write', (store) => noteRun(store, ref!, words.join(' ')));
        ctx.print(`noted ${runId}`);
      },
    },
    {
      name: 'delete',
      summary: 'delete a run and everything recorded for it (files on disk stay); a running run is refused',
      args: 'RUN',
      options: {
        db: DB_OPTION,
        force: { type: 'boolean', description: 'delete a run still shown as running whose heartbeat is stale and whose process cannot be told from a later one with its pid (recorded by an older glyphlab, or no /proc); never one with a fresh heartbeat, nor one whose process is alive, even stopped' },
      },
      details: `${REF_HELP} Deleting by a short name prints the whole id deleted.`,
      async run(args, ctx) {
        const [ref] = needArgs(args, 1, 'delete RUN');
        const runId = withStore(args, 'write', (store) => deleteRun(store, ref!, { force: flagOption(args, 'force') }));
        ctx.print(`deleted ${runId}`);
      },
    },
    {
      name: 'export',
      summary: 'export runs as CSV or JSON',
      options: {
        db: DB_OPTION,
        format: { type: 'string', valueName: 'csv|json', description: 'output format (default json)' },
        out: { type: 'string', valueName: 'FILE', description: 'write to FILE instead of stdout' },
        experiment: experimentOption(),
        where: WHERE_OPTION,
        sort: sortOption('newest first'),
        history: { type: 'boolean', description: 'JSON only: include every metric point' },
        raw: rawOption,
      },
      run: (args, ctx) =>
        reportingWhere(ctx, () => {
          const out = stringOption(args, 'out');
          // An export written over the store it reads would end every later command (issue #37).
          const outputGuard = { inputs: [{ path: stringOption(args, 'db') ?? databasePath(), what: 'the experiment store being read' }] };
          if (out) checkOutputPath('out', out, outputGuard);
          return withStore(args, 'read', (store) => {
            const format = stringOption(args, 'format') ?? 'json';
            if (format !== 'csv' && format !== 'json') throw new ConfigError(`--format ${JSON.stringify(format)} is not valid: use csv or json`);
            const exported = exportRuns(store, {
              format,
              experiment: stringOption(args, 'experiment'),
              where: stringOption(args, 'where'),
              orderBy: stringOption(args, 'sort'),
              history: flagOption(args, 'history'),
              raw: flagOption(args, 'raw'),
            });
            // JSON: bidi and C1 controls as \u escapes, the same values. CSV: exact, but escaped on a terminal.
            const text = format === 'json' ? printableJson(exported) : exported;
            if (out) {
              writeOutputFile('out', out, text, outputGuard);
              ctx.print(`wrote ${out}`);
            } else ctx.stdout.write(textForStream(ctx.stdout, text));
          });
        }),
    },
  ],
};
