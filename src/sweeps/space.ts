/**
 * A sweep's search space over named train options, and the trials drawn from it. The names are
 * the equation run's fields (`runs/spec/fields.ts`: the flags of `glyphlab train`, such as `lr`
 * or `rnn-units`, or their option paths, such as `learningRate`), so a value a sweep may try is
 * checked against the same bounds and choices as a value given to `glyphlab train`. Two shapes:
 *
 * - `{"grid": {"lr": [0.001, 0.003], "rnn": ["gru", "lstm"]}}`: every combination, in order;
 * - `{"lr": {"loguniform": [1e-4, 1e-2]}, "rnn": {"choice": ["gru", "lstm"]}, "rnn-units": {"int": [8, 64]},
 *   "dropout": {"uniform": [0, 0.3]}}`: independent draws, seeded by the sweep's seed.
 */
import { ConfigError } from '../errors';
import { EQUATION_FIELDS, type EquationField } from '../runs/spec/fields';
import { createRng } from '../util/rng';

/** A value of one train option, as JSON has it (a list for `filters`). */
export type FieldValue = number | string | boolean | number[];

/** How one option is drawn in a random space. */
export type Distribution =
  | { choice: FieldValue[] }
  | { uniform: [number, number] }
  | { loguniform: [number, number] }
  | { int: [number, number] };

/** A checked search space: option names are the fields' flags. */
export type SearchSpace = { kind: 'grid'; grid: Record<string, FieldValue[]> } | { kind: 'random'; options: Record<string, Distribution> };

/** The distributions a random space accepts, for messages. */
export const DISTRIBUTION_NAMES = ['choice', 'uniform', 'loguniform', 'int'] as const;

/** The field named `name`, by flag (`rnn-units`) or option path (`crnn.rnnUnits`); an unknown name lists the known ones. */
export function sweepField(name: string): EquationField {
  const field = EQUATION_FIELDS.find((f) => f.flag === name || f.option === name);
  if (!field) throw new ConfigError(`search space option ${JSON.stringify(name)} is not a train option; use one of: ${EQUATION_FIELDS.map((f) => f.flag).join(', ')}`);
  return field;
}

/** The bounds of a numeric field in words (`>= 1e-9 and <= 100`), or '' when it has none. */
function boundsText(field: EquationField): string {
  return [field.min !== undefined ? `>= ${field.min}` : '', field.max !== undefined ? `<= ${field.max}` : ''].filter(Boolean).join(' and ');
}

/** Whether `value` is a number within the field's bounds (a whole one for integer kinds). */
function inBounds(field: EquationField, value: unknown, whole: boolean): value is number {
  return (
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!whole || Number.isInteger(value)) &&
    (field.min === undefined || value >= field.min) &&
    (field.max === undefined || value <= field.max)
  );
}

/**
 * Checks one value of the field `field` and returns it; a wrong one is a ConfigError naming the
 * option, the value and what it accepts. `where` says where it came from (`grid.lr`).
 */
export function checkFieldValue(field: EquationField, value: unknown, where: string = field.flag): FieldValue {
  const bounds = boundsText(field);
  const refuse = (accepted: string): never => {
    throw new ConfigError(`${where} ${JSON.stringify(value)} is not a value of --${field.flag}; it takes ${accepted}`);
  };
  switch (field.kind) {
    case 'choice':
      if (typeof value !== 'string' || !field.choices?.includes(value)) refuse(`one of: ${field.choices?.join(', ')}`);
      return value as string;
    case 'boolean':
      if (typeof value !== 'boolean') refuse('true or false');
      return value as boolean;
    case 'string':
      if (typeof value !== 'string' || value.trim() === '') refuse('a non-empty string');
      return value as string;
    case 'integer-list':
      if (!Array.isArray(value) || value.length === 0 || !value.every((v) => inBounds(field, v, true))) refuse(`a non-empty list of whole numbers${bounds ? ` each ${bounds}` : ''}, e.g. [16, 32, 64]`);
      return value as number[];
    case 'integer':
      if (!inBounds(field, value, true)) refuse(`a whole number${bounds ? ` ${bounds}` : ''}`);
      return value as number;
    case 'number':
      if (!inBounds(field, value, false)) refuse(`a number${bounds ? ` ${bounds}` : ''}`);
      return value as number;
  }
}

/** A `[low, high]` pair of the distribution `name` of `field`, checked. */
function checkRange(field: EquationField, name: 'uniform' | 'loguniform' | 'int', range: unknown): [number, number] {
  const where = `${field.flag}.${name}`;
  const numeric = field.kind === 'number' || field.kind === 'integer';
  if (!numeric) throw new ConfigError(`${where}: --${field.flag} takes ${field.kind === 'choice' ? `one of ${field.choices?.join(', ')}` : `a ${field.kind}`}, not a number range; use {"choice": [...]}`);
  if (name === 'int' && field.kind !== 'integer') throw new ConfigError(`${where}: --${field.flag} takes any number; use {"uniform": [a, b]} or {"loguniform": [a, b]}`);
  if (!Array.isArray(range) || range.length !== 2) throw new ConfigError(`${where} ${JSON.stringify(range)} must be a pair [low, high]`);
  const [low, high] = range.map((v, i) => checkFieldValue(field, v, `${where}[${i}]`)) as [number, number];
  if (!(low < high)) throw new ConfigError(`${where} ${JSON.stringify(range)}: low ${low} must be below high ${high}`);
  if (name === 'loguniform' && !(low > 0)) throw new ConfigError(`${where} ${JSON.stringify(range)}: a log-uniform range must be above 0`);
  if (field.kind === 'integer' && name !== 'int') throw new ConfigError(`${where}: --${field.flag} takes whole numbers; use {"int": [${low}, ${high}]} or {"choice": [...]}`);
  return [low, high];
}

/** One option's distribution of a random space, checked. */
function checkDistribution(field: EquationField, spec: unknown): Distribution {
  const keys = spec !== null && typeof spec === 'object' && !Array.isArray(spec) ? Object.keys(spec) : [];
  const name = keys[0];
  if (keys.length !== 1 || !(DISTRIBUTION_NAMES as readonly string[]).includes(name!)) {
    throw new ConfigError(`search space option ${field.flag} ${JSON.stringify(spec)} must be one of {"choice": [...]}, {"uniform": [a, b]}, {"loguniform": [a, b]}, {"int": [a, b]}`);
  }
  const value = (spec as Record<string, unknown>)[name!];
  if (name === 'choice') {
    if (!Array.isArray(value) || value.length === 0) throw new ConfigError(`${field.flag}.choice ${JSON.stringify(value)} must be a non-empty list of values`);
    return { choice: value.map((v, i) => checkFieldValue(field, v, `${field.flag}.choice[${i}]`)) };
  }
  const range = checkRange(field, name as 'uniform' | 'loguniform' | 'int', value);
  return { [name as 'uniform']: range } as Distribution;
}

/**
 * Checks a search space (parsed JSON) and returns it with every option named by its flag. Errors
 * name the option, the value and what is accepted.
 *
 * @example
 * parseSearchSpace({ lr: { loguniform: [1e-4, 1e-2] }, rnn: { choice: ['gru', 'lstm'] } });
 * parseSearchSpace({ grid: { 'rnn-units': [8, 16] } }); // { kind: 'grid', grid: { 'rnn-units': [8, 16] } }
 */
export function parseSearchSpace(json: unknown): SearchSpace {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ConfigError(`a search space must be a JSON object, {"grid": {...}} or {"OPTION": {"choice"|"uniform"|"loguniform"|"int": ...}}; got ${JSON.stringify(json)}`);
  }
  const entries = Object.entries(json as Record<string, unknown>);
  if (entries.length === 0) throw new ConfigError('the search space is empty; name at least one train option, e.g. {"lr": {"loguniform": [1e-4, 1e-2]}}');
  if ('grid' in json) {
    if (entries.length > 1) throw new ConfigError(`a grid space has only "grid"; move ${entries.filter(([k]) => k !== 'grid').map(([k]) => k).join(', ')} into it`);
    const grid = (json as { grid: unknown }).grid;
    if (grid === null || typeof grid !== 'object' || Array.isArray(grid) || Object.keys(grid).length === 0) {
      throw new ConfigError(`grid ${JSON.stringify(grid)} must be an object of option: [values], e.g. {"lr": [0.001, 0.003]}`);
    }
    const checked: Record<string, FieldValue[]> = {};
    for (const [name, values] of Object.entries(grid)) {
      const field = sweepField(name);
      if (field.flag in checked) throw new ConfigError(`grid names --${field.flag} twice (${name})`);
      if (!Array.isArray(values) || values.length === 0) throw new ConfigError(`grid.${name} ${JSON.stringify(values)} must be a non-empty list of values`);
      checked[field.flag] = values.map((v, i) => checkFieldValue(field, v, `grid.${name}[${i}]`));
    }
    return { kind: 'grid', grid: checked };
  }
  const options: Record<string, Distribution> = {};
  for (const [name, spec] of entries) {
    const field = sweepField(name);
    if (field.flag in options) throw new ConfigError(`the search space names --${field.flag} twice (${name})`);
    options[field.flag] = checkDistribution(field, spec);
  }
  return { kind: 'random', options };
}

/** The number of points of a grid space. */
export function gridSize(space: Extract<SearchSpace, { kind: 'grid' }>): number {
  return Object.values(space.grid).reduce((n, values) => n * values.length, 1);
}

/** The `index`th point of a grid, the last option varying fastest. */
function gridPoint(grid: Record<string, FieldValue[]>, index: number): Record<string, FieldValue> {
  const names = Object.keys(grid);
  const point: Record<string, FieldValue> = {};
  let rest = index;
  for (let i = names.length - 1; i >= 0; i--) {
    const values = grid[names[i]!]!;
    point[names[i]!] = values[rest % values.length]!;
    rest = Math.floor(rest / values.length);
  }
  return Object.fromEntries(names.map((name) => [name, point[name]!]));
}

/** One draw of `distribution`. */
function draw(distribution: Distribution, rng: ReturnType<typeof createRng>): FieldValue {
  if ('choice' in distribution) return rng.pick(distribution.choice);
  if ('uniform' in distribution) return rng.uniform(distribution.uniform[0], distribution.uniform[1]);
  if ('loguniform' in distribution) {
    const [low, high] = distribution.loguniform;
    return Math.exp(rng.uniform(Math.log(low), Math.log(high)));
  }
  const [low, high] = distribution.int;
  return low + rng.int(high - low + 1);
}

/**
 * The params of each trial: a grid's points in order (`trials` must then be left out or equal
 * the grid's size), or `trials` independent draws of a random space from `seed` (the same seed
 * draws the same trials on every machine).
 *
 * @example
 * sampleTrials(parseSearchSpace({ lr: { loguniform: [1e-4, 1e-2] } }), { trials: 3, seed: 0 }); // [{ lr: ... }, { lr: ... }, { lr: ... }]
 */
export function sampleTrials(space: SearchSpace, options: { trials?: number; seed: number }): Record<string, FieldValue>[] {
  if (space.kind === 'grid') {
    const size = gridSize(space);
    if (options.trials !== undefined && options.trials !== size) {
      throw new ConfigError(`the grid has ${size} points, so the sweep runs ${size} trials; leave out --trials (got ${options.trials}) or change the grid`);
    }
    return Array.from({ length: size }, (_, i) => gridPoint(space.grid, i));
  }
  const trials = options.trials;
  if (trials === undefined || !Number.isInteger(trials) || trials < 1) throw new ConfigError(`a random search space needs a number of trials (--trials N, a whole number >= 1); got ${trials}`);
  return Array.from({ length: trials }, (_, i) => {
    // One stream per trial, so that trial i's params do not depend on how many trials there are.
    const rng = createRng(`sweep:${options.seed}:trial:${i}`);
    return Object.fromEntries(Object.entries(space.options).map(([name, distribution]) => [name, draw(distribution, rng.fork(name))]));
  });
}
