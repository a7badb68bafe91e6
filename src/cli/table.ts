/** Aligned text tables for the CLI's listings (`runs ls`, `center-loss`) and the benchmarks. */

/** Characters that act on a terminal or reorder what it shows: C0 and C1 controls, DEL, bidirectional marks and overrides, line and paragraph separators. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

/**
 * `text` safe to print on a terminal: control characters (escape sequences, bells, a carriage
 * return that overwrites the line) and bidirectional overrides (which reorder what is shown) are
 * written as visible escapes, so that a run's name, note or tag can neither act on the terminal
 * nor hide what it holds. Ordinary text, non-Latin scripts included, is unchanged.
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
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * Renders rows as an aligned text table: each column as wide as its widest cell, two spaces
 * between columns, no trailing spaces. Cells are made {@link printable}.
 *
 * @example
 * textTable(['id', 'status'], [['r1', 'finished']]); // 'id  status\nr1  finished'
 */
export function textTable(header: string[], rows: string[][]): string {
  const cells = [header, ...rows].map((row) => row.map((cell) => printable(cell ?? '')));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}
