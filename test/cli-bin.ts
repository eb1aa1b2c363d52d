/**
 * The CLI as its own process, from the current sources, without tsx's second of start-up at
 * every spawn: esbuild bundles src/cli/bin.ts into a file that plain node runs, through V8's
 * code cache (test/code-cache.cjs): the first spawn compiles the megabyte of JavaScript, the
 * later ones reuse what it compiled. For tests of the process boundary (exit statuses, signals,
 * kill -9); the rest call main() in-process.
 *
 * The bundle is shared by the test files of a run (each file is its own process): it is named
 * by a hash of everything it is made of, so every file that finds it built skips esbuild and,
 * through the code cache beside it, the first compile.
 */
import { buildSync, version as esbuildVersion, type BuildOptions } from 'esbuild';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers.js';

let bundleDir: string | null = null;

/**
 * A directory for the shared bundles under the temporary directory (under `npm test`, the run's
 * own, removed at its end). Used only when it is ours and writable by us alone: a name others
 * can predict must not hand us a planted bundle; otherwise a private directory of this process.
 */
export function sharedDir(): string {
  if (bundleDir) return bundleDir;
  const uid = process.geteuid?.() ?? 0;
  const dir = join(tmpdir(), `assignable-test-bundles-${uid}`);
  try {
    mkdirSync(dir, { mode: 0o755 });
  } catch {
    // Exists already (or cannot be made): checked below.
  }
  try {
    const st = lstatSync(dir);
    if (st.isDirectory() && st.uid === uid && (st.mode & 0o022) === 0) return (bundleDir = dir);
  } catch {
    // Absent: a private directory instead.
  }
  return (bundleDir = mkdtempSync(join(tmpdir(), 'assignable-test-bundles-')));
}

/** The files under `rel` (a file or a directory), relative to ROOT, sorted. */
function filesUnder(rel: string): string[] {
  const st = lstatSync(join(ROOT, rel));
  if (!st.isDirectory()) return [rel];
  return (readdirSync(join(ROOT, rel), { recursive: true }) as string[])
    .map((f) => join(rel, f))
    .filter((f) => lstatSync(join(ROOT, f)).isFile())
    .sort();
}

const contentHashes = new Map<string, string>();

/** A SHA-256 of the names and bytes of the files under `rel`, read once per process (two bundles share src/). */
export function contentHash(rel: string): string {
  let d = contentHashes.get(rel);
  if (d === undefined) {
    const h = createHash('sha256');
    for (const f of filesUnder(rel)) h.update(`${f}\0`).update(readFileSync(join(ROOT, f))).update('\0');
    contentHashes.set(rel, (d = h.digest('hex')));
  }
  return d;
}

/**
 * esbuild's bundle of `options` (an entry under ROOT), built once per content: the name carries a
 * SHA-256 of the options, esbuild's version and every file under `inputs` (the sources, the
 * package and lock files that pick the bundled dependencies). Written to a temporary name and
 * renamed, so test files racing to build it each get a whole file.
 */
export function sharedBundle(name: string, options: BuildOptions, inputs: string[]): string {
  const h = createHash('sha256').update(`${esbuildVersion}\0${JSON.stringify(options)}\0`);
  for (const rel of inputs) h.update(`${rel}\0${contentHash(rel)}\0`);
  const dir = sharedDir();
  const out = join(dir, `${name}-${h.digest('hex').slice(0, 32)}.cjs`);
  try {
    if (lstatSync(out).isFile()) return out;
  } catch {
    // Not built yet.
  }
  const r = buildSync({ ...options, absWorkingDir: ROOT, bundle: true, platform: 'node', format: 'cjs', write: false, outfile: out, logLevel: 'error' });
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, r.outputFiles[0]!.contents);
  renameSync(tmp, out);
  return out;
}

let script: string | null = null;

/** The path of a bundle of the CLI as the sources are now. */
export function cliScript(): string {
  if (script) return script;
  // CommonJS and without blanks, as the shipped build (scripts/bundle.mjs): no ES module loader
  // to start, less to parse at each of the hundreds of spawns.
  const bundle = sharedBundle(
    'cli',
    { entryPoints: ['src/cli/bin.ts'], define: { ASSIGNABLE_BUNDLED: 'true' }, minifyWhitespace: true, logOverride: { 'empty-import-meta': 'silent' } },
    ['src', 'package.json', 'package-lock.json', 'tsconfig.json'],
  );
  // What the tests run: a stub that runs the bundle through the code cache (beside the bundle).
  const stub = bundle.replace(/\.cjs$/, '.stub.cjs');
  const text = `require(${JSON.stringify(join(ROOT, 'test/code-cache.cjs'))}).runCached(${JSON.stringify(bundle)});\n`;
  let same = false;
  try {
    same = readFileSync(stub, 'utf8') === text;
  } catch {
    // Not written yet.
  }
  if (!same) {
    writeFileSync(`${stub}.${process.pid}.tmp`, text);
    renameSync(`${stub}.${process.pid}.tmp`, stub);
  }
  script = stub;
  return stub;
}
