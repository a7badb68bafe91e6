/**
 * A page in headless Chromium that a test can drive: navigate, evaluate, type, click, take a
 * screenshot and read the console. It speaks the DevTools protocol over `--remote-debugging-pipe`
 * (JSON messages ending in a NUL byte on file descriptors 3 and 4), so no WebSocket client or
 * puppeteer is needed; the binary and the no-network flags are test/dashboard/chromium.ts's.
 * Every network route but the loopback one is closed, so a page that needed the internet shows it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { HEADLESS_FLAGS, findChromium } from '../dashboard/chromium';

/** Options of {@link openPage}. */
export interface OpenPageOptions {
  /** Viewport width in CSS pixels. Defaults to 1280. */
  width?: number;
  /** Viewport height in CSS pixels. Defaults to 900. */
  height?: number;
  /** How long one protocol call may take before it fails. Defaults to 120000 ms (a shared, busy machine). */
  callTimeoutMs?: number;
}

/** One console message, uncaught exception or browser log entry (a failed load, a CSP refusal). */
export interface PageMessage {
  source: 'console' | 'exception' | 'log';
  level: string;
  text: string;
}

interface Pending {
  resolve: (result: Record<string, unknown>) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  method: string;
}

/** A headless Chromium with one page open; call {@link HeadlessPage.close} when done. */
export class HeadlessPage {
  /** Console messages, exceptions and log entries since the page opened, in order. */
  readonly messages: PageMessage[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<string, ((params: Record<string, unknown>) => void)[]>();
  private sessionId: string | undefined;
  private exited = false;

  constructor(
    private readonly child: ChildProcess,
    private readonly profile: string,
    private readonly callTimeoutMs: number,
  ) {
    const output = child.stdio[4] as Readable;
    let buffer = '';
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\0')) >= 0) {
        this.receive(JSON.parse(buffer.slice(0, end)) as Record<string, unknown>);
        buffer = buffer.slice(end + 1);
      }
    });
    child.once('exit', () => {
      this.exited = true;
      for (const [id, call] of this.pending) {
        clearTimeout(call.timer);
        call.reject(new Error(`Chromium exited during ${call.method}`));
        this.pending.delete(id);
      }
    });
  }

  private receive(message: Record<string, unknown>): void {
    if (typeof message.id === 'number') {
      const call = this.pending.get(message.id);
      if (!call) return;
      this.pending.delete(message.id);
      clearTimeout(call.timer);
      const error = message.error as { message?: string } | undefined;
      if (error) call.reject(new Error(`${call.method}: ${error.message ?? JSON.stringify(error)}`));
      else call.resolve((message.result ?? {}) as Record<string, unknown>);
      return;
    }
    const method = String(message.method);
    const params = (message.params ?? {}) as Record<string, unknown>;
    for (const listener of this.listeners.get(method) ?? []) listener(params);
  }

  /** Sends one protocol command (to the page's session once attached) and resolves to its result. */
  send(method: string, params: Record<string, unknown> = {}, toBrowser = false): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error(`Chromium has exited; cannot send ${method}`));
    const id = this.nextId++;
    const message = { id, method, params, ...(this.sessionId && !toBrowser ? { sessionId: this.sessionId } : {}) };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method} took more than ${this.callTimeoutMs} ms`));
      }, this.callTimeoutMs);
      this.pending.set(id, { resolve, reject, timer, method });
      (this.child.stdio[3] as Writable).write(`${JSON.stringify(message)}\0`);
    });
  }

  /** Calls `listener` with the parameters of every `method` event. */
  on(method: string, listener: (params: Record<string, unknown>) => void): void {
    this.listeners.set(method, [...(this.listeners.get(method) ?? []), listener]);
  }

  /** Opens a page target and attaches to it; records what the page logs. */
  async attach(width: number, height: number): Promise<void> {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' }, true);
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true }, true);
    this.sessionId = String(sessionId);
    this.on('Runtime.consoleAPICalled', (p) => {
      const args = (p.args as { value?: unknown; description?: string }[] | undefined) ?? [];
      this.messages.push({ source: 'console', level: String(p.type), text: args.map((a) => (a.value !== undefined ? String(a.value) : a.description ?? '')).join(' ') });
    });
    this.on('Runtime.exceptionThrown', (p) => {
      const details = p.exceptionDetails as { text?: string; exception?: { description?: string } };
      this.messages.push({ source: 'exception', level: 'error', text: details.exception?.description ?? details.text ?? 'exception' });
    });
    this.on('Log.entryAdded', (p) => {
      const entry = p.entry as { level: string; text: string; url?: string };
      this.messages.push({ source: 'log', level: entry.level, text: `${entry.text}${entry.url ? ` (${entry.url})` : ''}` });
    });
    await Promise.all([this.send('Page.enable'), this.send('Runtime.enable'), this.send('Log.enable')]);
    await this.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
  }

  /**
   * Navigates to `url` and waits for its load event; a change of the #fragment alone loads
   * nothing (the page sees a `hashchange`) and returns at once.
   */
  async goto(url: string): Promise<void> {
    let onLoad: () => void = () => undefined;
    const loaded = new Promise<void>((resolve) => {
      onLoad = (): void => resolve();
      this.on('Page.loadEventFired', onLoad);
    });
    try {
      const result = await this.send('Page.navigate', { url });
      if (result.errorText) throw new Error(`navigating to ${url} failed: ${String(result.errorText)}`);
      // Only a navigation that loads a document has a loader.
      if (result.loaderId !== undefined) await loaded;
    } finally {
      this.listeners.set('Page.loadEventFired', (this.listeners.get('Page.loadEventFired') ?? []).filter((l) => l !== onLoad));
    }
  }

  /** The value of `expression` (awaited when a promise), evaluated in the page. Page errors are thrown. */
  async evaluate<T>(expression: string): Promise<T> {
    const result = await this.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
    const details = result.exceptionDetails as { text?: string; exception?: { description?: string } } | undefined;
    if (details) throw new Error(`in the page: ${details.exception?.description ?? details.text ?? 'exception'} (evaluating ${expression.slice(0, 200)})`);
    return (result.result as { value?: T }).value as T;
  }

  /**
   * Polls `expression` every 100 ms until it is truthy and returns its value; after `timeoutMs`
   * fails with `what` and the last value. Conditions are polled, never waited for a fixed time.
   */
  async waitFor<T>(expression: string, what: string, timeoutMs = 120_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      last = await this.evaluate<T>(expression);
      if (last) return last as T;
      if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}; last value ${JSON.stringify(last)}; page messages: ${JSON.stringify(this.messages)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Focuses the element of `selector`, replaces its text with `text` as typed keys would, and presses Enter when asked. */
  async type(selector: string, text: string, options: { enter?: boolean } = {}): Promise<void> {
    const found = await this.evaluate<boolean>(`(() => { const el = document.querySelector(${JSON.stringify(selector)}); if (!el) return false; el.focus(); el.select?.(); return true; })()`);
    if (!found) throw new Error(`no element matches ${selector}`);
    await this.send('Input.insertText', { text });
    if (options.enter) {
      for (const type of ['keyDown', 'keyUp']) await this.send('Input.dispatchKeyEvent', { type, key: 'Enter', code: 'Enter', windowsVirtualKeyCode: 13, text: type === 'keyDown' ? '\r' : undefined });
    }
  }

  /** Clicks the middle of the first element of `selector`, as a mouse would. */
  async click(selector: string): Promise<void> {
    const box = await this.evaluate<{ x: number; y: number } | null>(
      `(() => { const el = document.querySelector(${JSON.stringify(selector)}); if (!el) return null; el.scrollIntoView({ block: 'center' }); const r = el.getBoundingClientRect(); return { x: r.x + r.width / 2, y: r.y + r.height / 2 }; })()`,
    );
    if (!box) throw new Error(`no element matches ${selector}`);
    for (const type of ['mousePressed', 'mouseReleased']) await this.send('Input.dispatchMouseEvent', { type, x: box.x, y: box.y, button: 'left', clickCount: 1 });
  }

  /**
   * A PNG of the viewport; of the whole page with `fullPage`; of the element of `selector` (at
   * most `maxHeight` CSS pixels of it, from its top) with `selector`.
   */
  async screenshot(options: { fullPage?: boolean; selector?: string; maxHeight?: number } = {}): Promise<Buffer> {
    const params: Record<string, unknown> = { format: 'png' };
    if (options.selector !== undefined) {
      const box = await this.evaluate<{ x: number; y: number; width: number; height: number } | null>(
        `(() => { const el = document.querySelector(${JSON.stringify(options.selector)}); if (!el) return null; const r = el.getBoundingClientRect(); return { x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height }; })()`,
      );
      if (!box) throw new Error(`no element matches ${options.selector}`);
      params.captureBeyondViewport = true;
      params.clip = { ...box, height: Math.min(box.height, options.maxHeight ?? Infinity), scale: 1 };
    } else if (options.fullPage) {
      const size = await this.evaluate<{ width: number; height: number }>('({ width: document.documentElement.scrollWidth, height: document.documentElement.scrollHeight })');
      params.captureBeyondViewport = true;
      params.clip = { x: 0, y: 0, width: size.width, height: size.height, scale: 1 };
    }
    const { data } = await this.send('Page.captureScreenshot', params);
    return Buffer.from(String(data), 'base64');
  }

  /** The page's console errors, uncaught exceptions and error log entries. */
  errors(): PageMessage[] {
    return this.messages.filter((m) => m.source === 'exception' || m.level === 'error' || m.level === 'assert');
  }

  /** Closes the browser and removes its profile. Safe to call twice. */
  async close(): Promise<void> {
    if (!this.exited) {
      const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.send('Browser.close', {}, true).catch(() => undefined);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
    rmSync(this.profile, { recursive: true, force: true });
  }
}

/**
 * Starts headless Chromium with no network but loopback and one blank page attached.
 *
 * @example
 * const page = await openPage();
 * try { await page.goto(url); assert.deepEqual(page.errors(), []); } finally { await page.close(); }
 */
export async function openPage(options: OpenPageOptions = {}): Promise<HeadlessPage> {
  const width = options.width ?? 1280;
  const height = options.height ?? 900;
  const profile = mkdtempSync(join(tmpdir(), 'glyphlab-chromium-'));
  const args = [
    ...HEADLESS_FLAGS,
    // A resolver that resolves nothing: only the loopback server answers.
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    '--hide-scrollbars',
    '--remote-debugging-pipe',
    `--user-data-dir=${profile}`,
    `--window-size=${width},${height}`,
    'about:blank',
  ];
  const child = spawn(findChromium(), args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const page = new HeadlessPage(child, profile, options.callTimeoutMs ?? 120_000);
  try {
    await page.attach(width, height);
  } catch (error) {
    await page.close();
    throw new Error(`headless Chromium did not start: ${error instanceof Error ? error.message : String(error)}; its log: ${stderr}`);
  }
  return page;
}
