/**
 * Connecting to PostgreSQL as `psql` would, for the store's threads (`postgres-worker.ts`, and
 * the heartbeat thread): the URL's password, else `PGPASSWORD`, else `~/.pgpass` (or
 * `PGPASSFILE`); `sslmode` (in the URL, else `PGSSLMODE`) with libpq's meaning, `prefer` falling
 * back to a plain connection when the server has no TLS. BIGINT and NUMERIC come back as
 * numbers, as SQLite returns them (times are milliseconds, far below 2^53).
 */
import { Client, type ClientConfig, types } from 'pg';

/** pgpass (a dependency of pg): calls back with the password `~/.pgpass` holds for a connection, or undefined. */
// eslint-disable-next-line @typescript-eslint/no-var-requires
const pgpass = require('pgpass') as (connection: Record<string, unknown>, callback: (password: string | undefined) => void) => void;

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/** Type parsers of the store's connections only: other pg users in the process keep pg's defaults. */
const storeTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (value: string) => Number(value);
    return types.getTypeParser(oid, format);
  }) as typeof types.getTypeParser,
};

/** Options of {@link connectPostgres}. */
export interface ConnectPostgresOptions {
  /** Fail a connection attempt after this long. Defaults to 10000 ms. */
  connectTimeoutMs?: number;
  /** The application name the server shows for this connection (pg_stat_activity). Defaults to `glyphlab`. */
  applicationName?: string;
}

/**
 * `url` with libpq's sslmode semantics asked of pg: `uselibpqcompat=true` when an sslmode is given
 * (in the URL, or `PGSSLMODE`), so that `require` encrypts without checking the certificate, as
 * psql does, rather than pg's stricter reading.
 */
export function withLibpqSslMode(url: string, env: Record<string, string | undefined> = process.env): string {
  const hasMode = /[?&]sslmode=/i.test(url);
  const mode = hasMode ? /[?&]sslmode=([^&#]*)/i.exec(url)![1] : env.PGSSLMODE;
  if (!mode || /[?&]uselibpqcompat=/i.test(url)) return url;
  const join = url.includes('?') ? '&' : '?';
  return `${url}${join}${hasMode ? '' : `sslmode=${encodeURIComponent(mode)}&`}uselibpqcompat=true`;
}

function newClient(url: string, options: ConnectPostgresOptions): Client {
  const config: ClientConfig = {
    connectionString: url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    application_name: options.applicationName ?? 'glyphlab',
    types: storeTypes,
  };
  const client = new Client(config);
  // No password in the URL nor PGPASSWORD: ~/.pgpass, read here (pg 8 warns that its own fallback goes away).
  const holder = client as unknown as { password: unknown; connectionParameters: Record<string, unknown> };
  if (holder.password === null || holder.password === undefined || holder.password === '') {
    holder.password = () => new Promise<string | undefined>((resolve) => pgpass(holder.connectionParameters, resolve));
  }
  return client;
}

/** A connected pg Client for `url` (see the file head); rejects with pg's error. */
export async function connectPostgres(url: string, options: ConnectPostgresOptions = {}): Promise<Client> {
  const target = withLibpqSslMode(url);
  const client = newClient(target, options);
  try {
    await client.connect();
    return client;
  } catch (error) {
    const prefer = /[?&]sslmode=prefer\b/i.test(target);
    if (!prefer || !/does not support SSL/i.test(error instanceof Error ? error.message : String(error))) throw error;
    // libpq's `prefer`: TLS when the server offers it, else a plain connection.
    const plain = newClient(target.replace(/([?&]sslmode=)prefer\b/i, '$1disable'), options);
    await plain.connect();
    return plain;
  }
}
