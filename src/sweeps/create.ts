/**
 * `createSweep`: records a sweep in the store a location names and, on a PostgreSQL store,
 * queues one pg-boss job per trial. The one entry point for the CLI and notebooks.
 */
import { closeStore, openStore } from '../tracker/store';
import { databasePath } from '../util/paths';
import { isPostgresUrl } from '../util/store-target';
import { enqueueSweep, openPgBoss } from './queue';
import { type CreateSweepOptions, createSweepRecord, deleteSweepRecord, type Sweep } from './sweep';

/**
 * Creates sweep `options.name` in the store `db` (a SQLite file or a `postgres://` URL; defaults
 * to GLYPHLAB_DB or experiments/glyphlab.db). Nothing trains yet: start workers
 * (`glyphlab worker`, or {@link runWorker}). When the trials cannot be queued, the sweep is
 * removed again, so that the same create can be repeated.
 *
 * @example
 * await createSweep({ name: 'lr', space: { lr: { loguniform: [1e-4, 1e-2] } }, trials: 8, trialMinutes: 5, train: { data: 'data/equations' } });
 */
export async function createSweep(options: CreateSweepOptions & { db?: string }): Promise<Sweep> {
  const db = options.db ?? databasePath();
  const postgres = isPostgresUrl(db);
  const store = openStore(db);
  try {
    const sweep = createSweepRecord(store, options, postgres ? 'pg-boss' : 'local');
    if (!postgres) return sweep;
    try {
      const boss = await openPgBoss(db);
      try {
        await enqueueSweep(boss, sweep, Array.from({ length: sweep.trials }, (_, trial) => trial));
      } finally {
        await boss.stop({ graceful: false, wait: true });
      }
    } catch (error) {
      deleteSweepRecord(store, sweep.name);
      throw error;
    }
    return sweep;
  } finally {
    closeStore(store);
  }
}
