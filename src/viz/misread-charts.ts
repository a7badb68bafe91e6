/**
 * A run's misread images with what was read: each picture inlined as a `data:` URI (so a
 * dashboard stays one file that opens offline), the truth and the reading side by side with the
 * characters that differ marked. Every picture is read through the bounded reader of image/
 * (a size limit per file, FIFOs and devices refused) and only the first `maxImages` are read.
 */
import { statSync } from 'node:fs';
import { errorMessage } from '../errors';
import { imageFileLimit, readRegularFileSync } from '../image/read-file';
import { describeBytes } from '../image/limits';
import { editAlignment } from '../metrics/edit-distance';
import { escapeHtml } from './html';

/** One misread sample: its image, the truth, what the model read, and the character error rate of the reading. */
export interface MisreadSample {
  /** The image file (absolute, or relative to the working folder). */
  path: string;
  truth: string;
  read: string;
  /** Edit distance over the truth's length; null where the truth is empty. Defaults to none shown. */
  cer?: number | null;
}

/** Options of {@link misreadGalleryHtml}. */
export interface MisreadGalleryOptions {
  /** Show at most this many misreads (and read only their images). Defaults to 24. */
  maxImages?: number;
  /** Largest image file inlined, in bytes; a larger one is named instead. Defaults to 1 MiB. */
  maxImageBytes?: number;
  /** CSS height of each picture. Defaults to '40px'. */
  imageHeight?: string;
  /** How many misreads there are in all, when `misreads` holds only some: the caption says "24 of N". Defaults to `misreads.length`. */
  total?: number;
}

/** The picture formats a browser shows, by their first bytes. */
const IMAGE_SIGNATURES: readonly [mime: string, test: (bytes: Buffer) => boolean][] = [
  ['image/png', (b) => b.length >= 8 && b.readUInt32BE(0) === 0x89504e47],
  ['image/jpeg', (b) => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  ['image/gif', (b) => b.length >= 6 && b.subarray(0, 4).toString('latin1') === 'GIF8'],
  ['image/webp', (b) => b.length >= 12 && b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP'],
];

/** Options of {@link imageFileBytes}. */
export interface ImageFileOptions {
  /** Largest file read, in bytes; a larger one is a problem, not read. Defaults to 1 MiB. */
  maxBytes?: number;
  /** What the too-large message calls the limit, after its size: "more than the 1 MB limit for a misread image". Defaults to `'limit for a misread image'`. */
  limitName?: string;
}

/**
 * An image file's bytes and type, read within `options.maxBytes`; or why it cannot be shown
 * (missing, too large, not a regular file, not a PNG, JPEG, GIF or WebP picture by its first
 * bytes). For a server that sends the bytes as they are; {@link imageFileDataUri} inlines them.
 *
 * @example
 * const image = imageFileBytes(path, { maxBytes: 2 ** 20 });
 * if ('bytes' in image) response.writeHead(200, { 'content-type': image.mime }).end(image.bytes);
 */
export function imageFileBytes(path: string, options: ImageFileOptions = {}): { bytes: Buffer; mime: string } | { problem: string } {
  const maxBytes = options.maxBytes ?? 2 ** 20;
  const limitName = options.limitName ?? 'limit for a misread image';
  let bytes: Buffer;
  try {
    // Said plainly first: the reader's own message would name GLYPHLAB_MAX_IMAGE_BYTES, which does not set this limit.
    const size = statSync(path).size;
    if (size > maxBytes) return { problem: `${path} is ${describeBytes(size)}, more than the ${describeBytes(maxBytes)} ${limitName}` };
    // The bounded read still checks: the file may have changed, or be a FIFO or a device.
    bytes = readRegularFileSync(path, imageFileLimit(maxBytes));
  } catch (error) {
    const code = (error as { code?: string }).code;
    return { problem: code === 'ENOENT' ? `image missing: ${path}` : errorMessage(error) };
  }
  const mime = IMAGE_SIGNATURES.find(([, test]) => test(bytes))?.[0];
  if (!mime) return { problem: `${path} is not a PNG, JPEG, GIF or WebP picture` };
  return { bytes, mime };
}

/**
 * An image file as a `data:` URI, read within `maxBytes`; or why it cannot be shown (see
 * {@link imageFileBytes}; too large says "a page inlines", which `maxImageBytes` raises).
 *
 * @example
 * const image = imageFileDataUri('/data/equations/images/0001.png');
 * if ('src' in image) html += `<img src="${image.src}">`;
 */
export function imageFileDataUri(path: string, maxBytes = 2 ** 20): { src: string } | { problem: string } {
  const image = imageFileBytes(path, { maxBytes, limitName: 'a page inlines (maxImageBytes raises it)' });
  return 'problem' in image ? image : { src: `data:${image.mime};base64,${image.bytes.toString('base64')}` };
}

/** Inline style of a marked character: a notebook output has no stylesheet. */
const MARK_STYLE = 'background: #ffd7d7; color: #a00; border-radius: 2px;';

/**
 * The truth and the reading as HTML, the characters that differ wrapped in `<mark>`: in the
 * truth those read wrong or dropped, in the reading those read wrong or added. A dropped
 * character shows as a marked `∅` in the reading, an added one as a marked `∅` in the truth, so
 * the two lines stay aligned character by character.
 *
 * @example
 * markedDifferenceHtml('1+2=3', '1+2=8'); // { truth: '1+2=<mark ...>3</mark>', read: '1+2=<mark ...>8</mark>' }
 */
export function markedDifferenceHtml(truth: string, read: string): { truth: string; read: string } {
  const mark = (text: string): string => `<mark style="${MARK_STYLE}">${escapeHtml(text)}</mark>`;
  let truthHtml = '';
  let readHtml = '';
  for (const step of editAlignment(truth, read)) {
    if (step.op === 'match') {
      truthHtml += escapeHtml(step.truth);
      readHtml += escapeHtml(step.predicted);
    } else {
      truthHtml += mark(step.truth || '∅');
      readHtml += mark(step.predicted || '∅');
    }
  }
  return { truth: truthHtml, read: readHtml };
}

/**
 * A table of misread samples: picture, truth, reading (differences marked) and CER, at most
 * `maxImages` rows. A picture that cannot be shown (missing, too large, not an image) leaves its
 * row with the reason in its place; nothing is left out silently.
 *
 * @example
 * tslab.display.html(misreadGalleryHtml(misreads.samples, { maxImages: 12, total: misreads.listed }));
 */
export function misreadGalleryHtml(misreads: readonly MisreadSample[], options: MisreadGalleryOptions = {}): string {
  const maxImages = options.maxImages ?? 24;
  const maxImageBytes = options.maxImageBytes ?? 2 ** 20;
  const height = escapeHtml(options.imageHeight ?? '40px');
  const total = options.total ?? misreads.length;
  if (misreads.length === 0 || maxImages < 1) return '<p class="glyphlab-misreads-empty">No misread images.</p>';
  const shown = misreads.slice(0, maxImages);
  const showsCer = shown.some((m) => m.cer !== undefined);
  const rows = shown.map((m) => {
    const image = imageFileDataUri(m.path, maxImageBytes);
    const picture =
      'src' in image
        ? `<img src="${image.src}" style="height: ${height}; image-rendering: auto;" alt="${escapeHtml(m.truth)}" title="${escapeHtml(m.path)}">`
        : `<span class="glyphlab-misread-missing" style="color: #777; font-style: italic;">${escapeHtml(image.problem)}</span>`;
    const marked = markedDifferenceHtml(m.truth, m.read);
    const cer = showsCer ? `<td>${m.cer === undefined || m.cer === null ? '–' : m.cer.toFixed(3)}</td>` : '';
    return `<tr><td>${picture}</td><td><code>${marked.truth}</code></td><td><code>${m.read === '' ? '<i>(nothing)</i>' : marked.read}</code></td>${cer}</tr>`;
  });
  const caption = shown.length < total ? `<caption style="caption-side: bottom; text-align: left; color: #666;">${shown.length} of ${total} misreads shown</caption>` : '';
  const head = `<tr><th>image</th><th>truth</th><th>read</th>${showsCer ? '<th>CER</th>' : ''}</tr>`;
  return `<table class="glyphlab-misreads">${caption}<thead>${head}</thead><tbody>${rows.join('')}</tbody></table>`;
}
