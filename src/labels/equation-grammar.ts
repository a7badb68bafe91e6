/**
 * The grammar of equation labels (the reference implementation's) and their arithmetic: three
 * single digits, two operators from `+ - *`, optional parentheses around the first or the last
 * pair, `=`, and the integer result, e.g. `(1-8)*4=-28`, `9-(7-4)=6`, `7+8*2=23`. Without
 * parentheses the usual precedence holds: `*` binds before `+` and `-`.
 */
import { DataError } from '../errors';

/** The operators equations use. */
export const EQUATION_OPERATORS = ['+', '-', '*'] as const;
export type EquationOperator = (typeof EQUATION_OPERATORS)[number];

/** Where the parentheses of a left side sit. */
export type EquationParens = 'none' | 'first' | 'last';

/** A left side of the grammar, split into its parts. */
export interface EquationLeftSide {
  /** The three digits, left to right. */
  digits: [number, number, number];
  /** The two operators, left to right. */
  operators: [EquationOperator, EquationOperator];
  /** `'first'` for `(a+b)*c`, `'last'` for `a-(b-c)`, `'none'` for `a+b*c`. */
  parens: EquationParens;
}

/** A parsed equation: its left side, the result as written, and the true result. */
export interface ParsedEquation extends EquationLeftSide {
  /** The left side text, e.g. `(1-8)*4`. */
  leftSide: string;
  /** The result written after `=`. */
  statedResult: number;
  /** The value of the left side. */
  trueResult: number;
  /** Whether the stated result equals the true one. */
  isTrue: boolean;
}

const DIGIT = '([0-9])';
const OP = '([-+*])';
const LEFT_SIDE_PATTERNS: [RegExp, EquationParens][] = [
  [new RegExp(`^${DIGIT}${OP}${DIGIT}${OP}${DIGIT}$`), 'none'],
  [new RegExp(`^\\(${DIGIT}${OP}${DIGIT}\\)${OP}${DIGIT}$`), 'first'],
  [new RegExp(`^${DIGIT}${OP}\\(${DIGIT}${OP}${DIGIT}\\)$`), 'last'],
];
// Integers as written by the synthesiser: no leading zeros, no `+`, no `-0`.
const RESULT_PATTERN = /^(?:0|-?[1-9][0-9]*)$/;

function apply(a: number, operator: EquationOperator, b: number): number {
  if (operator === '+') return a + b;
  if (operator === '-') return a - b;
  return a * b;
}

/** Parses a left side such as `(1-8)*4`; `undefined` when it is not in the grammar. */
export function parseLeftSide(text: string): EquationLeftSide | undefined {
  for (const [pattern, parens] of LEFT_SIDE_PATTERNS) {
    const match = pattern.exec(text);
    if (!match) continue;
    return {
      digits: [Number(match[1]), Number(match[3]), Number(match[5])],
      operators: [match[2] as EquationOperator, match[4] as EquationOperator],
      parens,
    };
  }
  return undefined;
}

/** The value of a parsed left side, honouring parentheses and `*` before `+ -`. */
export function evaluateLeftSide(left: EquationLeftSide): number {
  const [a, b, c] = left.digits;
  const [op1, op2] = left.operators;
  const groupLast = left.parens === 'last' || (left.parens === 'none' && op2 === '*' && op1 !== '*');
  return groupLast ? apply(a, op1, apply(b, op2, c)) : apply(apply(a, op1, b), op2, c);
}

/**
 * The integer result of a left side. Throws a DataError when the text is not a left side of the
 * grammar.
 *
 * @example
 * equationResult('(1-8)*4'); // -28
 * equationResult('7+8*2'); // 23
 */
export function equationResult(leftSide: string): number {
  const parsed = parseLeftSide(leftSide);
  if (!parsed) {
    throw new DataError(
      `${JSON.stringify(leftSide)} is not an equation left side; accepted are three digits and two ` +
        `operators from + - *, with optional parentheses around the first or last pair, e.g. "(1-8)*4"`,
    );
  }
  return evaluateLeftSide(parsed);
}

/** A full equation label for a left side: `equationLabel('(1-8)*4') === '(1-8)*4=-28'`. */
export function equationLabel(leftSide: string): string {
  return `${leftSide}=${equationResult(leftSide)}`;
}

/**
 * Parses a whole label such as `9-(7-4)=6` into its parts; `undefined` when it does not follow
 * the grammar. A grammatical label may still be false (`1+1=3`): see `isTrue`.
 */
export function parseEquation(text: string): ParsedEquation | undefined {
  const equals = text.indexOf('=');
  if (equals < 0 || text.indexOf('=', equals + 1) >= 0) return undefined;
  const leftSide = text.slice(0, equals);
  const resultText = text.slice(equals + 1);
  if (!RESULT_PATTERN.test(resultText)) return undefined;
  const left = parseLeftSide(leftSide);
  if (!left) return undefined;
  const statedResult = Number(resultText);
  const trueResult = evaluateLeftSide(left);
  return { ...left, leftSide, statedResult, trueResult, isTrue: statedResult === trueResult };
}

/**
 * Parses and checks a label, throwing a DataError when it does not follow the grammar. Use
 * {@link parseEquation} where ungrammatical text is expected (decoding).
 */
export function evaluateEquation(text: string): ParsedEquation {
  const parsed = parseEquation(text);
  if (!parsed) {
    throw new DataError(
      `${JSON.stringify(text)} is not an equation label; accepted are a left side of three digits and ` +
        `two operators from + - * (optional parentheses around the first or last pair), "=", and an ` +
        `integer without leading zeros, e.g. "(1-8)*4=-28"`,
    );
  }
  return parsed;
}

/** Whether `text` follows the equation grammar (true or not). */
export function isWellFormedEquation(text: string): boolean {
  return parseEquation(text) !== undefined;
}

/** Whether `text` follows the equation grammar and its result is arithmetically true. */
export function isValidEquation(text: string): boolean {
  return parseEquation(text)?.isTrue === true;
}
