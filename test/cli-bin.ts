/**
 * The CLI as its own process, from the current sources, without tsx's second of start-up at
 * every spawn: esbuild bundles src/cli/bin.ts once per test process (~25 ms; tsx compiles with
 * the same esbuild) into a temporary file that plain node runs, through V8's code cache
 * (test/code-cache.cjs): the first spawn compiles the megabyte of JavaScript, the later ones
 * reuse what it compiled. For tests of the process boundary (exit statuses, signals, kill -9);
 * the rest call main() in-process.
 */
import { buildSync } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers.js';

let script: string | null = null;

/** The path of a bundle of the CLI as the sources are now. */
export function cliScript(): string {
  if (script) return script;
  const dir = mkdtempSync(join(tmpdir(), 'assignable-cli-'));
  const out = join(dir, 'bundle.cjs');
  // CommonJS and without blanks, as the shipped build (scripts/bundle.mjs): no ES module loader
  // to start, less to parse at each of the hundreds of spawns.
  buildSync({
    absWorkingDir: ROOT,
    entryPoints: ['src/cli/bin.ts'],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    define: { ASSIGNABLE_BUNDLED: 'true' },
    minifyWhitespace: true,
    outfile: out,
    logLevel: 'error',
    logOverride: { 'empty-import-meta': 'silent' },
  });
  // What the tests run: a stub that runs the bundle through the code cache (beside it, in `dir`).
  const stub = join(dir, 'assignable.cjs');
  writeFileSync(stub, `require(${JSON.stringify(join(ROOT, 'test/code-cache.cjs'))}).runCached(${JSON.stringify(out)});\n`);
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  script = stub;
  return stub;
}
