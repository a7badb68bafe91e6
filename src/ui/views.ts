/**
 * What the pages of `glyphlab ui` show, as plain JSON-able values read through the tracker's
 * query API: the table of runs (chosen columns, filtered by the `--where` language, sorted by
 * the `--sort` language) and one run's page.
 */
import { type CellValue, COLUMN_ALIASES, RUN_FIELD_COLUMNS, defaultColumns, parseColumns } from '../tracker/columns';
import { type RunDetail, type RunRecord, getRun, listRuns } from '../tracker/query';
import { STOP_REASON_PARAM } from '../tracker/record';
import type { TrackerStore } from '../tracker/store';
import { runLabel } from '../dashboard/run-lookup';
import { differingParams } from '../dashboard/params';

// A table cell: a number, text, a flag, or null where the run has no such value.
export type { CellValue } from '../tracker/columns';

/** Options of {@link runsTable}. */
export interface RunsTableOptions {
  /** A `--where` expression. Defaults to none (every run). */
  where?: string;
  /** A `--sort` spec, e.g. `-val_accuracy,started_at`. Defaults to newest first. */
  sort?: string;
  /** Columns in the language of `runs ls --columns` (tracker/columns.ts): run fields, aliases (`test_acc`, `started`), `metrics.KEY[.best]`, `params.KEY`, a bare key. A key no run recorded is shown empty, with a warning. Defaults to status, start, duration, the model and the usual metrics that some run has. */
  columns?: readonly string[];
  /** Most runs listed. Defaults to 1000. */
  limit?: number;
}

/** One row of the table. */
export interface RunsTableRow {
  id: string;
  /** The run as legends name it: its name (or model) and the id's last six characters. */
  label: string;
  name: string | null;
  status: string;
  /** Values of the table's columns, in its order. */
  cells: CellValue[];
}

/** The table of runs. */
export interface RunsTable {
  /** The columns shown, each as a sort key names it (`metrics.val_accuracy`, `params.model`, `status`). */
  columns: string[];
  rows: RunsTableRow[];
  /** Whether more runs match than `limit`. */
  truncated: boolean;
  /** Every metric key and param key of the runs listed, for choosing columns and charts. */
  metricKeys: string[];
  paramKeys: string[];
  /** The params the listed runs differ in, numeric first (`differingParams`): what a params chart is for. */
  differingParams: string[];
  /** The run fields a column may name, and the aliases with what each stands for: the page's column picker. */
  runFields: string[];
  aliases: Record<string, string>;
  /** Columns no listed run has a value for (a misspelt key, or one the filter left out), in words. */
  warnings: string[];
}

/**
 * The table of the runs matching `options.where`, sorted by `options.sort`, with the chosen
 * columns. A bad expression, sort key or column is a ConfigError (a `WhereSyntaxError` with a caret
 * under the bad token for the filter), whose message the page shows as it is.
 *
 * @example
 * runsTable(store, { where: 'params.model = "crnn"', sort: '-val_accuracy', columns: ['name', 'val_accuracy', 'params.lr'] });
 */
export function runsTable(store: TrackerStore, options: RunsTableOptions = {}): RunsTable {
  const limit = options.limit ?? 1000;
  const runs = listRuns(store, { where: options.where, orderBy: options.sort?.trim() ? options.sort : undefined, limit: limit + 1 });
  const truncated = runs.length > limit;
  if (truncated) runs.length = limit;
  const chosen = options.columns && options.columns.length > 0 ? parseColumns(store, options.columns, { unrecorded: 'accept' }) : defaultColumns(store, runs, { identity: false, params: ['model'] });
  const columns = chosen.map((column) => column.name);
  const rows = runs.map((run) => ({ id: run.id, label: runLabel(run), name: run.name, status: run.status, cells: chosen.map((column) => column.read(run)) }));
  const warnings = columns
    .filter((column, i) => runs.length > 0 && (column.startsWith('metrics.') || column.startsWith('params.')) && rows.every((row) => row.cells[i] === null))
    .map((column) => `no run listed has ${column.startsWith('params.') ? 'the param' : 'the metric'} ${JSON.stringify(column.replace(/^(params|metrics)\./, '').replace(/\.best$/, ''))} (column ${column})`);
  return {
    columns,
    rows,
    truncated,
    metricKeys: [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort(),
    paramKeys: [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort(),
    differingParams: differingParams(runs),
    runFields: [...RUN_FIELD_COLUMNS],
    aliases: { ...COLUMN_ALIASES },
    warnings,
  };
}

/** One run's page: everything recorded about it but its points and files' contents. */
export interface RunPage {
  /** The run as legends name it. */
  label: string;
  run: Omit<RunDetail, 'artifacts' | 'config'>;
  /** The run's files, by kind and name (their paths stay on the server). */
  artifacts: { kind: string; name: string; bytes: number | null }[];
  /** Why the run ended before its last epoch, or failed, as recorded; null when it ran to the end or says nothing. */
  stopReason: string | null;
}

/** What a run's page shows; a ConfigError for an unknown run id. */
export function runPage(store: TrackerStore, runId: string): RunPage {
  const { artifacts, config: _config, ...run } = getRun(store, runId);
  return {
    label: runLabel(run),
    run,
    artifacts: artifacts.map((a) => ({ kind: a.kind, name: a.path.split(/[\\/]/).pop() ?? a.path, bytes: a.bytes })),
    stopReason: stopReason(run),
  };
}

/** The recorded reason a run stopped early or failed: the stop reason training records (a param), else its error. */
function stopReason(run: RunRecord): string | null {
  const recorded = run.params[STOP_REASON_PARAM];
  if (typeof recorded === 'string' && recorded !== '') return recorded;
  return run.error;
}
