/**
 * Where each compared run's weights started: random, ImageNet (a VGG19-CRNN with the weights
 * file), or another run or reader (`--init-from`), with the source's data and what was loaded,
 * re-initialised and frozen. Read from the params a run records (its spec's `init` and
 * `model.weights`, flattened), so runs recorded before lineage existed read as random. Also finds
 * the latest recorded transfer comparison (`npm run bench:transfer`), which notebook 04 compares
 * by default.
 */
import type { ParamValue, RunRecord } from '../tracker/query';
import { listRuns } from '../tracker/query';
import type { TrackerStore } from '../tracker/store';

/** The tag prefix of the runs of one `bench:transfer` comparison (`transfer:20261206-164341`). */
export const TRANSFER_TAG_PREFIX = 'transfer:';

/** One run's lineage. */
export interface RunLineage {
  runId: string;
  /** Where its weights started, in words: `random`, `ImageNet`, `reader equations-wide (run ...)`, `run ...`. */
  startedFrom: string;
  /** The run whose weights it loaded (a reader's: the run that trained it), or null. */
  sourceRun: string | null;
  reader: string | null;
  /** The source run's data folder, or null. */
  sourceData: string | null;
  /** Layers loaded from the source, or null when it loaded none. */
  loaded: number | null;
  /** Layers left freshly initialised (another alphabet's output layer). */
  reinitialised: string[];
  /** Epochs with the convolution blocks frozen. */
  freezeEpochs: number;
}

const text = (value: ParamValue | undefined): string | null => (typeof value === 'string' && value !== '' ? value : null);

/**
 * The lineage of `run` from its params.
 *
 * @example
 * runLineage(getRun(store, id)).startedFrom; // 'reader equations-wide (run 20261206-193159-6a527a)'
 */
export function runLineage(run: Pick<RunRecord, 'id' | 'params'>): RunLineage {
  const p = run.params;
  const sourceRun = text(p['init.run']);
  const reader = text(p['init.reader']);
  const loaded = Array.isArray(p['init.loaded']) ? p['init.loaded'].length : null;
  const reinitialised = Array.isArray(p['init.reinitialised']) ? p['init.reinitialised'].map(String) : [];
  const weights = text(p['model.weights']);
  const startedFrom = reader ? `reader ${reader} (run ${sourceRun ?? '?'})` : sourceRun ? `run ${sourceRun}` : weights === 'imagenet' ? 'ImageNet' : 'random';
  return {
    runId: run.id,
    startedFrom,
    sourceRun,
    reader,
    sourceData: text(p['init.data.dir']),
    loaded,
    reinitialised,
    freezeEpochs: typeof p['init.freezeEpochs'] === 'number' ? p['init.freezeEpochs'] : 0,
  };
}

/** Whether any of `runs` started from another run's or a reader's weights. */
export function anyInitialised(lineage: readonly RunLineage[]): boolean {
  return lineage.some((l) => l.sourceRun !== null);
}

/**
 * The tag of the newest transfer comparison in the store (`transfer:<id>` on runs of the
 * experiment 'transfer'; the id is the comparison's start, `YYYYMMDD-HHMMSS`, so the greatest is
 * the newest), or undefined when it holds none.
 *
 * @example
 * const tag = latestTransferTag(store);  // 'transfer:20261206-164341'
 * buildComparison(store, { where: `tags contains "${tag}"` });
 */
export function latestTransferTag(store: TrackerStore): string | undefined {
  const tags = listRuns(store, { experiment: 'transfer' }).flatMap((run) => run.tags.filter((t) => t.startsWith(TRANSFER_TAG_PREFIX)));
  return tags.sort().pop();
}
