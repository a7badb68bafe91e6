/**
 * Look-alike characters of the equation alphabet: the groups a recogniser confuses (1/7,
 * 6/8/9, 0/8, +/*, (/)), and how rich a label or a set of labels is in them. The center-loss
 * objective pulls apart the features of these groups; the look-alike evaluation set
 * (`synthesizeLookalikeSet`) is made rich in them.
 */

/** Look-alike groups of the equation alphabet: characters a recogniser confuses. */
export const LOOKALIKE_GROUPS: readonly string[] = ['17', '689', '08', '+*', '()'];

/** Every character that has a look-alike. */
export const LOOKALIKE_CHARS: ReadonlySet<string> = new Set(LOOKALIKE_GROUPS.join(''));

/** How many characters of `label` have a look-alike. */
export function lookalikeCount(label: string, chars: ReadonlySet<string> = LOOKALIKE_CHARS): number {
  let count = 0;
  for (const ch of label) if (chars.has(ch)) count++;
  return count;
}

/** Share of all characters of `labels` that have a look-alike. */
export function lookalikeShare(labels: Iterable<string>, chars: ReadonlySet<string> = LOOKALIKE_CHARS): number {
  let hits = 0;
  let total = 0;
  for (const label of labels) {
    hits += lookalikeCount(label, chars);
    total += Array.from(label).length;
  }
  return total === 0 ? 0 : hits / total;
}
