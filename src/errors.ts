/**
 * glyphlab's error types. Every error names the offending value and what would have been
 * accepted, so that the CLI can print `error.message` alone as its one-line reason.
 */

/** Base class of every error glyphlab throws on purpose. */
export class GlyphlabError extends Error {
  /** A short machine-readable code, e.g. `E_CONFIG`. */
  readonly code: string;

  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message);
    this.name = new.target.name;
    this.code = options.code ?? 'E_GLYPHLAB';
    if (options.cause !== undefined) {
      // Assigned rather than passed to super(): `ErrorOptions` is not in every lib target
      // that tslab's TypeScript 5.0 compiles against.
      (this as { cause?: unknown }).cause = options.cause;
    }
  }
}

/** A bad option, argument or environment variable. */
export class ConfigError extends GlyphlabError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'E_CONFIG', ...options });
  }
}

/** Bad or missing input data: a file, a row, a label. */
export class DataError extends GlyphlabError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'E_DATA', ...options });
  }
}

/** A compute backend that cannot be loaded or lacks what is asked of it. */
export class BackendError extends GlyphlabError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'E_BACKEND', ...options });
  }
}

/** A failure of the experiment store; carries the SQL and its parameters when there are any. */
export class TrackerError extends GlyphlabError {
  readonly sql: string | undefined;
  readonly params: unknown;

  constructor(message: string, options: { cause?: unknown; sql?: string; params?: unknown } = {}) {
    super(message, { code: 'E_TRACKER', cause: options.cause });
    this.sql = options.sql;
    this.params = options.params;
  }
}

/** A notebook cell or kernel failure. */
export class NotebookError extends GlyphlabError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'E_NOTEBOOK', ...options });
  }
}

/** The message of any thrown value, for one-line reports. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
