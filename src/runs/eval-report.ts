/**
 * The evaluation report of a run: accuracy per label length and character confusions on the
 * test set, kept as a JSON file attached to the run as an artifact of kind `eval-report`. The
 * store's metrics hold scalars (`test_accuracy`, `test_cer`); these tables do not fit there.
 *
 * File format (version 1), the shape of `sequenceMetrics()` plus a version and the split; other
 * fields (training adds misread examples) are kept in the file and ignored here:
 * ```json
 * { "version": 1, "split": "test", "samples": 1000, "accuracy": 0.97, "characterErrorRate": 0.004,
 *   "byLength": [{ "length": 10, "samples": 900, "correct": 880, "accuracy": 0.978 }],
 *   "confusions": [{ "truth": "3", "predicted": "8", "count": 7 }] }
 * ```
 * In `confusions`, `""` as truth is an inserted character and `""` as predicted a dropped one.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { DataError, errorMessage } from '../errors';
import { type ConfusionPair, type LengthAccuracy, type SequenceMetrics, sequenceMetrics } from '../metrics/sequence';
import { type TrackerStore } from '../tracker/store';
import { addArtifact } from '../tracker/record';
import type { SequencePredictions } from '../training/sequence';

/** The artifact kind of evaluation reports. */
export const EVAL_REPORT_KIND = 'eval-report';

/** What an `eval-report` file holds. */
export interface EvalReport {
  version: 1;
  /** Which split was evaluated, e.g. `'test'`. */
  split: string;
  samples: number;
  accuracy: number;
  characterErrorRate: number;
  byLength: LengthAccuracy[];
  /** Most frequent first. */
  confusions: ConfusionPair[];
}

/** An {@link EvalReport} from the result of `sequenceMetrics(truths, predictions)`. */
export function evalReportFromMetrics(metrics: SequenceMetrics, split = 'test'): EvalReport {
  return {
    version: 1,
    split,
    samples: metrics.samples,
    accuracy: metrics.accuracy,
    characterErrorRate: metrics.characterErrorRate,
    byLength: metrics.byLength.map((l) => ({ ...l })),
    confusions: metrics.confusions.map((c) => ({ ...c })),
  };
}

/** The evaluation report saved with a run (`eval-report.json`, kind 'eval-report'), with its misread samples. */
export interface RunEvalReport extends EvalReport {
  /** Misread samples (up to 100): image path, truth, prediction. */
  errors: { path: string; truth: string; predicted: string }[];
  /** The first few samples of the split, read right or wrong (what `npm start` shows). */
  examples: { path: string; truth: string; predicted: string }[];
}

/** The evaluation report of a set of predictions, with the first `maxErrors` misread samples. */
export function buildEvalReport(predictions: SequencePredictions, split: string, maxErrors = 100, examples = 8): RunEvalReport {
  const metrics = sequenceMetrics(predictions.truths, predictions.predictions);
  const reading = (i: number) => ({ path: predictions.paths[i] ?? '', truth: predictions.truths[i] ?? '', predicted: predictions.predictions[i] ?? '' });
  const errors: RunEvalReport['errors'] = [];
  predictions.truths.forEach((truth, i) => {
    if (predictions.predictions[i] !== truth && errors.length < maxErrors) errors.push(reading(i));
  });
  return { ...evalReportFromMetrics(metrics, split), errors, examples: predictions.truths.slice(0, examples).map((_, i) => reading(i)) };
}

/** Writes a report (and any extra fields it carries) as JSON, atomically, and returns the path. */
export function writeEvalReport(path: string, report: EvalReport): string {
  const temporary = `${path}.tmp-${process.pid}`;
  // Infinity (a CER with empty truths) is not JSON: keep it as a string rather than null.
  writeFileSync(temporary, `${JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 1)}\n`);
  renameSync(temporary, path);
  return path;
}

/**
 * Writes the evaluation of a run to `path` and attaches it to the run as an `eval-report`
 * artifact.
 *
 * @example
 * await recordEvalReport(store, runId, join(runDir, 'eval-report.json'), sequenceMetrics(truths, predictions));
 */
export async function recordEvalReport(store: TrackerStore, runId: string, path: string, metrics: SequenceMetrics | EvalReport, split = 'test'): Promise<EvalReport> {
  const report = 'version' in metrics ? metrics : evalReportFromMetrics(metrics, split);
  writeEvalReport(path, report);
  await addArtifact(store, runId, { path, kind: EVAL_REPORT_KIND });
  return report;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
/** Numbers as written: Infinity and NaN are stored as strings, since JSON has neither. */
const asNumber = (value: unknown): unknown => (typeof value === 'string' && /^-?Infinity$|^NaN$/.test(value) ? Number(value) : value);

/**
 * Reads and checks an `eval-report` file. A missing file, bad JSON or a wrong field is a
 * DataError naming the file and the field, and saying what was expected.
 */
export function readEvalReport(path: string): EvalReport {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const missing = (error as { code?: string }).code === 'ENOENT';
    throw new DataError(missing ? `eval report ${path} does not exist` : `eval report ${path} cannot be read: ${errorMessage(error)}`, { cause: error });
  }
  const fail = (field: string, expected: string): never => {
    throw new DataError(`eval report ${path}: ${field} is not valid; expected ${expected}`);
  };
  if (!isRecord(parsed)) return fail('the file', 'a JSON object {"version": 1, "byLength": [...], "confusions": [...]}');
  if (parsed.version !== undefined && parsed.version !== 1) fail(`version ${JSON.stringify(parsed.version)}`, 'version 1');
  const numberField = (record: Record<string, unknown>, key: string, where: string): number => {
    const value = asNumber(record[key]);
    return typeof value === 'number' && !Number.isNaN(value) ? value : fail(`${where}.${key} (${JSON.stringify(record[key])})`, 'a number');
  };
  if (!Array.isArray(parsed.byLength)) fail('byLength', 'a list of {length, samples, correct, accuracy}');
  if (!Array.isArray(parsed.confusions)) fail('confusions', 'a list of {truth, predicted, count}');
  const byLength = (parsed.byLength as unknown[]).map((row, i) => {
    const where = `byLength[${i}]`;
    if (!isRecord(row)) return fail(where, 'an object {length, samples, correct, accuracy}');
    return {
      length: numberField(row, 'length', where),
      samples: numberField(row, 'samples', where),
      correct: numberField(row, 'correct', where),
      accuracy: numberField(row, 'accuracy', where),
    };
  });
  const confusions = (parsed.confusions as unknown[]).map((row, i) => {
    const where = `confusions[${i}]`;
    if (!isRecord(row) || typeof row.truth !== 'string' || typeof row.predicted !== 'string') {
      return fail(where, 'an object {truth: string, predicted: string, count: number}');
    }
    return { truth: row.truth, predicted: row.predicted, count: numberField(row, 'count', where) };
  });
  return {
    version: 1,
    split: typeof parsed.split === 'string' ? parsed.split : 'test',
    samples: numberField(parsed, 'samples', 'report'),
    accuracy: numberField(parsed, 'accuracy', 'report'),
    characterErrorRate: numberField(parsed, 'characterErrorRate', 'report'),
    byLength,
    confusions,
  };
}
