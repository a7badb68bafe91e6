/**
 * What every recorded run shares: the `TrackerCallback` that records it in the experiment
 * store, its folder (`<runsDir>/<run id>/`: the `best/` and `last/` checkpoints, the final
 * `model/`, reports) and its final artifacts. The equation, character and center-loss runs each
 * open one with {@link recordRun}, hand its `callbacks` and `runDir` to the training loop, and
 * save their final files through it.
 */
import { join, resolve } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { saveModel } from '../models/io';
import { TrackerCallback } from '../tracker/callback';
import type { Callback } from '../training/callbacks';
import { databasePath, runsDirFor } from '../util/paths';
import type { ModelArchitecture } from './architecture';
import { EVAL_REPORT_KIND, type EvalReport, writeEvalReport } from './eval-report';

/** Where and how a run is recorded; the options of every run function include these. */
export interface RecordingOptions {
  /** Experiment name. Defaults to the model family's (see `getModelBuilder(name).defaults`). */
  experiment?: string;
  /** Run name. Defaults to the run function's (e.g. the model name). */
  name?: string;
  /** Tags. Defaults to none. */
  tags?: string[];
  /** Database file. Defaults to GLYPHLAB_DB or experiments/glyphlab.db. */
  dbPath?: string;
  /** What started the run (CLI command, notebook path). Defaults to the process's command line. */
  source?: string;
  /** Where run folders go (`<runsDir>/<run id>/`). Defaults to `runs/` beside the database, e.g. `experiments/runs`. */
  runsDir?: string;
  /** More callbacks (progress bars, live charts). Defaults to none. */
  callbacks?: Callback[];
}

/** What {@link recordRun} needs besides the caller's {@link RecordingOptions}. */
export interface RecordRunSettings {
  /** Experiment and run name when the options give none. */
  experiment: string;
  name: string;
  /** The model's architecture, recorded as flat params (`model.rnn`, `input.height`, ...). */
  architecture?: ModelArchitecture;
  /** Record every batch's loss. Defaults to false. */
  logBatches?: boolean;
  /** Continue recording this run (a resume) instead of starting one. Defaults to none. */
  resumeRunId?: string;
}

/** A run being recorded. */
export interface RecordedRun {
  /** The loop's callbacks: the tracker first, then the caller's. */
  readonly callbacks: Callback[];
  /** The run's id; set once training has begun. */
  runId(): string;
  /** The run's folder, `<runsDir>/<run id>` (`<runsDir>/unstarted` before training begins). */
  runDir(): string;
  /** Saves the final model as `<runDir>/model` and returns its artifact. */
  saveFinalModel(model: tf.LayersModel, meta?: Record<string, unknown>): Promise<{ path: string; kind: string }>;
  /** Writes `<runDir>/eval-report.json` and returns its artifact. */
  saveEvalReport(report: EvalReport): { path: string; kind: string };
}

/**
 * Opens the recording of a run: a tracker callback, the run folder beside the database (or
 * in `runsDir`), and the writers of the final files.
 *
 * @example
 * const recorded = recordRun(options, { experiment: 'equations', name: 'crnn', architecture });
 * await train(model, data, { loss, runDir: recorded.runDir, callbacks: recorded.callbacks,
 *   finalize: async (m) => [await recorded.saveFinalModel(m)] });
 */
export function recordRun(options: RecordingOptions, settings: RecordRunSettings): RecordedRun {
  const tracker = new TrackerCallback({
    experiment: options.experiment ?? settings.experiment,
    name: options.name ?? settings.name,
    dbPath: options.dbPath,
    source: options.source,
    tags: options.tags,
    params: settings.architecture ? { ...settings.architecture } : undefined,
    logBatches: settings.logBatches ?? false,
    resumeRunId: settings.resumeRunId,
  });
  const runsDir = resolve(options.runsDir ?? runsDirFor(options.dbPath ?? databasePath()));
  const runDir = (): string => join(runsDir, tracker.runId ?? 'unstarted');
  return {
    callbacks: [tracker, ...(options.callbacks ?? [])],
    runId: () => tracker.runId as string,
    runDir,
    saveFinalModel: async (model, meta) => ({ path: await saveModel(model, join(runDir(), 'model'), meta ? { meta } : {}), kind: 'model' }),
    saveEvalReport: (report) => ({ path: writeEvalReport(join(runDir(), 'eval-report.json'), report), kind: EVAL_REPORT_KIND }),
  };
}
