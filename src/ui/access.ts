/**
 * Who may read the store through `glyphlab ui`. On the loopback interface, only this machine's
 * users reach the server, as with `runs ls`; there the only guard is the request's Host header,
 * which must name the loopback, so that a web page on another site cannot read the store through a
 * DNS name rebound to 127.0.0.1. Anywhere else the server needs a token, as Jupyter's does: given
 * once in the URL (`?token=...`), then kept in a cookie, compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { ConfigError } from '../errors';

/** What a token may hold: it travels in URLs and a cookie unescaped. */
const TOKEN_PATTERN = /^[A-Za-z0-9._~-]{16,256}$/;

/** Whether `host` (a name or address the server binds to, or a Host header's name) is this machine's loopback. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1' || bare === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(bare);
}

/** A fresh random token: 32 hex characters (128 bits). */
export function generateToken(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Throws a ConfigError for a token that cannot guard the server: shorter than 16 characters, or
 * holding characters other than letters, digits and `.` `_` `~` `-`. `source` says where it came from.
 */
export function checkToken(token: string, source: string): void {
  if (!TOKEN_PATTERN.test(token)) {
    throw new ConfigError(
      `${source} is not a usable token (${token.length} characters): expected 16 to 256 letters, digits, '.', '_', '~' or '-'; ` +
        'leave it out and glyphlab ui makes one and prints it in the URL',
    );
  }
}

/** Whether `given` equals `token`, in time that does not depend on where they differ. */
export function tokenMatches(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  // Digests have one length, which timingSafeEqual needs, and hide the token's length.
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(token));
}

/** The value of cookie `name` in a request, or undefined. */
export function requestCookie(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** The token a request carries: `Authorization: Bearer TOKEN` (for scripts) or the cookie. */
export function requestToken(request: IncomingMessage, cookieName: string): string | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  return bearer?.[1] ?? requestCookie(request, cookieName);
}

/** The name part of a Host header (`127.0.0.1:5151` -> `127.0.0.1`, `[::1]:80` -> `::1`), or undefined when absent. */
export function hostHeaderName(request: IncomingMessage): string | undefined {
  const header = request.headers.host;
  if (header === undefined) return undefined;
  const bracketed = /^\[([^\]]*)\](?::\d+)?$/.exec(header);
  if (bracketed) return bracketed[1];
  return header.replace(/:\d+$/, '');
}

/** The cookie that holds the token of the server on `port` (cookies are shared by every port of a host, so the name says which). */
export function tokenCookieName(port: number): string {
  return `glyphlab-ui-${port}`;
}
