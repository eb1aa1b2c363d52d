#!/usr/bin/env node
/**
 * The program's entry (the bundle, the single executable, the .deb): runs whatever the file is
 * named. It imports nothing heavy at start: `--version` is answered here, before commander and the
 * commands are even evaluated (a bundle evaluates a module on its first import).
 */
import { VERSION } from '../version.js';
import { FLEET_WORKER_ARG } from './fleet-worker-arg.js';
import { EXIT } from './exit.js';

const args = process.argv.slice(2);
// What commander prints for these, as the only argument.
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // As the commands' own output (run.ts): a reader that went away (EPIPE) is no error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') return;
    process.stderr.write(`assignable: standard output: ${e.message}\n`);
    process.exitCode = EXIT.ENVIRONMENT;
  });
  process.stdout.write(`${VERSION}\n`);
}
// `fleet --jobs N` in the one-file build starts its workers on this same file.
else if (args[0] === FLEET_WORKER_ARG) {
  void import('node:worker_threads').then(async (w) => {
    if (!w.isMainThread) await import('./fleet-worker.js');
    else (await import('./main.js')).run();
  });
} else void import('./main.js').then((m) => m.run());
