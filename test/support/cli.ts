/** Runs the glyphlab CLI in-process and collects its exit code and output; and `glyphlab train` as a child interrupted once training is under way. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runCli } from '../../src/cli/main';
import { projectRoot } from '../../src/util/paths';

export async function cli(argv: string[], options: { terminal?: boolean; columns?: number } = {}): Promise<{ code: number; out: string; err: string }> {
  // With `terminal`, stdout says it is a terminal, as process.stdout does on one; `columns` wide when given.
  const stdout = options.terminal ? Object.assign(new PassThrough(), { isTTY: true }, options.columns === undefined ? {} : { columns: options.columns }) : new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await runCli(argv, { stdout, stderr });
  return { code, out, err };
}

/**
 * Starts `glyphlab train ARGS` as a child process, sends SIGINT once the first epoch's summary
 * line shows training under way, and returns how it ended with its output.
 */
export async function trainAndInterrupt(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [join(projectRoot(), 'scripts', 'glyphlab.js'), 'train', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => {
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
      if (/epoch 1\/\d+: loss/.test(err) && !child.killed) child.kill('SIGINT');
    });
    child.on('exit', (c) => resolve(c));
  });
  return { code, out, err };
}
