/**
 * What SQLite and PostgreSQL spell differently, in one place. The store's SQL is written once, in
 * SQLite's spelling with named `@name` parameters, and kept to what both understand where it can
 * be; {@link toPostgresSql} translates the rest for the PostgreSQL driver: parameters to `$n`,
 * `instr` to `strpos`, `json_each(@list)` to `json_array_elements_text`, `INSERT OR IGNORE` to
 * `ON CONFLICT DO NOTHING`. The schema's DDL is translated the same way ({@link postgresMigrationSql}:
 * INTEGER to BIGINT, REAL to DOUBLE PRECISION, SQLite's implicit rowid made an explicit column),
 * and what has no textual translation (triggers, the JSON the store caches per run) is written
 * here for PostgreSQL beside SQLite's version in schema.ts.
 */
import type { DriverKind, SqlParams } from './driver';

/** A statement translated for PostgreSQL: its text and where each `$n` takes its value from. */
export interface PostgresSql {
  text: string;
  /** For each `$n` (n - 1), the named parameter or the position of the `?` it came from. */
  slots: (string | number)[];
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;

/** Rewrites of one stretch of SQL code (outside strings, quoted names and comments), after parameters became `$n`. */
function rewriteCode(code: string): string {
  return code
    .replace(/\binstr\(/gi, 'strpos(')
    .replace(/\bjson_each\(\s*(\$\d+)\s*\)/gi, 'json_array_elements_text(CAST($1 AS json))')
    .replace(/\bgroup_concat\(/gi, 'string_agg(');
}

/**
 * `sql` (SQLite's spelling, `@name` or `?` parameters) in PostgreSQL's. Strings, quoted names,
 * comments and dollar-quoted bodies are copied as they are.
 *
 * @example
 * toPostgresSql('SELECT id FROM runs WHERE instr(id, @ref) = 1 AND status = @status');
 * // { text: 'SELECT id FROM runs WHERE strpos(id, $1) = 1 AND status = $2', slots: ['ref', 'status'] }
 */
export function toPostgresSql(sql: string): PostgresSql {
  const slots: (string | number)[] = [];
  const named = new Map<string, number>();
  let positional = 0;
  let out = '';
  let code = '';
  const flush = (): void => {
    out += rewriteCode(code);
    code = '';
  };
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    const next = sql[i + 1] ?? '';
    let end = -1;
    if (ch === "'" || ch === '"') {
      end = i + 1;
      for (;;) {
        end = sql.indexOf(ch, end);
        if (end < 0) end = sql.length - 1;
        else if (sql[end + 1] === ch) {
          end += 2;
          continue;
        }
        break;
      }
    } else if (ch === '-' && next === '-') {
      end = sql.indexOf('\n', i);
      if (end < 0) end = sql.length - 1;
    } else if (ch === '/' && next === '*') {
      end = sql.indexOf('*/', i + 2);
      end = end < 0 ? sql.length - 1 : end + 1;
    } else if (ch === '$' && /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(sql.slice(i))) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i))![0];
      end = sql.indexOf(tag, i + tag.length);
      end = end < 0 ? sql.length - 1 : end + tag.length - 1;
    }
    if (end >= 0) {
      flush();
      out += sql.slice(i, end + 1);
      i = end + 1;
      continue;
    }
    if (ch === '@' && IDENT_START.test(next)) {
      let j = i + 1;
      while (j < sql.length && IDENT_PART.test(sql[j]!)) j++;
      const name = sql.slice(i + 1, j);
      let n = named.get(name);
      if (n === undefined) {
        slots.push(name);
        n = slots.length;
        named.set(name, n);
      }
      code += `$${n}`;
      i = j;
      continue;
    }
    if (ch === '?') {
      slots.push(positional++);
      code += `$${slots.length}`;
      i++;
      continue;
    }
    code += ch;
    i++;
  }
  flush();
  let text = out;
  if (/^\s*INSERT\s+OR\s+IGNORE\s+INTO\b/i.test(text)) text = `${text.replace(/^(\s*)INSERT\s+OR\s+IGNORE\s+INTO\b/i, '$1INSERT INTO').replace(/;\s*$/, '')} ON CONFLICT DO NOTHING`;
  if (/^\s*INSERT\s+OR\s+REPLACE\b/i.test(text)) {
    throw new Error('INSERT OR REPLACE has no translation for PostgreSQL (it needs the conflict target): write INSERT ... ON CONFLICT (...) DO UPDATE');
  }
  return { text, slots };
}

/** Most rows one multi-row INSERT carries: far below PostgreSQL's 65,535 parameters, large enough that a round trip is no cost. */
const MAX_ROWS_PER_INSERT = 1000;

/**
 * `sql` (a translated `INSERT ... VALUES (...)` of one row) as INSERTs of many rows at once, one
 * statement per chunk of `rows`, with each chunk's values in order: many rows cost one round trip
 * to the server instead of one each. Undefined for any other statement.
 *
 * @example
 * multiRowInsert(toPostgresSql('INSERT INTO tags (run_id, tag) VALUES (@r, @t)'), [{ r: 'a', t: 'x' }, { r: 'a', t: 'y' }]);
 * // [{ text: 'INSERT INTO tags (run_id, tag) VALUES ($1, $2), ($3, $4)', values: ['a', 'x', 'a', 'y'] }]
 */
export function multiRowInsert(sql: PostgresSql, rows: readonly SqlParams[]): { text: string; values: unknown[] }[] | undefined {
  const match = /^(\s*INSERT\s+INTO\s[\s\S]*?\bVALUES\s*)(\([^()]*\))\s*$/i.exec(sql.text);
  if (!match || sql.slots.length === 0) return undefined;
  const [, head, tuple] = match as unknown as [string, string, string];
  const width = sql.slots.length;
  const chunks: { text: string; values: unknown[] }[] = [];
  for (let start = 0; start < rows.length; start += MAX_ROWS_PER_INSERT) {
    const chunk = rows.slice(start, start + MAX_ROWS_PER_INSERT);
    const tuples = chunk.map((_, i) => tuple.replace(/\$(\d+)/g, (_m, n: string) => `$${Number(n) + i * width}`));
    chunks.push({ text: `${head}${tuples.join(', ')}`, values: chunk.flatMap((row) => bindPostgresParams(sql, row)) });
  }
  return chunks;
}

/**
 * The values of a translated statement's `$n`, from named parameters (an object) or positional
 * ones (an array). A named parameter the statement uses but `params` lacks is a RangeError, as
 * better-sqlite3 makes it; booleans become 1 and 0, as SQLite stores them.
 */
export function bindPostgresParams(sql: PostgresSql, params: SqlParams | undefined): unknown[] {
  return sql.slots.map((slot) => {
    let value: unknown;
    if (typeof slot === 'number') value = Array.isArray(params) ? params[slot] : undefined;
    else {
      const named = params !== undefined && !Array.isArray(params) ? (params as Record<string, unknown>) : undefined;
      if (!named || !(slot in named)) throw new RangeError(`Missing named parameter "${slot}"`);
      value = named[slot];
    }
    if (typeof value === 'boolean') return value ? 1 : 0;
    if (typeof value === 'bigint') return value.toString();
    return value === undefined ? null : value;
  });
}

/**
 * A migration's DDL (SQLite's spelling) for PostgreSQL: INTEGER columns as BIGINT (times are
 * milliseconds), REAL as DOUBLE PRECISION, `INTEGER PRIMARY KEY` as an identity column, and the
 * rowid SQLite gives every table not declared WITHOUT ROWID as an explicit identity column
 * `rowid` (the store orders metric points by it). Versions whose SQL has no textual translation
 * are written out in {@link POSTGRES_MIGRATIONS}.
 */
export function postgresMigrationSql(version: number, sqliteSql: string): string {
  const written = POSTGRES_MIGRATIONS[version];
  if (written !== undefined) return written;
  return sqliteSql
    .replace(/CREATE TABLE (\w+) \(([\s\S]*?)\n(\s*)\)( WITHOUT ROWID)?;/g, (_match, name: string, body: string, indent: string, withoutRowid: string | undefined) => {
      const rowid = withoutRowid || /INTEGER PRIMARY KEY/.test(body) ? '' : `\n${indent}  rowid INTEGER GENERATED BY DEFAULT AS IDENTITY,`;
      return `CREATE TABLE ${name} (${rowid}${body}\n${indent});`;
    })
    .replace(/\bINTEGER PRIMARY KEY\b/g, 'INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY')
    .replace(/\bINTEGER\b/g, 'BIGINT')
    .replace(/\bREAL\b/g, 'DOUBLE PRECISION');
}

/** A double column as JSON text: exact (shortest round-trip digits), Infinity as `9.0e+999` as SQLite's quote() prints it, NULL as null. */
const pgJsonNumber = (column: string): string =>
  `CASE WHEN ${column} IS NULL THEN 'null' WHEN ${column} = 'Infinity'::float8 THEN '9.0e+999' WHEN ${column} = '-Infinity'::float8 THEN '-9.0e+999' ELSE ${column}::text END`;

/** {@link paramsJsonSql} for PostgreSQL. */
function postgresParamsJsonSql(runIdSql: string): string {
  return `(SELECT CASE WHEN bool_or(p.type = 'number' AND p.value_num IS NULL) THEN NULL ELSE
      '{' || coalesce(string_agg(to_json(p.key)::text || ':' || CASE p.type
        WHEN 'number' THEN ${pgJsonNumber('p.value_num')}
        WHEN 'string' THEN to_json(p.value_text)::text
        WHEN 'boolean' THEN CASE p.value_bool WHEN 1 THEN 'true' ELSE 'false' END
        WHEN 'json' THEN CASE WHEN glyphlab_json_valid(p.value_text) THEN p.value_text ELSE to_json(p.value_text)::text END
        ELSE 'null' END, ',' ORDER BY p.key COLLATE "C"), '') || '}' END
    FROM params p WHERE p.run_id = ${runIdSql})`;
}

/** {@link metricsJsonSql} for PostgreSQL. */
function postgresMetricsJsonSql(runIdSql: string): string {
  return `(SELECT '{' || coalesce(string_agg(to_json(s.key)::text || ':{"last":' || ${pgJsonNumber('s.last')} || ',"lastStep":' || s.last_step ||
      ',"best":' || ${pgJsonNumber('s.best')} || ',"bestStep":' || coalesce(s.best_step::text, 'null') || ',"mode":' || to_json(s.mode)::text ||
      ',"count":' || s.count || '}', ',' ORDER BY s.key COLLATE "C"), '') || '}'
    FROM metric_summary s WHERE s.run_id = ${runIdSql})`;
}

/**
 * The JSON text of run `runIdSql`'s params (see `paramsJsonSql` in schema.ts), in `kind`'s SQL.
 * Both decode to the same values.
 */
export function paramsJsonSqlFor(kind: DriverKind, runIdSql: string, sqlite: (runIdSql: string) => string): string {
  return kind === 'postgres' ? postgresParamsJsonSql(runIdSql) : sqlite(runIdSql);
}

/** The JSON text of run `runIdSql`'s metric summaries (see `metricsJsonSql` in schema.ts), in `kind`'s SQL. */
export function metricsJsonSqlFor(kind: DriverKind, runIdSql: string, sqlite: (runIdSql: string) => string): string {
  return kind === 'postgres' ? postgresMetricsJsonSql(runIdSql) : sqlite(runIdSql);
}

/** Trigger function and triggers that clear `runs.<column>` on any change to `table` (SQLite's are in schema.ts). */
function postgresClearOnChangeTriggers(table: string, column: string): string {
  return `
      CREATE TRIGGER ${column}_change AFTER INSERT OR UPDATE OR DELETE ON ${table}
        FOR EACH ROW EXECUTE FUNCTION glyphlab_clear_cached_json('${column}');`;
}

/** PostgreSQL's text of the migrations whose SQLite text does not translate (see {@link postgresMigrationSql}). */
const POSTGRES_MIGRATIONS: Record<number, string> = {
  2: `
      CREATE FUNCTION glyphlab_json_valid(t text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
      BEGIN
        PERFORM t::json;
        RETURN true;
      EXCEPTION WHEN others THEN
        RETURN false;
      END $$;
      CREATE FUNCTION glyphlab_clear_cached_json() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP <> 'INSERT' THEN
          EXECUTE format('UPDATE runs SET %I = NULL WHERE id = $1 AND %I IS NOT NULL', TG_ARGV[0], TG_ARGV[0]) USING OLD.run_id;
        END IF;
        IF TG_OP <> 'DELETE' THEN
          EXECUTE format('UPDATE runs SET %I = NULL WHERE id = $1 AND %I IS NOT NULL', TG_ARGV[0], TG_ARGV[0]) USING NEW.run_id;
        END IF;
        RETURN NULL;
      END $$;
      ALTER TABLE runs ADD COLUMN params_json TEXT;
      ALTER TABLE runs ADD COLUMN metrics_json TEXT;
      UPDATE runs SET params_json = ${postgresParamsJsonSql('runs.id')}, metrics_json = ${postgresMetricsJsonSql('runs.id')};
      ${postgresClearOnChangeTriggers('params', 'params_json')}
      ${postgresClearOnChangeTriggers('metric_summary', 'metrics_json')}
    `,
};
