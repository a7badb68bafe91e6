/**
 * The largest image glyphlab decodes. Image formats compress flat areas enormously: a 1.6 MB PNG
 * can declare 20000 x 20000 pixels, 1.2 GB once decoded as RGB. So every reader takes the size
 * from the file's header first and refuses an image above this limit before decoding anything.
 * `GLYPHLAB_MAX_IMAGE_PIXELS` raises (or lowers) it for every command, worker thread and notebook;
 * the readers also take a `maxPixels` option.
 */
import { ConfigError, DataError } from '../errors';

/** Pixels (width x height) an image may have unless `GLYPHLAB_MAX_IMAGE_PIXELS` says otherwise: 50 megapixels. */
export const DEFAULT_MAX_IMAGE_PIXELS = 50_000_000;

/**
 * The pixel limit in force: `GLYPHLAB_MAX_IMAGE_PIXELS` when set (a positive integer; anything
 * else is a ConfigError naming it), else {@link DEFAULT_MAX_IMAGE_PIXELS}.
 */
export function maxImagePixels(env: Record<string, string | undefined> = process.env): number {
  const raw = env['GLYPHLAB_MAX_IMAGE_PIXELS'];
  if (raw === undefined || raw.trim() === '') return DEFAULT_MAX_IMAGE_PIXELS;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(`GLYPHLAB_MAX_IMAGE_PIXELS ${JSON.stringify(raw)} is not valid: expected a whole number of pixels >= 1, e.g. 200000000`);
  }
  return value;
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
