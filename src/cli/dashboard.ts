/**
 * `glyphlab dashboard`: the run comparison of notebook 04 as one self-contained HTML file that
 * opens offline; `--transfer [TAG]` the arms of a transfer comparison, `--sweep NAME` one sweep.
 * Thin: parses options, calls `src/dashboard`, prints where the file went.
 */
import { resolve } from 'node:path';
import { ConfigError } from '../errors';
import { buildComparison, type Comparison } from '../dashboard/compare';
import { type DashboardHtmlOptions, renderDashboardHtml } from '../dashboard/html';
import { latestTransferTag, TRANSFER_TAG_PREFIX } from '../dashboard/lineage';
import { buildSweepDashboard } from '../dashboard/sweep';
import { renderSweepDashboardHtml } from '../dashboard/sweep-html';
import type { TrackerStore } from '../tracker/store';
import { closeStore, openStore } from '../tracker/store';
import { WhereSyntaxError } from '../tracker/where';
import { databasePath } from '../util/paths';
import {
  checkOutputPath,
  type CommandGroup,
  DB_OPTION,
  experimentOption,
  flagOption,
  jsonOption,
  limitOption,
  numberOption,
  stringOption,
  WHERE_OPTION,
  writeOutputFile,
} from './command';
import { percent } from '../util/format';

/** main.ts's exit code for bad usage; not imported from there, since main imports the groups. */
const EXIT_USAGE = 2;

/** What a transfer tag may hold: it goes into a `--where` expression, quoted. */
const TRANSFER_TAG_PATTERN = /^transfer:[\w.:-]+$/;

/**
 * The transfer comparison `--transfer [TAG]` names: TAG (with or without its `transfer:`
 * prefix), else the store's latest; a ConfigError when there is none.
 */
function transferTagOf(store: TrackerStore, given: string | undefined): string {
  if (given === undefined) {
    const latest = latestTransferTag(store);
    if (!latest) throw new ConfigError(`no transfer comparison in ${store.file}: record one with \`npm run bench:transfer\`, or compare any runs without --transfer`);
    return latest;
  }
  const tag = given.startsWith(TRANSFER_TAG_PREFIX) ? given : `${TRANSFER_TAG_PREFIX}${given}`;
  if (!TRANSFER_TAG_PATTERN.test(tag)) throw new ConfigError(`transfer tag ${JSON.stringify(given)} is not valid: expected transfer:ID such as transfer:20261206-164341 (letters, digits, '-', '_', '.', ':')`);
  return tag;
}

/** The one-line summary of a written comparison. */
function comparisonSummary(comparison: Comparison, path: string, what: string): string {
  if (comparison.runs.length === 0) return `no runs match; wrote an empty report to ${path}`;
  const best = comparison.best ? `; best ${comparison.best.label} (${comparison.best.metric} ${percent(comparison.best.value)})` : '';
  return `wrote ${path}: ${what}${comparison.runs.length} runs${best}`;
}

export const dashboardGroup: CommandGroup = {
  name: 'dashboard',
  summary: 'compare recorded runs in one self-contained HTML report (opens offline)',
  commands: [
    {
      name: '',
      summary: 'write the comparison of the chosen runs (table, loss per step, curves per epoch, params against the result, accuracy per length, confusions, misread images, best run), a transfer comparison or a sweep as HTML',
      args: '[TAG]',
      options: {
        out: { type: 'string', short: 'o', valueName: 'FILE', description: 'the HTML file to write (required), e.g. report.html' },
        db: DB_OPTION,
        experiment: experimentOption(),
        where: WHERE_OPTION,
        ids: { type: 'string', valueName: 'ID,ID', description: 'only these runs, comma-separated, in this order' },
        limit: limitOption('at most N runs, newest first (default 30)'),
        transfer: { type: 'boolean', description: 'the arms of a bench:transfer comparison: `--transfer TAG` the one tagged TAG (transfer:ID), `--transfer` alone the latest; adds curves against wall-clock minutes and the lineage table' },
        sweep: { type: 'string', valueName: 'NAME', description: 'one sweep: its trials by state, each swept param against validation accuracy (best trial ringed), the finished trials\' learning curves' },
        title: { type: 'string', valueName: 'TEXT', description: 'page title' },
        json: jsonOption('the comparison too'),
      },
      details:
        'Per-length accuracy, confusions and misread images come from each run\'s "eval-report" artifact (written by training after the test evaluation); ' +
        'misread images are inlined (12 a run, at most 1 MiB each), so the file opens anywhere. Params are drawn against the result when the runs differ in them. ' +
        'When some of the runs are trials of sweeps the overview names the sweeps; --sweep NAME shows one (`glyphlab sweep ls` lists them). ' +
        '--transfer compares the arms of `npm run bench:transfer` as notebook 04 does by default.',
      async run(args, ctx) {
        const out = stringOption(args, 'out');
        if (out === undefined || out.trim() === '') throw new ConfigError('missing --out FILE: where to write the HTML report, e.g. --out report.html');
        const ids = stringOption(args, 'ids')
          ?.split(',')
          .map((id) => id.trim())
          .filter((id) => id !== '');
        const sweepName = stringOption(args, 'sweep');
        const transfer = flagOption(args, 'transfer');
        const [transferArg, ...extra] = args.positionals;
        if (transferArg !== undefined && !transfer) throw new ConfigError(`unexpected argument ${JSON.stringify(transferArg)}: only --transfer takes one, a transfer comparison's tag (e.g. --transfer transfer:20261206-164341)`);
        if (extra.length > 0) throw new ConfigError(`--transfer takes one tag, got ${args.positionals.length}: ${args.positionals.join(' ')}`);
        const selectors = ['experiment', 'where', 'ids'].filter((name) => stringOption(args, name) !== undefined);
        if (sweepName !== undefined && (transfer || selectors.length > 0)) {
          throw new ConfigError(`--sweep shows one sweep's trials: it takes no ${transfer ? '--transfer' : selectors.map((s) => `--${s}`).join(', ')}; compare the sweep's runs with --where 'tags contains "sweep:${sweepName}"'`);
        }
        if (transfer && selectors.length > 0) throw new ConfigError(`--transfer compares the runs of one transfer comparison by its tag: it takes no ${selectors.map((s) => `--${s}`).join(', ')}`);
        const dbFile = stringOption(args, 'db') ?? databasePath();
        // A report written over the store it reads would end every later command (issue #37).
        const outputGuard = { inputs: [{ path: dbFile, what: 'the experiment store being read' }] };
        checkOutputPath('out', resolve(out), outputGuard);
        const store = openStore(dbFile, { readonly: true });
        try {
          const title = stringOption(args, 'title');
          if (sweepName !== undefined) {
            const dashboard = buildSweepDashboard(store, sweepName);
            const path = writeOutputFile('out', resolve(out), renderSweepDashboardHtml(dashboard, { title }), outputGuard);
            if (flagOption(args, 'json')) return ctx.printJson(dashboard);
            const { sweep } = dashboard;
            const best = sweep.best ? `; best trial ${sweep.best.trial} (val_accuracy ${percent(sweep.best.valAccuracy)})` : '; no trial finished yet';
            ctx.print(`wrote ${path}: sweep ${sweep.name}, ${sweep.counts.finished} of ${sweep.trials} trials finished${best}`);
            return;
          }
          const transferTag = transfer ? transferTagOf(store, transferArg) : undefined;
          const comparison = buildComparison(store, {
            experiment: stringOption(args, 'experiment'),
            where: transferTag ? `tags contains "${transferTag}"` : stringOption(args, 'where'),
            ids,
            limit: numberOption(args, 'limit', { min: 1, integer: true }),
          });
          if (transferTag && comparison.runs.length === 0) {
            const latest = latestTransferTag(store);
            throw new ConfigError(`no run is tagged ${transferTag} in ${store.file}; ${latest ? `the latest transfer comparison is ${latest}` : 'record a comparison with `npm run bench:transfer`'}`);
          }
          const htmlOptions: DashboardHtmlOptions = transferTag ? { title: title ?? `glyphlab: transfer comparison ${transferTag}`, minutes: true, lineage: true } : { title };
          const path = writeOutputFile('out', resolve(out), renderDashboardHtml(comparison, htmlOptions), outputGuard);
          for (const warning of comparison.warnings) ctx.warn(`glyphlab dashboard: warning: ${warning}`);
          if (flagOption(args, 'json')) return ctx.printJson(comparison);
          ctx.print(comparisonSummary(comparison, path, transferTag ? `transfer comparison ${transferTag}, ` : ''));
          if (comparison.trialSweeps.length > 0) {
            ctx.print(`trials of sweeps among them: ${comparison.trialSweeps.map((s) => `${s.name} (${s.runs})`).join(', ')}; see one with --sweep NAME`);
          }
        } catch (error) {
          if (error instanceof WhereSyntaxError) {
            ctx.warn(`glyphlab dashboard: ${error.message}`);
            return EXIT_USAGE;
          }
          throw error;
        } finally {
          closeStore(store);
        }
      },
    },
  ],
};
