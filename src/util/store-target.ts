/**
 * Where an experiment store lives: a SQLite file path, or a PostgreSQL connection URL
 * (`postgres://` or `postgresql://`, as libpq and psql take them). A URL's password is a
 * credential: {@link redactUrl} is what messages, logs and recorded params show instead.
 */

/** Whether `target` names a PostgreSQL server rather than a SQLite file. */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target.trim());
}

/**
 * `url` with its password shown as `***` (and any `password=` query parameter too), for
 * messages, logs and recorded params; a path, or a URL without a password, comes back as given.
 *
 * @example
 * redactUrl('postgres://ana:s3cret@db.lab:5432/glyphlab'); // 'postgres://ana:***@db.lab:5432/glyphlab'
 */
export function redactUrl(url: string): string {
  if (!isPostgresUrl(url)) return url;
  // Userinfo ends at the last '@' before the path: a password may itself hold '@' or ':' unescaped.
  const scheme = /^postgres(ql)?:\/\//i.exec(url)![0];
  const rest = url.slice(scheme.length);
  const pathAt = rest.search(/[/?#]/);
  const authority = pathAt < 0 ? rest : rest.slice(0, pathAt);
  const tail = pathAt < 0 ? '' : rest.slice(pathAt);
  const at = authority.lastIndexOf('@');
  let shown = authority;
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    if (colon >= 0) shown = `${userinfo.slice(0, colon)}:***${authority.slice(at)}`;
  }
  return `${scheme}${shown}${tail.replace(/([?&]password=)[^&#]*/gi, '$1***')}`;
}

/**
 * `text` with the password of every PostgreSQL URL in it shown as `***`: for free text that may
 * quote a command line (`glyphlab train --db postgres://ana:s3cret@db/glyphlab`), such as the
 * source a run records.
 *
 * @example
 * redactUrlsIn('train --db postgres://ana:s3cret@db/g'); // 'train --db postgres://ana:***@db/g'
 */
export function redactUrlsIn(text: string): string {
  return text
    // The password runs to the last '@' of the URL (a password may hold ' and @); quotes and spaces end the URL.
    .replace(/(postgres(?:ql)?:\/\/[^\s:/@"'?#]*):[^\s"]*@(?=[^\s"@]*(?:[\s"]|$))/gi, '$1:***@')
    .replace(/(postgres(?:ql)?:\/\/[^\s"']*[?&]password=)[^&#\s"']*/gi, '$1***');
}

/**
 * `text` with every occurrence of `url`'s password (raw and percent-decoded) replaced by `***`:
 * for messages that a server or library wrote and that might quote it.
 */
export function redactSecret(text: string, url: string): string {
  const secrets = urlPasswords(url).filter((secret) => secret.length > 0);
  let redacted = text.split(url).join(redactUrl(url));
  for (const secret of secrets) redacted = redacted.split(secret).join('***');
  return redacted;
}

/** The password of `url` as written and decoded (empty when none). */
function urlPasswords(url: string): string[] {
  if (!isPostgresUrl(url)) return [];
  const rest = url.replace(/^postgres(ql)?:\/\//i, '');
  const pathAt = rest.search(/[/?#]/);
  const authority = pathAt < 0 ? rest : rest.slice(0, pathAt);
  const at = authority.lastIndexOf('@');
  const found: string[] = [];
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    if (colon >= 0) found.push(userinfo.slice(colon + 1));
  }
  const query = /[?&]password=([^&#]*)/i.exec(pathAt < 0 ? '' : rest.slice(pathAt));
  if (query) found.push(query[1]!);
  return found.flatMap((raw) => {
    try {
      const decoded = decodeURIComponent(raw);
      return decoded === raw ? [raw] : [raw, decoded];
    } catch {
      return [raw];
    }
  });
}

/**
 * The `PG*` variables of `env` (PGPASSWORD, PGPASSFILE, PGSSLMODE, ...): what a thread that
 * connects to a server must see as they are now, its own environment being a copy from its start.
 */
export function postgresEnv(env: Record<string, string | undefined> = process.env): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[0].startsWith('PG') && entry[1] !== undefined));
}

/**
 * Makes this thread's `PG*` variables exactly `env` (from {@link postgresEnv} on the main thread):
 * those it lacks are removed, the rest set, so a worker thread connects as the main thread would now.
 */
export function applyPostgresEnv(env: Readonly<Record<string, string>>): void {
  for (const name of Object.keys(process.env)) if (name.startsWith('PG') && !(name in env)) delete process.env[name];
  Object.assign(process.env, env);
}
