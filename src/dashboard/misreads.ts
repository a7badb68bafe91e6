/**
 * A recorded run's misread images: the `errors` its `eval-report.json` artifact lists (training
 * keeps the first 100 misreads of the test set), each with its image path resolved, the truth,
 * the reading and its character error rate. The report is read within a size limit.
 */
import { ConfigError, DataError, errorMessage } from '../errors';
import { readRegularFileSync } from '../image/read-file';
import { editDistance } from '../metrics/edit-distance';
import { EVAL_REPORT_KIND } from '../runs/eval-report';
import { getRun, resolveArtifactPath } from '../tracker/query';
import type { TrackerStore } from '../tracker/store';
import type { MisreadSample } from '../viz/misread-charts';
import { runLabel } from './run-lookup';

/** The largest eval report read: reports hold 100 misreads and a few examples, a few tens of KB. */
const MAX_REPORT_BYTES = 16 * 2 ** 20;

/** Options of {@link readRunMisreads}. */
export interface ReadRunMisreadsOptions {
  /** At most this many misreads, in the report's order. Defaults to all the report lists. */
  limit?: number;
}

/** The misreads of one run, as its eval report lists them. */
export interface RunMisreads {
  runId: string;
  /** The run as legends name it. */
  label: string;
  /** The eval report read (absolute). */
  reportPath: string;
  /** The split evaluated, e.g. `'test'`. */
  split: string;
  /** Samples evaluated. */
  samples: number;
  /** Misreads the report lists (training keeps the first 100). */
  listed: number;
  /** The first `limit` of them; `path` is absolute (see {@link readRunMisreads}). */
  misreads: Required<MisreadSample>[];
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Edit distance over the truth's length, in code points; null for an empty truth. */
function readingCer(truth: string, read: string): number | null {
  const length = Array.from(truth).length;
  return length === 0 ? null : editDistance(truth, read) / length;
}

/**
 * The misreads the latest `eval-report` artifact of run `runId` lists, or null when the run
 * recorded none (a run stopped before its test evaluation). Image paths are resolved as artifact
 * paths are (`resolveArtifactPath`): a relative one against the store's folder; an absolute one
 * inside the run's folder reads the copy beside this store when there is one. An unreadable or
 * malformed report is a DataError naming the file and the field.
 *
 * @example
 * const found = readRunMisreads(store, runId, { limit: 12 });
 * if (found) display.html(misreadGalleryHtml(found.misreads, { total: found.listed }));
 */
export function readRunMisreads(store: TrackerStore, runId: string, options: ReadRunMisreadsOptions = {}): RunMisreads | null {
  const limit = options.limit ?? Infinity;
  if (!(limit >= 0) || (limit !== Infinity && !Number.isInteger(limit))) throw new ConfigError(`limit ${limit} is not valid: expected a whole number >= 0`);
  const run = getRun(store, runId);
  const artifact = run.artifacts.filter((a) => a.kind === EVAL_REPORT_KIND).pop();
  if (!artifact) return null;
  const reportPath = artifact.path;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readRegularFileSync(reportPath, { maxBytes: MAX_REPORT_BYTES, what: 'eval report' }).toString('utf8'));
  } catch (error) {
    const missing = (error as { code?: string }).code === 'ENOENT';
    throw new DataError(missing ? `eval report ${reportPath} of run ${runId} does not exist` : `eval report ${reportPath} of run ${runId} cannot be read: ${errorMessage(error)}`, { cause: error });
  }
  const fail = (field: string, expected: string): never => {
    throw new DataError(`eval report ${reportPath} of run ${runId}: ${field} is not valid; expected ${expected}`);
  };
  if (!isRecord(parsed)) return fail('the file', 'a JSON object with "errors": [{path, truth, predicted}, ...]');
  // Reports written before misreads were kept have no `errors`: no misreads to show, not a fault.
  const errors = parsed.errors ?? [];
  if (!Array.isArray(errors)) return fail('errors', 'a list of {path, truth, predicted}');
  const misreads = errors.slice(0, limit).map((row: unknown, i) => {
    if (!isRecord(row) || typeof row.path !== 'string' || typeof row.truth !== 'string' || typeof row.predicted !== 'string') {
      return fail(`errors[${i}] (${JSON.stringify(row)?.slice(0, 80)})`, 'an object {path: string, truth: string, predicted: string}');
    }
    return { path: resolveArtifactPath(store, row.path, run.id), truth: row.truth, read: row.predicted, cer: readingCer(row.truth, row.predicted) };
  });
  const samples = typeof parsed.samples === 'number' ? parsed.samples : fail(`samples (${JSON.stringify(parsed.samples)})`, 'a number');
  return { runId: run.id, label: runLabel(run), reportPath, split: typeof parsed.split === 'string' ? parsed.split : 'test', samples, listed: errors.length, misreads };
}
