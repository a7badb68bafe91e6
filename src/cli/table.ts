/**
 * Aligned text tables for the CLI's listings (`runs ls`, `center-loss`) and the benchmarks, and
 * the one place that makes stored or file-derived text safe to show on a terminal: run names,
 * notes, tags and params, file names from a labels file, error messages that quote them.
 */

/**
 * Characters that act on a terminal or reorder what it shows: C0 and C1 controls (ESC, BEL, a
 * carriage return that overwrites the line), DEL, the bidirectional marks, embeddings, overrides
 * and isolates (U+200E, U+200F, U+061C, U+202A-U+202E, U+2066-U+2069), line and paragraph separators.
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

/** The same characters as JSON text may hold them unescaped (JSON.stringify escapes only C0 controls). */
const UNPRINTABLE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

function unicodeEscape(ch: string): string {
  return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * `text` safe to print on a terminal: control characters (escape sequences, bells, a carriage
 * return that overwrites the line) and bidirectional controls (which reorder what is shown) are
 * written as visible escapes, so that a run's name, note or tag, or a file name from a labels
 * file, can neither act on the terminal nor hide what it holds. Ordinary text, non-Latin scripts
 * included, is unchanged, and so is text already made printable.
 *
 * @example
 * printable('ok\u001b[2Jwiped'); // 'ok\\x1b[2Jwiped'
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (ch) => {
    const code = ch.charCodeAt(0);
    if (code === 0x0a) return '\\n';
    if (code === 0x09) return '\\t';
    if (code === 0x0d) return '\\r';
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : unicodeEscape(ch);
  });
}

/**
 * {@link printable} line by line: the line breaks of a multi-line message (a filter error and
 * its caret line, CSV rows) are kept, everything else is escaped.
 *
 * @example
 * printableLines('a\u202eb\nc'); // 'a\\u202eb\nc'
 */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}

/**
 * JSON text with the characters of {@link printable} that JSON.stringify leaves raw (DEL, C1
 * controls, bidirectional controls, line separators) written as `\uXXXX` escapes. They can only
 * stand inside strings, where the escape means the same character: the JSON stays valid and
 * parses to the same value, but cannot reorder or act on a terminal.
 *
 * @example
 * printableJson(JSON.stringify({ name: 'a\u202eb' })); // '{"name":"a\\u202eb"}'
 */
export function printableJson(json: string): string {
  return json.replace(UNPRINTABLE_IN_JSON, unicodeEscape);
}

/**
 * Text for `stream`: exact when it goes to a file or a pipe (a CSV export stays the data
 * recorded), made {@link printableLines} when it goes to a terminal, where the data would act.
 */
export function textForStream(stream: NodeJS.WritableStream, text: string): string {
  return (stream as { isTTY?: boolean }).isTTY === true ? printableLines(text) : text;
}

/** The width tables are fitted to when the output is no terminal (a pipe, a file, a test). */
export const DEFAULT_OUTPUT_WIDTH = 120;

/**
 * The columns a table printed to `stream` should fit in: the terminal's width when it is a
 * terminal that reports one (`process.stdout.columns`), else {@link DEFAULT_OUTPUT_WIDTH}.
 */
export function outputWidth(stream: NodeJS.WritableStream): number {
  const tty = stream as { isTTY?: boolean; columns?: number };
  return tty.isTTY === true && typeof tty.columns === 'number' && tty.columns > 0 ? tty.columns : DEFAULT_OUTPUT_WIDTH;
}

/** The mark that stands for what an elided value leaves out. */
export const ELLIPSIS = '\u2026';

/**
 * `text` cut to at most `width` characters with an ellipsis: in the middle by default, so that
 * both ends stay (two paths, lists or ids that differ usually share a beginning and differ
 * towards the end), or at the end (free text, whose beginning says most). Unchanged when it fits.
 *
 * @example
 * elide('/data/experiments/equations', 16);        // '/data/ex…uations'
 * elide('a long run note', 8, 'end');               // 'a long …'
 */
export function elide(text: string, width: number, where: 'middle' | 'end' = 'middle'): string {
  if (text.length <= width) return text;
  if (width <= 1) return ELLIPSIS.slice(0, Math.max(0, width));
  if (where === 'end') return `${text.slice(0, width - 1)}${ELLIPSIS}`;
  const head = Math.ceil((width - 1) / 2);
  return `${text.slice(0, head)}${ELLIPSIS}${text.slice(text.length - (width - 1 - head))}`;
}

/** Options of {@link textTable}. */
export interface TextTableOptions {
  /** Fit the table in this many columns by eliding the cells of the `elidable` columns. Defaults to no limit. */
  width?: number;
  /** The columns (by index) whose cells may be elided, in the middle, to fit `width`. Defaults to none. */
  elidable?: readonly number[];
  /** The narrowest an elided column gets; a table that does not fit even so is printed wider. Defaults to 8. */
  minColumnWidth?: number;
}

/**
 * Renders rows as an aligned text table: each column as wide as its widest cell, two spaces
 * between columns, no trailing spaces. Cells are made {@link printable}. With `width`, the widest
 * `elidable` column is narrowed, again and again, until the table fits (see {@link elide}).
 *
 * @example
 * textTable(['id', 'status'], [['r1', 'finished']]); // 'id  status\nr1  finished'
 */
export function textTable(header: string[], rows: string[][], options: TextTableOptions = {}): string {
  const cells = [header, ...rows].map((row) => row.map((cell) => printable(cell ?? '')));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  if (options.width !== undefined) fitWidths(widths, options.width, options.elidable ?? [], options.minColumnWidth ?? 8);
  return cells.map((r) => r.map((cell, i) => elide(cell, widths[i] ?? 0).padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

/** Narrows the widest of the `elidable` columns of `widths`, one character at a time, until they sum (with gaps) to at most `width`. */
function fitWidths(widths: number[], width: number, elidable: readonly number[], minimum: number): void {
  const total = (): number => widths.reduce((sum, w) => sum + w, 0) + 2 * Math.max(0, widths.length - 1);
  let excess = total() - width;
  while (excess > 0) {
    let widest = -1;
    for (const i of elidable) if ((widths[i] ?? 0) > minimum && (widest < 0 || (widths[i] ?? 0) > (widths[widest] ?? 0))) widest = i;
    if (widest < 0) return;
    widths[widest]!--;
    excess--;
  }
}
