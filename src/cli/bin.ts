#!/usr/bin/env node
/**
 * The one-file build's entry (the bundle, the single executable, the .deb): runs whatever the
 * file is named. It imports nothing heavy at start: `--version` is answered here, before commander
 * and the commands are even evaluated (a bundle evaluates a module on its first import).
 *
 * Run by the installed launcher (launch.ts) instead, it only exports `start`: the launcher calls it.
 */
import { FLEET_WORKER_ARG } from './fleet-worker-arg.js';
import { SUPERVISE_ARG } from '../remedies/supervise-arg.js';
import { answerVersion } from './version-answer.js';
import { LAUNCHED } from './launched.js';

/** Runs the command line; settles when the command has finished (process.exitCode is set). */
export async function start(args: readonly string[] = process.argv.slice(2)): Promise<void> {
  if (answerVersion(args)) return;
  // `fleet --jobs N` in the one-file build starts its workers on the script node was started with.
  if (args[0] === FLEET_WORKER_ARG) {
    const w = await import('node:worker_threads');
    if (!w.isMainThread) {
      await import('./fleet-worker.js');
      return;
    }
  }
  // The single executable supervising an external program for a remedy (it has no `node -e`).
  if (args[0] === SUPERVISE_ARG) {
    (await import('../remedies/runner.js')).superviseHere(args.slice(1));
    return;
  }
  await (await import('./main.js')).run([...args]);
}

if (!(globalThis as Record<symbol, unknown>)[LAUNCHED]) void start();
