/** Arithmetic on log-probabilities, shared by the CTC loss and the beam decoders. */

export const NEG_INF = Number.NEGATIVE_INFINITY;

/** log(exp(a) + exp(b)) without overflow or underflow; exact for infinite arguments. */
export function logAdd(a: number, b: number): number {
  if (a < b) {
    const swap = a;
    a = b;
    b = swap;
  }
  if (b === NEG_INF) return a;
  return a + Math.log1p(Math.exp(b - a));
}
