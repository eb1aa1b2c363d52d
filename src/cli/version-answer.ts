import { VERSION } from '../version.js';
import { standardOutput } from './stdio.js';

/**
 * `--version` (or `-V`) as the only argument, answered before anything else is loaded — what
 * commander would print, written as the commands' output is. True when it was the question.
 */
export function answerVersion(args: readonly string[]): boolean {
  if (args.length !== 1 || (args[0] !== '--version' && args[0] !== '-V')) return false;
  standardOutput.write(`${VERSION}\n`);
  return true;
}
