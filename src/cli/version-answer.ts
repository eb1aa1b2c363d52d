import { writeSync } from 'node:fs';
import { VERSION } from '../version.js';
import { EXIT } from './exit.js';

/**
 * `--version` (or `-V`) as the only argument, answered before anything else is loaded — what
 * commander would print. True when it was the question.
 */
export function answerVersion(args: readonly string[]): boolean {
  if (args.length !== 1 || (args[0] !== '--version' && args[0] !== '-V')) return false;
  // Straight to the descriptor, as the commands' own output (run.ts): a reader that went away
  // (EPIPE) is no error; a non-blocking descriptor that is full (EAGAIN) goes through the stream.
  const line = `${VERSION}\n`;
  try {
    writeSync(1, line);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN') process.stdout.write(line);
    else if (code !== 'EPIPE') {
      try {
        writeSync(2, `assignable: standard output: ${(e as Error).message}\n`);
      } catch {
        // Nowhere left to say it: the status does.
      }
      process.exitCode = EXIT.ENVIRONMENT;
    }
  }
  return true;
}
