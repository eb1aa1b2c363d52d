/**
 * The installed `assignable` (package.json "bin", dist/assignable.cjs): a few lines that answer
 * `--version` themselves and otherwise run the one-file build beside them (assignable-cli.cjs)
 * through V8's code cache (assignable-cli.cjs.cache, written by `npm run bundle` for the Node
 * that built it). With the cache, starting skips compiling the megabyte of JavaScript a command
 * needs; a cache from another Node (or none) is rejected by V8 and the build compiles as usual,
 * so the output is the same either way. CommonJS, because Node 18/20 cache nothing for ES modules
 * and start an ES module loader besides.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { answerVersion } from './version-answer.js';
import { LAUNCHED } from './launched.js';

export const BUILD = 'assignable-cli.cjs';
export const CODE_CACHE = `${BUILD}.cache`;

export interface Loaded {
  /** The one-file build's start(args). */
  start: (args?: readonly string[]) => Promise<void>;
  /** The compiled build: `npm run bundle` writes its cache after a training run. */
  script: Script;
}

/** Compiles and evaluates the one-file build in `dir` (with its code cache when V8 accepts it). */
export function loadBuild(dir: string): Loaded {
  const file = join(dir, BUILD);
  // The build's first line is its #! line, which a function body may not hold: blanked, so
  // lines (and stack traces) stay where they are in the file.
  const source = readFileSync(file, 'utf8').replace(/^#![^\n]*/, '');
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(join(dir, CODE_CACHE));
  } catch {
    // No cache beside the build: compiled as usual.
  }
  // The CommonJS wrapper, as Node's own loader gives a file.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  const mod = { exports: {} as { start?: Loaded['start'] } };
  (globalThis as Record<symbol, unknown>)[LAUNCHED] = true;
  (script.runInThisContext() as (...a: unknown[]) => void).call(mod.exports, mod.exports, require, mod, file, dirname(file));
  const start = mod.exports.start;
  if (typeof start !== 'function') throw new Error(`${file}: not the one-file build (no start function)`);
  return { start, script };
}

// Run as the program (or a fleet worker thread), not when `npm run bundle` loads it to train the cache.
if (require.main === module) {
  const args = process.argv.slice(2);
  if (!answerVersion(args)) void loadBuild(__dirname).start(args);
}
