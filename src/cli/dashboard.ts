/**
 * `glyphlab dashboard`: the run comparison of notebook 04 as one self-contained HTML file that
 * opens offline. Thin: parses options, calls `src/dashboard`, prints where the file went.
 */
import { resolve } from 'node:path';
import { ConfigError } from '../errors';
import { buildComparison } from '../dashboard/compare';
import { renderDashboardHtml } from '../dashboard/html';
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

export const dashboardGroup: CommandGroup = {
  name: 'dashboard',
  summary: 'compare recorded runs in one self-contained HTML report (opens offline)',
  commands: [
    {
      name: '',
      summary: 'write the comparison of the chosen runs (table, loss per step, curves per epoch, params against the result, accuracy per length, confusions, misread images, best run) as HTML',
      options: {
        out: { type: 'string', short: 'o', valueName: 'FILE', description: 'the HTML file to write (required), e.g. report.html' },
        db: DB_OPTION,
        experiment: experimentOption(),
        where: WHERE_OPTION,
        ids: { type: 'string', valueName: 'ID,ID', description: 'only these runs, comma-separated, in this order' },
        limit: limitOption('at most N runs, newest first (default 30)'),
        title: { type: 'string', valueName: 'TEXT', description: 'page title' },
        json: jsonOption('the comparison too'),
      },
      details:
        'Per-length accuracy, confusions and misread images come from each run\'s "eval-report" artifact (written by training after the test evaluation); ' +
        'misread images are inlined (12 a run, at most 1 MiB each), so the file opens anywhere. Params are drawn against the result when the runs differ in them.',
      async run(args, ctx) {
        const out = stringOption(args, 'out');
        if (out === undefined || out.trim() === '') throw new ConfigError('missing --out FILE: where to write the HTML report, e.g. --out report.html');
        const ids = stringOption(args, 'ids')
          ?.split(',')
          .map((id) => id.trim())
          .filter((id) => id !== '');
        const dbFile = stringOption(args, 'db') ?? databasePath();
        // A report written over the store it reads would end every later command (issue #37).
        const outputGuard = { inputs: [{ path: dbFile, what: 'the experiment store being read' }] };
        checkOutputPath('out', resolve(out), outputGuard);
        const store = openStore(dbFile, { readonly: true });
        try {
          const comparison = buildComparison(store, {
            experiment: stringOption(args, 'experiment'),
            where: stringOption(args, 'where'),
            ids,
            limit: numberOption(args, 'limit', { min: 1, integer: true }),
          });
          const path = writeOutputFile('out', resolve(out), renderDashboardHtml(comparison, { title: stringOption(args, 'title') }), outputGuard);
          for (const warning of comparison.warnings) ctx.warn(`glyphlab dashboard: warning: ${warning}`);
          if (flagOption(args, 'json')) return ctx.printJson(comparison);
          const best = comparison.best ? `; best ${comparison.best.label} (${comparison.best.metric} ${percent(comparison.best.value)})` : '';
          ctx.print(comparison.runs.length === 0 ? `no runs match; wrote an empty report to ${path}` : `wrote ${path}: ${comparison.runs.length} runs${best}`);
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
