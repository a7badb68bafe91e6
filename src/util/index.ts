/**
 * Pure helpers every layer may use: a seeded RNG, content hashes, where glyphlab keeps its files.
 * Imports nothing else from src/.
 *
 * The public names of util/, by module; a notebook imports them from
 * `./glyphlab/util/index`. The entry points most work starts from are also in src/index.ts.
 */

// rng: seeded randomness (sfc32), reproducible on every machine
export { createRng, hashString32, type Rng } from './rng';

// hash: content hashes for fingerprints and checksums
export { sha256, sha256File } from './hash';

// paths: where glyphlab keeps data, experiments and the store (GLYPHLAB_* variables move them)
export { projectRoot, dataDir, experimentsDir, databasePath } from './paths';

// store-target: a store's file or PostgreSQL URL, and its password kept out of sight
export { isPostgresUrl, redactUrl, redactUrlsIn } from './store-target';
