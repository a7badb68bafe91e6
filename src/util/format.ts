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

/**
 * A duration for a progress line or an ETA: `42s`, `2m05s`, `1h03m`; `?` when unknown.
 *
 * @example
 * formatSeconds(119.6); // '2m00s'
 * formatSeconds(NaN);   // '?'
 */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  // Rounded once, before splitting: 119.6 s is 2m00s, not 1m60s.
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole}s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
