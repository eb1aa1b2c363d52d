#!/usr/bin/env node
/**
 * `npm run sea`: a single executable for linux-x64 in dist/sea/assignable — the CommonJS bundle
 * (dist/assignable-cli.cjs, written by `npm run bundle`) as a Node single-executable-application
 * blob, injected with postject into a copy of this node binary. It runs on a host without Node.
 *
 * postject (a devDependency, so `npm ci` brings it) is taken from node_modules/.bin or PATH;
 * without it this script says how to get it and exits 3. The tools' own chatter (the blob's
 * path, postject's progress and its harmless "Can't find string offset for section name
 * '.note…'" warnings about the node binary's ELF notes) is shown only when a step fails.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** `--bundle FILE` and `--outdir DIR` (the tests) instead of dist/. */
function arg(name) {
  const i = process.argv.indexOf(name);
  return i > 0 ? resolve(process.argv[i + 1]) : undefined;
}
const OUT = arg('--outdir') ?? join(ROOT, 'dist/sea');
const BUNDLE = arg('--bundle') ?? join(ROOT, 'dist/assignable-cli.cjs');
/** The sentinel Node looks for to know a blob was injected (doc/api/single-executable-applications.md). */
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

function fail(message, code) {
  process.stderr.write(`sea: ${message}\n`);
  process.exit(code);
}
/** Runs one step with its output held back; on failure that output is the diagnosis. */
function step(cmd, args, what) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    fail(`${what} failed${r.error ? `: ${r.error.message}` : ` (exit ${r.status})`}`, 3);
  }
}

if (process.platform !== 'linux' || process.arch !== 'x64') fail(`builds the linux-x64 executable; this is ${process.platform}-${process.arch}`, 2);
// The executable finds out it is one through process.getBuiltinModule('node:sea') (Node 20.16+),
// and reads the embedded build (assets, Node 20.12+) for its fleet worker threads.
if (typeof process.getBuiltinModule !== 'function') fail(`needs Node 20.16 or later to build (the executable is a copy of this node, ${process.version})`, 3);
if (!existsSync(BUNDLE)) fail(`${BUNDLE} is missing: npm run bundle`, 3);
const postject = [join(ROOT, 'node_modules/.bin/postject'), 'postject'].find((p) => spawnSync(p, ['--help'], { stdio: 'ignore' }).status === 0);
if (!postject) fail('postject is needed to inject the blob into the node binary: `npm ci` installs it (a devDependency), or put postject on PATH; then npm run sea again', 3);

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const blob = join(OUT, 'assignable.blob');
const config = join(OUT, 'sea-config.json');
// The code cache saves compiling the bundle at every start.
// Files the program reads beside itself elsewhere, as assets (src/sources/single-executable.ts):
// the build, which `fleet --jobs N` evaluates in its worker threads (the executable is no script
// a worker can load), and the Windows probe `windows-probe` prints.
const assets = { 'assignable-cli.cjs': BUNDLE, 'windows/assignable-probe.ps1': join(ROOT, 'windows/assignable-probe.ps1') };
writeFileSync(config, JSON.stringify({ main: BUNDLE, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, assets }, null, 2));
step(process.execPath, ['--experimental-sea-config', config], 'node --experimental-sea-config');
const exe = join(OUT, 'assignable');
copyFileSync(process.execPath, exe);
chmodSync(exe, 0o755);
step(postject, [exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', FUSE], 'postject');
rmSync(blob);
rmSync(config);
process.stdout.write(`sea: ${exe} (node ${process.version}, linux-x64)\n`);
