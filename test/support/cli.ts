/** Runs the glyphlab CLI in-process and collects its exit code and output. */
import { PassThrough } from 'node:stream';
import { runCli } from '../../src/cli/main';

export async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await runCli(argv, { stdout, stderr });
  return { code, out, err };
}
