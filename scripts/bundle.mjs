#!/usr/bin/env node
/**
 * `npm run bundle`: the CLI as one file, dist/assignable.mjs, and as one CommonJS file,
 * dist/assignable-cli.cjs (what Node's single-executable support takes, and what the installed
 * launcher runs), each with its dependencies inside. Command modules stay behind dynamic
 * import(): esbuild keeps them in the file but runs a module's top level only when its command
 * does, so a survey never evaluates the XML parser.
 *
 * Then the launcher, dist/assignable.cjs (package.json "bin", src/cli/launch.ts), and the V8 code
 * cache it reads, dist/assignable-cli.cjs.cache: written by this Node after it ran the common
 * commands over the example (scripts/code-cache.mjs), so a start skips compiling them.
 */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** `--outdir DIR` writes there instead of dist/ (the tests bundle the sources as they are). */
const at = process.argv.indexOf('--outdir');
const OUT = at > 0 ? resolve(process.argv[at + 1]) : join(ROOT, 'dist');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
/** The oldest Node the package declares (engines ">=18.19"): the syntax esbuild may emit. */
const nodeTarget = 'node' + /(\d+(?:\.\d+)*)/.exec(pkg.engines.node)[1];

const common = {
  absWorkingDir: ROOT,
  entryPoints: ['src/cli/bin.ts'],
  bundle: true,
  platform: 'node',
  target: nodeTarget,
  // main.ts must not also start itself: bin.ts is the entry of the bundle.
  define: { ASSIGNABLE_BUNDLED: 'true' },
  legalComments: 'eof',
  // Comments and blanks out (identifiers kept, so stack traces still name functions): half the
  // bytes for Node to read, hash and pre-parse at every start, and an ASCII-only file.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  metafile: true,
  // Paths in the output's comments as in the repository (node_modules/…), not where a link points.
  preserveSymlinks: true,
};

/**
 * An ES module bundle hoists every `import … from 'node:x'` to its top, so each start would load
 * crypto, zlib, child_process, worker_threads… for commands that never call them (node -e 0
 * loads none), and an ES import of node:fs reads every export of fs, which loads its streams.
 * Node's modules resolve instead to a CommonJS shim whose exports are getters that require the
 * module on first use: a survey that never unzips never loads zlib. The names are this Node's
 * (the one that builds); a name an older Node lacks reads undefined there, as it would from the
 * module itself. The CommonJS bundle takes the same shim: its dependencies' top-level require()s
 * (commander's child_process, which loads net and streams) would otherwise run at every start.
 */
const require = createRequire(import.meta.url);
const lazyBuiltins = (loadedAtBoot = new Set()) => ({
  name: 'lazy-builtins',
  setup(b) {
    const filter = /^node:/;
    b.onResolve({ filter }, (a) => (a.namespace === 'lazy-builtin' || loadedAtBoot.has(a.path) ? { path: a.path, external: true } : { path: a.path, namespace: 'lazy-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (a) => ({
      contents: `let m;\nconst load = () => (m ??= require(${JSON.stringify(a.path)}));\nfor (const k of ${JSON.stringify(Object.keys(require(a.path)))}) Object.defineProperty(module.exports, k, { enumerable: true, get: () => load()[k] });\n`,
      loader: 'js',
    }));
  },
});
/**
 * Modules Node has loaded before any script runs (Node 18 and 20 alike): requiring one is a cache
 * lookup, so the CommonJS build requires them directly. A shim there would cost more than it
 * saves: esbuild copies a CommonJS module's exports into a new object at every file that imports
 * it (fs has a hundred, imported by seventeen files).
 */
const LOADED_AT_BOOT = new Set(['node:fs', 'node:path', 'node:url', 'node:buffer', 'node:events', 'node:util', 'node:process']);

const outputs = [
  // commander is CommonJS and requires Node's own modules: give the ES module a require().
  {
    format: 'esm',
    outfile: join(OUT, 'assignable.mjs'),
    banner: { js: "import { createRequire as __assignableRequire } from 'node:module';\nconst require = __assignableRequire(import.meta.url);" },
    plugins: [lazyBuiltins()],
  },
  // The single executable runs CommonJS only (Node 20's SEA). The code that reads import.meta
  // (module-relative paths, the tsx test path) is behind ASSIGNABLE_BUNDLED checks, never run here.
  // Wrapped so that the launcher can compile the file's text as it is (one string, no copy):
  // run by Node (alone, or as the single executable) it calls itself with Node's CommonJS
  // variables; compiled by the launcher (which marks the global first) it hands back the function.
  {
    format: 'cjs',
    outfile: join(OUT, 'assignable-cli.cjs'),
    logOverride: { 'empty-import-meta': 'silent' },
    plugins: [lazyBuiltins(LOADED_AT_BOOT)],
    banner: { js: "(function (build) { return globalThis[Symbol.for('assignable.launched')] ? build : build.call(exports, exports, require, module, __filename, __dirname); })(function (exports, require, module, __filename, __dirname) {" },
    footer: { js: '})' },
  },
  // The launcher: a few lines, so --version never reads the build.
  { format: 'cjs', outfile: join(OUT, 'assignable.cjs'), entryPoints: ['src/cli/launch.ts'], banner: { js: '#!/usr/bin/env node' } },
];
for (const o of outputs) {
  const r = await build({ ...common, ...o });
  const bytes = Object.values(r.metafile.outputs)[0].bytes;
  // The launcher reads the CommonJS build as Latin-1 (src/cli/launch.ts): esbuild escapes
  // everything else, and a byte above 0x7f would mean that no longer holds.
  const nonAscii = readFileSync(o.outfile).findIndex((b) => b > 0x7f);
  if (nonAscii >= 0) throw new Error(`${o.outfile}: byte ${nonAscii} is not ASCII`);
  process.stdout.write(`${relative(process.cwd(), o.outfile)}: ${bytes} bytes (${nodeTarget})\n`);
}
// The code cache, trained in a process of its own (the commands write to its standard output).
const cache = spawnSync(process.execPath, [join(ROOT, 'scripts/code-cache.mjs'), OUT], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 });
if (cache.status !== 0) {
  process.stderr.write(`bundle: the code cache was not written (exit ${cache.status ?? cache.signal}); the launcher compiles without it\n`);
  process.exitCode = 1;
} else process.stdout.write(`${relative(process.cwd(), join(OUT, 'assignable-cli.cjs.cache'))}: ${statSync(join(OUT, 'assignable-cli.cjs.cache')).size} bytes (Node ${process.version})\n`);
