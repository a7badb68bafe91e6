/**
 * Random equation labels following the grammar of `equation-grammar.ts`, with a settable share
 * of each form, and the label statistics that synthesis and exploration report.
 */
import { ConfigError } from '../../errors';
import type { Rng } from '../../util/rng';
import { EQUATION_ALPHABET } from '../../labels/alphabet';
import { EQUATION_OPERATORS, equationLabel } from '../../labels/equation-grammar';

/** The three forms of a left side: `a+b*c`, `(a+b)*c`, `a+(b*c)`. */
export const EQUATION_FORMS = ['plain', 'parens-first', 'parens-last'] as const;
export type EquationForm = (typeof EQUATION_FORMS)[number];

/** Relative weight of each form; they need not sum to 1. */
export type FormShares = Record<EquationForm, number>;

/** Equal shares: a third of the labels in each form. */
export const DEFAULT_FORM_SHARES: Readonly<FormShares> = { plain: 1, 'parens-first': 1, 'parens-last': 1 };

/**
 * Parses form shares such as `plain:2,parens-first:1,parens-last:1` (missing forms get 0).
 * Throws a ConfigError naming the bad part and the accepted forms.
 */
export function parseFormShares(text: string): FormShares {
  const shares: FormShares = { plain: 0, 'parens-first': 0, 'parens-last': 0 };
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [name, weightText] = part.split(':');
    const weight = weightText === undefined ? 1 : Number(weightText);
    if (!EQUATION_FORMS.includes(name as EquationForm) || !Number.isFinite(weight) || weight < 0) {
      throw new ConfigError(
        `bad form share ${JSON.stringify(part)}: expected FORM:WEIGHT with FORM one of ${EQUATION_FORMS.join(', ')} and WEIGHT >= 0, e.g. plain:2,parens-first:1,parens-last:1`,
      );
    }
    shares[name as EquationForm] = weight;
  }
  checkFormShares(shares);
  return shares;
}

function checkFormShares(shares: FormShares): void {
  const total = EQUATION_FORMS.reduce((sum, form) => sum + (shares[form] ?? 0), 0);
  if (!(total > 0) || EQUATION_FORMS.some((form) => !(shares[form] >= 0))) {
    throw new ConfigError(`form shares ${JSON.stringify(shares)} must be >= 0 with a positive total`);
  }
}

/** Draws a form with probability proportional to its share. */
export function pickForm(rng: Rng, shares: FormShares = DEFAULT_FORM_SHARES): EquationForm {
  const total = EQUATION_FORMS.reduce((sum, form) => sum + shares[form], 0);
  let x = rng.next() * total;
  for (const form of EQUATION_FORMS) {
    x -= shares[form];
    if (x < 0) return form;
  }
  return 'plain';
}

/**
 * A random equation label such as `(1-8)*4=-28`: three random digits, two operators from
 * `+ - *`, parentheses by form, `=`, and the integer result.
 */
export function randomEquationLabel(rng: Rng, shares: FormShares = DEFAULT_FORM_SHARES): string {
  const form = pickForm(rng, shares);
  const a = rng.int(10);
  const b = rng.int(10);
  const c = rng.int(10);
  const op1 = rng.pick(EQUATION_OPERATORS);
  const op2 = rng.pick(EQUATION_OPERATORS);
  const left =
    form === 'plain' ? `${a}${op1}${b}${op2}${c}` : form === 'parens-first' ? `(${a}${op1}${b})${op2}${c}` : `${a}${op1}(${b}${op2}${c})`;
  return equationLabel(left);
}

/** Counts of label lengths and of each alphabet character over a set of labels. */
export interface LabelDistributions {
  count: number;
  /** Label length -> number of labels, ascending by length. */
  lengthCounts: Map<number, number>;
  /** Character -> occurrences, in alphabet order (characters outside it appended). */
  charCounts: Map<string, number>;
  /** Character -> number of labels containing it at least once. */
  labelsWithChar: Map<string, number>;
}

/** Label-length and character distributions of `labels`. */
export function labelDistributions(labels: Iterable<string>): LabelDistributions {
  const lengths = new Map<number, number>();
  const chars = new Map<string, number>(Array.from(EQUATION_ALPHABET, (c) => [c, 0]));
  const withChar = new Map<string, number>(Array.from(EQUATION_ALPHABET, (c) => [c, 0]));
  let count = 0;
  for (const label of labels) {
    count++;
    const symbols = Array.from(label);
    lengths.set(symbols.length, (lengths.get(symbols.length) ?? 0) + 1);
    for (const symbol of symbols) chars.set(symbol, (chars.get(symbol) ?? 0) + 1);
    for (const symbol of new Set(symbols)) withChar.set(symbol, (withChar.get(symbol) ?? 0) + 1);
  }
  const lengthCounts = new Map([...lengths.entries()].sort((x, y) => x[0] - y[0]));
  return { count, lengthCounts, charCounts: chars, labelsWithChar: withChar };
}

/** A short text report of label distributions, e.g. for the CLI. */
export function formatLabelDistributions(stats: LabelDistributions): string {
  const percent = (n: number): string => `${((100 * n) / Math.max(1, stats.count)).toFixed(1)}%`;
  const lengths = [...stats.lengthCounts].map(([length, n]) => `${length}: ${n} (${percent(n)})`).join(', ');
  const total = [...stats.charCounts.values()].reduce((a, b) => a + b, 0);
  const chars = [...stats.charCounts]
    .map(([c, n]) => `${c} ${((100 * n) / Math.max(1, total)).toFixed(1)}%`)
    .join(', ');
  return `label lengths: ${lengths}\ncharacters (share of all symbols): ${chars}`;
}
