/** Aligned text tables for the CLI's listings (`runs ls`, `center-loss`) and the benchmarks. */

/**
 * Renders rows as an aligned text table: each column as wide as its widest cell, two spaces
 * between columns, no trailing spaces.
 *
 * @example
 * textTable(['id', 'status'], [['r1', 'finished']]); // 'id  status\nr1  finished'
 */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows].map((r) => r.map((cell, i) => (cell ?? '').padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}
