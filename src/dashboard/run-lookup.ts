/**
 * Runs by id for every view of the dashboard: the label legends and tables name a run by, and
 * the runs a list of ids names, refusing ids the store does not have.
 */
import { ConfigError } from '../errors';
import { type RunRecord, listRuns } from '../tracker/query';
import type { TrackerStore } from '../tracker/store';

/** A run's short unique label for legends and tables: its name (or model) and the id's random suffix, e.g. `custom · 3f9a2c`. */
export function runLabel(run: Pick<RunRecord, 'id' | 'name' | 'params'>): string {
  const model = typeof run.params.model === 'string' ? run.params.model : null;
  return `${run.name ?? model ?? 'run'} · ${run.id.slice(-6)}`;
}

/**
 * The runs `runIds` (each once, in the order given) as the store lists them; a ConfigError
 * naming every id the store does not have.
 */
export function requireRuns(store: TrackerStore, runIds: readonly string[]): RunRecord[] {
  if (runIds.length === 0) return [];
  const found = new Map(listRuns(store, { where: { field: 'id', op: 'in', value: [...runIds] } }).map((r) => [r.id, r]));
  const unknown = runIds.filter((id) => !found.has(id));
  if (unknown.length > 0) throw new ConfigError(`no run ${unknown.map((id) => JSON.stringify(id)).join(', ')} in ${store.file}; list runs with \`glyphlab runs ls\``);
  return [...new Set(runIds)].map((id) => found.get(id) as RunRecord);
}

