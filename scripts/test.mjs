#!/usr/bin/env node
/**
 * `npm test`, after `npm run build`: every test file under node:test, and the type check of the
 * sources and tests beside them (the tests keep both cores busy until the last long files, the
 * Ansible and package tests, which mostly wait; tsc fills that time).
 *
 * TMPDIR is one directory of this run, removed at the end: a test that forgets its temporary
 * files (or is killed before its own clean-up) leaves nothing in the system's temporary directory.
 *
 *   node scripts/test.mjs [test/X.test.ts ...]   (default: every test/*.test.ts)
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const given = process.argv.slice(2);
const files = given.length > 0 ? given
  : readdirSync(join(ROOT, 'test')).filter((f) => f.endsWith('.test.ts')).sort().map((f) => `test/${f}`);

const runDir = mkdtempSync(join(tmpdir(), 'assignable-test-run-'));
// As the system's temporary directory is: the tests that drop root (setpriv to nobody) reach
// their files below it, and such a process may make its own.
chmodSync(runDir, 0o1777);
const env = { ...process.env, TMPDIR: runDir };
// Node parses the bundle NODE_EXTRA_CA_CERTS names at every start (a system bundle costs more than
// Node's own start-up), and the suite starts Node thousands of times without opening one TLS
// connection: nothing it runs needs the network (npm installs offline, from packed tarballs).
delete env.NODE_EXTRA_CA_CERTS;

/** The type check's output is held back and printed after the tests', so the two never interleave. */
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const check = spawn(process.execPath, [tsc, '-p', 'tsconfig.test.json', '--noEmit'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
let checkOutput = '';
check.stdout.on('data', (b) => { checkOutput += b; });
check.stderr.on('data', (b) => { checkOutput += b; });
const checked = new Promise((done) => check.on('close', (code, signal) => done({ code, signal })));

const tests = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=4', ...files], { cwd: ROOT, env, stdio: 'inherit' });
const tested = new Promise((done) => tests.on('close', (code, signal) => done({ code, signal })));

// An outer `timeout` or Ctrl-C reaches this process: pass it on, and still clean up after.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    tests.kill(sig);
    check.kill(sig);
  });
}

const t = await tested;
const c = await checked;
if (checkOutput) process.stdout.write(checkOutput);
if (c.code !== 0) console.error(`npm test: the type check (tsc -p tsconfig.test.json) failed (${c.signal ?? `exit ${c.code}`})`);
try {
  rmSync(runDir, { recursive: true, force: true });
} catch (e) {
  console.error(`npm test: could not remove the run's temporary directory ${runDir}: ${e.code ?? e.message}`);
}
const status = (r) => (r.signal ? 128 + (constants.signals[r.signal] ?? 0) : r.code ?? 1);
process.exitCode = status(t) !== 0 ? status(t) : status(c);
