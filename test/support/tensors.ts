/** Domain assertions for tensors and numeric arrays. */
import assert from 'node:assert/strict';

/**
 * Asserts that two numeric arrays have the same length and agree element-wise within
 * `atol + rtol * |expected|`; the message names the first index that differs.
 */
export function expectArraysClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  options: { atol?: number; rtol?: number; label?: string } = {},
): void {
  const atol = options.atol ?? 1e-5;
  const rtol = options.rtol ?? 1e-4;
  const label = options.label ? `${options.label}: ` : '';
  assert.equal(actual.length, expected.length, `${label}length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      assert.fail(`${label}element ${i}: ${a} differs from expected ${e} by more than ${atol} + ${rtol}*|expected|`);
    }
  }
}
