/**
 * A run's misread images for `glyphlab ui`: the test samples its `eval-report` artifact lists as
 * read wrong (`readRunMisreads` in dashboard/), with the truth, what the model read and how the
 * two align. The page asks for an image by the run and its index in that list, never by a path:
 * the server reads only files a run's report names, through the bounded reader the dashboard uses
 * (`imageFileBytes`: regular files only, at most {@link MAX_MISREAD_IMAGE_BYTES}, PNG, JPEG,
 * GIF or WebP by their bytes).
 */
import { ConfigError, DataError, errorMessage } from '../errors';
import { readRunMisreads } from '../dashboard/misreads';
import { type EditStep, editAlignment } from '../metrics/edit-distance';
import { EVAL_REPORT_KIND } from '../runs/eval-report';
import type { TrackerStore } from '../tracker/store';
import { imageFileBytes } from '../viz/misread-charts';

/** Largest misread image served. The images of a data set are a few kB; a larger file is not one. */
export const MAX_MISREAD_IMAGE_BYTES = 2 ** 20;

/** One misread sample as the page shows it. */
export interface Misread {
  /** Its place in the report's list: what the page asks for its image by. */
  index: number;
  truth: string;
  read: string;
  /** Character error rate of the reading; null for an empty truth. */
  cer: number | null;
  /** How the reading aligns with the truth, character by character (the page marks what differs). */
  alignment: EditStep[];
}

/** A run's misreads, or why there are none to show. */
export interface RunMisreads {
  misreads: Misread[];
  /** Samples the report evaluated; null without a report. */
  samples: number | null;
  /** Why no list could be read (no report, a damaged one); null when it was read. */
  problem: string | null;
}

/**
 * The misreads of run `runId` as its eval report lists them (training keeps the first 100). A run
 * without a report, or with one that cannot be read, has none and a `problem` saying why; an
 * unknown run is a ConfigError.
 */
export function runMisreads(store: TrackerStore, runId: string): RunMisreads {
  let found: ReturnType<typeof readRunMisreads>;
  try {
    found = readRunMisreads(store, runId);
  } catch (error) {
    if (error instanceof DataError) return { misreads: [], samples: null, problem: errorMessage(error) };
    throw error;
  }
  if (!found) return { misreads: [], samples: null, problem: `run ${runId} recorded no ${EVAL_REPORT_KIND} artifact (it is written after the test evaluation)` };
  return {
    misreads: found.misreads.map((m, index) => ({ index, truth: m.truth, read: m.read, cer: m.cer, alignment: editAlignment(m.truth, m.read) })),
    samples: found.samples,
    problem: null,
  };
}

/**
 * The image of misread number `index` of run `runId`, as bytes and their content type. An index
 * the report does not have is a ConfigError; a file that is missing, not a regular file, larger
 * than {@link MAX_MISREAD_IMAGE_BYTES} or not an image is a DataError saying which.
 */
export function misreadImage(store: TrackerStore, runId: string, index: number): { bytes: Buffer; contentType: string } {
  const found = readRunMisreads(store, runId);
  if (!found) throw new ConfigError(`run ${runId} recorded no ${EVAL_REPORT_KIND} artifact, so it has no misread images`);
  const misread = Number.isInteger(index) ? found.misreads[index] : undefined;
  if (!misread) throw new ConfigError(`misread ${index} is not valid for run ${runId}: its eval report lists ${found.misreads.length} (0 to ${found.misreads.length - 1})`);
  const image = imageFileBytes(misread.path, { maxBytes: MAX_MISREAD_IMAGE_BYTES });
  if ('problem' in image) throw new DataError(`misread ${index} of run ${runId}: ${image.problem}`);
  return { bytes: image.bytes, contentType: image.mime };
}
