import { VERSION } from '../version.js';
import { EXIT } from './exit.js';

/**
 * `--version` (or `-V`) as the only argument, answered before anything else is loaded — what
 * commander would print. True when it was the question.
 */
export function answerVersion(args: readonly string[]): boolean {
  if (args.length !== 1 || (args[0] !== '--version' && args[0] !== '-V')) return false;
  // As the commands' own output (run.ts): a reader that went away (EPIPE) is no error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') return;
    process.stderr.write(`assignable: standard output: ${e.message}\n`);
    process.exitCode = EXIT.ENVIRONMENT;
  });
  process.stdout.write(`${VERSION}\n`);
  return true;
}
