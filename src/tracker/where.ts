/**
 * Run filters: a structured form ({@link RunFilter}) for code, and a small expression language
 * for the CLI's `--where`, parsed into the same structure. Both compile to parameterised SQL:
 * values always travel as bound parameters, never inside the SQL text.
 *
 * The language:
 * ```
 * expr       := or
 * or         := and ("or" and)*
 * and        := not ("and" not)*
 * not        := "not" not | "(" expr ")" | comparison
 * comparison := field op value | field ["not"] "in" "(" value ("," value)* ")" | "tags" "contains" value
 * op         := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
 * field      := params.KEY | metrics.KEY[.last|.best] | tags | status | name | id | experiment
 *             | started_at | ended_at | host | backend | source | note | git_commit | threads
 * value      := "string" | 'string' | number | true | false | null
 * ```
 * `metrics.KEY` is the last value recorded; `metrics.KEY.best` the best. Dates take ISO strings
 * (`started_at >= "2026-11-01"`). A comparison on a param or metric a run lacks is false (so
 * `params.x != 1` skips runs without `x`; `not params.x = 1` keeps them).
 *
 * @example
 * params.model = "vgg19-crnn" and metrics.val_accuracy > 0.99 or not tags contains "bad"
 */
import { ConfigError } from '../errors';
import { RUN_STATUSES } from './schema';

/**
 * How large a filter may be. Each comparison becomes a subquery and each value a bound
 * parameter: far larger filters than these would fail in SQLite (expression depth, variables) or
 * take minutes, so they are refused when parsed, with a message saying which limit was reached.
 */
export const FILTER_LIMITS = {
  /** Characters of a `--where` expression. */
  length: 100_000,
  /** Comparisons (`field op value`, `in (...)`, `contains`). */
  comparisons: 256,
  /** Nested parentheses and `not`s. */
  depth: 32,
  /** Values in all comparisons together (an `in` list counts each). */
  values: 10_000,
} as const;

/** Most sort keys a listing takes (each sort on a param or metric is a join). */
export const MAX_SORT_KEYS = 16;

/** A literal in a filter. */
export type FilterValue = string | number | boolean | null;

/** Comparison operators of a filter leaf. */
export type FilterOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in' | 'contains';

/** A run filter: AND, OR, NOT of comparisons on params, metric summaries, tags and run columns. */
export type RunFilter =
  | { and: RunFilter[] }
  | { or: RunFilter[] }
  | { not: RunFilter }
  | { field: string; op: FilterOp; value: FilterValue | FilterValue[] };

/** A syntax error in a `--where` expression; the message shows the expression and a caret under the token. */
export class WhereSyntaxError extends ConfigError {
  constructor(
    readonly reason: string,
    readonly expression: string,
    /** 1-based column of the offending token. */
    readonly column: number,
  ) {
    const { text, caret } = excerpt(expression, column - 1);
    super(`bad filter expression at column ${column}: ${reason}\n  ${text}\n  ${' '.repeat(caret)}^`);
  }
}

/** The expression around offset `at` (a long one cut to about 80 characters), and the caret's place in it. */
function excerpt(expression: string, at: number): { text: string; caret: number } {
  if (expression.length <= 100) return { text: expression, caret: Math.max(0, at) };
  const start = Math.max(0, at - 50);
  const end = Math.min(expression.length, at + 30);
  const text = `${start > 0 ? '...' : ''}${expression.slice(start, end)}${end < expression.length ? '...' : ''}`;
  return { text, caret: Math.max(0, at - start) + (start > 0 ? 3 : 0) };
}

type TokenKind = 'ident' | 'string' | 'number' | 'op' | 'lparen' | 'rparen' | 'comma' | 'end';
interface Token {
  kind: TokenKind;
  text: string;
  value?: string | number;
  /** 0-based offset in the expression. */
  pos: number;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'contains', 'true', 'false', 'null']);

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (reason: string, pos: number): never => {
    throw new WhereSyntaxError(reason, expression, pos + 1);
  };
  while (i < expression.length) {
    const ch = expression[i] ?? '';
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const start = i;
    if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ kind: ch === '(' ? 'lparen' : ch === ')' ? 'rparen' : 'comma', text: ch, pos: start });
      i++;
    } else if (ch === '"' || ch === "'") {
      let value = '';
      i++;
      for (;;) {
        const c = expression[i];
        if (c === undefined) fail(`unterminated string (add a closing ${ch})`, start);
        if (c === '\\') {
          const next = expression[i + 1];
          if (next === undefined) fail('unterminated string (backslash at the end)', start);
          value += next;
          i += 2;
          continue;
        }
        i++;
        if (c === ch) break;
        value += c;
      }
      tokens.push({ kind: 'string', text: expression.slice(start, i), value, pos: start });
    } else if (/[0-9]/.test(ch) || ((ch === '-' || ch === '+' || ch === '.') && /[0-9.]/.test(expression[i + 1] ?? ''))) {
      const match = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?/i.exec(expression.slice(i));
      const text = match?.[0] ?? ch;
      const value = Number(text);
      if (!Number.isFinite(value)) fail(`${JSON.stringify(text)} is not a number`, start);
      tokens.push({ kind: 'number', text, value, pos: start });
      i += text.length;
    } else if (/[A-Za-z_]/.test(ch)) {
      const match = /^[A-Za-z_][\w.\-/]*/.exec(expression.slice(i));
      const text = match?.[0] ?? ch;
      tokens.push({ kind: 'ident', text, pos: start });
      i += text.length;
    } else if ('=!<>'.includes(ch)) {
      const two = expression.slice(i, i + 2);
      const text = ['==', '!=', '<>', '<=', '>='].includes(two) ? two : ch;
      if (text === '!') fail('"!" must be followed by "=" (use "not" to negate)', start);
      tokens.push({ kind: 'op', text, pos: start });
      i += text.length;
    } else {
      fail(`unexpected character ${JSON.stringify(ch)}`, start);
    }
  }
  tokens.push({ kind: 'end', text: 'end of expression', pos: expression.length });
  return tokens;
}

/**
 * Parses a `--where` expression into a {@link RunFilter}. A bad expression throws a
 * {@link WhereSyntaxError} whose message points at the offending token.
 */
export function parseWhere(expression: string): RunFilter {
  if (expression.length > FILTER_LIMITS.length) {
    throw new WhereSyntaxError(
      `the expression is ${expression.length} characters long; at most ${FILTER_LIMITS.length} are accepted (select runs with a tag, e.g. tags contains "keep", rather than listing them)`,
      `${expression.slice(0, 60)}...`,
      1,
    );
  }
  const tokens = tokenize(expression);
  let index = 0;
  let comparisons = 0;
  let values = 0;
  const peek = (): Token => tokens[index] ?? tokens[tokens.length - 1]!;
  const next = (): Token => tokens[index++] ?? tokens[tokens.length - 1]!;
  const isWord = (token: Token, word: string): boolean => token.kind === 'ident' && token.text.toLowerCase() === word;
  const describe = (token: Token): string => (token.kind === 'end' ? 'the end of the expression' : JSON.stringify(token.text));
  const fail = (reason: string, token: Token): never => {
    throw new WhereSyntaxError(reason, expression, token.pos + 1);
  };

  const parseValue = (after: string): FilterValue => {
    const token = next();
    if (++values > FILTER_LIMITS.values) fail(`more than ${FILTER_LIMITS.values} values in one filter; select runs with a tag rather than listing them`, token);
    if (token.kind === 'string' || token.kind === 'number') return token.value as FilterValue;
    if (isWord(token, 'true')) return true;
    if (isWord(token, 'false')) return false;
    if (isWord(token, 'null')) return null;
    return fail(`expected a value (a "string", a number, true, false or null) after ${after}, found ${describe(token)}`, token);
  };

  const parseComparison = (): RunFilter => {
    const fieldToken = next();
    if (++comparisons > FILTER_LIMITS.comparisons) fail(`more than ${FILTER_LIMITS.comparisons} comparisons in one filter; use "in (...)" for many values of one field, or a tag`, fieldToken);
    if (fieldToken.kind !== 'ident' || KEYWORDS.has(fieldToken.text.toLowerCase())) {
      return fail(`expected a field (params.KEY, metrics.KEY, tags, status, name, started_at, ...), found ${describe(fieldToken)}`, fieldToken);
    }
    const field = fieldToken.text;
    checkField(field, (reason) => fail(reason, fieldToken));
    const opToken = next();
    if (opToken.kind === 'op') {
      const op = opToken.text === '==' ? '=' : opToken.text === '<>' ? '!=' : (opToken.text as FilterOp);
      return { field, op, value: parseValue(`"${opToken.text}"`) };
    }
    if (isWord(opToken, 'contains')) return { field, op: 'contains', value: parseValue('"contains"') };
    let negated = false;
    let inToken = opToken;
    if (isWord(opToken, 'not')) {
      negated = true;
      inToken = next();
    }
    if (isWord(inToken, 'in')) {
      const open = next();
      if (open.kind !== 'lparen') fail(`expected "(" after "in", found ${describe(open)}`, open);
      const values: FilterValue[] = [parseValue('"("')];
      for (;;) {
        const token = next();
        if (token.kind === 'rparen') break;
        if (token.kind !== 'comma') fail(`expected "," or ")" in the list, found ${describe(token)}`, token);
        values.push(parseValue('","'));
      }
      return { field, op: negated ? 'not in' : 'in', value: values };
    }
    return fail(`expected an operator (= != < <= > >= in contains) after ${JSON.stringify(field)}, found ${describe(inToken)}`, inToken);
  };

  const parseNot = (depth: number): RunFilter => {
    const token = peek();
    if ((isWord(token, 'not') || token.kind === 'lparen') && depth >= FILTER_LIMITS.depth) {
      fail(`more than ${FILTER_LIMITS.depth} nested parentheses and "not"s`, token);
    }
    if (isWord(token, 'not')) {
      next();
      return { not: parseNot(depth + 1) };
    }
    if (token.kind === 'lparen') {
      next();
      const inner = parseOr(depth + 1);
      const close = next();
      if (close.kind !== 'rparen') fail(`expected ")" to close the "(" at column ${token.pos + 1}, found ${describe(close)}`, close);
      return inner;
    }
    return parseComparison();
  };
  const parseAnd = (depth: number): RunFilter => {
    const parts = [parseNot(depth)];
    while (isWord(peek(), 'and')) {
      next();
      parts.push(parseNot(depth));
    }
    return parts.length === 1 ? parts[0]! : { and: parts };
  };
  const parseOr = (depth: number): RunFilter => {
    const parts = [parseAnd(depth)];
    while (isWord(peek(), 'or')) {
      next();
      parts.push(parseAnd(depth));
    }
    return parts.length === 1 ? parts[0]! : { or: parts };
  };

  if (peek().kind === 'end') fail('the expression is empty; try e.g. metrics.val_accuracy > 0.99', peek());
  const filter = parseOr(0);
  const rest = peek();
  if (rest.kind !== 'end') fail(`expected "and", "or" or the end of the expression, found ${describe(rest)}`, rest);
  return filter;
}

/** Run columns a filter or sort may name, mapped to SQL over `r` (runs) and `e` (experiments). */
const RUN_FIELDS: Record<string, { sql: string; kind: 'text' | 'number' | 'date' }> = {
  id: { sql: 'r.id', kind: 'text' },
  name: { sql: 'r.name', kind: 'text' },
  status: { sql: 'r.status', kind: 'text' },
  experiment: { sql: 'e.name', kind: 'text' },
  started_at: { sql: 'r.started_at', kind: 'date' },
  ended_at: { sql: 'r.ended_at', kind: 'date' },
  heartbeat_at: { sql: 'r.heartbeat_at', kind: 'date' },
  host: { sql: 'r.host', kind: 'text' },
  pid: { sql: 'r.pid', kind: 'number' },
  backend: { sql: 'r.backend', kind: 'text' },
  threads: { sql: 'r.threads', kind: 'number' },
  source: { sql: 'r.source', kind: 'text' },
  note: { sql: 'r.note', kind: 'text' },
  error: { sql: 'r.error', kind: 'text' },
  git_commit: { sql: 'r.git_commit', kind: 'text' },
  data_fingerprint: { sql: 'r.data_fingerprint', kind: 'text' },
  duration: { sql: '(COALESCE(r.ended_at, r.heartbeat_at) - r.started_at) / 1000.0', kind: 'number' },
};

/** The field names a filter accepts, for error messages. */
export const FILTER_FIELDS = ['params.KEY', 'metrics.KEY', 'metrics.KEY.best', 'tags', ...Object.keys(RUN_FIELDS)];

type FieldRef =
  | { kind: 'param'; key: string }
  | { kind: 'metric'; key: string; column: 'last' | 'best' }
  | { kind: 'tags' }
  | { kind: 'run'; sql: string; type: 'text' | 'number' | 'date'; name: string };

function resolveField(field: string, fail: (reason: string) => never): FieldRef {
  if (field.startsWith('params.') && field.length > 7) return { kind: 'param', key: field.slice(7) };
  if (field.startsWith('metrics.') && field.length > 8) {
    const key = field.slice(8);
    const m = /^(.+)\.(last|best)$/.exec(key);
    return m ? { kind: 'metric', key: m[1]!, column: m[2] as 'last' | 'best' } : { kind: 'metric', key, column: 'last' };
  }
  if (field === 'tags' || field === 'tag') return { kind: 'tags' };
  const run = RUN_FIELDS[field];
  if (run) return { kind: 'run', sql: run.sql, type: run.kind, name: field };
  return fail(`unknown field ${JSON.stringify(field)}; use one of ${FILTER_FIELDS.join(', ')}`);
}

function checkField(field: string, fail: (reason: string) => never): void {
  resolveField(field, fail);
}

/**
 * The metric and param keys `filter` compares, each once, in order of appearance: what a store
 * checks against the keys it has recorded (see `listRuns`). Run columns and tags are not keys.
 *
 * @example
 * filterKeys(parseWhere('metrics.val_accuracy.best > 0.9 and params.lr < 1e-3'));
 * // [{ kind: 'metric', key: 'val_accuracy' }, { kind: 'param', key: 'lr' }]
 */
export function filterKeys(filter: RunFilter): { kind: 'metric' | 'param'; key: string }[] {
  const keys = new Map<string, { kind: 'metric' | 'param'; key: string }>();
  const walk = (node: RunFilter): void => {
    if ('and' in node) node.and.forEach(walk);
    else if ('or' in node) node.or.forEach(walk);
    else if ('not' in node) walk(node.not);
    else {
      const ref = resolveField(node.field, (reason) => {
        throw new ConfigError(`bad filter: ${reason}`);
      });
      if (ref.kind === 'metric' || ref.kind === 'param') keys.set(`${ref.kind}\u0000${ref.key}`, { kind: ref.kind, key: ref.key });
    }
  };
  walk(filter);
  return [...keys.values()];
}

/** Compiled SQL of a filter: a boolean expression over `r`/`e` plus its named parameters. */
export interface CompiledSql {
  sql: string;
  params: Record<string, unknown>;
}

const SQL_OPS: Record<string, string> = { '=': '=', '!=': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

/**
 * Compiles a filter (structured or an expression string) to a SQL boolean expression over the
 * aliases `r` (runs) and `e` (experiments), with named parameters `@w0`, `@w1`, ...
 */
export function compileFilter(filter: RunFilter | string, params: Record<string, unknown> = {}): CompiledSql {
  const root = typeof filter === 'string' ? parseWhere(filter) : filter;
  if (typeof filter !== 'string') checkFilterSize(root);
  let bound = Object.keys(params).length;
  const bind = (value: unknown): string => {
    const name = `w${bound++}`;
    params[name] = value;
    return `@${name}`;
  };
  const fail = (reason: string): never => {
    throw new ConfigError(`bad filter: ${reason}`);
  };

  const compile = (node: RunFilter): string => {
    // (1 = 1) rather than 1: PostgreSQL takes no integer for a truth value.
    if ('and' in node) return node.and.length === 0 ? '(1 = 1)' : `(${node.and.map(compile).join(' AND ')})`;
    if ('or' in node) return node.or.length === 0 ? '(1 = 0)' : `(${node.or.map(compile).join(' OR ')})`;
    if ('not' in node) return `(NOT ${compile(node.not)})`;
    return compileLeaf(node);
  };

  const compileLeaf = (leaf: { field: string; op: FilterOp; value: FilterValue | FilterValue[] }): string => {
    const ref = resolveField(leaf.field, fail);
    const { op } = leaf;
    const isList = op === 'in' || op === 'not in';
    if (isList !== Array.isArray(leaf.value)) {
      fail(`${leaf.field} ${op} needs ${isList ? 'a list of values' : 'a single value'}, got ${JSON.stringify(leaf.value)}`);
    }
    const values = Array.isArray(leaf.value) ? leaf.value : [leaf.value];
    if (isList && values.length === 0) fail(`${leaf.field} ${op} () needs at least one value`);
    if (op === 'contains' && ref.kind !== 'tags') fail(`"contains" applies to tags only, not ${leaf.field}`);

    if (ref.kind === 'tags') {
      if (op === '=' || op === 'contains' || op === 'in') {
        return `EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND t.tag IN (${values.map((v) => bind(String(v))).join(', ')}))`;
      }
      if (op === '!=' || op === 'not in') {
        return `NOT EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND t.tag IN (${values.map((v) => bind(String(v))).join(', ')}))`;
      }
      return fail(`tags take contains, =, !=, in or not in, not ${op}`);
    }

    if (ref.kind === 'metric') {
      for (const v of values) if (typeof v !== 'number') fail(`metric ${ref.key} compares with numbers, got ${JSON.stringify(v)}`);
      const col = `s.${ref.column}`;
      const cond = isList ? `${col} IN (${values.map(bind).join(', ')})` : `${col} ${SQL_OPS[op]} ${bind(values[0])}`;
      const exists = `EXISTS (SELECT 1 FROM metric_summary s WHERE s.run_id = r.id AND s.key = ${bind(ref.key)} AND ${cond})`;
      return op === 'not in' ? `(EXISTS (SELECT 1 FROM metric_summary s WHERE s.run_id = r.id AND s.key = ${bind(ref.key)} AND ${col} IS NOT NULL) AND NOT ${exists})` : exists;
    }

    if (ref.kind === 'param') {
      const keyParam = bind(ref.key);
      if (values.length === 1 && values[0] === null && (op === '=' || op === '!=')) {
        const present = `EXISTS (SELECT 1 FROM params p WHERE p.run_id = r.id AND p.key = ${keyParam} AND p.type != 'null')`;
        return op === '=' ? `(NOT ${present})` : present;
      }
      const match = (v: FilterValue, sqlOp: string): string => {
        if (typeof v === 'number') return `p.value_num ${sqlOp} ${bind(v)}`;
        if (typeof v === 'boolean') return `p.value_bool ${sqlOp} ${bind(v ? 1 : 0)}`;
        if (typeof v === 'string') return `p.value_text ${sqlOp} ${bind(v)}`;
        return fail(`params.${ref.key} ${op} null: use = null or != null`);
      };
      if (isList) {
        const any = `EXISTS (SELECT 1 FROM params p WHERE p.run_id = r.id AND p.key = ${keyParam} AND (${values.map((v) => match(v, '=')).join(' OR ')}))`;
        if (op === 'in') return any;
        return `(EXISTS (SELECT 1 FROM params p WHERE p.run_id = r.id AND p.key = ${keyParam} AND p.type != 'null') AND NOT ${any})`;
      }
      return `EXISTS (SELECT 1 FROM params p WHERE p.run_id = r.id AND p.key = ${keyParam} AND ${match(values[0] ?? null, SQL_OPS[op] ?? '=')})`;
    }

    // A run column.
    const convert = (v: FilterValue): unknown => {
      if (v === null) return null;
      if (ref.type === 'date') {
        if (typeof v === 'number') return v;
        const ms = Date.parse(String(v));
        if (Number.isNaN(ms)) fail(`${ref.name} ${JSON.stringify(v)} is not a date; use ISO form such as "2026-11-01" or "2026-11-01T12:00:00Z"`);
        return ms;
      }
      if (ref.name === 'status' && !(RUN_STATUSES as readonly string[]).includes(String(v))) {
        fail(`status ${JSON.stringify(v)} is not one of ${RUN_STATUSES.join(', ')}`);
      }
      if (ref.type === 'number' && typeof v !== 'number') fail(`${ref.name} compares with numbers, got ${JSON.stringify(v)}`);
      return typeof v === 'boolean' ? (v ? 1 : 0) : v;
    };
    if (values.length === 1 && values[0] === null && (op === '=' || op === '!=')) {
      return `${ref.sql} IS ${op === '=' ? '' : 'NOT '}NULL`;
    }
    if (isList) return `${ref.sql} ${op === 'in' ? 'IN' : 'NOT IN'} (${values.map((v) => bind(convert(v))).join(', ')})`;
    return `${ref.sql} ${SQL_OPS[op]} ${bind(convert(values[0] ?? null))}`;
  };

  return { sql: compile(root), params };
}

/** Checks a structured filter against {@link FILTER_LIMITS} (an expression is checked as it is parsed). */
function checkFilterSize(root: RunFilter): void {
  let comparisons = 0;
  let values = 0;
  const walk = (node: RunFilter, level: number): void => {
    if (level > FILTER_LIMITS.depth) throw new ConfigError(`bad filter: nested more than ${FILTER_LIMITS.depth} levels deep`);
    if ('and' in node) node.and.forEach((child) => walk(child, level + 1));
    else if ('or' in node) node.or.forEach((child) => walk(child, level + 1));
    else if ('not' in node) walk(node.not, level + 1);
    else {
      comparisons++;
      values += Array.isArray(node.value) ? node.value.length : 1;
    }
  };
  walk(root, 0);
  if (comparisons > FILTER_LIMITS.comparisons) throw new ConfigError(`bad filter: ${comparisons} comparisons; at most ${FILTER_LIMITS.comparisons} are accepted`);
  if (values > FILTER_LIMITS.values) throw new ConfigError(`bad filter: ${values} values; at most ${FILTER_LIMITS.values} are accepted`);
}

/** One sort key: a field as in filters (`metrics.val_accuracy`, `params.lr`, `started_at`). */
export interface OrderBy {
  field: string;
  /** Defaults to `'asc'`. */
  direction?: 'asc' | 'desc';
}

/** The forms a sort key takes, for messages. */
export const SORT_KEY_FORMS =
  'Sort keys: KEY, -KEY or KEY:desc (descending), +KEY or KEY:asc, several separated by commas, where KEY is a run column ' +
  `(${Object.keys(RUN_FIELDS).join(', ')}), metrics.NAME (last value), metrics.NAME.best, or params.NAME; a bare NAME is a metric`;

/** The run columns a filter or sort may name. */
export const RUN_FIELD_NAMES: readonly string[] = Object.keys(RUN_FIELDS);

/** What a sort key sorts by. */
export type SortTarget = { kind: 'run'; name: string } | { kind: 'metric'; key: string } | { kind: 'param'; key: string };

/**
 * What `order` sorts by: a run column, a metric (its last or best value) or a param. Tags, and
 * fields that are none of these, are a ConfigError. Whether a metric or param of that name was
 * ever recorded is for the caller, who has the store, to check (see `listRuns`).
 */
export function sortTarget(order: OrderBy): SortTarget {
  const ref = resolveField(order.field, (reason) => {
    throw new ConfigError(`bad sort key ${JSON.stringify(order.field)}: ${reason}. ${SORT_KEY_FORMS}`);
  });
  if (ref.kind === 'tags') throw new ConfigError(`bad sort: cannot sort by tags. ${SORT_KEY_FORMS}`);
  if (ref.kind === 'run') return { kind: 'run', name: ref.name };
  return { kind: ref.kind, key: ref.key };
}

/**
 * Parses a sort spec: `-val_accuracy` or `val_accuracy:desc` (descending), `+name`, `metrics.loss.best`, `params.lr`,
 * several separated by commas. A bare name is a run column when one has that name, else a metric.
 */
export function parseOrderBy(spec: string): OrderBy[] {
  const parts = spec
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (parts.length > MAX_SORT_KEYS) throw new ConfigError(`bad sort: ${parts.length} keys; at most ${MAX_SORT_KEYS} are accepted`);
  return parts
    .map((part) => {
      // `key:desc` as well as `-key`: a CLI parser may take `--sort -key` for an option.
      const suffix = /:(asc|desc)$/i.exec(part);
      const direction = suffix ? (suffix[1]!.toLowerCase() as 'asc' | 'desc') : part.startsWith('-') ? 'desc' : 'asc';
      const name = part.replace(/:(asc|desc)$/i, '').replace(/^[-+]/, '');
      if (name === '') throw new ConfigError(`bad sort key ${JSON.stringify(part)}: no name after the direction. ${SORT_KEY_FORMS}`);
      const field = name in RUN_FIELDS || name === 'tags' || name.startsWith('params.') || name.startsWith('metrics.') ? name : `metrics.${name}`;
      return { field, direction } as OrderBy;
    });
}

/** Compiles sort keys into LEFT JOINs and an ORDER BY; missing values sort last either way. */
export function compileOrderBy(orderBy: readonly OrderBy[], params: Record<string, unknown>): { joins: string; orderSql: string } {
  if (orderBy.length > MAX_SORT_KEYS) throw new ConfigError(`bad sort: ${orderBy.length} keys; at most ${MAX_SORT_KEYS} are accepted`);
  const joins: string[] = [];
  const terms: string[] = [];
  const fail = (reason: string): never => {
    throw new ConfigError(`bad sort: ${reason}`);
  };
  orderBy.forEach((order, i) => {
    const direction = order.direction === 'desc' ? 'DESC' : 'ASC';
    const ref = resolveField(order.field, fail);
    const bindKey = (key: string): string => {
      const name = `o${i}`;
      params[name] = key;
      return `@${name}`;
    };
    if (ref.kind === 'metric') {
      joins.push(`LEFT JOIN metric_summary o${i} ON o${i}.run_id = r.id AND o${i}.key = ${bindKey(ref.key)}`);
      terms.push(`(o${i}.${ref.column} IS NULL) ASC`, `o${i}.${ref.column} ${direction}`);
    } else if (ref.kind === 'param') {
      joins.push(`LEFT JOIN params o${i} ON o${i}.run_id = r.id AND o${i}.key = ${bindKey(ref.key)}`);
      // Numbers before text (after, descending), as SQLite orders mixed values; one column each,
      // since PostgreSQL cannot COALESCE a number with text.
      const num = `o${i}.value_num`;
      const text = `o${i}.value_text`;
      terms.push(`(${num} IS NULL AND ${text} IS NULL) ASC`, `(${num} IS NULL) ${direction}`, `${num} ${direction}`, `${text} ${direction}`);
    } else if (ref.kind === 'run') {
      terms.push(`(${ref.sql} IS NULL) ASC`, `${ref.sql} ${direction}`);
    } else {
      return fail('cannot sort by tags');
    }
  });
  return { joins: joins.join('\n'), orderSql: terms.join(', ') };
}
