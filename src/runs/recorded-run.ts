/**
 * What every recorded run shares: the run opened in the experiment store before its training
 * starts (an id, a folder `<runsDir>/<run id>/` for the `best/` and `last/` checkpoints, the final
 * `model/` and reports), the `TrackerCallback` that records the loop's events into it, and the
 * writers of its final files. The equation, character and center-loss runs each open one with
 * {@link openRecordedRun}, and train inside its `during`, handing its `callbacks` and plain
 * `runDir` to the training loop.
 */
import { join, resolve } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { getBackendInfo, nativeKernelsParams, warnWithoutNativeKernels } from '../backend/index';
import { saveModel } from '../models/io';
import { TrackerCallback } from '../tracker/callback';
import { deleteParams, finishRun, resumeRun, runStatus, startRun, updateRunConfig } from '../tracker/record';
import { closeStore, openStore, type TrackerStore } from '../tracker/store';
import { whileLocked } from '../tracker/write-backlog';
import type { Callback } from '../training/callbacks';
import { databasePath, runsDirFor } from '../util/paths';
import { EVAL_REPORT_KIND, type EvalReport, writeEvalReport } from './eval-report';

/** Where and how a run is recorded: the options of every run function include these. */
export interface RecordingOptions {
  /** Database file. Defaults to GLYPHLAB_DB or experiments/glyphlab.db. */
  dbPath?: string;
  /** What started the run (CLI command, notebook path). Defaults to the process's command line. */
  source?: string;
  /** Where run folders go (`<runsDir>/<run id>/`). Defaults to `runs/` beside the database, e.g. `experiments/runs`. */
  runsDir?: string;
  /** More callbacks (progress bars, live charts). Defaults to none. */
  callbacks?: Callback[];
  /** Record every batch's loss. Defaults to the run function's (the equation runs: true). */
  logBatches?: boolean;
}

/** What a run records when it opens, besides the caller's {@link RecordingOptions}. */
export interface OpenRunSettings {
  experiment: string;
  name: string;
  tags: readonly string[];
  /** The run's config (an equation run's spec), recorded verbatim. */
  config: Record<string, unknown>;
  /** Params besides the config's: the architecture (`model.rnn`, `input.height`, ...) and facts of the run (`data.sizes.train`, `parameter_count`). */
  params: Record<string, unknown>;
  /** The fingerprint of the data it trains on. */
  dataFingerprint?: string;
  /** Continue this (interrupted, failed or crashed) run instead of starting one; its config is replaced by `config`. */
  resumeRunId?: string;
  /** Record every batch's loss when the options do not say. */
  logBatches: boolean;
}

/** A run open in the store. */
export interface RecordedRun {
  readonly runId: string;
  /** The run's folder, `<runsDir>/<run id>`. */
  readonly runDir: string;
  /** The loop's callbacks: the tracker first, then the caller's. */
  readonly callbacks: Callback[];
  /** Saves the final model as `<runDir>/model` and returns its artifact. */
  saveFinalModel(model: tf.LayersModel, meta?: Record<string, unknown>): Promise<{ path: string; kind: string }>;
  /** Writes `<runDir>/eval-report.json` and returns its artifact. */
  saveEvalReport(report: EvalReport): { path: string; kind: string };
  /**
   * Runs `train` (the loop, and what a run does with its result), then closes the store. A run
   * the loop never ended (an error before its train-begin event) is recorded as failed with that
   * error, so no run stays "running" after its function returned.
   */
  during<T>(train: () => Promise<T>): Promise<T>;
}

/**
 * Opens a run in the store (a new one, or a resumed one) before its training starts, waiting
 * while another process holds the store locked.
 *
 * @example
 * const run = await openRecordedRun(options, { experiment: 'equations', name: 'crnn', tags: [], config: spec, params: architecture, logBatches: true });
 * await run.during(() => train(model, data, { loss, runDir: run.runDir, callbacks: run.callbacks, finalize: async (m) => [await run.saveFinalModel(m)] }));
 */
export async function openRecordedRun(options: RecordingOptions, settings: OpenRunSettings): Promise<RecordedRun> {
  const dbPath = options.dbPath ?? databasePath();
  const store = openStore(dbPath);
  const backend = getBackendInfo();
  // Whether the native kernels computed is recorded, and said once, since it decides the speed.
  const params = { ...settings.params, ...nativeKernelsParams(backend) };
  warnWithoutNativeKernels(backend);
  let runId: string;
  try {
    // Nothing is trained yet: a store another process holds locked is waited for (see write-backlog.ts).
    const resumeRunId = settings.resumeRunId;
    if (resumeRunId !== undefined) {
      await whileLocked(store, `resume run ${resumeRunId}`, {}, () => {
        resumeRun(store, resumeRunId);
        // The kernels may be here this time: a reason recorded for their absence then no longer holds.
        if (params['backend.native_reason'] === undefined) deleteParams(store, resumeRunId, ['backend.native_reason']);
        updateRunConfig(store, resumeRunId, settings.config, params);
      });
      runId = resumeRunId;
    } else {
      runId = await whileLocked(store, 'start the run', {}, () =>
        startRun(store, {
          experiment: settings.experiment,
          name: settings.name,
          tags: [...settings.tags],
          config: settings.config,
          params,
          backend: backend?.name,
          threads: backend?.threads,
          dataFingerprint: settings.dataFingerprint,
          source: options.source,
        }),
      );
    }
  } catch (error) {
    closeStore(store);
    throw error;
  }
  const runDir = join(resolve(options.runsDir ?? runsDirFor(dbPath)), runId);
  const tracker = new TrackerCallback({ store, runId, logBatches: options.logBatches ?? settings.logBatches });
  return {
    runId,
    runDir,
    callbacks: [tracker, ...(options.callbacks ?? [])],
    saveFinalModel: async (model, meta) => ({ path: await saveModel(model, join(runDir, 'model'), meta ? { meta } : {}), kind: 'model' }),
    saveEvalReport: (report) => ({ path: writeEvalReport(join(runDir, 'eval-report.json'), report), kind: EVAL_REPORT_KIND }),
    during: async (train) => {
      let failure: unknown;
      try {
        return await train();
      } catch (error) {
        failure = error;
        throw error;
      } finally {
        closeRun(store, runId, failure);
      }
    },
  };
}

/** Closes the store, recording a run the loop left running as failed (see {@link RecordedRun.during}). */
function closeRun(store: TrackerStore, runId: string, error: unknown): void {
  try {
    if (store.db.open && runStatus(store, runId) === 'running') {
      finishRun(store, runId, 'failed', { error: error ?? 'the run function ended before training did' });
    }
  } finally {
    closeStore(store);
  }
}
