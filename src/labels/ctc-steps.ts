/**
 * How many time steps a CTC model needs to emit a label: one per character, and one more (a
 * blank) between two equal neighbours, which a best path would otherwise merge (`11` needs
 * `1 - 1`). A label that needs more steps than the model's output has cannot be read, and its
 * CTC loss is infinite.
 */

/**
 * The least time steps a CTC path of `label` needs.
 *
 * @example
 * ctcStepsNeeded('1+2=3'); // 5
 * ctcStepsNeeded('11=11'); // 7
 */
export function ctcStepsNeeded(label: string): number {
  const chars = [...label];
  let repeats = 0;
  for (let i = 1; i < chars.length; i++) if (chars[i] === chars[i - 1]) repeats++;
  return chars.length + repeats;
}
