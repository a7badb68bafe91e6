/**
 * The metric and param keys a store has recorded, and the error for a key it has not: a
 * misspelt key in a sort, a filter or a column would otherwise sort, match or show nothing,
 * silently. The message names the key, what it was probably meant to be, and what is recorded.
 */
import { ConfigError } from '../errors';
import { editDistance } from '../metrics/edit-distance';
import { type TrackerStore, selectAll, selectOne } from './store';

/** A metric or a param, as a key is looked up. */
export type KeyKind = 'metric' | 'param';

/** How many recorded keys of each kind an unknown key's message lists. */
const KEYS_SHOWN = 20;

/** A name a metric or param could have; anything else (`name; drop table runs`) is refused even by an empty store. */
const PLAIN_KEY = /^[A-Za-z_][\w.\-/@]*$/;

/** Whether some run of `store` recorded a `kind` of key `key` (one run is enough: keys need not be on every run). */
export function isRecordedKey(store: TrackerStore, kind: KeyKind, key: string): boolean {
  const table = kind === 'metric' ? 'metric_summary' : 'params';
  return selectOne(store, `SELECT 1 AS found FROM ${table} WHERE key = @key LIMIT 1`, { key }) !== undefined;
}

/**
 * Whether `key` may name a metric or param of `store` although none is recorded: in a store
 * without runs any plain name is accepted, since nothing can match or sort, and a script may
 * list before its first run. Junk (`name; drop table runs`) never is.
 */
export function isAcceptedKey(store: TrackerStore, kind: KeyKind, key: string): boolean {
  if (isRecordedKey(store, kind, key)) return true;
  return PLAIN_KEY.test(key) && selectOne(store, 'SELECT 1 AS found FROM runs LIMIT 1') === undefined;
}

/** Every metric and param key recorded in `store`, sorted. */
export function recordedKeys(store: TrackerStore): { metrics: string[]; params: string[] } {
  return {
    metrics: selectAll<{ key: string }>(store, 'SELECT DISTINCT key FROM metric_summary ORDER BY key').map((r) => r.key),
    params: selectAll<{ key: string }>(store, 'SELECT DISTINCT key FROM params ORDER BY key').map((r) => r.key),
  };
}

/** A name a user could write (`val_accuracy`, `params.lr`, `status`) and the key it stands for. */
export interface KeyCandidate {
  name: string;
  key: string;
}

/**
 * The names among `candidates` that `key` is probably a misspelling of, at most three, closest
 * first: the same but for case, a few edits away, a param whose last dotted part it is (`lr` for
 * `optimizer.lr`), one it starts with before other text (`val_accuracy:down`,
 * `name; drop table runs`), or one it begins (`val_acc`).
 *
 * @example
 * closeKeys('val_acuracy', [{ name: 'val_accuracy', key: 'val_accuracy' }]); // ['val_accuracy']
 */
export function closeKeys(key: string, candidates: readonly KeyCandidate[]): string[] {
  const lower = key.toLowerCase();
  const allowed = Math.max(1, Math.min(3, Math.floor(key.length / 4)));
  const scored = candidates
    .map(({ name, key: candidate }) => {
      const other = candidate.toLowerCase();
      if (other === lower || other.endsWith(`.${lower}`)) return { name, distance: 0 };
      if (lower.startsWith(other) && /^[^\w.]/.test(lower.slice(other.length))) return { name, distance: 1 };
      if (lower.length >= 3 && other.startsWith(lower)) return { name, distance: 1 };
      return { name, distance: Math.abs(other.length - lower.length) > allowed ? Infinity : editDistance(other, lower) };
    })
    .filter((c) => c.distance <= allowed)
    .sort((a, b) => a.distance - b.distance || a.name.localeCompare(b.name));
  return [...new Set(scored.map((c) => c.name))].slice(0, 3);
}

/** `keys` for a message: the first {@link KEYS_SHOWN}, then how many there are. */
export function listKeys(keys: readonly string[]): string {
  if (keys.length === 0) return 'none';
  return keys.slice(0, KEYS_SHOWN).join(', ') + (keys.length > KEYS_SHOWN ? `, ... (${keys.length})` : '');
}

/** What {@link unknownKeyMessage} says about one key no run has. */
export interface UnknownKey {
  kind: KeyKind;
  key: string;
}

/** Options of {@link unknownKeyMessage}. */
export interface UnknownKeyMessageOptions {
  /** Names besides the recorded keys that could have been meant (run columns, column aliases). Defaults to none. */
  extra?: readonly KeyCandidate[];
  /** Suggest metrics as `metrics.KEY`, the form a filter needs, rather than the bare key a sort or a column takes. Defaults to false. */
  metricsPrefixed?: boolean;
}

/**
 * `no run in FILE has a metric "val_acuracy"; did you mean "val_accuracy"? Recorded metrics: ...; params: ...`:
 * the body of the error for keys no run has recorded.
 */
export function unknownKeyMessage(store: TrackerStore, unknown: readonly UnknownKey[], options: UnknownKeyMessageOptions = {}): string {
  const { metrics, params } = recordedKeys(store);
  const metricName = (key: string): string => (options.metricsPrefixed ? `metrics.${key}` : key);
  const candidates: KeyCandidate[] = [...(options.extra ?? []), ...metrics.map((key) => ({ name: metricName(key), key })), ...params.map((key) => ({ name: `params.${key}`, key }))];
  const about = unknown.map(({ kind, key }) => {
    const meant = closeKeys(key, candidates);
    return `no run in ${store.file} has a ${kind} ${JSON.stringify(key)}` + (meant.length > 0 ? `; did you mean ${meant.map((m) => JSON.stringify(m)).join(' or ')}?` : '.');
  });
  return `${about.join(' ')} Recorded metrics: ${listKeys(metrics)}; params: ${listKeys(params.map((key) => `params.${key}`))}.`;
}

/**
 * Throws a ConfigError for the `keys` of a `--where` filter that no run has recorded (a
 * misspelt metric would otherwise match nothing, and `runs ls` would answer "no runs match").
 * A key recorded on some runs only is known. A store without runs accepts any plain key.
 */
export function assertRecordedFilterKeys(store: TrackerStore, keys: readonly UnknownKey[]): void {
  const unknown = keys.filter(({ kind, key }) => !isAcceptedKey(store, kind, key));
  if (unknown.length === 0) return;
  const fields = unknown.map(({ kind, key }) => `${kind === 'metric' ? 'metrics' : 'params'}.${key}`);
  throw new ConfigError(`bad filter: unknown ${fields.map((f) => JSON.stringify(f)).join(', ')}: ${unknownKeyMessage(store, unknown, { metricsPrefixed: true })}`);
}
