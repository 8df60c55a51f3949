#!/usr/bin/env node
// CommonJS (bin/package.json): a hook run then never starts the ES module loader.
'use strict';

// A reader that stops early (`| head`) is not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

function fail(error) {
  process.stderr.write(`pushgate: ${error instanceof Error ? error.message : String(error)}\n`);
  return 2;
}

const args = process.argv.slice(2);
let run;
// git runs the hooks on every push: skip loading the whole command line for them.
if (args[0] === 'hook' && (args[1] === 'pre-receive' || args[1] === 'post-receive') && !args.includes('--help') && !args.includes('-h')) {
  const at = args.indexOf('--config');
  const config = at >= 0 ? args[at + 1] : undefined;
  run = require('../build/src/hook/entry.cjs').runHook(args[1], config);
} else {
  run = import('../build/src/cli/main.js').then(({ main }) => main(process.argv));
}
run.then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.exitCode = fail(error);
  },
);
