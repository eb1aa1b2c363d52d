/**
 * Test helper: one bundle of the sources as they are (scripts/bundle.mjs --outdir), shared by the
 * test files that need it (test/bundle.test.ts, test/release.test.ts: each its own process).
 *
 * The directory is named after a hash of everything the bundle is made from — the sources, the
 * scripts, the package and lock files, the installed dependencies' record, the examples the code
 * cache is trained on, and this Node (the code cache is its own) — so a changed input makes a new
 * bundle, never an old one served again. It is made under a temporary name and renamed into
 * place: a file that races another gets a whole bundle, its own or the other's. It lives beside
 * the test CLI's bundles (test/cli-bin.ts sharedDir: ours alone, under the run's temporary
 * directory, removed after it). Read-only to callers:
 * a test that writes files keeps them in a directory of its own.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { contentHash, sharedDir } from './cli-bin.js';
import { ROOT } from './helpers.js';

/** What the bundle is made from, relative to the repository; a directory is taken whole. */
const INPUTS = ['src', 'scripts', 'examples', 'package.json', 'package-lock.json', 'tsconfig.json', 'node_modules/.package-lock.json', 'node_modules/esbuild/package.json'];

/** The hash of every input file's name and bytes, and of the Node that runs the code cache. */
export function bundleKey(): string {
  const h = createHash('sha256').update(`${process.version}\0${process.execPath}\0`);
  for (const rel of INPUTS) if (existsSync(join(ROOT, rel))) h.update(`${rel}\0${contentHash(rel)}\0`);
  return h.digest('hex').slice(0, 32);
}

let made = '';
/** The directory holding assignable.mjs, assignable-cli.cjs, assignable.cjs and the code cache. */
export function bundleOfSources(): string {
  if (made) return made;
  // Beside the test CLI's bundles (test/cli-bin.ts): a directory of ours that no one else can write.
  const cache = sharedDir();
  const dir = join(cache, `release-${bundleKey()}`);
  if (!existsSync(join(dir, 'assignable-cli.cjs.cache'))) {
    const building = mkdtempSync(join(cache, 'release-building-'));
    const b = spawnSync(process.execPath, [join(ROOT, 'scripts/bundle.mjs'), '--outdir', building], { encoding: 'utf8', cwd: ROOT });
    if (b.status !== 0) rmSync(building, { recursive: true, force: true });
    assert.equal(b.status, 0, b.stderr);
    try {
      renameSync(building, dir);
    } catch (e) {
      // Another test file renamed its whole bundle of the same inputs into place first.
      rmSync(building, { recursive: true, force: true });
      if (!existsSync(join(dir, 'assignable-cli.cjs.cache'))) throw e;
    }
  }
  made = dir;
  return dir;
}
