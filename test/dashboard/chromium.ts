/**
 * Headless Chromium for browser tests, spawned directly (no puppeteer): Debian's `chromium`
 * package, or the binary named by CHROMIUM. Every network route is closed (a dead proxy and a
 * resolver that resolves nothing), so a page that needed the network would show it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const INSTALL_HINT = 'install it with `apt-get install -y chromium` (Debian; CI does this in .ci/run), or set CHROMIUM=/path/to/chrome';

/** The Chromium binary, or an Error saying how to install it. */
export function findChromium(): string {
  const candidates = process.env.CHROMIUM ? [process.env.CHROMIUM] : ['chromium', 'chromium-browser', 'google-chrome'];
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8', timeout: 20_000 });
    if (probe.status === 0 && /chrom/i.test(probe.stdout)) return candidate;
  }
  throw new Error(`headless Chromium is needed for the dashboard browser test and none was found (tried ${candidates.join(', ')}): ${INSTALL_HINT}`);
}

/**
 * The flags every headless Chromium of the tests starts with: headless, no sandbox, GPU, QUIC or
 * background services, and a dead proxy (Chromium never proxies the loopback).
 */
export const HEADLESS_FLAGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--proxy-server=127.0.0.1:9',
];

/** What one headless Chromium run gave. */
export interface ChromiumResult {
  code: number | null;
  stdout: string;
  /** Browser log; page console messages appear as `:CONSOLE` lines. */
  stderr: string;
  /** The page's console messages, from the log. */
  console: string[];
}

/**
 * Opens `htmlFile` in headless Chromium with no network and runs one action: `dumpDom` (the
 * DOM after scripts ran, on stdout) or `screenshot` (a PNG at that path).
 */
export function openHeadless(htmlFile: string, action: { dumpDom: true } | { screenshot: string }, timeoutMs = 60_000): Promise<ChromiumResult> {
  const binary = findChromium();
  const profile = mkdtempSync(join(tmpdir(), 'glyphlab-chromium-'));
  const args = [
    ...HEADLESS_FLAGS,
    '--host-resolver-rules=MAP * ~NOTFOUND',
    `--user-data-dir=${profile}`,
    '--enable-logging=stderr',
    '--v=0',
    '--hide-scrollbars',
    '--window-size=1200,3400',
    // Virtual time lets the page's timers and plotly's drawing finish before the DOM is taken.
    '--virtual-time-budget=15000',
    ...('dumpDom' in action ? ['--dump-dom'] : [`--screenshot=${action.screenshot}`]),
    pathToFileURL(htmlFile).href,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      rmSync(profile, { recursive: true, force: true });
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      rmSync(profile, { recursive: true, force: true });
      const consoleLines = stderr.split('\n').filter((line) => /:CONSOLE[:(]/.test(line));
      resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr, console: consoleLines });
    });
  });
}
