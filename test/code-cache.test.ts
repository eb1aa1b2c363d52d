/**
 * test/code-cache.cjs, which the spawning tests start the CLI and the conrep simulator through:
 * the bundle sees the command line, module and exit status it would see run by node directly;
 * the first start writes a cache that later starts use as it is; a cache V8 rejects (garbage, or
 * another text's) changes nothing in the run and is replaced.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from './helpers.js';

const LAUNCHER = join(ROOT, 'test/code-cache.cjs');

/** A bundle that reports what it sees: its argv, __filename and __dirname, and its exit status. */
const BUNDLE = `#!/usr/bin/env node
const { basename } = require('node:path');
console.log(JSON.stringify({ argv: process.argv.slice(1).map((a, i) => (i === 0 ? basename(a) : a)), file: basename(__filename), dir: basename(__dirname) }));
process.exitCode = Number(process.argv[2] ?? 0);
`;

function setUp() {
  const dir = mkdtempSync(join(tmpdir(), 'assignable-code-cache-'));
  const bundle = join(dir, 'b.cjs');
  writeFileSync(bundle, BUNDLE);
  return { dir, bundle, caches: () => readdirSync(dir).filter((f) => f.endsWith('.cache')) };
}
const run = (...args: string[]) => spawnSync(process.execPath, args, { encoding: 'utf8' });

test('the bundle runs as node would run it, and its cache is written once, then used as is', () => {
  const { dir, bundle, caches } = setUp();
  const direct = run(bundle, '3', 'x y');
  const first = run(LAUNCHER, bundle, '3', 'x y');
  assert.equal(first.stderr, '');
  assert.equal(first.status, 3);
  assert.equal(direct.status, 3);
  assert.equal(first.stdout, direct.stdout, 'argv, file and dir as run directly');
  assert.equal(caches().length, 1, 'the first start wrote the cache');
  const cache = join(dir, caches()[0]!);
  const written = readFileSync(cache);
  const mtime = statSync(cache).mtimeMs;
  const second = run(LAUNCHER, bundle, '3', 'x y');
  assert.equal(second.stdout, first.stdout);
  assert.equal(second.status, 3);
  assert.equal(statSync(cache).mtimeMs, mtime, 'an accepted cache is not written again');
  assert.deepEqual(readFileSync(cache), written);
});

test('a cache V8 rejects changes nothing in the run and is replaced; another text gets its own', () => {
  const { dir, bundle, caches } = setUp();
  const first = run(LAUNCHER, bundle, '0');
  assert.equal(first.status, 0, first.stderr);
  const cache = join(dir, caches()[0]!);
  const good = readFileSync(cache);
  writeFileSync(cache, Buffer.alloc(good.length, 0x5a));
  const again = run(LAUNCHER, bundle, '0');
  assert.equal(again.stderr, '');
  assert.equal(again.stdout, first.stdout);
  assert.equal(again.status, 0);
  assert.notDeepEqual(readFileSync(cache), Buffer.alloc(good.length, 0x5a), 'the rejected cache was replaced');
  // Another text of the same length, written as the producers write (a new file renamed over
  // the old): never offered the first text's cache (V8 checks only lengths), whose file goes.
  writeFileSync(`${bundle}.new`, BUNDLE.replace('slice(1)', 'slice(2)'));
  renameSync(`${bundle}.new`, bundle);
  const other = run(LAUNCHER, bundle, '0');
  assert.equal(other.status, 0, other.stderr);
  assert.deepEqual(JSON.parse(other.stdout).argv, ['0']);
  assert.equal(caches().length, 1);
  assert.notEqual(caches()[0], basename(cache));
});
