/**
 * JSON that keeps what `JSON.stringify` would lose: NaN and the infinities become the strings
 * `"NaN"`, `"Infinity"`, `"-Infinity"` (plain JSON has no such numbers and would write `null`),
 * and a bigint its decimal string (plain JSON throws). The store, the CLI's `--json` and the
 * files glyphlab writes all use it.
 */

/**
 * A `JSON.stringify` replacer for the values plain JSON loses (see the file comment).
 *
 * @example
 * JSON.stringify({ loss: Number.NaN }, jsonSafe); // '{"loss":"NaN"}'
 */
export function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return value.toString();
  return value;
}
