/**
 * Runs a CommonJS bundle the tests spawn hundreds of times (the CLI of test/cli-bin.ts, the conrep
 * simulator of test/sim/conrep) through V8's code cache, as the shipped launcher does
 * (src/cli/launch.ts): a start then skips compiling what an earlier start compiled.
 *
 *   node test/code-cache.cjs BUNDLE args…   (or require(this).runCached(BUNDLE) from a stub)
 *
 * The cache sits beside the bundle, named by the bundle file's identity (device, inode, size,
 * modification time in ns) and this Node's version: V8 checks only a source's length, so a cache
 * must never be offered to another text. The producers write a bundle whole under a new name
 * (in a fresh directory, or to a temporary name then renamed), so another text is another inode; a
 * hash of the text would cost ~10 ms of every start (loading crypto). The first start (or one
 * whose cache V8 rejects) writes the cache at exit, to a temporary name then renamed, so
 * processes racing each write or read a whole file, and removes the caches of earlier bundles
 * of that name. A missing, rejected or unwritable cache only costs the compile: the bundle runs
 * the same either way. One difference from `node BUNDLE`: require.main is this launcher (the
 * bundles run here do not look at it).
 */
'use strict';
const { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { basename, dirname, join } = require('node:path');
const { Script } = require('node:vm');

/** Compiles and runs `bundle` as the main module would be run (its own require, __filename). */
function runCached(bundle) {
  // A shebang line is valid only at the very start of a file, not inside the wrapper below.
  const text = readFileSync(bundle, 'latin1').replace(/^#!/, '//');
  const st = statSync(bundle, { bigint: true });
  const prefix = `.${basename(bundle)}.`;
  const cacheFile = join(dirname(bundle), `${prefix}${st.dev}-${st.ino}-${st.size}-${st.mtimeNs}-${process.version}.cache`);
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // First start: compiled as usual, and the cache written at exit.
  }
  const source = `(function (exports, require, module, __filename, __dirname) {${text}\n})`;
  const script = new Script(source, { filename: bundle, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    process.on('exit', () => {
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      try {
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, cacheFile);
        for (const f of readdirSync(dirname(bundle))) {
          if (f.startsWith(prefix) && f.endsWith('.cache') && join(dirname(bundle), f) !== cacheFile) rmSync(join(dirname(bundle), f), { force: true });
        }
      } catch {
        // A read-only or full temporary directory: the next start compiles again.
      }
    });
  }
  const mod = { exports: {}, filename: bundle, id: '.', loaded: false };
  const req = require('node:module').createRequire(bundle);
  script.runInThisContext().call(mod.exports, mod.exports, req, mod, bundle, dirname(bundle));
}

module.exports = { runCached };

if (require.main === module) {
  const bundle = process.argv[2];
  // The bundle sees the command line it would see run directly: node BUNDLE args…
  process.argv.splice(1, 2, bundle);
  runCached(bundle);
}
