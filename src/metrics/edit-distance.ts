/**
 * Levenshtein distance between strings and the alignment behind it, over Unicode code points.
 * The alignment feeds the character error rate and the confusion pairs.
 */

/** One step of an edit alignment from `truth` to `predicted`. */
export interface EditStep {
  op: 'match' | 'substitute' | 'insert' | 'delete';
  /** The truth symbol; `''` for an insertion. */
  truth: string;
  /** The predicted symbol; `''` for a deletion. */
  predicted: string;
}

function costTable(truth: string[], predicted: string[]): Uint32Array {
  const width = predicted.length + 1;
  const table = new Uint32Array((truth.length + 1) * width);
  for (let j = 0; j <= predicted.length; j++) table[j] = j;
  for (let i = 1; i <= truth.length; i++) {
    table[i * width] = i;
    for (let j = 1; j <= predicted.length; j++) {
      const substitution = (table[(i - 1) * width + j - 1] as number) + (truth[i - 1] === predicted[j - 1] ? 0 : 1);
      const deletion = (table[(i - 1) * width + j] as number) + 1;
      const insertion = (table[i * width + j - 1] as number) + 1;
      table[i * width + j] = Math.min(substitution, deletion, insertion);
    }
  }
  return table;
}

/** The Levenshtein distance: fewest insertions, deletions and substitutions turning `truth` into `predicted`. */
export function editDistance(truth: string, predicted: string): number {
  const a = Array.from(truth);
  const b = Array.from(predicted);
  return costTable(a, b)[a.length * (b.length + 1) + b.length] as number;
}

/**
 * A minimal edit alignment from `truth` to `predicted`, in reading order. Where several are
 * minimal, substitutions are preferred over an insertion plus a deletion.
 *
 * @example
 * editAlignment('1+2=3', '1+2=8'); // ..., { op: 'substitute', truth: '3', predicted: '8' }
 */
export function editAlignment(truth: string, predicted: string): EditStep[] {
  const a = Array.from(truth);
  const b = Array.from(predicted);
  const table = costTable(a, b);
  const width = b.length + 1;
  const steps: EditStep[] = [];
  let i = a.length;
  let j = b.length;
  while (i > 0 || j > 0) {
    const here = table[i * width + j] as number;
    if (i > 0 && j > 0) {
      const same = a[i - 1] === b[j - 1];
      if (here === (table[(i - 1) * width + j - 1] as number) + (same ? 0 : 1)) {
        steps.push({ op: same ? 'match' : 'substitute', truth: a[i - 1] as string, predicted: b[j - 1] as string });
        i--;
        j--;
        continue;
      }
    }
    if (i > 0 && here === (table[(i - 1) * width + j] as number) + 1) {
      steps.push({ op: 'delete', truth: a[i - 1] as string, predicted: '' });
      i--;
    } else {
      steps.push({ op: 'insert', truth: '', predicted: b[j - 1] as string });
      j--;
    }
  }
  return steps.reverse();
}
