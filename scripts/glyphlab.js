#!/usr/bin/env node
'use strict';
// The `glyphlab` command. The source is TypeScript; tsx compiles it on the fly, so there is no
// build step between editing src/ and running the command.
require('tsx/cjs/api').register();
const { runCli } = require('../src/cli/main.ts');

// `glyphlab runs ls | head`: the reader left, so the output is no longer wanted. Stop quietly,
// as other command-line tools do, instead of crashing on the next write with EPIPE.
process.stdout.on('error', (error) => {
  if (error && error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`glyphlab: ${error && error.message ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
