#!/usr/bin/env node
/**
 * Writes DIR/assignable-cli.cjs.cache (scripts/bundle.mjs runs this): loads the one-file build as
 * the launcher does (dist/assignable.cjs, src/cli/launch.ts), runs the commands people run most
 * over the repository's example and corpus files, then saves V8's code cache of everything they
 * compiled. The cache belongs to the Node that wrote it; V8 rejects it under any other.
 * Its standard output is the commands' own: the caller discards it.
 */
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = resolve(process.argv[2] ?? join(ROOT, 'dist'));
const require = createRequire(import.meta.url);
const { loadBuild, CODE_CACHE } = require(join(dir, 'assignable.cjs'));
// Trained from nothing: an older cache of another build would be rejected anyway.
rmSync(join(dir, CODE_CACHE), { force: true });
const { start, script } = loadBuild(dir);

const ex = (f) => join(ROOT, 'examples/hp-proliant-dl380e-gen8', f);
const firstOf = (sub, suffix) => {
  const d = join(ROOT, 'test/fixtures', sub);
  const f = existsSync(d) ? readdirSync(d).filter((n) => n.endsWith(suffix)).sort()[0] : undefined;
  return f === undefined ? [] : [join(d, f)];
};
const pasted = ['--lspci', ex('lspci-vvnn.txt'), '--dmar', ex('DMAR.dat'), '--dmidecode', ex('dmidecode.txt')];
const runs = [
  ['survey', ...pasted],
  ['survey', '--json', ...pasted],
  ['explain', '02:00.0', ...pasted],
  ['survey', '--lspci', ...firstOf('pci/pciutils-tests', '.dump.txt')],
  ['dmar', ex('DMAR.dat')],
  ['ivrs', ...firstOf('ivrs', '.dat')],
  ['smbios', ex('dmidecode.txt')],
  ['--help'],
];
for (const args of runs) await start(args);
process.exitCode = 0;
writeFileSync(join(dir, CODE_CACHE), script.createCachedData());
