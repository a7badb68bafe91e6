/**
 * Naming a run the short way: wherever a run id is accepted (`runs show`, `eval --run`,
 * `train --resume`, `getRun` ...), a unique prefix of the id, of its random suffix (the six hex
 * digits the dashboard shows: `c262b8` of `20261206-083449-c262b8`) or of the run's name will do.
 */
import { ConfigError } from '../errors';
import { type TrackerStore, selectAll, selectOne } from './store';

/** How many of the runs an ambiguous reference matches its error lists. */
const CANDIDATES_SHOWN = 10;

/** A run a reference may mean, as its error lists it. */
interface RunCandidate {
  id: string;
  name: string | null;
  started_at: number;
}

/**
 * The random part of a run id, after its last `-` (`c262b8` of `20261206-083449-c262b8`); the
 * dashboard labels runs with it. Undefined for an id without one.
 *
 * @example
 * runIdSuffix('20261206-083449-c262b8'); // 'c262b8'
 */
export function runIdSuffix(runId: string): string | undefined {
  const at = runId.lastIndexOf('-');
  return at >= 0 && at < runId.length - 1 ? runId.slice(at + 1) : undefined;
}

/** Text for one line of the candidates list: a line break in a run's name would start a line of its own. */
function oneLine(text: string): string {
  return text.replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

/** A start time as `2026-12-06 08:34`, or `?` for a column that holds no time (a damaged row). */
function startTime(ms: number): string {
  return typeof ms === 'number' && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString().slice(0, 16).replace('T', ' ') : '?';
}

/**
 * How `ref` names run `run`: 0 by its exact name, 1 by a prefix of its id, of its id's random
 * suffix or of its name; undefined when it does not.
 */
function matchRank(ref: string, run: RunCandidate): number | undefined {
  if (run.name === ref) return 0;
  if (run.id.startsWith(ref) || runIdSuffix(run.id)?.startsWith(ref) || run.name?.startsWith(ref)) return 1;
  return undefined;
}

/**
 * The id of the run `ref` names in `store`: the run with that id; else the one run whose id,
 * id suffix (`c262b8`) or name begins with `ref`. When several do, a run whose name is exactly
 * `ref` is the one meant, if it is the only such run. Nothing found, or several runs, is a
 * ConfigError: the first says so and points to `glyphlab runs ls`; the second lists the
 * candidates (ten, then how many more) with their names and start times.
 *
 * @example
 * resolveRunRef(store, 'c262b8');     // '20261206-083449-c262b8'
 * resolveRunRef(store, '20261206-08'); // the one run started between 08:00 and 08:59 that day
 * resolveRunRef(store, 'crnn-start'); // the run named crnn-start
 */
export function resolveRunRef(store: TrackerStore, ref: string): string {
  if (ref.trim() === '') throw new ConfigError(`a run reference is empty; give a run id, a unique prefix of it, its last part (e.g. c262b8) or a run name (list runs with \`glyphlab runs ls\`)`);
  if (selectOne(store, 'SELECT 1 AS found FROM runs WHERE id = @ref', { ref })) return ref;
  // instr(...) = 1 is a prefix test that no LIKE wildcard in ref can widen; the suffix is checked in JS.
  const rows = selectAll<RunCandidate>(
    store,
    `SELECT id, name, started_at FROM runs
     WHERE instr(id, @ref) = 1 OR instr(id, '-' || @ref) > 0 OR instr(name, @ref) = 1
     ORDER BY started_at DESC, id DESC`,
    { ref },
  );
  const matches = rows.map((run) => ({ run, rank: matchRank(ref, run) })).filter((m): m is { run: RunCandidate; rank: number } => m.rank !== undefined);
  if (matches.length === 1) return matches[0]!.run.id;
  const exactNames = matches.filter((m) => m.rank === 0);
  if (exactNames.length === 1) return exactNames[0]!.run.id;
  if (matches.length === 0) {
    throw new ConfigError(`no run ${JSON.stringify(ref)} in ${store.file}: no run id, id suffix or run name begins with it; list runs with \`glyphlab runs ls\``);
  }
  const shown = matches.slice(0, CANDIDATES_SHOWN).map(({ run }) => `  ${oneLine(run.id)}  ${oneLine(run.name ?? '-')}  started ${startTime(run.started_at)}`);
  const more = matches.length > CANDIDATES_SHOWN ? [`  ... and ${matches.length - CANDIDATES_SHOWN} more`] : [];
  throw new ConfigError(
    [`${JSON.stringify(ref)} names ${matches.length} runs in ${store.file}; give more of the id (or the whole id):`, ...shown, ...more].join('\n'),
  );
}

/**
 * The ids of the runs `refs` name (see {@link resolveRunRef}), in order; a run named twice is a
 * ConfigError naming both references.
 */
export function resolveRunRefs(store: TrackerStore, refs: readonly string[]): string[] {
  const ids = refs.map((ref) => resolveRunRef(store, ref));
  ids.forEach((id, i) => {
    const first = ids.indexOf(id);
    if (first !== i) throw new ConfigError(`${JSON.stringify(refs[first])} and ${JSON.stringify(refs[i])} both name run ${id}; name each run once`);
  });
  return ids;
}
