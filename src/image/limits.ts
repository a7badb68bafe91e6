/**
 * The largest image glyphlab reads and decodes. Image formats compress flat areas enormously: a
 * 1.6 MB PNG can declare 20000 x 20000 pixels, 1.2 GB once decoded as RGB. So every reader takes
 * the size from the file's header first and refuses an image above the pixel limit before
 * decoding anything. A file can also be large without declaring much (a small PNG padded with
 * gigabytes after its end), so a file above the byte limit is refused before it is read.
 * `GLYPHLAB_MAX_IMAGE_PIXELS` and `GLYPHLAB_MAX_IMAGE_BYTES` raise (or lower) them for every
 * command, worker thread and notebook; the readers also take `maxPixels` and `maxBytes` options.
 */
import { ConfigError, DataError } from '../errors';

/** Pixels (width x height) an image may have unless `GLYPHLAB_MAX_IMAGE_PIXELS` says otherwise: 50 megapixels. */
export const DEFAULT_MAX_IMAGE_PIXELS = 50_000_000;

/**
 * Bytes an image file may have unless `GLYPHLAB_MAX_IMAGE_BYTES` says otherwise: 64 MiB, a
 * hundred times a detailed 50-megapixel JPEG's usual size, and small enough that the 16 images a
 * check reads at once stay near a gigabyte.
 */
export const DEFAULT_MAX_IMAGE_BYTES = 64 * 2 ** 20;

/**
 * A positive whole number from the environment variable `name`, or `fallback` when it is unset
 * or empty; anything else is a ConfigError naming the variable, its value and an example.
 */
export function positiveIntegerFromEnv(env: Record<string, string | undefined>, name: string, fallback: number, what: string, example: string): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(`${name} ${JSON.stringify(raw)} is not valid: expected a whole number of ${what} >= 1, e.g. ${example}`);
  }
  return value;
}

/**
 * The pixel limit in force: `GLYPHLAB_MAX_IMAGE_PIXELS` when set (a positive integer; anything
 * else is a ConfigError naming it), else {@link DEFAULT_MAX_IMAGE_PIXELS}.
 */
export function maxImagePixels(env: Record<string, string | undefined> = process.env): number {
  return positiveIntegerFromEnv(env, 'GLYPHLAB_MAX_IMAGE_PIXELS', DEFAULT_MAX_IMAGE_PIXELS, 'pixels', '200000000');
}

/**
 * The byte limit of an image file in force: `GLYPHLAB_MAX_IMAGE_BYTES` when set (a positive
 * integer; anything else is a ConfigError naming it), else {@link DEFAULT_MAX_IMAGE_BYTES}.
 */
export function maxImageBytes(env: Record<string, string | undefined> = process.env): number {
  return positiveIntegerFromEnv(env, 'GLYPHLAB_MAX_IMAGE_BYTES', DEFAULT_MAX_IMAGE_BYTES, 'bytes', '268435456');
}

/** A byte count for messages: `1.5 GB`, `64 MB`, `812 KB`, `40 bytes` (powers of 1024). */
export function formatBytes(bytes: number): string {
  const units: [number, string][] = [
    [2 ** 30, 'GB'],
    [2 ** 20, 'MB'],
    [2 ** 10, 'KB'],
  ];
  for (const [size, unit] of units) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))} ${unit}`;
  }
  return `${bytes} bytes`;
}

/** A byte count for messages that says it exactly too: `1.5 GB (1610612736 bytes)`, `40 bytes`. */
export function describeBytes(bytes: number): string {
  return bytes < 1024 ? `${bytes} bytes` : `${formatBytes(bytes)} (${bytes} bytes)`;
}

/**
 * Throws a DataError when a `width` x `height` image (as its header declares) is larger than
 * `maxPixels`; `what` names it in the message (a path, or `PNG`).
 *
 * @example
 * checkImageSize(20000, 20000, 'scan.png'); // DataError: scan.png is 20000x20000 = 400000000 pixels, ...
 */
export function checkImageSize(width: number, height: number, what: string, maxPixels: number = maxImagePixels()): void {
  const pixels = width * height;
  if (pixels <= maxPixels) return;
  throw new DataError(
    `${what} is ${width}x${height} = ${pixels} pixels, more than the limit of ${maxPixels} ` +
      `(it would take ${Math.ceil((pixels * 3) / 2 ** 20)} MB to decode); a larger limit needs GLYPHLAB_MAX_IMAGE_PIXELS=N`,
  );
}
