/**
 * The equation alphabet and the mapping between label text and class indices. The order is fixed
 * (the reference implementation's): operators, `=`, parentheses, then the digits; the CTC blank is
 * the last class, after the 16 symbols (the Keras convention `blank = classes - 1`).
 */
import { DataError } from '../errors';

/** The 16 symbols of equation labels, in class-index order: `+` is 0, `9` is 15. */
export const EQUATION_ALPHABET = '+-*=()0123456789';

/** The CTC blank's class index: one past the last symbol. */
export const BLANK_INDEX = EQUATION_ALPHABET.length;

/** Classes a recogniser outputs per time step: the 16 symbols plus the blank. */
export const NUM_CLASSES = EQUATION_ALPHABET.length + 1;

const INDEX_OF = new Map<string, number>(Array.from(EQUATION_ALPHABET, (symbol, index) => [symbol, index]));

/**
 * Encodes label text as class indices. Throws a DataError naming the first character outside
 * the alphabet, its position, and the accepted symbols.
 *
 * @example
 * encodeLabel('7+8*2=23'); // [13, 0, 14, 2, 8, 3, 8, 9]
 */
export function encodeLabel(text: string, alphabet: string = EQUATION_ALPHABET): number[] {
  const lookup = alphabet === EQUATION_ALPHABET ? INDEX_OF : new Map(Array.from(alphabet, (s, i) => [s, i]));
  const indices: number[] = [];
  let position = 0;
  for (const symbol of text) {
    const index = lookup.get(symbol);
    if (index === undefined) {
      throw new DataError(
        `label ${JSON.stringify(text)} has character ${JSON.stringify(symbol)} at position ${position}, ` +
          `which is not in the alphabet ${JSON.stringify(alphabet)}`,
      );
    }
    indices.push(index);
    position++;
  }
  return indices;
}

/**
 * Decodes class indices to label text. Throws a DataError for an index that is not a symbol of
 * the alphabet (the blank included: decoders drop blanks before calling this).
 */
export function decodeLabel(indices: readonly number[], alphabet: string = EQUATION_ALPHABET): string {
  let text = '';
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i] as number;
    const symbol = Number.isInteger(index) ? alphabet[index] : undefined;
    if (symbol === undefined) {
      throw new DataError(
        `label index ${index} at position ${i} is not a symbol index; accepted are integers 0..${alphabet.length - 1}`,
      );
    }
    text += symbol;
  }
  return text;
}
