/**
 * The label language of the equation reader: its alphabet and class indices, the grammar and
 * arithmetic of equations, and the look-alike characters a recogniser confuses.
 *
 * The public names of labels/, by module; a notebook imports them from
 * `./glyphlab/labels/index`. The entry points most work starts from are also in src/index.ts.
 */

// alphabet: the equation alphabet and its class indices (blank last)
export { EQUATION_ALPHABET, BLANK_INDEX, NUM_CLASSES, encodeLabel, decodeLabel } from './alphabet';

// equation-grammar: the grammar and arithmetic of equation labels
export {
  EQUATION_OPERATORS,
  parseLeftSide,
  evaluateLeftSide,
  equationResult,
  equationLabel,
  parseEquation,
  evaluateEquation,
  isWellFormedEquation,
  isValidEquation,
  type EquationOperator,
  type EquationParens,
  type EquationLeftSide,
  type ParsedEquation,
} from './equation-grammar';

// lookalike: look-alike character groups and how rich a label is in them
export { LOOKALIKE_GROUPS, LOOKALIKE_CHARS, lookalikeCount, lookalikeShare } from './lookalike';
