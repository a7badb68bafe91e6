import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runCli, EXIT_USAGE, EXIT_FAILURE } from '../../src/cli/main';
import { numberOption, type CommandGroup } from '../../src/cli/command';
import { DataError } from '../../src/errors';

const root = join(__dirname, '..', '..');

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

/** A small command group used to exercise the dispatcher itself. */
const probeGroup: CommandGroup = {
  name: 'probe',
  summary: 'test group',
  commands: [
    {
      name: 'count',
      summary: 'echo a count',
      options: { count: { type: 'string', description: 'a count', valueName: 'N' }, json: { type: 'boolean', description: 'json' } },
      async run(args, ctx) {
        const count = numberOption(args, 'count', { min: 1, integer: true }) ?? 1;
        if (args.values['json']) ctx.printJson({ count, nan: Number.NaN });
        else ctx.print(`count=${count}`);
      },
    },
    {
      name: 'fail',
      summary: 'throw',
      async run(args) {
        if (args.positionals[0] === 'data') throw new DataError('labels.csv row 3: empty label');
        throw new Error('boom');
      },
    },
  ],
};

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = capture();
  const err = capture();
  const code = await runCli(argv, { stdout: out.stream, stderr: err.stream, groups: [probeGroup] });
  return { code, stdout: out.text(), stderr: err.text() };
}

describe('runCli', () => {
  test('runs a sub-command with parsed, validated options', async () => {
    assert.deepEqual(await run(['probe', 'count', '--count', '3']), { code: 0, stdout: 'count=3\n', stderr: '' });
  });

  test('--json output keeps NaN as a string rather than dropping it', async () => {
    const result = await run(['probe', 'count', '--json']);
    assert.deepEqual(JSON.parse(result.stdout), { count: 1, nan: 'NaN' });
  });

  test('a bad option value is one line naming the option, the value and what is accepted', async () => {
    const result = await run(['probe', 'count', '--count', 'x2']);
    assert.equal(result.code, EXIT_USAGE);
    assert.equal(result.stderr, 'glyphlab probe count: --count "x2" is not valid: expected an integer >= 1\n');
  });

  test('an unknown option or command is a usage error that says where to look', async () => {
    const unknownOption = await run(['probe', 'count', '--nope']);
    assert.equal(unknownOption.code, EXIT_USAGE);
    assert.match(unknownOption.stderr, /^glyphlab probe count: Unknown option '--nope' \(see `glyphlab probe count --help`\)\n$/);
    const unknownCommand = await run(['nope']);
    assert.equal(unknownCommand.code, EXIT_USAGE);
    assert.match(unknownCommand.stderr, /unknown command "nope"; commands: probe/);
    const unknownSub = await run(['probe', 'nope']);
    assert.equal(unknownSub.code, EXIT_USAGE);
    assert.match(unknownSub.stderr, /unknown sub-command "nope"; use one of: count, fail/);
  });

  test('errors print one line without a stack unless --verbose', async () => {
    const data = await run(['probe', 'fail', 'data']);
    assert.equal(data.code, EXIT_USAGE);
    assert.equal(data.stderr, 'glyphlab probe fail: labels.csv row 3: empty label\n');
    const unexpected = await run(['probe', 'fail']);
    assert.equal(unexpected.code, EXIT_FAILURE);
    assert.doesNotMatch(unexpected.stderr, /\n\s+at /);
    const verbose = await run(['probe', 'fail', '--verbose']);
    assert.match(verbose.stderr, /Error: boom\n\s+at /);
  });

  test('--help at every level', async () => {
    const main = await run(['--help']);
    assert.equal(main.code, 0);
    assert.match(main.stdout, /Usage: glyphlab <command>/);
    const group = await run(['probe', '--help']);
    assert.match(group.stdout, /Sub-commands:\n\s+count\s+echo a count/);
    const command = await run(['probe', 'count', '--help']);
    assert.match(command.stdout, /--count N\s+a count/);
  });
});

describe('the glyphlab executable', () => {
  test('npx glyphlab --help lists the command groups', () => {
    const result = spawnSync(process.execPath, [join(root, 'scripts', 'glyphlab.js'), '--help'], { cwd: root, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /Commands:\n(.|\n)*\bstart\b(.|\n)*\bbackend\b/);
  });

  test('package.json declares the bin that npx runs', () => {
    const manifest = require(join(root, 'package.json')) as { bin: Record<string, string> };
    assert.equal(manifest.bin['glyphlab'], 'scripts/glyphlab.js');
  });
});

describe('string options', () => {
  test('take a following value that starts with a dash (--count -3 is a value, not a flag)', async () => {
    const result = await run(['probe', 'count', '--count', '-3']);
    assert.equal(result.code, EXIT_USAGE);
    assert.equal(result.stderr, 'glyphlab probe count: --count "-3" is not valid: expected an integer >= 1\n');
  });
});
