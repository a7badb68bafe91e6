/** The values each replica contributes to each reduction of collective.test.ts, and their sums. */

/** Length varies with the call, like batch norms of different widths. */
function lengthOf(call: number): number {
  return 3 + (call % 5) * 17;
}

export function reductionInput(rank: number, call: number): Float64Array {
  return Float64Array.from({ length: lengthOf(call) }, (_, i) => (rank + 1) * 1000 + call * 3 + i);
}

export function expectedReduction(replicas: number, call: number): Float64Array {
  const sum = new Float64Array(lengthOf(call));
  for (let rank = 0; rank < replicas; rank++) {
    const values = reductionInput(rank, call);
    for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + (values[i] as number);
  }
  return sum;
}
