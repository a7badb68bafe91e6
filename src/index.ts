/**
 * glyphlab's public API: everything notebooks and scripts may import. Exported by name; modules
 * not listed here are internal.
 */

// Errors
export { GlyphlabError, ConfigError, DataError, TrackerError, BackendError, NotebookError } from './errors';
export { version } from './version';

// Utilities
export { createRng, hashString32, type Rng } from './util/rng';
export { sha256, sha256File } from './util/hash';
export { projectRoot, dataDir, experimentsDir, databasePath } from './util/paths';

// Compute backend
export {
  initBackend,
  getBackendInfo,
  describeBackend,
  registerWasmTrainingKernels,
  BACKEND_NAMES,
  type BackendName,
  type BackendInfo,
  type InitBackendOptions,
} from './backend';
export { runSelfCheck, type SelfCheckOptions, type SelfCheckResult } from './backend/self-check';

// Training lifecycle
export { Callback, CallbackList, type Logs, type TrainBeginEvent, type TrainEndEvent } from './training/callbacks';
