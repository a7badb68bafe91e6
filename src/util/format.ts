/**
 * Numbers as people read them, one way everywhere: the CLI, reports, dashboards and charts
 * print a share of 0.9525 as `95.25%` through {@link percent}.
 */

/**
 * A share (0.9525) as a percentage (`95.25%`) with `digits` decimals; `missing` for a value
 * that is absent or not a finite number.
 *
 * @example
 * percent(0.9525);            // '95.25%'
 * percent(0.1234, 1);         // '12.3%'
 * percent(undefined);         // '?'
 * percent(Number.NaN, 2, ''); // ''
 */
export function percent(value: number | null | undefined, digits = 2, missing = '?'): string {
  return value === null || value === undefined || !Number.isFinite(value) ? missing : `${(value * 100).toFixed(digits)}%`;
}
