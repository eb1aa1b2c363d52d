/**
 * The installed `assignable` (package.json "bin", dist/assignable.cjs): a few lines that answer
 * `--version` themselves and otherwise run the one-file build beside them (assignable-cli.cjs)
 * through V8's code cache (assignable-cli.cjs.cache, written by `npm run bundle` for the Node
 * that built it). With the cache, starting skips compiling the megabyte of JavaScript a command
 * needs; a cache from another Node (or none) is rejected by V8 and the build compiles as usual,
 * so the output is the same either way. CommonJS, because Node 18/20 cache nothing for ES modules
 * and start an ES module loader besides.
 *
 * It sets no V8 flags: `node:v8` alone loads Node's stream modules (about a tenth of `node -e 0`),
 * and the young-generation limit it once set here no longer lowered a survey's peak memory.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { answerVersion } from './version-answer.js';
import { LAUNCHED } from './launched.js';
import { EXIT } from './exit.js';
import { standardError } from './stdio.js';

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
  // The file is one expression (scripts/bundle.mjs wraps it) whose value, once the global is
  // marked, is the CommonJS function of the build: its text is compiled as read. Latin-1, as
  // the build is ASCII: no UTF-8 decoding, and a one-byte string.
  const source = readFileSync(file, 'latin1');
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(join(dir, CODE_CACHE));
  } catch {
    // No cache beside the build: compiled as usual.
  }
  const script = new Script(source, { filename: file, cachedData });
  const mod = { exports: {} as { start?: Loaded['start'] } };
  (globalThis as Record<symbol, unknown>)[LAUNCHED] = true;
  const build = script.runInThisContext() as unknown;
  if (typeof build !== 'function') throw new Error(`${file}: not the one-file build`);
  (build as (...a: unknown[]) => void).call(mod.exports, mod.exports, require, mod, file, dirname(file));
  const start = mod.exports.start;
  if (typeof start !== 'function') throw new Error(`${file}: not the one-file build (no start function)`);
  return { start, script };
}

// Run as the program (or a fleet worker thread), not when `npm run bundle` loads it to train the cache.
if (require.main === module) {
  const args = process.argv.slice(2);
  if (!answerVersion(args)) {
    let loaded: Loaded | undefined;
    try {
      loaded = loadBuild(__dirname);
    } catch (e) {
      // A package missing its build (a partial copy, a broken install) is the environment's
      // fault and says which file; anything else in loading it is ours (README exit statuses).
      const io = (e as NodeJS.ErrnoException).code !== undefined && (e as NodeJS.ErrnoException).syscall !== undefined;
      standardError.write(io ? `assignable: cannot read its program file: ${(e as Error).message}\n` : `assignable: internal error: ${(e as Error).message}\n`);
      process.exitCode = io ? EXIT.ENVIRONMENT : EXIT.INTERNAL;
    }
    if (loaded) void loaded.start(args);
  }
}
